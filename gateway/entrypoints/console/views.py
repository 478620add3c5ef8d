"""What the console's pages show, read from the ledger, the reports, the transfer journal and
the audit log. Read only: nothing here changes state."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formats.dates import JST
from formats.masking import safe_text
from gateway.reporting.reports import FileReport, read_report
from gateway.storage.ledger import FileRow, Ledger
from spool.states import FileState

__all__ = [
    "ACTIONABLE",
    "AuditEntry",
    "EndpointStatus",
    "FIRST_DAY",
    "LAST_DAY",
    "STATE_LABELS",
    "audit_entries",
    "endpoint_statuses",
    "files_on",
    "jst_text",
    "load_report",
    "reprocessed_as",
    "safe_report",
    "summary",
]

#: The ledger's states as operators read them.
STATE_LABELS: dict[str, str] = {str(state): state.label_ja for state in FileState}

#: States a supervisor can act on, and the actions each allows.
ACTIONABLE: dict[str, tuple[str, ...]] = {
    "quarantined": ("release", "resubmit"),
    "duplicate": ("force",),
    "rejected": ("resubmit",),
}

FILE_LIMIT = 2000
AUDIT_LIMIT = 500

#: The first and last days the files page can show: a Japan-time day whose window is a UTC
#: range Python can represent (0001-01-01 starts before year 1 in UTC, 9999-12-31 ends after 9999).
FIRST_DAY = dt.date.min + dt.timedelta(days=1)
LAST_DAY = dt.date.max - dt.timedelta(days=1)


def jst_text(value: str | None) -> str:
    """An ISO-8601 time as 'YYYY-MM-DD HH:MM:SS' in Japan time ('-' when absent)."""
    if not value:
        return "-"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")


def _window(day: dt.date | None) -> tuple[dt.datetime, dt.datetime] | None:
    """A Japan-time calendar day as [start, end); None for every day.
    ValueError for a day outside FIRST_DAY … LAST_DAY."""
    if day is None:
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day}: only the days from {FIRST_DAY} to {LAST_DAY} can be shown")
    start = dt.datetime.combine(day, dt.time(), JST)
    return start, start + dt.timedelta(days=1)


def files_on(
    ledger: Ledger,
    day: dt.date | None,
    *,
    channel: str | None = None,
    state: str | None = None,
    limit: int = FILE_LIMIT,
) -> list[FileRow]:
    """Files received on ``day`` (a Japan-time calendar day; every day when None), newest first."""
    return ledger.recent(limit, state=state, channel=channel, received=_window(day))


def summary(
    ledger: Ledger, day: dt.date | None, *, channel: str | None = None, state: str | None = None
) -> tuple[list[str], list[tuple[str, dict[str, int], int]]]:
    """Counts per channel and state of every file the filters select (not only the ones listed):
    the states shown (in ledger order) and one row per channel."""
    counts: dict[str, Counter[str]] = {}
    for (name, file_state), count in ledger.counts(state=state, channel=channel, received=_window(day)).items():
        counts.setdefault(name, Counter())[file_state] += count
    states = [known for known in STATE_LABELS if any(known in c for c in counts.values())]
    return states, [(name, dict(c), sum(c.values())) for name, c in sorted(counts.items())]


def reprocessed_as(ledger: Ledger, file_id: str) -> list[FileRow]:
    """The files that reprocessed or replaced this one (``reprocess_of``), oldest first."""
    return ledger.reprocesses_of(file_id)


def load_report(row: FileRow) -> FileReport | None:
    """The file's report (None while it is being processed, or once erased)."""
    if not row.report_json:
        return None
    try:
        return read_report(row.report_json)
    except (OSError, ValueError):
        return None


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {key: _safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_safe(item) for item in value]
    return value


def safe_report(report: FileReport) -> FileReport:
    """The report with every text of its rejections and warnings (the CSV's rows) made safe to
    show (formats.masking.safe_text), for the CSV download."""
    return report.model_copy(update={"rejected": _safe(report.rejected), "warnings": _safe(report.warnings)})


# -- endpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    direction: str
    server: str
    schedule: str
    last_success: str
    last_error: str
    last_error_message: str
    next_run: str
    alerts: list[str] = field(default_factory=list)


def endpoint_statuses(settings: Any, now: dt.datetime) -> tuple[list[EndpointStatus], list[Any]]:
    """Each configured endpoint's last success, last error, next run and alerts (as `gateway
    endpoints` and `gateway alerts` compute them), and the recent alerts of every kind."""
    from adapters.schedule import Scheduler, endpoints_of
    from gateway.storage.transfers import TransferStore

    endpoints = endpoints_of(settings)
    scheduler = Scheduler(endpoints)
    ledger = settings.ledger_path()
    store = TransferStore(ledger) if ledger.exists() else None
    statuses: list[EndpointStatus] = []
    try:
        alerts = store.alerts(limit=50) if store else []
        for name, endpoint in sorted(endpoints.items()):
            success = store.last_success(name) if store else None
            failure = store.last_error(name) if store else None
            upcoming = scheduler.next_run(name, now.astimezone(JST))
            mine = [
                alert
                for alert in alerts
                if alert.endpoint == name
                or (alert.channel and alert.channel == endpoint.channel and not alert.endpoint)
            ]
            statuses.append(
                EndpointStatus(
                    name=name,
                    direction="+".join(d for d, on in (("pull", endpoint.pulls), ("push", endpoint.pushes)) if on),
                    server=f"{endpoint.user}@{endpoint.host}:{endpoint.port}",
                    schedule=(endpoint.schedule or "-") + ("（銀行営業日のみ）" if endpoint.business_days_only else ""),
                    last_success=jst_text(success.finished_at if success else None),
                    last_error=jst_text(failure.finished_at if failure else None),
                    last_error_message=(failure.error or "") if failure else "",
                    next_run=upcoming.astimezone(JST).strftime("%Y-%m-%d %H:%M") if upcoming else "-",
                    alerts=[f"{alert.date} {alert.kind}: {alert.message}" for alert in mine],
                )
            )
    finally:
        if store is not None:
            store.close()
    return statuses, alerts


# -- audit log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    time: str
    event: str
    level: str
    user: str
    file_id: str
    details: str


_SHOWN_APART = ("timestamp", "event", "level", "user", "file_id")


def _matches(event: dict[str, Any], file_id: str) -> bool:
    own = event.get("file_id")
    if isinstance(own, str) and own.startswith(file_id):
        return True
    return any(isinstance(value, str) and value == file_id for value in event.values())


def audit_entries(path: Path, *, file_id: str | None = None, limit: int = AUDIT_LIMIT) -> list[AuditEntry]:
    """The newest ``limit`` audit events, newest first; only those about ``file_id`` when given
    (its own events, and events naming it, such as a reprocess or a resubmission)."""
    kept: deque[dict[str, Any]] = deque(maxlen=limit)
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            for line in log:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                if file_id and not _matches(event, file_id):
                    continue
                kept.append(event)
    except FileNotFoundError:
        return []
    entries = []
    for event in reversed(kept):
        details = {key: value for key, value in event.items() if key not in _SHOWN_APART}
        entries.append(
            AuditEntry(
                time=jst_text(str(event.get("timestamp") or "")),
                event=str(event.get("event", "")),
                level=str(event.get("level", "")),
                user=str(event.get("user") or ""),
                file_id=str(event.get("file_id") or ""),
                details=json.dumps(details, ensure_ascii=False)[:2000] if details else "",
            )
        )
    return entries
