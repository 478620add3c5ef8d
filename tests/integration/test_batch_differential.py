"""The batch data path against the record path (the reference): the same files through
``Pipeline(path="batch")`` and ``Pipeline(path="record")``, each in a fresh spool, give the same
terminal states, the same delivered bytes, the same reports and the same ledger rows
(tests/support/differential.py says what is compared and how file ids are set aside).

1. every golden sample of a format the default configuration has a channel for;
2. sequences that exercise the posting book (a duplicate file, reprocessing, 速報 → 確報 → 取消,
   a double payment across channels, a file larger than ``Pipeline.posting_spill_at``);
3. generated 全銀 91 files and cvs file sequences (hypothesis).

Every test also checks that what it compares is not empty where records were routed, so that
two empty outputs cannot pass for two equal ones.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.differential import (
    DEBIT_DEFECTS,
    Debit,
    DebitGroup,
    Snapshot,
    SpoolPair,
    StorePayment,
    StoreRecord,
    cvs_file,
    debit_91_file,
    default_settings,
)
from tests.support.paths import DATA
from tests.support.samples import debit_file

#: the channel of each format the default configuration reads (config/gateway.toml)
CHANNEL_OF = {channel.format: name for name, channel in default_settings().channels.items()}
GOLDEN = sorted(path for path in DATA.glob("*/*.dat") if path.parent.name in CHANNEL_OF)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    """One folder for the module's spool pairs: each test empties the spools of the one before
    (SpoolPair), which is much cheaper than making some 60 folders a spool every time."""
    return tmp_path_factory.mktemp("pairs")


def codes(snapshot: Snapshot, file: str) -> list[str]:
    """The posting flag codes of one file (``<fileN>``), in order."""
    return [code for code, _, _ in snapshot.flags[file]]


def data_lines(output: bytes) -> list[bytes]:
    """The data records of a collection-intake output (record type 2)."""
    return [line for line in output.split(b"\r\n") if line[:1] == b"2"]


def collection(snapshot: Snapshot, file: str) -> bytes:
    return snapshot.outputs["collection"][f"{file}.collection.dat"]


# -- 1. the golden samples -------------------------------------------------------------------------


def test_every_channel_format_has_golden_samples():
    """The golden files below cover every format the default configuration has a channel for."""
    assert {path.parent.name for path in GOLDEN} == set(CHANNEL_OF)
    assert len(GOLDEN) >= 90


@pytest.mark.parametrize("sample", GOLDEN, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_a_golden_sample_gives_the_same_on_both_paths(pairs, sample):
    """One golden file through both paths: the same state, outputs, reports and ledger rows."""
    with SpoolPair(pairs) as pair:
        outcome = pair.ingest(CHANNEL_OF[sample.parent.name], sample.name, sample.read_bytes())
        snapshot = pair.assert_same()
    report = snapshot.reports["<file1>"]["json"]
    assert report["status"] == outcome.status and report["sha256"] == snapshot.files[0]["sha256"]
    # records are routed from every accepted file except 総合振込 (no route) and 91 requests (no payments)
    requests_only = all(group["kind"] == "request" for group in report["groups"])
    expect_routed = outcome.state == "archived" and sample.parent.name != "zengin-21" and not requests_only
    assert (snapshot.routed > 0) == expect_routed
    if expect_routed:
        assert any(len(files) for files in snapshot.outputs.values())
        for _, destination, _, path, _, records, _ in snapshot.deliveries:
            assert records == 0 or len(snapshot.outputs[destination][Path(path).name]) > 200


# -- 2. sequences that exercise the posting book ------------------------------------------------------

RESULT_91 = debit_file([(1000, "0"), (2500, "1"), (300, "0"), (4700, "9")])
#: after 20:00 UTC on 31 March, so the date in Japan is 1 April: 引落日 0527 is 27 May of the year before
INSTANT = dt.datetime(2026, 3, 31, 20, 30, tzinfo=dt.UTC)


def test_a_91_result_twice_then_reprocessed(pairs):
    """The same 全銀 91 result twice (the second a duplicate), the duplicate reprocessed without and
    with force, the original forced again: the same on both paths after every step."""
    with SpoolPair(pairs, instant=INSTANT) as pair:
        first = pair.ingest("zengin-91", "kfuri.dat", RESULT_91)
        second = pair.ingest("zengin-91", "kfuri-again.dat", RESULT_91)
        assert (first.state, second.state) == ("archived", "duplicate")
        unforced = pair.reprocess(1, force=False)  # still the same content: a duplicate again
        assert unforced.state == "duplicate"
        forced = pair.reprocess(2, force=True)  # every record already posted: sent again, flagged
        assert (forced.state, forced.status) == ("archived", "ok")
        again = pair.reprocess(0, force=True)  # the archived original, copied
        assert again.state == "archived"
        snapshot = pair.assert_same()
    assert [row["state"] for row in snapshot.files] == ["archived", "duplicate", "duplicate", "archived", "archived"]
    assert [row["reprocess_of"] for row in snapshot.files] == [None, None, "<file2>", "<file3>", "<file1>"]
    assert snapshot.files[1]["duplicate_of"] == "<file1>"
    for file in ("<file4>", "<file5>"):
        assert codes(snapshot, file) == ["DUPLICATE_POSTING"] * 4
        assert all("forced reprocess" in message for _, _, message in snapshot.flags[file])
        lines = data_lines(collection(snapshot, file))
        assert len(lines) == 4 and all(b"20250527" in line for line in lines)  # the frozen received date
    header = collection(snapshot, "<file1>").split(b"\r\n")[0]
    assert header[7:15] == b"20260401"  # 作成日: the frozen clock, in Japan
    assert len(snapshot.postings) == 4 and {row[4] for row in snapshot.postings} == {"<file5>"}
    assert sorted(snapshot.outputs) and len(snapshot.outputs["followup"]) == 3


A = StorePayment("2024060000000001", 12300)
B = StorePayment("2024060000000002", 4500, paid_time="1805", store="0098765")
C = StorePayment("2024060000000003", 8000, paid_on=dt.date(2024, 6, 2), paid_time="0915")
D = StorePayment("2024060000000004", 6000, paid_on=dt.date(2024, 6, 2), paid_time="1100", store="0055555")
#: notice A paid a second time, at another store on another day
A2 = StorePayment("2024060000000001", 12300, paid_on=dt.date(2024, 6, 3), paid_time="1010", store="0055555")


def test_store_preliminary_then_confirmed_then_cancelled_files(pairs):
    """速報 file, 確報 file, 取消 file, then the 速報 file sent again with LF: every posting rule of
    the convenience-store channel, the same on both paths."""
    sokuho = cvs_file([StoreRecord(A, "01"), StoreRecord(B, "01"), StoreRecord(C, "01")])
    kakuho = cvs_file([StoreRecord(A, "02"), StoreRecord(C, "02"), StoreRecord(D, "02"), StoreRecord(A, "02")])
    torikeshi = cvs_file([StoreRecord(B, "03"), StoreRecord(C, "03"), StoreRecord(A2, "03"), StoreRecord(B, "03")])
    with SpoolPair(pairs) as pair:
        for name, content in [("sokuho.dat", sokuho), ("kakuho.dat", kakuho), ("torikeshi.dat", torikeshi)]:
            assert pair.ingest("cvs", name, content).state == "archived"
        resent = pair.ingest("cvs", "sokuho-lf.dat", sokuho.replace(b"\r\n", b"\n"))
        assert resent.outputs == ()
        snapshot = pair.assert_same()
    assert codes(snapshot, "<file1>") == []
    assert codes(snapshot, "<file2>") == ["DUPLICATE_POSTING"]  # A's 確報 twice in one file
    assert codes(snapshot, "<file3>") == ["CANCEL_AFTER_CONFIRMED", "CANCEL_WITHOUT_PRELIMINARY", "DUPLICATE_POSTING"]
    assert codes(snapshot, "<file4>") == [
        "PRELIMINARY_AFTER_CONFIRMED",
        "DUPLICATE_POSTING",
        "PRELIMINARY_AFTER_CONFIRMED",
    ]
    assert [len(data_lines(collection(snapshot, f"<file{n}>"))) for n in (1, 2, 3)] == [3, 3, 1]
    assert sorted(row[2] for row in snapshot.postings) == ["cancelled", "confirmed", "confirmed", "confirmed"]


def test_a_direct_debit_and_a_store_payment_of_one_notice_are_a_double_payment(pairs):
    """A 91 result pays notice A; the store's 確報 of A is routed too and flagged DOUBLE_PAYMENT."""
    debit = debit_91_file([DebitGroup(True, (Debit(A.reference, 12300), Debit("2024060000000010", 7000, "1")))])
    with SpoolPair(pairs) as pair:
        pair.ingest("zengin-91", "kfuri.dat", debit)
        outcome = pair.ingest("cvs", "kakuho.dat", cvs_file([StoreRecord(A, "02"), StoreRecord(A2, "02")]))
        assert outcome.state == "archived"
        snapshot = pair.assert_same()
    assert codes(snapshot, "<file2>") == ["DOUBLE_PAYMENT", "DOUBLE_PAYMENT"]
    # the first names the debit; the second the store's first 確報 (what the file decided comes first)
    assert [message.split("already paid ")[1] for _, _, message in snapshot.flags["<file2>"]] == [
        "(file <file1>, record 2, 12300 yen): refund candidate",
        "(file <file2>, record 2, 12300 yen): refund candidate",
    ]
    assert len(data_lines(collection(snapshot, "<file2>"))) == 2


@pytest.mark.parametrize("posting_batch", [None, 5], ids=["batch-default", "batch-5"])
def test_files_larger_than_the_posting_spill(pairs, posting_batch):
    """Posting decisions spilled to the ledger every 7 (both pipelines): a 91 result of 40 records with
    customers repeated across spills, sent again with LF; then a cvs file whose 速報, 確報 and second
    payments of one notice are further apart than a spill."""
    debits = [
        Debit(f"{70_000_000 + serial % 29:020d}", 1000 + serial, "1" if serial % 6 == 0 else "0")
        for serial in range(40)
    ]
    result = debit_91_file([DebitGroup(True, tuple(debits[:25])), DebitGroup(True, tuple(debits[25:]))])
    payments = [
        StorePayment(f"20240700000000{n:02d}", 1000 + n, paid_time=f"{10 + n % 10:02d}{n:02d}") for n in range(12)
    ]
    store = cvs_file(
        [StoreRecord(payment, "01") for payment in payments]
        + [StoreRecord(payment, "02") for payment in payments[::-1]]
        + [StoreRecord(StorePayment(payment.reference, payment.amount, store="0077777"), "02") for payment in payments]
    )
    with SpoolPair(pairs, spill_at=7, posting_batch=posting_batch) as pair:
        spills: list[int] = []
        ledger = pair.record.ledger
        real_spill = ledger.spill_postings
        ledger.spill_postings = lambda file_id, rows: (spills.append(len(rows)), real_spill(file_id, rows))[1]
        pair.ingest("zengin-91", "large.dat", result)
        pair.ingest("zengin-91", "large-lf.dat", result.replace(b"\r\n", b"\n"))
        pair.ingest("cvs", "store.dat", store)
        snapshot = pair.assert_same()
    assert spills and max(spills) == 7  # the record path did spill
    # 40 records of 29 customers: 11 seen before, of which 2 (customers 0 and 6) failed first and are paid
    # now (振替済 after 振替不能: posted); the other 9 are duplicates
    assert codes(snapshot, "<file1>") == ["DUPLICATE_POSTING"] * 9
    assert codes(snapshot, "<file2>") == ["DUPLICATE_POSTING"] * 40
    assert codes(snapshot, "<file3>") == ["DOUBLE_PAYMENT"] * 12
    assert len(data_lines(collection(snapshot, "<file1>"))) == 31
    assert len(data_lines(collection(snapshot, "<file3>"))) == 36
    assert snapshot.pending == [] and len(snapshot.postings) == 29 + 24


# -- 3. generated files ------------------------------------------------------------------------------

#: 顧客番号 from a small pool, so that one file often holds the same payment key twice
CUSTOMERS = [f"{n:020d}" for n in range(1, 7)]
# mostly 振替済; every known 振替不能 code; codes no bank sends (5, 6, 7: warnings)
RESULT_CODES = st.sampled_from(["0", "0", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
DEFECTS = st.sampled_from([None] * 8 + list(DEBIT_DEFECTS))
DEBITS = st.builds(Debit, st.sampled_from(CUSTOMERS), st.integers(0, 9_999_999), RESULT_CODES, DEFECTS)
GROUPS = st.builds(
    DebitGroup,
    st.booleans() | st.just(True),
    st.lists(DEBITS, min_size=1, max_size=6).map(tuple),
    st.sampled_from(["0527", "0527", "0610", "1227"]),
)
#: Pipeline.posting_spill_at: the default, or so low that the decisions of a small file are spilled
SPILLS = st.sampled_from([None, 2, 5])
FRAMINGS = st.sampled_from([(b"\r\n", True), (b"\r\n", False), (b"\n", True), (b"", True)])


def clean_result(groups: list[DebitGroup]) -> bool:
    """Whether a result group holds a record without a field error (the first of its key is routed)."""
    return any(
        g.result and any(d.defect not in ("account-digits", "small-kana", "result-code") for d in g.debits)
        for g in groups
    )


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(GROUPS, min_size=1, max_size=3),
    framing=FRAMINGS,
    eof_mark=st.booleans(),
    resend=st.sampled_from([None, None, b"\n", b"\r\n"]),
    spill_at=SPILLS,
)
def test_generated_91_files_give_the_same_on_both_paths(pairs, groups, framing, eof_mark, resend, spill_at):
    """A 全銀 91 file of request and result groups (result codes known and unknown, field errors,
    unknown banks and branches, repeated customers, every framing, an EOF mark or not), and
    sometimes the same data again with other line endings (every posting already made)."""
    separator, after_last = framing
    content = debit_91_file(groups, separator=separator, after_last=after_last, eof_mark=eof_mark)
    with SpoolPair(pairs, spill_at=spill_at) as pair:  # the same folders for every example, emptied
        outcome = pair.ingest("zengin-91", "kfuri.dat", content)
        if resend is not None:
            again = debit_91_file(groups, separator=resend, eof_mark=not eof_mark)
            pair.ingest("zengin-91", "kfuri-again.dat", again)
        snapshot = pair.assert_same()
    if outcome.state == "archived" and clean_result(groups):
        assert data_lines(collection(snapshot, "<file1>"))
        assert snapshot.postings


STORE_PAYMENTS = [A, B, C, A2, D]
STORE_RECORDS = st.builds(
    StoreRecord,
    st.sampled_from(STORE_PAYMENTS),
    st.sampled_from(["01", "02", "03"]),
    st.sampled_from([False] * 6 + [True]),
)


@settings(max_examples=100, deadline=None)
@given(
    files=st.lists(st.lists(STORE_RECORDS, min_size=1, max_size=5), min_size=1, max_size=3),
    separators=st.lists(st.sampled_from([b"\r\n", b"\n"]), min_size=3, max_size=3),
    spill_at=SPILLS,
)
def test_generated_cvs_sequences_give_the_same_on_both_paths(pairs, files, separators, spill_at):
    """Up to three cvs files of 速報, 確報 and 取消 of a few payments (two of one notice), some with a
    wrong barcode check digit: the same on both paths after every file."""
    with SpoolPair(pairs, spill_at=spill_at) as pair:  # the same folders for every example, emptied
        outcomes = [
            pair.ingest("cvs", f"cvs-{n}.dat", cvs_file(records, separator=separator))
            for n, (records, separator) in enumerate(zip(files, separators), 1)
        ]
        snapshot = pair.assert_same()
    # the first file's first good 速報 or 確報 is always routed (nothing was posted before it)
    if any(r.kind in ("01", "02") and not r.bad_check_digit for r in files[0]):
        assert outcomes[0].state == "archived"
        assert data_lines(collection(snapshot, "<file1>"))
    reports = [json.dumps(snapshot.reports[f"<file{n}>"]["json"]) for n in range(1, len(files) + 1)]
    assert all(reports)
