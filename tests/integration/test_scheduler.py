"""The endpoint scheduler: business days, cron times, no overlap, back-off, expected-file alerts."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapters.schedule import (
    JST,
    EndpointBusyError,
    EndpointLocks,
    Scheduler,
    backoff_delays,
    is_business_day,
    next_business_day,
)
from adapters.sftp import EndpointConfig, HostKeyError
from gateway.storage.ledger import Ledger
from gateway.storage.transfers import TransferStore


def at(text: str) -> dt.datetime:
    """'2026-05-01 09:00' in Japan time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


def config(tmp_path: Path, **overrides: Any) -> EndpointConfig:
    fields: dict[str, Any] = dict(
        host="sftp.bank.example",
        user="city",
        key_file=tmp_path / "key",
        known_hosts=tmp_path / "known_hosts",
        remote_dir="out",
        channel="zengin-91",
        schedule="0 9 * * *",
    )
    fields.update(overrides)
    return EndpointConfig(**fields)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TransferStore]:
    with TransferStore(tmp_path / "ledger.sqlite3") as opened:
        yield opened


# -- business days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        ("2026-01-01", False),  # 元日
        ("2026-01-02", False),  # bank holiday (1/2–1/3)
        ("2026-01-03", False),
        ("2026-01-05", True),
        ("2026-01-12", False),  # 成人の日
        ("2026-05-01", True),
        ("2026-05-02", False),  # Saturday
        ("2026-05-03", False),  # Sunday, 憲法記念日
        ("2026-05-04", False),  # みどりの日
        ("2026-05-05", False),  # こどもの日
        ("2026-05-06", False),  # 振替休日
        ("2026-05-07", True),
        ("2026-09-22", False),  # 国民の休日 between 敬老の日 and 秋分の日
        ("2026-12-30", True),
        ("2026-12-31", False),  # bank holiday
    ],
)
def test_business_days(day: str, open_: bool) -> None:
    """Weekends, public holidays (substitute and 国民の休日 included) and 12/31–1/3 are not business days."""
    assert is_business_day(dt.date.fromisoformat(day)) is open_


def test_next_business_day_skips_golden_week() -> None:
    """From 5/1 (Fri) the next business day is 5/7 (Thu)."""
    assert next_business_day(dt.date(2026, 5, 1)) == dt.date(2026, 5, 7)


def test_next_run_skips_non_business_days(tmp_path: Path) -> None:
    """A daily 09:00 schedule on business days only jumps over Golden Week and the year end."""
    scheduler = Scheduler({"bank": config(tmp_path, business_days_only=True), "every-day": config(tmp_path)})
    assert scheduler.next_run("bank", at("2026-05-01 08:59")) == at("2026-05-01 09:00")
    assert scheduler.next_run("bank", at("2026-05-01 09:00")) == at("2026-05-07 09:00")
    assert scheduler.next_run("bank", at("2026-12-30 10:00")) == at("2027-01-04 09:00")
    assert scheduler.next_run("every-day", at("2026-12-30 10:00")) == at("2026-12-31 09:00")
    assert scheduler.next_run("every-day", dt.datetime(2026, 5, 1, 0, 30, tzinfo=dt.UTC)) == at("2026-05-02 09:00")


def test_next_run_without_schedule_is_none(tmp_path: Path) -> None:
    """An endpoint run by hand only has no next run."""
    assert Scheduler({"manual": config(tmp_path, schedule=None)}).next_run("manual", at("2026-05-01 09:00")) is None


# -- due and running ----------------------------------------------------------------------------


def test_due_and_run_due_follow_the_schedule(tmp_path: Path, store: TransferStore) -> None:
    """An endpoint is due at its time, runs once, and is next due at its next time."""
    scheduler = Scheduler({"bank": config(tmp_path, schedule="0 9,13 * * *", business_days_only=True)}, store)
    ran: list[str] = []
    assert scheduler.due(at("2026-05-01 08:00")) == []
    assert scheduler.run_due(at("2026-05-01 08:59"), ran.append) == []
    assert scheduler.due(at("2026-05-01 09:00")) == ["bank"]
    outcomes = scheduler.run_due(at("2026-05-01 09:00:30"), ran.append)
    assert ran == ["bank"] and [o.ok for o in outcomes] == [True]
    assert scheduler.due(at("2026-05-01 12:59")) == []
    scheduler.run_due(at("2026-05-01 13:00"), ran.append)
    assert scheduler.due(at("2026-05-06 23:59")) == []  # Golden Week: nothing
    scheduler.run_due(at("2026-05-07 09:01"), ran.append)
    assert ran == ["bank", "bank", "bank"]


def test_missed_times_run_once(tmp_path: Path) -> None:
    """After a long stop, the missed times make one run, not one per missed time."""
    scheduler = Scheduler({"bank": config(tmp_path, schedule="*/10 * * * *")})
    ran: list[str] = []
    scheduler.run_due(at("2026-05-01 09:00:01"), ran.append)  # first sight: next time is 09:10
    scheduler.run_due(at("2026-05-01 12:00:00"), ran.append)
    assert ran == ["bank"]
    assert scheduler.due(at("2026-05-01 12:05")) == []


def test_no_overlapping_runs(tmp_path: Path) -> None:
    """While a run of an endpoint is going on, another tick does not start it again."""
    scheduler = Scheduler({"bank": config(tmp_path)})
    scheduler.due(at("2026-05-01 08:00"))
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow(name: str) -> None:
        ran.append(name)
        started.set()
        release.wait(5)

    worker = threading.Thread(target=scheduler.run_due, args=(at("2026-05-01 09:00"), slow))
    worker.start()
    try:
        assert started.wait(5)
        assert scheduler.due(at("2026-05-01 09:00:05")) == []
        scheduler._states["bank"].next_fire = at("2026-05-01 09:00")  # even if it were due again
        outcome = scheduler._run_one("bank", at("2026-05-01 09:00:06"), slow)
        assert outcome.skipped and not outcome.ok
    finally:
        release.set()
        worker.join(5)
    assert ran == ["bank"]


def test_endpoint_lock_across_processes(tmp_path: Path) -> None:
    """The flock in the lock folder keeps a second holder (another process) out."""
    first, second = EndpointLocks(tmp_path / "locks"), EndpointLocks(tmp_path / "locks")
    with first.hold("bank"):
        with pytest.raises(EndpointBusyError, match="another process"), second.hold("bank"):
            pass
        with second.hold("other"):
            pass
    with second.hold("bank"):
        pass


def test_backoff_sequence(tmp_path: Path) -> None:
    """Waits double from backoff and stop at backoff_max."""
    assert backoff_delays(config(tmp_path, retries=5, backoff=60, backoff_max=600)) == [60, 120, 240, 480, 600]
    assert backoff_delays(config(tmp_path, retries=0)) == []


def test_failed_runs_are_retried_with_backoff_then_alerted(tmp_path: Path, store: TransferStore) -> None:
    """A failing endpoint is retried after 30, 60, 120 s, then gives up with an alert until its next time."""
    scheduler = Scheduler({"bank": config(tmp_path, retries=3, backoff=30, backoff_max=3600)}, store)
    scheduler.due(at("2026-05-01 08:00"))
    attempts: list[dt.datetime] = []
    clock = at("2026-05-01 09:00")

    def failing(name: str) -> None:
        attempts.append(clock)
        raise ConnectionError("bank down")

    with capture_logs() as logs:
        for seconds in (0, 29, 30, 89, 90, 209, 210, 500, 5000):
            clock = at("2026-05-01 09:00") + dt.timedelta(seconds=seconds)
            scheduler.run_due(clock, failing)
    assert [(a - at("2026-05-01 09:00")).total_seconds() for a in attempts] == [0, 30, 90, 210]
    assert scheduler.retry_at("bank") is None
    (alert,) = store.alerts()
    assert alert.kind == "run-failed" and alert.endpoint == "bank" and "bank down" in alert.message
    assert [e["event"] for e in logs].count("endpoint-gave-up") == 1
    scheduler.run_due(at("2026-05-04 09:00"), failing)  # holiday, but this endpoint runs every day
    assert len(attempts) == 5


def test_success_resets_the_retries(tmp_path: Path) -> None:
    """A retry that succeeds ends the cycle: nothing more until the next time."""
    scheduler = Scheduler({"bank": config(tmp_path, backoff=10)})
    scheduler.due(at("2026-05-01 08:00"))
    results = iter([ConnectionError("once"), None])
    ran: list[str] = []

    def flaky(name: str) -> None:
        ran.append(name)
        error = next(results)
        if error:
            raise error

    assert scheduler.run_due(at("2026-05-01 09:00:00"), flaky)[0].retry_at == at("2026-05-01 09:00:10")
    assert scheduler.run_due(at("2026-05-01 09:00:10"), flaky)[0].ok
    assert scheduler.due(at("2026-05-01 12:00")) == [] and ran == ["bank", "bank"]


def test_host_key_refusal_is_not_retried(tmp_path: Path, store: TransferStore) -> None:
    """A refused host key raises a host-key alert at once and no retry."""
    scheduler = Scheduler({"bank": config(tmp_path)}, store)
    scheduler.due(at("2026-05-01 08:00"))

    def refused(name: str) -> None:
        raise HostKeyError(
            "sftp.bank.example",
            22,
            "SHA256:abc",
            tmp_path / "known_hosts",
            "changed",
            key_type="ssh-ed25519",
            expected="SHA256:old",
        )

    (outcome,) = scheduler.run_due(at("2026-05-01 09:00"), refused)
    assert outcome.retry_at is None and scheduler.retry_at("bank") is None
    assert [a.kind for a in store.alerts()] == ["host-key"]


# -- expected files -----------------------------------------------------------------------------


def expecting(tmp_path: Path) -> dict[str, EndpointConfig]:
    return {"bank": config(tmp_path, schedule="0 8 * * *", expected_file=dict(pattern="KFURI*.DAT", cutoff="10:00"))}


def test_expected_file_alert_at_the_cutoff(tmp_path: Path, store: TransferStore) -> None:
    """Nothing arrived by 10:00 on a business day: one alert (audit event and row), not before, not twice."""
    scheduler = Scheduler(expecting(tmp_path), store)
    with capture_logs() as logs:
        scheduler.run_due(at("2026-05-07 09:59"), lambda name: None)
        assert store.alerts() == []
        scheduler.run_due(at("2026-05-07 10:00"), lambda name: None)
        scheduler.run_due(at("2026-05-07 10:30"), lambda name: None)
    (alert,) = store.alerts()
    assert (alert.kind, alert.endpoint, alert.channel, alert.date) == (
        "expected-file",
        "bank",
        "zengin-91",
        "2026-05-07",
    )
    assert "KFURI*.DAT" in alert.message and "10:00" in alert.message
    assert [e["kind"] for e in logs if e["event"] == "alert"] == ["expected-file"]
    # a new scheduler (the service restarted) does not raise it again
    Scheduler(expecting(tmp_path), store).check_expected(at("2026-05-07 11:00"))
    assert len(store.alerts()) == 1


def test_no_expected_file_alert_when_the_file_arrived(tmp_path: Path, store: TransferStore) -> None:
    """A matching file pulled before the cut-off: no alert; a file of another name does not count."""
    store.record_pull(
        "bank", "out/OTHER.DAT", 1, 1, "0" * 64, "/x", channel="zengin-91", pulled_at=at("2026-05-07 09:00")
    )
    store.record_pull(
        "bank", "out/KFURI0507.DAT", 1, 2, "1" * 64, "/y", channel="zengin-91", pulled_at=at("2026-05-07 09:30")
    )
    assert Scheduler(expecting(tmp_path), store).check_expected(at("2026-05-07 10:00")) == []
    assert store.alerts() == []
    # the day before had only the wrong name
    store.record_pull(
        "bank", "out/OTHER2.DAT", 1, 3, "2" * 64, "/z", channel="zengin-91", pulled_at=at("2026-05-01 09:00")
    )
    assert Scheduler(expecting(tmp_path), store).check_expected(at("2026-05-01 10:00")) == ["bank"]


def test_no_expected_file_alert_on_a_holiday(tmp_path: Path, store: TransferStore) -> None:
    """The bank sends nothing on holidays: no alert on 2026-05-04 or a Saturday."""
    scheduler = Scheduler(expecting(tmp_path), store)
    assert scheduler.check_expected(at("2026-05-04 12:00")) == []
    assert scheduler.check_expected(at("2026-05-09 12:00")) == []
    assert store.alerts() == []


def test_a_file_taken_from_the_inbox_counts_as_arrived(tmp_path: Path, store: TransferStore) -> None:
    """A file dropped into the inbox by hand (a row in the ledger's files table) counts as arrived."""
    with Ledger(store.path) as ledger:
        ledger.begin_claim(Ledger.new_file_id(), "zengin-91", "KFURI0507.DAT", tmp_path / "in", tmp_path / "w", 10)
    now = dt.datetime.now(JST)
    assert store.file_arrived("zengin-91", "KFURI*.DAT", now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5))
    assert not store.file_arrived("zengin-21", "KFURI*.DAT", now - dt.timedelta(minutes=5), now)
    assert not store.file_arrived("zengin-91", "OTHER*", now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5))


def test_serve_runs_due_endpoints_until_stopped(tmp_path: Path) -> None:
    """serve() runs what is due by its clock and returns when the stop event is set."""
    scheduler = Scheduler({"bank": config(tmp_path)}, clock=lambda: at("2026-05-01 09:00"))
    scheduler.due(at("2026-05-01 08:00"))  # the next time is 09:00
    stop = threading.Event()
    ran: list[str] = []

    def runner(name: str) -> None:
        ran.append(name)
        stop.set()

    worker = threading.Thread(target=scheduler.serve, args=(stop, runner), kwargs={"tick": 0.1})
    worker.start()
    worker.join(5)
    assert not worker.is_alive() and ran == ["bank"]


def test_serve_does_not_spin_while_another_process_runs_the_endpoint(tmp_path: Path) -> None:
    """While `gateway pull` (another process) holds the endpoint's lock, the due run is skipped and looked at
    again at the next tick, not every half second."""
    other = EndpointLocks(tmp_path / "locks")
    scheduler = Scheduler(
        {"bank": config(tmp_path)}, locks=EndpointLocks(tmp_path / "locks"), clock=lambda: at("2026-05-01 09:00")
    )
    scheduler.due(at("2026-05-01 08:00"))  # the next time is 09:00, due at once
    tries: list[bool] = []
    real_run = scheduler._run_one

    def counted(*args: Any, **kwargs: Any) -> Any:
        outcome = real_run(*args, **kwargs)
        tries.append(outcome.skipped)
        return outcome

    scheduler._run_one = counted  # type: ignore[method-assign]
    stop = threading.Event()
    with other.hold("bank"):
        worker = threading.Thread(target=scheduler.serve, args=(stop, lambda name: None), kwargs={"tick": 30.0})
        worker.start()
        stop.wait(2.0)
        stop.set()
        worker.join(5)
    assert tries == [True]  # one skipped try in 2 s (it spun every 0.5 s before)
