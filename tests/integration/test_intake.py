"""Taking files from an inbox that others write: links, swaps, long names, other users' files,
files that vanish (issue 17, part 1). In process; tests/e2e/test_intake_run.py does the same
through real `gateway run` processes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from gateway.datapath.pipeline import Pipeline
from gateway.storage.transfers import TransferStore
from spool.intake import Refused, open_inbox_file, take, work_name
from spool.scanner import Arrival, StableScanner
from tests.support.samples import debit_file

CLEAN = debit_file([(1000, "0"), (2500, "1")])


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the spool that an attacker would like the gateway to read or chmod."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for the gateway\n")
    secret.chmod(0o644)
    return secret


def arrival_of(path: Path, channel: str = "zengin-91") -> Arrival:
    """What the scanner saw (a regular file) just before the path was changed under it."""
    return Arrival(channel, path, len(CLEAN), 0)


def seen_by_scanner(pipeline: Pipeline, name: str) -> Arrival:
    path = pipeline.spool.inbox("zengin-91") / name
    path.write_bytes(CLEAN)
    scanner = StableScanner(pipeline.spool.inboxes(), quiet_seconds=0)
    [arrival] = [a for a in scanner.scan() if a.path == path]
    return arrival


def refused_row(pipeline: Pipeline, file_id: str | None):
    assert file_id is not None
    row = pipeline.ledger.get(file_id)
    assert row is not None
    assert (row.state, row.status) == ("quarantined", "refused"), row
    report = json.loads(Path(row.report_json).read_text(encoding="utf-8"))
    assert report["status"] == "refused" and report["state"] == "quarantine" and report["reason"]
    return row, report


def alerts(pipeline: Pipeline) -> list[str]:
    store = TransferStore(pipeline.settings.ledger_path())
    try:
        return [f"{alert.kind} {alert.channel} {alert.message}" for alert in store.alerts()]
    finally:
        store.close()


# -- symbolic links, hard links, FIFOs --------------------------------------------------------


def test_symlink_swapped_in_after_the_scan_is_not_followed(pipeline: Pipeline, outside: Path) -> None:
    """The scanner saw a regular file; then `ln -s target .swap && mv -T .swap queued.dat`."""
    arrival = seen_by_scanner(pipeline, "queued.dat")
    swap = arrival.path.with_name(".swap")
    swap.symlink_to(outside)
    os.rename(swap, arrival.path)
    before = os.stat(outside)

    file_id = pipeline.claim(arrival)

    row, report = refused_row(pipeline, file_id)
    after = os.stat(outside)
    assert stat.S_IMODE(after.st_mode) == 0o644, "the link's target was chmodded"
    assert after.st_mtime_ns == before.st_mtime_ns and outside.read_bytes() == b"not for the gateway\n"
    assert "シンボリックリンク" in report["reason"] and row.sha256 is None
    # the link itself is kept in quarantine/, still a link, never followed
    kept = Path(row.final_path)
    assert kept.parent == pipeline.spool.quarantine and kept.is_symlink()
    assert not os.path.lexists(arrival.path) and not list(pipeline.spool.work.iterdir())
    assert any(line.startswith("file-refused zengin-91") for line in alerts(pipeline))
    # and an operator's reprocess does not follow it either
    with pytest.raises(ValueError, match="シンボリックリンク"):
        pipeline.reprocess(row, force=True)
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o644


def test_hard_link_into_the_inbox_is_refused_without_chmod(pipeline: Pipeline, outside: Path) -> None:
    link = pipeline.spool.inbox("zengin-91") / "linked.dat"
    os.link(outside, link)
    file_id = pipeline.claim(arrival_of(link))
    _, report = refused_row(pipeline, file_id)
    assert "ハードリンク" in report["reason"]
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o644, "the outside file was chmodded"


def test_fifo_is_refused_without_blocking(pipeline: Pipeline) -> None:
    fifo = pipeline.spool.inbox("zengin-91") / "pipe.dat"
    os.mkfifo(fifo)
    file_id = pipeline.claim(arrival_of(fifo))  # an open without O_NONBLOCK would wait for a writer
    _, report = refused_row(pipeline, file_id)
    assert "FIFO" in report["reason"]


def test_swap_between_open_and_rename_is_caught(pipeline: Pipeline, outside: Path) -> None:
    """What moved into work/ is compared with what was opened: a link swapped in between is refused."""
    inbox = pipeline.spool.inbox("zengin-91")
    path = inbox / "raced.dat"
    path.write_bytes(CLEAN)
    fd, info = open_inbox_file(path)
    try:
        swap = inbox / ".swap"
        swap.symlink_to(outside)
        os.rename(swap, path)
        with pytest.raises(Refused) as refused:
            take(path, fd, info, pipeline.spool.work, "raced.dat")
    finally:
        os.close(fd)
    assert refused.value.code == "swapped"
    assert (pipeline.spool.work / "raced.dat").is_symlink()
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o644


def test_file_vanished_before_the_claim_is_a_lost_race(pipeline: Pipeline) -> None:
    arrival = seen_by_scanner(pipeline, "gone.dat")
    arrival.path.unlink()
    assert pipeline.claim(arrival) is None
    assert pipeline.ledger.recent() == []


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["振" * 77 + ".dat", "a" * 251 + ".dat", "口座振替結果" * 13 + "_0001.DAT"])
def test_long_names_are_taken_and_kept_whole_in_the_ledger(pipeline: Pipeline, name: str) -> None:
    assert len(name.encode()) > 229
    path = pipeline.spool.inbox("zengin-91") / name
    path.write_bytes(CLEAN)
    file_id = pipeline.claim(arrival_of(path))
    assert file_id is not None
    outcome = pipeline.process(file_id)
    assert (outcome.state, outcome.status) == ("archived", "ok")
    row = pipeline.ledger.get(file_id)
    assert row.original_name == name
    archived = Path(row.final_path)
    assert archived.read_bytes() == CLEAN and len(archived.name.encode()) <= 255
    assert archived.name.startswith(f"{file_id}__振" if name.startswith("振") else f"{file_id}__")


def test_work_name_is_cut_at_a_character_boundary() -> None:
    name = work_name("20261204-000000-abcdef01", "あ" * 100)
    assert len(name.encode()) <= 255 and name.endswith("あ")
    assert name.encode().decode() == name


# -- other users' files -----------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@needs_root
def test_another_users_file_is_copied_into_a_file_of_our_own(pipeline: Pipeline) -> None:
    """`sudo cp` into the inbox: the gateway takes a copy it owns, the other user's file is removed."""
    path = pipeline.spool.inbox("zengin-91") / "by-sudo.dat"
    path.write_bytes(CLEAN)
    os.chown(path, 4242, 4242)
    path.chmod(0o644)
    file_id = pipeline.claim(arrival_of(path))
    assert file_id is not None
    outcome = pipeline.process(file_id)
    assert outcome.state == "archived"
    archived = os.stat(pipeline.ledger.get(file_id).final_path)
    assert (archived.st_uid, stat.S_IMODE(archived.st_mode)) == (0, 0o600)
    assert not path.exists()


# -- a file removed from work/ ------------------------------------------------------------------


def test_file_removed_from_work_ends_quarantined_once(pipeline: Pipeline) -> None:
    """Removed by hand after the claim: one final state, a report, an alert; not retried for ever."""
    path = pipeline.spool.inbox("zengin-91") / "removed.dat"
    path.write_bytes(CLEAN)
    file_id = pipeline.claim(arrival_of(path))
    Path(pipeline.ledger.get(file_id).work_path).unlink()

    outcome = pipeline.process(file_id)

    assert (outcome.state, outcome.status) == ("quarantined", "failed")
    row = pipeline.ledger.get(file_id)
    assert row.state == "quarantined" and row.final_path is None and "失われて" in row.reason
    assert json.loads(Path(row.report_json).read_text(encoding="utf-8"))["status"] == "failed"
    assert pipeline.ledger.unfinished() == [] and pipeline.recover() == []
    assert any(line.startswith("input-missing zengin-91") for line in alerts(pipeline))
    assert not any(path.name.startswith(".tmp-") for path in pipeline.spool.root.rglob("*"))


def test_file_removed_after_its_outputs_were_planned_is_delivered_and_closed(pipeline: Pipeline) -> None:
    path = pipeline.spool.inbox("zengin-91") / "late.dat"
    path.write_bytes(CLEAN)
    file_id = pipeline.claim(arrival_of(path))
    # processed up to planned deliveries, as a crash right after plan_deliveries leaves it
    original = pipeline._commit_staged
    pipeline._commit_staged = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt())  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        pipeline.process(file_id)
    pipeline._commit_staged = original  # type: ignore[method-assign]
    assert pipeline.ledger.get(file_id).state == "delivering"
    Path(pipeline.ledger.get(file_id).work_path).unlink()

    outcome = pipeline.process(file_id)

    assert outcome.state == "archived" and {d.destination for d in outcome.outputs} == {"collection", "followup"}
    assert all(Path(d.path).is_file() for d in outcome.outputs)
    row = pipeline.ledger.get(file_id)
    assert row.final_path is None and "保管できませんでした" in row.reason


def test_recovery_goes_on_past_a_row_it_cannot_recover(pipeline: Pipeline, monkeypatch) -> None:
    """One row whose recovery raises is logged and left; the next row is still recovered."""
    paths = []
    for name in ("first.dat", "second.dat"):
        path = pipeline.spool.inbox("zengin-91") / name
        path.write_bytes(debit_file([(len(name) * 100, "0")]) if name == "second.dat" else CLEAN)
        paths.append(pipeline.claim(arrival_of(path)))
    first, second = paths
    real = pipeline.process

    def broken(file_id: str):
        if file_id == first:
            raise OSError("disk said no")
        return real(file_id)

    monkeypatch.setattr(pipeline, "process", broken)
    outcomes = pipeline.recover()
    assert [outcome.file_id for outcome in outcomes] == [second]
    assert pipeline.ledger.get(first).state == "claimed"
