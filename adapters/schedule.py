"""When each SFTP endpoint runs: cron schedules in Japan time, bank business days, retries, alerts.

- **Schedules** are cron expressions (``croniter``) evaluated in Japan time (JST, UTC+9,
  no daylight saving), one per endpoint (``EndpointConfig.schedule``).
- **Bank business days** (銀行営業日, :func:`is_business_day`): not Saturday or Sunday,
  not a Japanese public holiday (the ``holidays`` package: 国民の祝日, 振替休日 and
  国民の休日 included), not 12/31 to 1/3. With ``business_days_only`` an endpoint's
  runs that would fall on another day are skipped (:meth:`Scheduler.next_run` looks
  for the next time that is both in the schedule and on a business day).
- **No overlap**: a run holds its endpoint's lock (:class:`EndpointLocks`): a thread lock,
  and with a lock folder also an ``flock`` on ``.endpoint-<name>.lock`` there, so that
  ``gateway pull`` from a terminal and the service's scheduler never run one endpoint
  at the same time. A busy endpoint is left for the next tick.
- **Retries**: a failed run is tried again after ``backoff``, then 2×, 4×… seconds
  (at most ``backoff_max``), at most ``retries`` times (:func:`backoff_delays`). Then
  the endpoint waits for its next scheduled time and an alert is raised (``run-failed``).
  A refused host key is not retried: it raises a ``host-key`` alert at once.
- **Expected files** (``EndpointConfig.expected_file``): on a business day, at the first
  tick at or after the cut-off, if no file matching the pattern has reached the channel
  since midnight (pulled by an endpoint, or taken from the inbox into the ledger), an
  ``expected-file`` alert is raised: an audit event and a row in ``alerts``
  (``gateway alerts`` lists them), once per endpoint, channel and day.

The scheduler is deterministic: every decision takes ``now`` as an argument (the
``clock`` is only read by :meth:`Scheduler.serve`). Missed times (the gateway was
stopped) are not replayed one by one: the first tick after them runs the endpoint once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.sftp import EndpointConfig, HostKeyError, Progress, pull, push
from formats.dates import JST
from gateway.reporting.audit import get_logger
from gateway.storage.transfers import TransferStore

# holidays and croniter are imported where they are used: `gateway pull` and `push` need neither
if TYPE_CHECKING:
    import holidays

__all__ = [
    "EndpointBusyError",
    "EndpointLocks",
    "EndpointRunner",
    "JST",
    "RunOutcome",
    "Scheduler",
    "backoff_delay",
    "backoff_delays",
    "endpoints_of",
    "is_business_day",
    "next_business_day",
    "now_jst",
]

_YEAR_END = {(12, 31), (1, 1), (1, 2), (1, 3)}
_MAX_CANDIDATES = 5000  # cron times looked at for the next business-day run (years of a daily schedule)


def now_jst() -> dt.datetime:
    return dt.datetime.now(JST)


def _jst(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError(f"a time zone-aware datetime expected, found {moment!r}")
    return moment.astimezone(JST)


@lru_cache(maxsize=64)
def _japan_holidays(year: int) -> holidays.HolidayBase:
    import holidays

    return holidays.country_holidays("JP", years=year)


def is_business_day(day: dt.date) -> bool:
    """A bank business day: Monday to Friday, not a public holiday, not 12/31–1/3."""
    if isinstance(day, dt.datetime):
        day = _jst(day).date()
    if day.weekday() >= 5 or (day.month, day.day) in _YEAR_END:
        return False
    return day not in _japan_holidays(day.year)


def next_business_day(day: dt.date) -> dt.date:
    """The first business day after ``day``."""
    day += dt.timedelta(days=1)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def backoff_delay(endpoint: EndpointConfig, attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …): backoff × 2^(attempt-1), capped."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return float(min(endpoint.backoff * 2 ** (attempt - 1), endpoint.backoff_max))


def backoff_delays(endpoint: EndpointConfig) -> list[float]:
    """The waits before each of the endpoint's retries, in order."""
    return [backoff_delay(endpoint, attempt) for attempt in range(1, endpoint.retries + 1)]


# -- locks ------------------------------------------------------------------------------------


class EndpointBusyError(RuntimeError):
    """Raised by :meth:`EndpointLocks.hold` when the endpoint is already running (here or in
    another process)."""


class EndpointLocks:
    """One lock per endpoint: a thread lock, plus an ``flock`` in ``lock_dir`` across processes."""

    def __init__(self, lock_dir: Path | None = None) -> None:
        self.lock_dir = Path(lock_dir) if lock_dir is not None else None
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def busy(self, name: str) -> bool:
        """Whether a run of ``name`` holds the lock in this process."""
        return self._lock(name).locked()

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold the endpoint's lock for a run; EndpointBusyError at once if it is held."""
        lock = self._lock(name)
        if not lock.acquire(blocking=False):
            raise EndpointBusyError(f"endpoint {name} is already running in this process")
        fd: int | None = None
        try:
            if self.lock_dir is not None:
                self.lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.lock_dir / f".endpoint-{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise EndpointBusyError(f"endpoint {name} is already running in another process") from None
            yield
        finally:
            if fd is not None:
                os.close(fd)  # releases the flock
            lock.release()


# -- running an endpoint -------------------------------------------------------------------------


def endpoints_of(settings: Any) -> dict[str, EndpointConfig]:
    """``settings.endpoints`` (an empty dict for a Settings without endpoints)."""
    return dict(getattr(settings, "endpoints", None) or {})


class EndpointRunner:
    """Runs one endpoint as configured in a Settings: pull into the channel's inbox, then push
    the destination's outbox (whichever the endpoint does). The scheduler's ``runner``."""

    def __init__(self, settings: Any, store: TransferStore, *, progress: Progress | None = None) -> None:
        from spool.layout import SpoolLayout

        self.settings = settings
        self.store = store
        self.progress = progress
        self.spool = SpoolLayout(settings.spool.root, settings.channels, settings.destinations)

    def __call__(self, name: str) -> None:
        endpoint = endpoints_of(self.settings)[name]
        if endpoint.pulls:
            assert endpoint.channel is not None
            pull(name, endpoint, inbox=self.spool.inbox(endpoint.channel), store=self.store, progress=self.progress)
        if endpoint.pushes:
            assert endpoint.destination is not None
            push(
                name,
                endpoint,
                outbox=self.settings.destination_path(endpoint.destination),
                store=self.store,
                progress=self.progress,
            )


# -- the scheduler -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    """How one run started by :meth:`Scheduler.run_due` ended."""

    endpoint: str
    ok: bool
    error: str | None = None
    retry_at: dt.datetime | None = None  # when it will be tried again (None: not retried)
    skipped: bool = False  # the endpoint was busy: nothing ran


@dataclass
class _State:
    next_fire: dt.datetime | None
    attempts: int = 0  # failed attempts since the last scheduled time
    retry_at: dt.datetime | None = None


class Scheduler:
    """Decides which endpoints run when; runs them through a ``runner(name)`` callable."""

    def __init__(
        self,
        endpoints: Mapping[str, EndpointConfig],
        store: TransferStore | None = None,
        *,
        locks: EndpointLocks | None = None,
        clock: Callable[[], dt.datetime] = now_jst,
    ) -> None:
        self.endpoints = dict(endpoints)
        self.store = store
        self.locks = locks or EndpointLocks()
        self.clock = clock
        self._states: dict[str, _State] = {}
        self._checked: set[tuple[str, dt.date]] = set()
        self.log = get_logger()

    # -- times --------------------------------------------------------------------
    def next_run(self, endpoint: str, now: dt.datetime) -> dt.datetime | None:
        """The endpoint's next scheduled time strictly after ``now`` (JST), on a business day if
        it runs on business days only; None for an endpoint without a schedule."""
        config = self.endpoints[endpoint]
        if config.schedule is None:
            return None
        from croniter import croniter

        times = croniter(config.schedule, _jst(now))
        for _ in range(_MAX_CANDIDATES):
            candidate: dt.datetime = times.get_next(dt.datetime)
            if not config.business_days_only or is_business_day(candidate.date()):
                return candidate
        raise ValueError(
            f"endpoint {endpoint}: no business day in the next {_MAX_CANDIDATES} times of schedule {config.schedule!r}"
        )

    def retry_at(self, endpoint: str) -> dt.datetime | None:
        """When a failed run of the endpoint will be tried again, if one will."""
        state = self._states.get(endpoint)
        return None if state is None else state.retry_at

    def _state(self, name: str, now: dt.datetime) -> _State:
        state = self._states.get(name)
        if state is None:
            # from the last recorded run (a time missed while stopped runs at the first tick), else from now
            base = now
            last = self.store.last_run(name) if self.store is not None else None
            if last is not None:
                base = min(now, dt.datetime.fromisoformat(last.started_at).astimezone(JST))
            state = self._states[name] = _State(self.next_run(name, base))
        return state

    def due(self, now: dt.datetime) -> list[str]:
        """The endpoints to run at ``now``: scheduled time reached or retry due, and not running."""
        now = _jst(now)
        found = []
        for name in self.endpoints:
            state = self._state(name, now)
            retry = state.retry_at is not None and state.retry_at <= now
            fire = state.next_fire is not None and state.next_fire <= now
            if (retry or fire) and not self.locks.busy(name):
                found.append(name)
        return found

    # -- running ------------------------------------------------------------------
    def run_due(self, now: dt.datetime, runner: Callable[[str], Any]) -> list[RunOutcome]:
        """Run every due endpoint once (one after another, in this thread), then check the
        expected-file rules. A runner's exception is a failed run: retried with back-off."""
        now = _jst(now)
        outcomes = [self._run_one(name, now, runner) for name in self.due(now)]
        self.check_expected(now)
        return outcomes

    def _run_one(self, name: str, now: dt.datetime, runner: Callable[[str], Any]) -> RunOutcome:
        config = self.endpoints[name]
        state = self._state(name, now)
        log = self.log.bind(endpoint=name)
        try:
            with self.locks.hold(name):
                if state.next_fire is not None and state.next_fire <= now:  # a scheduled time: a new cycle
                    state.next_fire = self.next_run(name, now)
                    state.attempts = 0
                state.retry_at = None
                runner(name)
        except EndpointBusyError as busy:
            log.info("endpoint-busy", reason=str(busy))
            return RunOutcome(name, ok=False, error=str(busy), skipped=True)
        except Exception as error:
            state.attempts += 1
            text = f"{type(error).__name__}: {error}"
            if isinstance(error, HostKeyError):
                self._alert("host-key", now, str(error), endpoint=name)
                log.error("endpoint-run-failed", error=text, attempt=state.attempts, retry="none: host key refused")
                return RunOutcome(name, ok=False, error=text)
            if state.attempts <= config.retries:
                state.retry_at = now + dt.timedelta(seconds=backoff_delay(config, state.attempts))
                log.warning(
                    "endpoint-run-failed", error=text, attempt=state.attempts, retry_at=state.retry_at.isoformat()
                )
                return RunOutcome(name, ok=False, error=text, retry_at=state.retry_at)
            log.error(
                "endpoint-gave-up",
                error=text,
                attempts=state.attempts,
                next_run=state.next_fire.isoformat() if state.next_fire else None,
            )
            self._alert(
                "run-failed", now, f"endpoint {name} failed {state.attempts} times, last: {text}", endpoint=name
            )
            return RunOutcome(name, ok=False, error=text)
        state.attempts = 0
        log.info("endpoint-run-finished", next_run=state.next_fire.isoformat() if state.next_fire else None)
        return RunOutcome(name, ok=True)

    def _alert(self, kind: str, now: dt.datetime, message: str, *, endpoint: str = "", channel: str = "") -> bool:
        raised = True
        if self.store is not None:
            raised = self.store.raise_alert(
                kind, date=now.date(), message=message, endpoint=endpoint, channel=channel, at=now
            )
        if raised:
            self.log.error(
                "alert", kind=kind, endpoint=endpoint, channel=channel, date=now.date().isoformat(), message=message
            )
        return raised

    def check_expected(self, now: dt.datetime) -> list[str]:
        """Raise the expected-file alerts due at ``now``; the endpoints alerted for."""
        now = _jst(now)
        today = now.date()
        alerted: list[str] = []
        if not is_business_day(today):
            return alerted
        for name, config in self.endpoints.items():
            rule, channel = config.expected_file, config.expected_channel()
            if rule is None or channel is None or (name, today) in self._checked:
                continue
            cutoff = dt.datetime.combine(today, rule.cutoff_time(), JST)
            if now < cutoff:
                continue
            self._checked.add((name, today))
            midnight = dt.datetime.combine(today, dt.time(0, 0), JST)
            if self.store is not None and self.store.file_arrived(channel, rule.pattern, midnight, now):
                continue
            message = (
                f"{channel}: no file matching {rule.pattern!r} had arrived by {rule.cutoff} on {today} "
                f"(endpoint {name}); ask the bank whether it was sent, then run `gateway pull {name}`"
            )
            if self._alert("expected-file", now, message, endpoint=name, channel=channel):
                alerted.append(name)
        return alerted

    def serve(self, stop: threading.Event, runner: Callable[[str], Any], *, tick: float = 30.0) -> None:
        """Run due endpoints until ``stop`` is set, waking at least every ``tick`` seconds
        (meant for a thread of its own in the service)."""
        self.log.info("scheduler-started", endpoints=sorted(self.endpoints))
        while not stop.is_set():
            now = _jst(self.clock())
            self.run_due(now, runner)
            waits = [tick]
            for name in self.endpoints:
                state = self._state(name, now)
                for moment in (state.next_fire, state.retry_at):
                    # a moment already past is an endpoint another process is running: look again at the tick
                    if moment is not None and (left := (moment - _jst(self.clock())).total_seconds()) > 0:
                        waits.append(left)
            stop.wait(max(0.5, min(waits)))
        self.log.info("scheduler-stopped")
