"""Retention and erasure: personal data leaves the gateway when its retention period ends.

The city's PIA (特定個人情報保護評価書, 収納 file, Ⅲ-7 特定個人情報の保管・消去) promises
that records are kept during their retention period (保管期間) and destroyed when it ends
(保存期間終了後には…廃棄). For the gateway's own copies that means, per kind of thing:

- **inputs** in ``archive/``, ``rejected/``, ``quarantine/`` and ``duplicate/``: deleted
  when their folder's period (counted from ``finished_at``) has passed, with their reports;
- **reports** (``reports/<id>.json|csv|html``): deleted after ``reports_days``, or with
  their input, whichever comes first;
- **outputs** still in an outbox folder (or its ``sent/`` folder): deleted after
  ``outbox_days`` counted from the delivery's ``committed_at``, only for deliveries the
  ledger records as committed, and — for a destination an SFTP endpoint pushes — only
  once the push is recorded (an output is never erased before it reached the bank);
- **the audit log**: lines older than ``audit_log_days`` are dropped (the file is
  rewritten under a temporary name and renamed over the old one).

The ledger keeps every row, so that a later audit can still prove what was received and
delivered: a file's row keeps its id, channel, SHA-256, size, state, status, format,
counts and timestamps, while its personal data is cleared — ``original_name`` becomes
:data:`ERASED_NAME` (file names can hold names and numbers), ``inbox_path`` and
``work_path`` (which hold the name) become :data:`ERASED_NAME` too, and ``final_path``,
the report paths, ``reason`` and ``flags`` (posting flags quote notice numbers) become
NULL. A delivery's row keeps its path and SHA-256 and gains ``erased_at``. Because the
row keeps its state and hash, a byte-identical file sent again years later is still
recognised as a duplicate.

Where the marks are kept: ``deliveries.erased_at`` (a column added with ``ALTER TABLE``
when missing) and a table :data:`ERASURES_TABLE` (``file_id``, ``erased_at``,
``reports_erased_at``) for files. Files get a table of their own, not an ``erased_at``
column, because :class:`gateway.storage.ledger.FileRow` is built from ``SELECT *``: a column it
does not declare would make every ``Ledger.get``/``recent``/``unfinished`` call fail. Every
statement on the ledger (what is due, clearing a row, the marks, their schema) is a method
of :class:`gateway.storage.erasures.Erasures`; this module does the file-system work and
keeps the order below.

The order makes a crash harmless: the files are unlinked (and their folders fsynced)
first, the ledger row is cleared in one transaction after, and the ``erased`` audit
event is written once that transaction committed. A crash in between leaves a row whose
files are already gone: the next purge clears it (missing files are tolerated). Each
decision is checked again inside the transaction (by the ``Erasures`` method that clears
or marks the row), so two purges at once (the service's daily one and an operator's
``gateway purge``) erase and log each thing once. The ledger connection uses ``PRAGMA
secure_delete`` and the write-ahead log is checkpointed and truncated afterwards, so the
cleared text does not linger in the SQLite files.

Unfinished files (any state outside :data:`spool.states.TERMINAL_STATES`) are never
touched, nor their outputs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.config.retention import RetentionConfig
from gateway.reporting.audit import get_logger
from gateway.storage.erasures import (
    CLEARED_COLUMNS,
    ERASED_NAME,
    ERASURES_TABLE,
    Erasures,
)
from spool.atomic import fsync_dir, write_temp
from spool.layout import SpoolLayout
from spool.states import TERMINAL_STATES

if TYPE_CHECKING:
    from gateway.config.settings import Settings

__all__ = [
    "ERASED_NAME",
    "ERASURES_TABLE",
    "PURGE_EVERY",
    "PurgeResult",
    "RetentionConfig",
    "purge",
    "purge_for_settings",
    "rotate_audit_log",
]

#: How often the service purges (seconds): once a day.
PURGE_EVERY = 24 * 60 * 60.0

_REPORT_KINDS = ("json", "csv", "html")
_AUDIT_SETTLE_SECONDS = 0.2  # after the audit log's rename: time for other writers' last lines


@dataclass
class PurgeResult:
    """What one purge erased (or, with ``dry_run``, would erase)."""

    now: str
    dry_run: bool
    enabled: bool = True
    #: ids of the files whose input and reports were erased and whose ledger row was cleared
    erased: list[str] = field(default_factory=list)
    #: how many of ``erased`` were in each state
    erased_by_state: dict[str, int] = field(default_factory=dict)
    #: ids of the files whose reports alone were erased (``reports_days`` shorter than the input's)
    reports_erased: list[str] = field(default_factory=list)
    #: (file id, destination) of the outputs erased
    outputs_erased: list[tuple[str, str]] = field(default_factory=list)
    #: what was due but kept, with the reason (an output not yet pushed, an unexpected name)
    kept: list[dict[str, str]] = field(default_factory=list)
    #: files unlinked (or that would be)
    files_deleted: int = 0
    #: files the ledger named that were already gone
    already_gone: int = 0
    #: lines dropped from the audit log (or that would be)
    audit_lines_dropped: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            **{state: self.erased_by_state.get(state, 0) for state in TERMINAL_STATES},
            "files": len(self.erased),
            "reports": len(self.reports_erased),
            "outputs": len(self.outputs_erased),
            "kept": len(self.kept),
            "files_deleted": self.files_deleted,
            "already_gone": self.already_gone,
            "audit_lines_dropped": self.audit_lines_dropped,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "dry_run": self.dry_run,
            "enabled": self.enabled,
            "counts": self.counts,
            "erased": list(self.erased),
            "reports_erased": list(self.reports_erased),
            "outputs_erased": [
                {"file_id": file_id, "destination": destination} for file_id, destination in self.outputs_erased
            ],
            "kept": list(self.kept),
        }


# -- helpers ---------------------------------------------------------------------------------

#: A row the ledger returns (gateway.storage.erasures): column name to value.
Row = Mapping[str, Any]


def _utc_text(moment: dt.datetime) -> str:
    """The ledger's time format: ISO-8601 UTC with milliseconds."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _instant(text: str | None) -> dt.datetime | None:
    """A stored time as an aware datetime (naive text is UTC); None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def _unlink(path: Path) -> bool:
    """Remove a file; False when it was already gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _unique(paths: Sequence[Path]) -> list[Path]:
    seen: dict[str, Path] = {}
    for path in paths:
        seen.setdefault(os.path.abspath(path), path)
    return list(seen.values())


# -- the purge -------------------------------------------------------------------------------


class _Purger:
    """One purge run over one ledger and spool (see :func:`purge`)."""

    def __init__(
        self,
        store: Erasures,
        spool: SpoolLayout,
        config: RetentionConfig,
        now: dt.datetime,
        pushes: Mapping[str, Sequence[str]],
        result: PurgeResult,
    ) -> None:
        self.store, self.spool, self.config = store, spool, config
        self.now, self.pushes, self.result = now, pushes, result
        self.dry_run = not store.writable
        self.stamp = _utc_text(now)
        self.log = get_logger()

    def _due(self, since: str | None, days: int) -> bool:
        moment = _instant(since)
        return moment is not None and moment < self.now - dt.timedelta(days=days)

    # -- files -------------------------------------------------------------------
    def files(self) -> None:
        for row in self.store.finished_files():
            if self._due(row["finished_at"], self.config.days_for(row["state"])):
                self._erase_file(row)
            elif self._due(row["finished_at"], self.config.reports_days) and any(
                row[f"report_{kind}"] for kind in _REPORT_KINDS
            ):
                self._erase_reports(row)

    def _input_paths(self, row: Row) -> tuple[list[Path], list[str]]:
        """Where the input may be: its recorded path and its name in each finished folder of
        this spool (should the spool have moved); and the problems (a name not this file's)."""
        recorded = row["final_path"] or row["work_path"]
        name = Path(recorded).name if recorded else ""
        if not name.startswith(f"{row['id']}__"):
            if row["final_path"] and _lexists(Path(row["final_path"])):
                return [], [f"input name {name!r} is not this file's"]
            return [], []
        folders = (self.spool.archive, self.spool.rejected, self.spool.quarantine, self.spool.duplicate)
        recorded_final = [Path(row["final_path"])] if row["final_path"] else []
        return _unique([*recorded_final, *(folder / name for folder in folders)]), []

    def _report_paths(self, row: Row) -> tuple[list[tuple[str, list[Path]]], list[str]]:
        """Each report's paths (recorded, and ``reports/<id>.<kind>`` of this spool); the problems."""
        groups: list[tuple[str, list[Path]]] = []
        problems: list[str] = []
        for kind in _REPORT_KINDS:
            expected = f"{row['id']}.{kind}"
            recorded = row[f"report_{kind}"]
            paths = [self.spool.reports / expected]
            if recorded and Path(recorded).name == expected:
                paths.insert(0, Path(recorded))
            elif recorded and _lexists(Path(recorded)):
                problems.append(f"report name {Path(recorded).name!r} is not this file's")
            groups.append((f"report_{kind}", _unique(paths)))
        return groups, problems

    def _remove(self, groups: Sequence[tuple[str, Sequence[Path]]]) -> tuple[list[str], list[str]]:
        """Unlink every path that exists (in a dry run: count it). Returns the kinds removed
        and the kinds already gone (none of their paths existed)."""
        removed: list[str] = []
        gone: list[str] = []
        touched: set[Path] = set()
        for kind, paths in groups:
            existed = False
            for path in paths:
                if self.dry_run:
                    found = _lexists(path)
                else:
                    found = _unlink(path)
                    if found:
                        touched.add(path.parent)
                if found:
                    existed = True
                    self.result.files_deleted += 1
            (removed if existed else gone).append(kind)
        for folder in sorted(touched):
            fsync_dir(folder)
        self.result.already_gone += len(gone)
        return removed, gone

    def _keep(self, what: str, file_id: str, reason: str, **extra: str) -> None:
        self.result.kept.append({"what": what, "file_id": file_id, "reason": reason, **extra})
        if not self.dry_run:
            self.log.bind(file_id=file_id).warning("erase-skipped", what=what, reason=reason, **extra)

    def _erase_file(self, row: Row) -> None:
        inputs, input_problems = self._input_paths(row)
        reports, report_problems = self._report_paths(row)
        if input_problems or report_problems:
            self._keep("file", row["id"], "; ".join([*input_problems, *report_problems]))
            return
        removed, gone = self._remove([("input", inputs), *reports] if inputs else reports)
        cleared = [name for name in CLEARED_COLUMNS if row[name] not in (None, ERASED_NAME)]
        if not self.dry_run:
            if not self.store.clear_file(row["id"], self.stamp):
                return  # another purge was first (or the row is not what it was)
            self.log.bind(file_id=row["id"], channel=row["channel"]).info(
                "erased",
                what="file",
                sha256=row["sha256"],
                size=row["size"],
                state=row["state"],
                finished_at=row["finished_at"],
                retention_days=self.config.days_for(row["state"]),
                removed=removed,
                already_gone=gone,
                cleared=cleared,
            )
        self.result.erased.append(row["id"])
        self.result.erased_by_state[row["state"]] = self.result.erased_by_state.get(row["state"], 0) + 1

    def _erase_reports(self, row: Row) -> None:
        reports, problems = self._report_paths(row)
        if problems:
            self._keep("reports", row["id"], "; ".join(problems))
            return
        removed, gone = self._remove(reports)
        if not self.dry_run:
            if not self.store.clear_reports(row["id"], self.stamp):
                return  # another purge was first (or the row is not what it was)
            self.log.bind(file_id=row["id"], channel=row["channel"]).info(
                "erased",
                what="reports",
                sha256=row["sha256"],
                state=row["state"],
                finished_at=row["finished_at"],
                retention_days=self.config.reports_days,
                removed=removed,
                already_gone=gone,
            )
        self.result.reports_erased.append(row["id"])

    # -- outputs -----------------------------------------------------------------
    def outputs(self) -> None:
        for row in self.store.committed_outputs():
            if self._due(row["committed_at"], self.config.outbox_days):
                self._erase_output(row)

    @staticmethod
    def _output_paths(row: Row) -> list[Path]:
        """The output where it was delivered, and in ``sent/`` (``NAME`` or ``NAME.N``) once pushed."""
        path = Path(row["path"])
        sent = path.parent / "sent"
        paths = [path, sent / path.name]
        if sent.is_dir():
            for entry in sorted(sent.iterdir()):
                suffix = entry.name.removeprefix(f"{path.name}.")
                if entry.name != suffix and suffix.isdigit():
                    paths.append(entry)
        return paths

    def _not_pushed(self, row: Row, waiting: Path) -> list[str]:
        """The endpoints that push this destination and have no record of pushing this output."""
        endpoints = list(self.pushes.get(row["destination"], ()))
        if not endpoints or not _lexists(waiting):
            return []
        return self.store.not_pushed(endpoints, row["sha256"])

    def _erase_output(self, row: Row) -> None:
        path = Path(row["path"])
        if not path.name.startswith(f"{row['file_id']}.{row['destination']}."):
            if _lexists(path):
                self._keep(
                    "output",
                    row["file_id"],
                    f"output name {path.name!r} is not this delivery's",
                    destination=row["destination"],
                )
                return
        not_pushed = self._not_pushed(row, path)
        if not_pushed:
            self._keep(
                "output", row["file_id"], f"not yet pushed to {', '.join(not_pushed)}", destination=row["destination"]
            )
            return
        removed, gone = self._remove([("output", self._output_paths(row))])
        if not self.dry_run:
            if not self.store.mark_output_erased(row["file_id"], row["destination"], self.stamp):
                return  # another purge was first
            self.log.bind(file_id=row["file_id"]).info(
                "erased",
                what="output",
                destination=row["destination"],
                sha256=row["sha256"],
                committed_at=row["committed_at"],
                retention_days=self.config.outbox_days,
                removed=removed,
                already_gone=gone,
            )
        self.result.outputs_erased.append((row["file_id"], row["destination"]))


def purge(
    ledger_path: Path,
    spool: SpoolLayout,
    config: RetentionConfig,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    pushes: Mapping[str, Sequence[str]] | None = None,
    audit_log: Path | None = None,
) -> PurgeResult:
    """Erase what has outlived its retention period (see the module docstring).

    ``now`` must be timezone-aware. ``pushes`` maps a destination to the SFTP endpoints
    that push its outbox (an output of such a destination is erased only once every one
    of them recorded the push); ``audit_log``, when given, is rotated (``audit_log_days``).
    With ``dry_run`` nothing changes — not the files, the ledger (opened read-only) nor
    the audit log — and the result says what would be erased. With ``config.enabled``
    false nothing is erased and the result says so.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime (e.g. datetime.now(UTC))")
    result = PurgeResult(now=_utc_text(now), dry_run=dry_run, enabled=config.enabled)
    if not config.enabled:
        return result
    pushes = pushes or {}
    ledger_path = Path(ledger_path)
    if ledger_path.exists():
        # a dry run reads the ledger read-only; else secure_delete is on and the marks exist
        with Erasures.open(ledger_path, dry_run=dry_run) as store:
            purger = _Purger(store, spool, config, now, pushes, result)
            purger.files()
            purger.outputs()
            if not dry_run and (result.erased or result.reports_erased or result.outputs_erased):
                # the earlier page images (with the names) leave the write-ahead log
                store.checkpoint()
    if audit_log is not None:
        result.audit_lines_dropped = rotate_audit_log(
            Path(audit_log), now - dt.timedelta(days=config.audit_log_days), dry_run=dry_run
        )
    if not dry_run:
        get_logger().info("purged", **result.counts)
    return result


def purge_for_settings(settings: Settings, *, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeResult:
    """:func:`purge` for one configured gateway: its ledger, spool, ``[retention]``, SFTP pushes and audit log."""
    config = getattr(settings, "retention", None) or RetentionConfig()
    pushes: dict[str, list[str]] = {}
    for name, endpoint in sorted((getattr(settings, "endpoints", None) or {}).items()):
        if endpoint.pushes and endpoint.destination:
            pushes.setdefault(endpoint.destination, []).append(name)
    spool = SpoolLayout(settings.spool.root, settings.channels, settings.destinations)
    return purge(
        settings.ledger_path(),
        spool,
        config,
        now=now or dt.datetime.now(dt.UTC),
        dry_run=dry_run,
        pushes=pushes,
        audit_log=settings.audit_path(),
    )


# -- the audit log ---------------------------------------------------------------------------


def _line_is_old(line: bytes, cutoff: dt.datetime) -> bool:
    """True for a JSON line whose ``timestamp`` is before ``cutoff``; anything unreadable is kept."""
    try:
        event = json.loads(line)
    except ValueError:
        return False
    moment = (
        _instant(event.get("timestamp"))
        if isinstance(event, dict) and isinstance(event.get("timestamp"), str)
        else None
    )
    return moment is not None and moment < cutoff


def _append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _audit_writers_paused() -> Iterator[Any]:
    """Hold this process's audit sink (no event is written meanwhile); yields the sink."""
    from gateway.reporting import audit

    sink = audit._SINK
    with sink.lock:
        yield sink


def rotate_audit_log(path: Path, cutoff: dt.datetime, *, dry_run: bool = False) -> int:
    """Drop the lines of the audit log timestamped before ``cutoff``; returns how many (would) go.

    The kept lines are written to a temporary file beside the log, fsynced and renamed
    over it. While this process's audit sink is held, the lines appended meanwhile are
    copied over and the sink reopens the new file, so no event of this process is lost.
    Another process writing the same log keeps its old file handle for a moment: what it
    appends meanwhile is copied over, and its audit sink reopens the log when it sees the
    file was replaced (gateway/reporting/audit.py, ``_follow_rotation``).
    """
    if not path.exists():
        return 0
    with open(path, "rb") as source:
        dropped = sum(1 for line in source if _line_is_old(line, cutoff))
    if dropped == 0 or dry_run:
        return dropped
    with open(path, "rb") as source:
        old = os.fstat(source.fileno())
        temp, _ = write_temp(path.parent, path.name, (line for line in source if not _line_is_old(line, cutoff)))
        try:
            with _audit_writers_paused() as sink:
                appended = source.read()  # lines written since the copy reached the end
                if appended:
                    _append(temp, appended)
                os.replace(temp, path)
                fsync_dir(path.parent)
                if sink.file is not None:
                    current = os.fstat(sink.file.fileno())
                    if (current.st_dev, current.st_ino) == (old.st_dev, old.st_ino):
                        from gateway.reporting import audit

                        reopened = audit._open_log(path)
                        sink.file.close()
                        sink.file = reopened
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        time.sleep(_AUDIT_SETTLE_SECONDS)  # another process's line under way lands in the old file
        late = source.read()
        if late:
            _append(path, late)
    get_logger().info("audit-log-rotated", dropped=dropped, cutoff=_utc_text(cutoff))
    return dropped
