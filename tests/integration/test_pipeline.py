"""The pipeline in process: claim, duplicates, routing, reports, quarantine, recovery from every state."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from formats.registry import get_format
from formats.validate import validate_path
from gateway.config.settings import ConfigError, load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.model.normalise import implied_date
from gateway.storage.ledger import Ledger
from spool.scanner import Arrival
from tests.support.paths import ROOT
from tests.support.samples import debit_file

CLEAN = debit_file([(1000, "0"), (2500, "1"), (300, "0"), (4700, "9")])


@pytest.fixture
def spool(pipeline: Pipeline) -> Pipeline:
    """This module's name for the pipeline (tests/integration/conftest.py)."""
    return pipeline


def drop(pipeline: Pipeline, name: str, content: bytes, channel: str = "zengin-91") -> Arrival:
    path = pipeline.spool.inbox(channel) / name
    path.write_bytes(content)
    stat = path.stat()
    return Arrival(channel, path, stat.st_size, stat.st_mtime_ns)


def ingest(pipeline: Pipeline, name: str, content: bytes):
    file_id = pipeline.claim(drop(pipeline, name, content))
    assert file_id is not None
    return pipeline.process(file_id)


def collection_records(path: Path) -> list[tuple[str, int, str]]:
    lines = path.read_bytes().split(b"\r\n")
    return [(line[1:21].decode().strip(), int(line[24:36]), line[23:24].decode()) for line in lines if line[:1] == b"2"]


def test_clean_result_is_routed_archived_and_reported(spool):
    """A clean 91 result goes to the collection system (all) and the follow-up list (failed only), then archive/."""
    outcome = ingest(spool, "result.dat", CLEAN)
    assert (outcome.state, outcome.status) == ("archived", "ok")
    by_destination = {d.destination: d for d in outcome.outputs}
    assert set(by_destination) == {"collection", "followup"}
    collection = Path(by_destination["collection"].path)
    assert collection.name == f"{outcome.file_id}.collection.dat"
    assert collection_records(collection) == [
        ("00000000000000000001", 1000, "1"),
        ("00000000000000000002", 2500, "2"),
        ("00000000000000000003", 300, "1"),
        ("00000000000000000004", 4700, "2"),
    ]
    assert validate_path(collection, get_format("collection-intake")).status == "ok"
    followup = Path(by_destination["followup"].path).read_text(encoding="utf-8-sig").splitlines()
    assert len(followup) == 3 and followup[1].split(",")[2:7] == [
        "00000000000000000002",
        followup[1].split(",")[3],
        "2500",
        "1",
        "資金不足",
    ]
    row = spool.ledger.get(outcome.file_id)
    assert (row.state, row.records, row.accepted, row.rejected_records) == ("archived", 4, 4, 0)
    assert Path(row.final_path) == spool.spool.archive / f"{outcome.file_id}__result.dat"
    assert Path(row.final_path).read_bytes() == CLEAN
    assert not list(spool.spool.work.iterdir())
    report = json.loads(Path(row.report_json).read_text(encoding="utf-8"))
    assert report["status"] == "ok" and report["outputs"][0]["sha256"] == by_destination["collection"].sha256
    assert oct(os.stat(row.report_html).st_mode & 0o777) == "0o600"


def test_same_content_twice_is_a_duplicate_and_routes_nothing(spool):
    """The same bytes again go to duplicate/ with nothing routed, naming the earlier file."""
    first = ingest(spool, "a.dat", CLEAN)
    second = ingest(spool, "b.dat", CLEAN)
    assert (second.state, second.outputs) == ("duplicate", ())
    row = spool.ledger.get(second.file_id)
    assert row.duplicate_of == first.file_id
    assert Path(row.final_path).parent == spool.spool.duplicate
    assert len(list(spool.transports["collection"].folder.iterdir())) == 1


def test_forced_reprocess_routes_again_under_a_new_id(spool):
    """`reprocess --force` of a duplicate processes it under a new id with its own outputs."""
    ingest(spool, "a.dat", CLEAN)
    duplicate = ingest(spool, "b.dat", CLEAN)
    new_id = spool.reprocess(spool.ledger.get(duplicate.file_id), force=True)
    outcome = spool.process(new_id)
    assert outcome.state == "archived"
    assert spool.ledger.get(new_id).reprocess_of == duplicate.file_id
    assert len(list(spool.transports["collection"].folder.iterdir())) == 2


def test_two_processes_reprocessing_one_duplicate_leave_no_stuck_claim(spool):
    """Two operators (console and command line) reprocess the same duplicate at once: one wins, the other is
    told so, and its half-made ledger row is removed (no row stuck in 'claiming')."""
    import spool.intake as intake_module

    ingest(spool, "a.dat", CLEAN)
    duplicate = spool.ledger.get(ingest(spool, "b.dat", CLEAN).file_id)  # both read the row before either moves
    won: list[str] = []
    real_move = intake_module.move_into

    def winner_moves_first(*args, **kwargs):  # the other process takes the file between our check and our move
        if not won:
            won.append("")
            won[0] = spool.reprocess(duplicate, force=True)
        return real_move(*args, **kwargs)

    with Ledger(spool.settings.ledger_path()) as other_ledger, pytest.MonkeyPatch.context() as patch:
        other = Pipeline(spool.settings, other_ledger)
        patch.setattr(intake_module, "move_into", winner_moves_first)
        with pytest.raises(FileNotFoundError, match="already taken for reprocessing"):
            other.reprocess(duplicate, force=True)
    states = [row.state for row in spool.ledger.recent(limit=10)]
    assert "claiming" not in states and spool.ledger.get(won[0]).state == "claimed"


def test_bad_records_are_rejected_good_ones_routed(spool):
    """A record with a small-kana name is reported; the other records still reach the collection system."""
    content = bytearray(CLEAN)
    name_offset = 122 * 2 + 50  # record 3 (second data record), 預金者名
    content[name_offset : name_offset + 1] = b"\xaf"  # ｯ
    outcome = ingest(spool, "bad.dat", bytes(content))
    assert (outcome.state, outcome.status) == ("archived", "rejected-records")
    keys = [key for key, _, _ in collection_records(Path(outcome.outputs[0].path))]
    assert keys == ["00000000000000000001", "00000000000000000003", "00000000000000000004"]
    report = json.loads(Path(spool.ledger.get(outcome.file_id).report_json).read_text(encoding="utf-8"))
    assert [(r["record"], r["field"], r["code"]) for r in report["rejected"]] == [
        (3, "account_holder", "FIELD_CHARSET")
    ]


def test_totals_mismatch_is_quarantined_with_nothing_routed(spool):
    """A trailer that disagrees refuses the file: quarantine/, a report, no output."""
    content = bytearray(CLEAN)
    trailer = 122 * 5
    assert content[trailer + 7 : trailer + 19] == b"000000008500"  # 合計金額
    content[trailer + 18 : trailer + 19] = b"1"
    content = bytes(content)
    outcome = ingest(spool, "mismatch.dat", content)
    assert (outcome.state, outcome.status, outcome.outputs) == ("quarantined", "rejected-file", ())
    row = spool.ledger.get(outcome.file_id)
    assert "TRAILER_AMOUNT_MISMATCH" in row.reason
    assert not any(spool.transports["collection"].folder.iterdir())


def test_a_failing_worker_quarantines_the_file_and_goes_on(spool, monkeypatch):
    """An exception while processing quarantines that file with a report; the next file is processed."""
    import gateway.datapath.pipeline as module

    real = module.validate_path

    def explode(path, *args, **kwargs):
        if "boom" in Path(path).name:
            raise RuntimeError("layout exploded")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, "validate_path", explode)
    failed = ingest(spool, "boom.dat", CLEAN)
    assert (failed.state, failed.status) == ("quarantined", "failed")
    row = spool.ledger.get(failed.file_id)
    assert "layout exploded" in row.reason and Path(row.report_html).exists()
    assert ingest(spool, "fine.dat", debit_file([(5, "0")])).state == "archived"


def test_request_files_route_no_payments(spool):
    """A 91 request (no results yet) is validated and archived; a request is not money, so nothing is posted."""
    from formats.builder import FileBuilder, Group
    from formats.layouts.zengin import DEBIT_91
    from tests.support.samples import debit_header, debit_record

    request = FileBuilder(DEBIT_91).to_bytes(
        [Group(debit_header(), [debit_record(1, 1000, None), debit_record(2, 2000, None)])]
    )
    outcome = ingest(spool, "request.dat", request)
    assert (outcome.state, outcome.outputs) == ("archived", ())


# -- recovery -----------------------------------------------------------------------


def _claimed(pipeline: Pipeline, name: str, content: bytes) -> str:
    file_id = pipeline.claim(drop(pipeline, name, content))
    assert file_id
    return file_id


def _orphan(pipeline: Pipeline, file_id: str) -> None:
    """Make the row look owned by a process that died."""
    import socket

    pipeline.ledger.update(file_id, owner=f"{socket.gethostname()}:999999:1")


def test_recovery_of_a_claim_that_never_renamed(spool):
    """A `claiming` row whose file is still in the inbox is forgotten; the file stays to be claimed again."""
    arrival = drop(spool, "x.dat", CLEAN)
    spool.ledger.begin_claim(
        "20260101-000000-deadbeef",
        "zengin-91",
        "x.dat",
        arrival.path,
        spool.spool.work / "20260101-000000-deadbeef__x.dat",
        arrival.size,
    )
    _orphan(spool, "20260101-000000-deadbeef")
    assert spool.recover() == []
    assert spool.ledger.get("20260101-000000-deadbeef") is None
    assert arrival.path.exists()


def test_recovery_while_processing_discards_staged_outputs_and_starts_again(spool):
    """A file interrupted while processing is processed again; its stale temporaries are removed first."""
    file_id = _claimed(spool, "x.dat", CLEAN)
    assert spool.ledger.start_processing(file_id) is None
    stale = spool.transports["collection"].folder / f".tmp-{file_id}.collection.dat.1.abcd"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half")
    _orphan(spool, file_id)
    (outcome,) = spool.recover()
    assert outcome.state == "archived" and not stale.exists()
    assert len(list(spool.transports["collection"].folder.iterdir())) == 1


def test_recovery_while_delivering_renames_staged_outputs_without_regenerating(spool, monkeypatch):
    """A crash after outputs were staged and recorded renames them, never writes them again."""
    file_id = _claimed(spool, "x.dat", CLEAN)

    def crash(row, log):
        raise SystemExit("killed after staging")

    monkeypatch.setattr(spool, "_commit_staged", crash)
    with pytest.raises(SystemExit):
        spool.process(file_id)
    monkeypatch.undo()
    row = spool.ledger.get(file_id)
    assert row.state == "delivering"
    (staged,) = [d for d in spool.ledger.deliveries(file_id) if d.destination == "collection"]
    assert Path(staged.temp_path).exists() and not Path(staged.path).exists()
    staged_bytes = Path(staged.temp_path).read_bytes()

    import gateway.datapath.pipeline as module

    monkeypatch.setattr(module, "validate_path", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-validated")))
    monkeypatch.setattr(Pipeline, "_route", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-routed")))
    monkeypatch.setattr(Pipeline, "_file_away", lambda self, row, log, result=None: "filed")
    _orphan(spool, file_id)
    assert spool.recover() == ["filed"]
    assert Path(staged.path).read_bytes() == staged_bytes
    assert spool.ledger.get(file_id).state == "delivered"


def test_recovery_after_the_move_only_closes_the_ledger(spool):
    """If the input was already filed away when the process died, recovery just closes the row."""
    file_id = _claimed(spool, "x.dat", CLEAN)
    row = spool.ledger.get(file_id)
    final = spool.spool.archive / Path(row.work_path).name
    spool.ledger.update(file_id, state="delivered", final_path=str(final))
    os.rename(row.work_path, final)
    _orphan(spool, file_id)
    spool.recover()
    assert spool.ledger.get(file_id).state == "archived"


def test_live_owner_is_never_taken_over(spool):
    """Recovery leaves alone a file whose owner process is alive (another gateway working on it)."""
    file_id = _claimed(spool, "x.dat", CLEAN)
    import socket

    spool.ledger.update(file_id, owner=f"{socket.gethostname()}:1:{_pid1_start()}")
    assert spool.recover() == []
    assert spool.ledger.get(file_id).state == "claimed"


def _pid1_start() -> str:
    from gateway.storage.ledger import _start_time

    return _start_time(1)


# -- settings, dates ----------------------------------------------------------------


def test_bad_configuration_names_key_value_and_expectation(tmp_path):
    """A wrong value fails at start with the key, the value and what was expected."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[channels.x]\nformat = "zengin-99"\n[destinations.c]\nrender = "collection-intake"\n'
        '[[routes]]\nname = "r"\nto = ["nowhere"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    text = str(caught.value)
    assert "channels.x.format = 'zengin-99'" in text and "expected one of" in text


def test_route_to_an_unknown_destination_is_refused(tmp_path):
    """A route naming a destination that does not exist is refused with the route's index and the name."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[channels.x]\nformat = "zengin-91"\n[destinations.c]\nrender = "collection-intake"\n'
        '[[routes]]\nname = "r"\npurpose = "消込"\nto = ["nowhere"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"routes\[0\]\.to = 'nowhere': a destination defined"):
        load_settings(config)


def test_a_route_without_a_purpose_is_refused(tmp_path):
    """Every route declares what it is for (利用目的): no flow without a stated purpose."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[channels.x]\nformat = "zengin-91"\n[destinations.c]\nrender = "collection-intake"\n'
        '[[routes]]\nname = "r"\nto = ["c"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"routes\[0\]\.purpose = '': every route declares its purpose"):
        load_settings(config)


def test_unknown_key_is_refused(tmp_path):
    """A misspelt key is an error, not silently ignored."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[spool]\nquiet_secnds = 3\n[channels.x]\nformat = "zengin-91"\n[destinations]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="spool.quiet_secnds"):
        load_settings(config)


def test_embedded_default_equals_the_config_folder():
    """config/gateway.toml is the embedded default, byte for byte."""
    root = ROOT
    assert (root / "config" / "gateway.toml").read_bytes() == (
        root / "gateway" / "defaults" / "gateway.toml"
    ).read_bytes()


@pytest.mark.parametrize(
    ("mmdd", "reference", "direction", "expected"),
    [
        ("0527", dt.date(2026, 6, 1), "past", dt.date(2026, 5, 27)),
        ("1227", dt.date(2027, 1, 5), "past", dt.date(2026, 12, 27)),
        ("0105", dt.date(2026, 12, 20), "future", dt.date(2027, 1, 5)),
        ("0229", dt.date(2026, 3, 10), "past", dt.date(2024, 2, 29)),
    ],
)
def test_implied_year_of_a_zengin_date(mmdd, reference, direction, expected):
    """引落日 has no year: a result's is the latest such day on or before the day it arrived."""
    assert implied_date(mmdd, reference, direction=direction) == expected


# -- posting once ---------------------------------------------------------------------


def test_a_resent_result_with_other_framing_posts_nothing_twice(spool):
    """The same debits re-sent with other line endings (other bytes) reach the collection system once, flagged."""
    first = ingest(spool, "a.dat", CLEAN)
    again = ingest(spool, "b.dat", CLEAN.replace(b"\r\n", b""))
    assert first.state == again.state == "archived"
    assert again.outputs == ()
    report = json.loads(Path(spool.ledger.get(again.file_id).report_json).read_text(encoding="utf-8"))
    assert [w["code"] for w in report["warnings"]] == ["DUPLICATE_POSTING"] * 4
    assert [w["record"] for w in report["warnings"]] == [2, 3, 4, 5]


def test_posting_book_rules():
    """速報 then 確報 is one confirmed payment; 取消 reverses a 速報; a second 確報 is refused; a notice paid
    under another key is a double payment."""
    from gateway.datapath.posting import PostingBook
    from gateway.model.records import Payment

    store: dict[str, object] = {}
    book = PostingBook(store.get, lambda notice: [], "F1")

    def pay(status, key="K1", notice="N1", record=1):
        return Payment(
            kind="convenience-store",
            status=status,
            reconciliation_key=notice,
            payment_key=key,
            principal=1000,
            source={"file_id": "F1", "channel": "cvs", "record": record, "offset": 0},
        )

    assert book.decide(pay("preliminary")).route
    assert not book.decide(pay("preliminary", record=2)).route  # the same 速報 again
    confirmed = book.decide(pay("paid", record=3))
    assert confirmed.route and not confirmed.flags
    again = book.decide(pay("paid", record=4))
    assert not again.route and again.flags[0].code == "DUPLICATE_POSTING"
    assert not book.decide(pay("cancelled", record=5)).route  # cannot cancel after 確報
    assert book.decide(pay("preliminary", key="K2", record=6)).route
    assert book.decide(pay("cancelled", key="K2", record=7)).route
    orphan = book.decide(pay("cancelled", key="K3", record=8))
    assert not orphan.route and orphan.flags[0].code == "CANCEL_WITHOUT_PRELIMINARY"
    double = book.decide(pay("paid", key="K4", notice="N1", record=9))
    assert double.route and double.flags[0].code == "DOUBLE_PAYMENT"
    assert {row.payment_key: row.status for row in book.rows()} == {
        "convenience-store:K1": "confirmed",
        "convenience-store:K2": "cancelled",
        "convenience-store:K4": "confirmed",
    }


def test_many_processes_opening_a_new_ledger_at_once(tmp_path):
    """Processes that create the same new ledger at the same moment all get it (WAL switch retried)."""
    import subprocess
    import sys
    import time

    for attempt in range(1):
        path = tmp_path / f"ledger-{attempt}.sqlite3"
        start = time.time() + 2.0  # every process opens it at the same moment
        code = (
            "import time; from pathlib import Path; from gateway.storage.ledger import Ledger\n"
            f"while time.time() < {start}: pass\n"
            f"Ledger(Path({str(path)!r})).close()"
        )
        procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(6)]
        results = [(proc.wait(timeout=60), proc.stderr.read().decode()) for proc in procs]
        assert all(code == 0 for code, _ in results), [err[-300:] for _, err in results if err]


@pytest.mark.parametrize("spill_at", [2, 1_000_000])
def test_a_payment_twice_in_one_large_file_is_posted_once_even_after_a_spill(spool, spill_at):
    """Decisions spilled to the ledger mid-file are still seen: the same debit later in the file is a
    DUPLICATE_POSTING, not a second posting; nothing stays in postings_pending or postings_new."""
    from formats.builder import FileBuilder, Group
    from formats.layouts.zengin import DEBIT_91
    from tests.support.samples import debit_header, debit_record

    records = [debit_record(i, 1000 * i) for i in range(1, 8)] + [debit_record(2, 2000)]  # customer 2 again
    content = FileBuilder(DEBIT_91, result=True).to_bytes([Group(debit_header(), records)])
    spool.posting_spill_at = spill_at
    spool.batch_records = spill_at  # the batch path: the second one in another batch than the first
    outcome = ingest(spool, "twice.dat", content)
    (collection,) = [d for d in outcome.outputs if d.destination == "collection"]
    assert [key for key, _, _ in collection_records(Path(collection.path))] == [f"{i:020d}" for i in range(1, 8)]
    report = json.loads(Path(spool.ledger.get(outcome.file_id).report_json).read_text(encoding="utf-8"))
    assert [(w["record"], w["code"]) for w in report["warnings"]] == [(9, "DUPLICATE_POSTING")]
    assert spool.ledger.db.execute("SELECT COUNT(*) FROM postings").fetchone()[0] == 7
    assert spool.ledger.db.execute("SELECT COUNT(*) FROM postings_pending").fetchone()[0] == 0
    assert spool.ledger.db.execute("SELECT COUNT(*) FROM postings_new").fetchone()[0] == 0


def test_a_channel_name_with_a_trailing_newline_is_refused(tmp_path):
    """Names become folder and lock-file names: the whole name must match, a final newline included."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[channels."bank\\n"]\nformat = "zengin-91"\n[destinations.c]\nrender = "collection-intake"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"channels\.bank\n: a name of lower-case letters"):
        load_settings(config)


@pytest.mark.parametrize("path", ["batch", "record"])
def test_a_payment_posted_by_another_process_meanwhile_is_not_posted_twice(tmp_path, path):
    """Another process posts one of the file's payments between the file's routing and its plan:
    the plan is refused (PostingConflictError), the file routed again, and that payment is then a
    DUPLICATE_POSTING — posted once, by the other file; the rest go as before."""
    from gateway.config.settings import load_settings
    from gateway.storage.ledger import Ledger
    from tests.support.samples import debit_file

    root = tmp_path / "spool"
    root.mkdir()
    settings = load_settings(spool_root=root)
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger, path=path)
        pipeline.spool.ensure()
        plan = ledger.plan_deliveries
        attempts = []

        def plan_after_another_process(file_id, deliveries, postings=(), **counts):
            if not attempts:  # the first plan: the other process got there first
                key = ledger.db.execute(
                    "SELECT payment_key FROM postings_new UNION ALL SELECT payment_key FROM postings_pending"
                    " UNION ALL SELECT ? LIMIT 1",
                    (postings[0].payment_key if postings else None,),
                ).fetchone()[0]
                ledger.db.execute(
                    "INSERT INTO postings VALUES (?, 'other-notice', 'confirmed', 1, 'OTHER-FILE', 1, '2026-12-04')",
                    (key,),
                )
            attempts.append(file_id)
            return plan(file_id, deliveries, postings, **counts)

        ledger.plan_deliveries = plan_after_another_process  # type: ignore[method-assign]
        outcome = ingest(pipeline, "result.dat", debit_file([(1000, "0"), (2000, "0"), (3000, "0")]))
        assert len(attempts) == 2, "the first plan was refused, the second went through"
        assert (outcome.state, outcome.status) == ("archived", "ok")
        (collection,) = [d for d in outcome.outputs if d.destination == "collection"]
        assert len(collection_records(Path(collection.path))) == 2
        rows = ledger.db.execute("SELECT file_id, COUNT(*) FROM postings GROUP BY file_id").fetchall()
        assert {row[0]: row[1] for row in rows} == {"OTHER-FILE": 1, outcome.file_id: 2}
        report = json.loads(Path(ledger.get(outcome.file_id).report_json).read_text(encoding="utf-8"))
        assert [w["code"] for w in report["warnings"]] == ["DUPLICATE_POSTING"]
