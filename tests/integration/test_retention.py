"""Retention and erasure: old inputs, reports, outputs and audit lines go; the ledger keeps the hashes.

Files go through the real pipeline into a real spool and ledger; rows are then aged by
moving their ``finished_at`` (or a delivery's ``committed_at``) back in SQLite. The
individual number in a file name is invented from the public check-digit rule.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import ValidationError
from structlog.testing import capture_logs
from typer.testing import CliRunner

from formats.checkdigits import is_valid_my_number, my_number_check_digit
from gateway.config.retention import RetentionConfig
from gateway.datapath.pipeline import Outcome, Pipeline
from gateway.datapath.retention import ERASED_NAME, PurgeResult, purge, purge_for_settings
from gateway.entrypoints.commands.purge import register
from gateway.reporting import audit
from gateway.storage.ledger import FileRow
from spool.scanner import Arrival
from tests.support.samples import debit_file

NOW = dt.datetime.now(dt.UTC)  # fresh rows are recent; aged ones are moved back from here
CLEAN = debit_file([(1000, "0"), (2500, "1"), (300, "0")])
OTHER = debit_file([(700, "0"), (800, "1")])
BODY = "31415926535"
MY_NUMBER = BODY + str(my_number_check_digit(BODY))  # invented, with a valid check digit


def _mismatch(content: bytes) -> bytes:
    """The same file with a trailer amount that disagrees: quarantined as a whole."""
    data = bytearray(content)
    trailer = 122 * (content.count(b"\r\n") - 1)
    data[trailer + 18 : trailer + 19] = b"9" if data[trailer + 18 : trailer + 19] != b"9" else b"8"
    return bytes(data)


def _all_refused() -> bytes:
    """One data record whose name has a small kana: nothing acceptable, the file is rejected."""
    data = bytearray(debit_file([(1000, "0")]))
    data[122 + 50 : 122 + 51] = b"\xaf"  # ｯ
    return bytes(data)


@pytest.fixture(autouse=True)
def _quiet_audit() -> Iterator[None]:
    audit.configure(None, console=False)
    yield
    audit.configure(None, console=False)


@pytest.fixture
def gw(pipeline: Pipeline) -> Pipeline:
    """This module's name for the pipeline (tests/integration/conftest.py)."""
    return pipeline


def ingest(pipeline: Pipeline, name: str, content: bytes) -> Outcome:
    path = pipeline.spool.inbox("zengin-91") / name
    path.write_bytes(content)
    stat = path.stat()
    file_id = pipeline.claim(Arrival("zengin-91", path, stat.st_size, stat.st_mtime_ns))
    assert file_id is not None
    return pipeline.process(file_id)


def row(pipeline: Pipeline, file_id: str) -> FileRow:
    found = pipeline.ledger.get(file_id)
    assert found is not None
    return found


def final(pipeline: Pipeline, file_id: str) -> Path:
    """Where the ledger says a finished file's input is."""
    path = row(pipeline, file_id).final_path
    assert path is not None
    return Path(path)


def age(pipeline: Pipeline, file_id: str, days: int) -> None:
    """Make a finished file look finished ``days`` days before NOW."""
    when = (NOW - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
    pipeline.ledger.db.execute("UPDATE files SET finished_at = ? WHERE id = ?", (when, file_id))


def age_deliveries(pipeline: Pipeline, file_id: str, days: int) -> None:
    when = (NOW - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
    pipeline.ledger.db.execute("UPDATE deliveries SET committed_at = ? WHERE file_id = ?", (when, file_id))


def run_purge(pipeline: Pipeline, config: RetentionConfig | None = None, **options: Any) -> PurgeResult:
    return purge(pipeline.settings.ledger_path(), pipeline.spool, config or RetentionConfig(), now=NOW, **options)


def spool_files(pipeline: Pipeline) -> dict[str, bytes]:
    root = pipeline.settings.spool.root
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith("ledger.sqlite3")
    }


def ledger_dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: [tuple(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2")] for table in tables}


def report_paths(pipeline: Pipeline, file_id: str) -> list[Path]:
    return [pipeline.spool.reports / f"{file_id}.{kind}" for kind in ("json", "csv", "html")]


# -- inputs and reports --------------------------------------------------------------------


def test_old_inputs_and_their_reports_are_erased_recent_ones_kept(gw: Pipeline) -> None:
    """Archived, rejected, quarantined and duplicate inputs past their period go with their reports; recent ones stay."""
    archived = ingest(gw, "old.dat", CLEAN)
    duplicate = ingest(gw, "again.dat", CLEAN)
    quarantined = ingest(gw, "mismatch.dat", _mismatch(OTHER))
    rejected = ingest(gw, "refused.dat", _all_refused())
    recent = ingest(gw, "recent.dat", OTHER)
    assert [o.state for o in (archived, duplicate, quarantined, rejected, recent)] == [
        "archived",
        "duplicate",
        "quarantined",
        "rejected",
        "archived",
    ]
    old = [archived, duplicate, quarantined, rejected]
    finals = {o.file_id: final(gw, o.file_id) for o in [*old, recent]}
    for outcome in old:
        age(gw, outcome.file_id, 1000)
    age(gw, recent.file_id, 10)

    result = run_purge(gw)

    assert sorted(result.erased) == sorted(o.file_id for o in old)
    assert result.erased_by_state == {"archived": 1, "duplicate": 1, "quarantined": 1, "rejected": 1}
    for outcome in old:
        assert not finals[outcome.file_id].exists()
        assert not any(path.exists() for path in report_paths(gw, outcome.file_id))
    assert finals[recent.file_id].read_bytes() == OTHER
    assert all(path.exists() for path in report_paths(gw, recent.file_id))
    assert row(gw, recent.file_id).original_name == "recent.dat"


def test_each_folder_has_its_own_period(gw: Pipeline) -> None:
    """At 200 days a duplicate (90) and a quarantined file (180) go, an archived file (550) stays."""
    archived = ingest(gw, "a.dat", CLEAN)
    duplicate = ingest(gw, "b.dat", CLEAN)
    quarantined = ingest(gw, "c.dat", _mismatch(OTHER))
    for outcome in (archived, duplicate, quarantined):
        age(gw, outcome.file_id, 200)
    result = run_purge(gw)
    assert sorted(result.erased) == sorted([duplicate.file_id, quarantined.file_id])
    assert final(gw, archived.file_id).exists()


def test_erased_row_keeps_hash_size_and_counts_but_no_name_or_paths(gw: Pipeline) -> None:
    """The ledger row stays (id, channel, sha256, size, state, counts, times) with its personal data cleared."""
    outcome = ingest(gw, "result.dat", CLEAN)
    age(gw, outcome.file_id, 1000)
    before = row(gw, outcome.file_id)
    run_purge(gw)
    after = row(gw, outcome.file_id)
    kept = (
        "id",
        "channel",
        "sha256",
        "size",
        "state",
        "status",
        "format",
        "records",
        "accepted",
        "rejected_records",
        "received_at",
        "finished_at",
    )
    assert {name: getattr(after, name) for name in kept} == {name: getattr(before, name) for name in kept}
    assert after.sha256 and after.size == len(CLEAN) and after.records == 3
    assert after.original_name == ERASED_NAME
    assert (after.inbox_path, after.work_path) == (ERASED_NAME, ERASED_NAME)
    assert (after.final_path, after.report_json, after.report_csv, after.report_html) == (None, None, None, None)
    assert after.reason is None and after.flags is None
    erased_at = gw.ledger.db.execute("SELECT erased_at FROM erasures WHERE file_id = ?", (outcome.file_id,)).fetchone()
    assert erased_at[0] == NOW.isoformat(timespec="milliseconds")


def test_reason_of_a_quarantined_file_is_cleared(gw: Pipeline) -> None:
    """The reason text (it may quote an error about the file) is cleared with the rest."""
    outcome = ingest(gw, "mismatch.dat", _mismatch(CLEAN))
    assert row(gw, outcome.file_id).reason
    age(gw, outcome.file_id, 1000)
    run_purge(gw)
    assert row(gw, outcome.file_id).reason is None


def test_unfinished_files_are_never_touched(gw: Pipeline) -> None:
    """A claimed file, even with an old finished_at, keeps its work file and its row."""
    path = gw.spool.inbox("zengin-91") / "waiting.dat"
    path.write_bytes(CLEAN)
    stat = path.stat()
    file_id = gw.claim(Arrival("zengin-91", path, stat.st_size, stat.st_mtime_ns))
    assert file_id is not None
    age(gw, file_id, 5000)
    before = row(gw, file_id)
    result = run_purge(gw)
    assert result.erased == [] and result.counts["files_deleted"] == 0
    assert row(gw, file_id) == before
    assert Path(before.work_path).read_bytes() == CLEAN


def test_an_input_already_gone_is_tolerated(gw: Pipeline) -> None:
    """An input someone removed by hand does not stop the erasure of the rest."""
    outcome = ingest(gw, "gone.dat", CLEAN)
    final(gw, outcome.file_id).unlink()
    age(gw, outcome.file_id, 1000)
    with capture_logs() as logs:
        result = run_purge(gw)
    assert result.erased == [outcome.file_id]
    (event,) = [e for e in logs if e["event"] == "erased"]
    assert event["already_gone"] == ["input"]
    assert event["removed"] == ["report_json", "report_csv", "report_html"]


def test_reports_go_earlier_when_reports_days_is_shorter(gw: Pipeline) -> None:
    """With reports_days shorter than archive_days the reports go; the input and the name stay."""
    outcome = ingest(gw, "result.dat", CLEAN)
    age(gw, outcome.file_id, 100)
    result = run_purge(gw, RetentionConfig(reports_days=30))
    assert (result.erased, result.reports_erased) == ([], [outcome.file_id])
    kept = row(gw, outcome.file_id)
    assert not any(path.exists() for path in report_paths(gw, outcome.file_id))
    assert kept.report_json is None and kept.original_name == "result.dat" and final(gw, outcome.file_id).exists()
    assert run_purge(gw, RetentionConfig(reports_days=30)).reports_erased == []


# -- audit events ----------------------------------------------------------------------------


def test_each_erasure_is_one_erased_event_with_file_id_and_sha256(gw: Pipeline) -> None:
    """One `erased` event per erased file, with its id, its SHA-256 and what was removed, never its name."""
    first = ingest(gw, "first.dat", CLEAN)
    second = ingest(gw, "second.dat", _mismatch(OTHER))
    for outcome in (first, second):
        age(gw, outcome.file_id, 1000)
    with capture_logs() as logs:
        run_purge(gw)
    erased = [event for event in logs if event["event"] == "erased" and event["what"] == "file"]
    assert sorted(event["file_id"] for event in erased) == sorted([first.file_id, second.file_id])
    for event in erased:
        assert event["sha256"] == row(gw, event["file_id"]).sha256
        assert event["removed"] == ["input", "report_json", "report_csv", "report_html"]
        assert "original_name" in event["cleared"]
        assert "first.dat" not in repr(event) and "second.dat" not in repr(event)


def test_events_reach_the_real_audit_log(gw: Pipeline) -> None:
    """With the audit log configured, the `erased` events are JSON lines in it."""
    log_path = gw.settings.audit_path()
    audit.configure(log_path, console=False)
    outcome = ingest(gw, "result.dat", CLEAN)
    age(gw, outcome.file_id, 1000)
    run_purge(gw, audit_log=log_path)
    events = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    (erased,) = [e for e in events if e["event"] == "erased"]
    assert (erased["file_id"], erased["sha256"]) == (outcome.file_id, row(gw, outcome.file_id).sha256)
    assert events[-1]["event"] == "purged" and events[-1]["files"] == 1


# -- dry run, idempotence, switches ----------------------------------------------------------


def test_dry_run_changes_nothing(gw: Pipeline) -> None:
    """A dry run lists what would go and leaves files, ledger and audit log as they were."""
    log_path = gw.settings.audit_path()
    audit.configure(log_path, console=False)
    archived = ingest(gw, "old.dat", CLEAN)
    quarantined = ingest(gw, "bad.dat", _mismatch(OTHER))
    for outcome in (archived, quarantined):
        age(gw, outcome.file_id, 1000)
        age_deliveries(gw, outcome.file_id, 1000)
    files, ledger = spool_files(gw), ledger_dump(gw.settings.ledger_path())

    with capture_logs() as logs:
        result = run_purge(gw, dry_run=True, audit_log=log_path)

    assert result.dry_run and sorted(result.erased) == sorted([archived.file_id, quarantined.file_id])
    assert len(result.outputs_erased) == 2 and result.files_deleted == 2 * 4 + 2
    assert logs == []
    assert spool_files(gw) == files
    assert ledger_dump(gw.settings.ledger_path()) == ledger
    assert "erasures" not in ledger  # not even the schema changed


def test_purging_twice_is_harmless(gw: Pipeline) -> None:
    """A second purge finds nothing to erase and writes no second `erased` event."""
    outcome = ingest(gw, "old.dat", CLEAN)
    age(gw, outcome.file_id, 1000)
    age_deliveries(gw, outcome.file_id, 1000)
    first = run_purge(gw)
    assert first.erased == [outcome.file_id] and len(first.outputs_erased) == 2
    ledger = ledger_dump(gw.settings.ledger_path())
    with capture_logs() as logs:
        second = run_purge(gw)
    assert (second.erased, second.outputs_erased, second.files_deleted) == ([], [], 0)
    assert [event["event"] for event in logs] == ["purged"]
    assert ledger_dump(gw.settings.ledger_path()) == ledger


def test_disabled_retention_erases_nothing(gw: Pipeline) -> None:
    """`enabled = false` (a legal hold) keeps everything."""
    outcome = ingest(gw, "old.dat", CLEAN)
    age(gw, outcome.file_id, 5000)
    result = run_purge(gw, RetentionConfig(enabled=False))
    assert not result.enabled and result.erased == []
    assert final(gw, outcome.file_id).exists()


def test_configuration_is_strict_and_now_must_be_aware(gw: Pipeline) -> None:
    """Unknown keys and periods below one day are refused; a naive `now` is an error."""
    with pytest.raises(ValidationError):
        RetentionConfig.model_validate({"archive_day": 30})
    with pytest.raises(ValidationError):
        RetentionConfig(outbox_days=0)
    config = RetentionConfig()
    with pytest.raises(ValidationError):
        config.archive_days = 1
    with pytest.raises(ValueError, match="timezone-aware"):
        purge(gw.settings.ledger_path(), gw.spool, config, now=dt.datetime(2027, 1, 1))


# -- outputs -------------------------------------------------------------------------------------


def test_outputs_older_than_outbox_days_are_removed_and_keep_their_hash(gw: Pipeline) -> None:
    """Committed outputs past outbox_days go; their delivery rows keep path and SHA-256; recent ones stay."""
    old = ingest(gw, "old.dat", CLEAN)
    recent = ingest(gw, "recent.dat", OTHER)
    age_deliveries(gw, old.file_id, 100)
    age_deliveries(gw, recent.file_id, 10)
    with capture_logs() as logs:
        result = run_purge(gw)
    assert sorted(result.outputs_erased) == sorted((old.file_id, d.destination) for d in old.outputs)
    assert result.erased == []  # the input's own period (550 days) has not passed
    for delivery in old.outputs:
        assert not Path(delivery.path).exists()
    for delivery in recent.outputs:
        assert Path(delivery.path).exists()
    rows = gw.ledger.db.execute(
        "SELECT destination, path, sha256, erased_at FROM deliveries WHERE file_id = ?", (old.file_id,)
    ).fetchall()
    assert {(r[0], r[1], r[2]) for r in rows} == {(d.destination, d.path, d.sha256) for d in old.outputs}
    assert all(r[3] == NOW.isoformat(timespec="milliseconds") for r in rows)
    events = [e for e in logs if e["event"] == "erased" and e["what"] == "output"]
    assert sorted((e["file_id"], e["sha256"]) for e in events) == sorted((old.file_id, d.sha256) for d in old.outputs)


def test_an_output_waiting_for_its_push_is_kept_until_pushed(gw: Pipeline) -> None:
    """For a pushed destination an output goes only once the push is recorded; in sent/ it goes too."""
    from gateway.storage.transfers import TransferStore

    outcome = ingest(gw, "old.dat", CLEAN)
    age_deliveries(gw, outcome.file_id, 100)
    collection = next(d for d in outcome.outputs if d.destination == "collection")
    pushes = {"collection": ["bank"]}

    result = run_purge(gw, pushes=pushes)
    assert [(k["file_id"], k["destination"], k["reason"]) for k in result.kept] == [
        (outcome.file_id, "collection", "not yet pushed to bank")
    ]
    assert Path(collection.path).exists()

    sent = Path(collection.path).parent / "sent"
    sent.mkdir()
    moved = sent / f"{Path(collection.path).name}.2"
    Path(collection.path).rename(moved)
    with TransferStore(gw.settings.ledger_path()) as store:
        store.record_push("bank", collection.path, collection.sha256, "/out/x")
    result = run_purge(gw, pushes=pushes)
    assert result.outputs_erased == [(outcome.file_id, "collection")] and not moved.exists()


def test_outputs_of_unfinished_files_are_never_touched(gw: Pipeline) -> None:
    """A file stuck in `delivered` keeps its outputs whatever their age."""
    outcome = ingest(gw, "old.dat", CLEAN)
    gw.ledger.db.execute("UPDATE files SET state = 'delivered' WHERE id = ?", (outcome.file_id,))
    age_deliveries(gw, outcome.file_id, 1000)
    result = run_purge(gw)
    assert result.outputs_erased == []
    assert all(Path(d.path).exists() for d in outcome.outputs)


# -- individual numbers, duplicates ------------------------------------------------------------


def test_an_individual_number_in_a_file_name_is_gone_from_the_ledger(gw: Pipeline) -> None:
    """A name holding an (invented) individual number and a person's name leaves every table and the SQLite files."""
    assert is_valid_my_number(MY_NUMBER)
    outcome = ingest(gw, f"振替結果_{MY_NUMBER}_ﾔﾏﾀﾞﾀﾛｳ.dat", CLEAN)
    ledger_path = gw.settings.ledger_path()
    recorded = row(gw, outcome.file_id).original_name  # as the pipeline keeps it (masked or not)
    assert "ﾔﾏﾀﾞﾀﾛｳ" in recorded and recorded in json.dumps(ledger_dump(ledger_path), ensure_ascii=False)
    age(gw, outcome.file_id, 1000)
    run_purge(gw)
    dump = json.dumps(ledger_dump(ledger_path), ensure_ascii=False)
    assert MY_NUMBER not in dump and "ﾔﾏﾀﾞﾀﾛｳ" not in dump
    assert not any(MY_NUMBER in path.name or "ﾔﾏﾀﾞ" in path.name for path in gw.settings.spool.root.rglob("*"))
    raw = b"".join(path.read_bytes() for path in ledger_path.parent.glob(ledger_path.name + "*"))
    for text in (MY_NUMBER, "ﾔﾏﾀﾞﾀﾛｳ"):
        assert text.encode("utf-8") not in raw


def test_the_same_content_after_erasure_is_still_a_duplicate(gw: Pipeline) -> None:
    """The kept hash still proves what was received: the same bytes years later are a duplicate."""
    first = ingest(gw, "first.dat", CLEAN)
    age(gw, first.file_id, 1000)
    run_purge(gw)
    again = ingest(gw, "again.dat", CLEAN)
    assert again.state == "duplicate"
    assert row(gw, again.file_id).duplicate_of == first.file_id


# -- the audit log -------------------------------------------------------------------------------


def test_audit_log_lines_older_than_audit_log_days_are_dropped(gw: Pipeline) -> None:
    """Old lines go, recent and unreadable ones stay, the file stays private, and logging goes on into it."""
    log_path = gw.settings.audit_path()
    old = json.dumps({"event": "received", "timestamp": "2020-01-01T00:00:00.000000Z", "file_id": "x"})
    odd = "not json at all"
    log_path.write_text(f"{old}\n{odd}\n", encoding="utf-8")
    log_path.chmod(0o600)
    audit.configure(log_path, console=False)
    ingest(gw, "new.dat", CLEAN)

    result = run_purge(gw, RetentionConfig(audit_log_days=365), audit_log=log_path)
    audit.get_logger().info("after-rotation")

    assert result.audit_lines_dropped == 1
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert old not in lines and odd in lines
    events = [json.loads(line)["event"] for line in lines if line != odd]
    assert "received" in events and events[-1] == "after-rotation"
    assert "audit-log-rotated" in events
    assert oct(log_path.stat().st_mode & 0o777) == "0o600"
    assert not [p for p in log_path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_dry_run_counts_audit_lines_without_rewriting(gw: Pipeline) -> None:
    """A dry run says how many lines would go and leaves the log byte for byte."""
    log_path = gw.settings.audit_path()
    old = json.dumps({"event": "received", "timestamp": "2020-01-01T00:00:00Z"})
    log_path.write_text(old + "\n", encoding="utf-8")
    before = log_path.read_bytes()
    result = run_purge(gw, RetentionConfig(audit_log_days=365), dry_run=True, audit_log=log_path)
    assert result.audit_lines_dropped == 1 and log_path.read_bytes() == before


# -- settings and the command line -------------------------------------------------------------


def test_purge_for_settings_uses_the_configured_spool(gw: Pipeline) -> None:
    """The settings' ledger, spool and audit log are used (defaults when there is no [retention])."""
    outcome = ingest(gw, "old.dat", CLEAN)
    age(gw, outcome.file_id, 1000)
    result = purge_for_settings(gw.settings, now=NOW)
    assert result.erased == [outcome.file_id]


def test_gateway_purge_command_dry_run_and_json(gw: Pipeline) -> None:
    """`gateway purge --dry-run --json` names what would go; without --dry-run it goes."""
    outcome = ingest(gw, "old.dat", CLEAN)
    gw.ledger.db.execute(
        "UPDATE files SET finished_at = ? WHERE id = ?",
        ((dt.datetime.now(dt.UTC) - dt.timedelta(days=1000)).isoformat(), outcome.file_id),
    )
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command, so that `purge` stays a sub-command
    register(app)
    root = str(gw.settings.spool.root)
    runner = CliRunner()

    dry = runner.invoke(app, ["purge", "--spool", root, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    payload = json.loads(dry.output)
    assert payload["dry_run"] and payload["erased"] == [outcome.file_id] and payload["counts"]["archived"] == 1
    assert final(gw, outcome.file_id).exists()

    done = runner.invoke(app, ["purge", "--spool", root])
    assert done.exit_code == 0, done.output
    assert "erased: 1 files" in done.output
    assert row(gw, outcome.file_id).original_name == ERASED_NAME
