"""A day's mix of files from every payment channel, end to end through real `gateway run`
processes, with a SIGKILL in the middle: every payment reaches the collection system exactly once.

The day (files dropped at once, processed in this order by their mtimes):

1. ``kfuri.dat`` — a 全銀 91 result: 2 振替済 (one of them notice D, which is also paid at a
   store), 1 振替不能;
2. ``cvs-sokuho.dat`` — the agent's 速報 file: 速報 of store payments A and B;
3. ``mpn.dat`` — Pay-easy 一括消込: 2 消込, then a 取消 of the first (never applied by itself:
   flagged CANCEL_AFTER_CONFIRMED, not posted);
4. ``kfuri-large.dat`` — a 91 result of 60,000 debits, large enough to be killed in the middle;
5. ``cvs-kakuho.dat`` — the agent's 確報 file: 確報 of A and B (their 速報 came in file 2), of C
   (a 確報 without 速報) and of D (a notice already paid by direct debit: DOUBLE_PAYMENT);
6. ``ocr.dat`` — 済通 of three notices, one with 延滞金;
7. ``eltax.dat`` — eLTAX 納付情報: one payment with its eL-QR, one ダイレクト納付;
8. ``cvs-kakuho-resent.dat`` — the 確報 file sent again with LF line endings (other bytes, so not
   a duplicate file): it posts nothing (DUPLICATE_POSTING on every record).

The gateway is killed with SIGKILL while file 4 is being processed (files 1–3 done, 5–8 still
waiting in their inboxes), started again, and left to finish. Then: every input is in exactly
one terminal folder; across all collection outputs (validated with the collection-intake layout
and read by slicing) each payment's 収納 (status 1) is there once, A's and B's 速報 (3) once, no
取消 (4) of the mpn payment, the failed debits (2) once; the double payment is flagged in the
確報 file's report; the ledger holds one posting per payment.

Files are built with the project's layouts and codecs (the golden samples under tests/data/<channel>/
are built without them). Two tests keep bugs found on the way fixed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from formats.builder import FileBuilder, Group
from formats.checkdigits import mod10_w31
from formats.codecs import encode_barcode, encode_elqr, encode_ocr
from formats.layout import FileLayout
from formats.layouts.zengin import DEBIT_91
from formats.registry import get_format, load_formats
from formats.validate import validate_path, validate_stream
from formats.validator import Status
from gateway.config.settings import load_settings
from gateway.model.normalise import canonical_mapping
from tests.support.gateways import (
    TERMINAL_FOLDERS,
    Debit,
    Gateways,
    _query,
    audit_events,
    drop,
    files_in,
    inbox_files,
    ledger_deliveries,
    ledger_rows,
    read_collection,
    result_91,
    settled,
    wait_until,
    write_config,
)
from tests.support.paths import DATA, ROOT
from tests.support.samples import debit_header, debit_record

FORMATS = load_formats()
CVS, MPN, OCR, ELTAX = (FORMATS[name] for name in ("cvs", "mpn", "ocr", "eltax"))
COLLECTION = get_format("collection-intake")
CRLF = b"\r\n"

# 納付チャネル区分 and 収納区分 of the collection intake (formats/layouts/collection-intake.toml)
DEBIT, STORE, PAYEASY, OCR_KIND, ELTAX_KIND = "01", "02", "03", "04", "05"
PAID, FAILED, PRELIMINARY, CANCELLED = "1", "2", "3", "4"


# ---------------------------------------------------------------------------------------------
# building the day's files with the layouts (record by record: a cvs record carries its 蓄積連番)
# ---------------------------------------------------------------------------------------------


def layout_file(
    layout: FileLayout,
    header: dict[str, Any],
    data: list[dict[str, Any]],
    *,
    every: dict[str, Any] | None = None,
    separator: bytes = CRLF,
) -> bytes:
    """Header, data records, a trailer with the totals, an end record; ``every`` adds values to
    every record (the cvs layout's 蓄積連番 ``serial`` is numbered 1, 2, 3 … when given)."""
    totals = layout.totals
    values = [
        header,
        *data,
        {totals.count_field: len(data), totals.amount_field: sum(v[totals.data_amount_field] for v in data)},
        {},
    ]
    header_layout, data_layout = layout.layout_for("header"), layout.layout_for("data")
    trailer_layout, end_layout = layout.layout_for("trailer"), layout.layout_for("end")
    roles = [header_layout, *[data_layout] * len(data), trailer_layout, end_layout]
    records = []
    for number, (record_layout, record_values) in enumerate(zip(roles, values), start=1):
        extra = {} if every is None else {key: (number if key == "serial" else value) for key, value in every.items()}
        records.append(record_layout.build({**record_values, **extra}))
    return b"".join(record + separator for record in records)


# -- store payments (cvs) ------------------------------------------------------------------------

STORE_PAYMENTS = {  # name: (納付番号, amount, 収納日, 収納時分, 収納店舗コード)
    "A": ("2024060000000001", 12300, dt.date(2024, 6, 1), "1432", "0012345"),
    "B": ("2024060000000002", 4500, dt.date(2024, 6, 1), "1805", "0098765"),
    "C": ("2024060000000003", 8000, dt.date(2024, 6, 2), "0915", "0012345"),
    "D": ("2024060000000009", 6000, dt.date(2024, 6, 2), "1100", "0055555"),
}


def cvs_record(name: str, data_kind: str) -> dict[str, Any]:
    reference, amount, paid_on, paid_time, store = STORE_PAYMENTS[name]
    barcode = encode_barcode(
        issuer_code="54321",
        free_field={"user_company_code": "23456", "customer_reference": reference},
        amount=amount,
        deadline=dt.date(2024, 6, 30),
    )
    return dict(
        record_type="2",
        created_on=dt.date(2024, 6, 3),
        retailer_code="0101",
        cns_application_code="0007",
        user_company_code="23456",
        tax_code="02",
        acceptance_kind="1",
        data_kind=data_kind,
        data_id=None,
        paid_on=paid_on,
        paid_time=paid_time,
        barcode=barcode,
        amount=amount,
        store_code=store,
        settlement_on=dt.date(2024, 6, 7),
        store_name="ﾃｽﾄﾏｰﾄ",
    )


def cvs_file(records: list[dict[str, Any]], *, separator: bytes = CRLF) -> bytes:
    header = dict(
        record_type="1",
        created_on=dt.date(2024, 6, 3),
        user_company_code="23456",
        user_company_name="テスト市",
        agent_code="54321",
        agent_name="TEST AGENT",
    )
    return layout_file(CVS, header, records, every={"serial": None}, separator=separator)


# -- direct debit (全銀 91) -----------------------------------------------------------------------

DEBITS = [  # (顧客番号 = 消込特定キー, amount, 振替結果コード)
    (STORE_PAYMENTS["D"][0], 6000, "0"),  # notice D: paid by direct debit and at a store
    ("2024060000000010", 7000, "0"),
    ("2024060000000011", 8000, "1"),  # 資金不足
]
LARGE = [Debit(70_000_000 + i, 1_000 + i % 5_000, "1" if i % 9 == 0 else "0") for i in range(60_000)]


def debit_result_file() -> bytes:
    records = [debit_record(i + 1, amount, code, customer_number=key) for i, (key, amount, code) in enumerate(DEBITS)]
    return FileBuilder(DEBIT_91, result=True).to_bytes([Group(debit_header(), records)])


# -- Pay-easy (mpn) -------------------------------------------------------------------------------

MPN_PAYMENTS = [  # (納付番号, amount, 通番)
    ("20240600000000000101", 15000, "00000101"),
    ("2024060000000102", 7200, "00000102"),
]


def mpn_record(index: int, data_kind: str) -> dict[str, Any]:
    number, amount, sequence = MPN_PAYMENTS[index]
    return dict(
        record_type="2",
        data_kind=data_kind,
        institution_number="58021",
        payment_number=number,
        confirmation_number="123456",
        payment_division="001",
        amount=amount,
        paid_on=dt.date(2024, 6, 3),
        paid_time="1010",
        center_code="0101",
        processing_date=dt.date(2024, 6, 3),
        sequence=sequence,
        channel_kind="2",
        payer_bank_code="0005",
    )


def mpn_file() -> bytes:
    header = dict(
        record_type="1",
        data_name="MPKS",
        created_on=dt.date(2024, 6, 4),
        institution_number="58021",
        institution_name="テスト市",
        bank_code="0001",
    )
    return layout_file(MPN, header, [mpn_record(0, "01"), mpn_record(1, "01"), mpn_record(0, "02")])


# -- 済通 (ocr) -----------------------------------------------------------------------------------


def notice(body15: str) -> str:
    return body15 + str(mod10_w31(body15))


OCR_NOTICES = [  # (納付書番号, 科目, 期別, 年度, 領収額, 延滞金)
    (notice("202406000000001"), "01", "01", 2024, 25000, 0),
    (notice("202406000000002"), "02", "02", 2024, 48000, 1200),
    (notice("202306000000003"), "04", "03", 2023, 9900, None),
]


def ocr_file() -> bytes:
    header = dict(
        record_type="1",
        data_name="OCR",
        created_on=dt.date(2024, 6, 5),
        bank_code="0001",
        bank_name="ﾐｽﾞﾎ",
        city_code="149999",
        city_name="テスト市",
    )
    records = []
    for seq, (number, item, instalment, year, amount, late_fee) in enumerate(OCR_NOTICES, start=1):
        line = encode_ocr(f"{number}{item}{instalment}{year:04d}{amount:010d}{0:08d}")
        records.append(
            dict(
                record_type="2",
                check_cd="00",
                ocr_id="3001",
                bank_code="0001",
                branch_code="001",
                input_seq=f"{seq:06d}",
                notice_number=number,
                tax_item=item,
                instalment=instalment,
                fiscal_year=year,
                amount=amount,
                late_fee=late_fee,
                paid_on=dt.date(2024, 6, 3),
                ocr_line=line,
            )
        )
    return layout_file(OCR, header, records)


# -- eLTAX ------------------------------------------------------------------------------------------

ELTAX_PAYMENTS = [  # (案件特定キー, 確認番号, amount, with the eL-QR)
    ("00000000202406000001", "482913", 36000, True),
    ("00000000202406000002", "105277", 52000, False),
]


def eltax_file() -> bytes:
    header = dict(
        record_type="1",
        data_name="ELTAX",
        created_on=dt.date(2024, 6, 5),
        city_code="149999",
        city_name="テスト市",
        common_tax_institution_code="19999",
    )
    records = []
    for index, (key, confirmation, amount, with_qr) in enumerate(ELTAX_PAYMENTS, start=1):
        qr = (
            encode_elqr(
                amount=amount,
                tax_item_code="010",
                case_key=key,
                confirmation_number=confirmation,
                common_tax_institution_code="19999",
                levy_year=2024,
                tax_year=2024,
                period_code="01",
                due_date=dt.date(2024, 7, 1),
                payment_deadline=dt.date(2024, 7, 1),
            )
            if with_qr
            else None
        )
        records.append(
            dict(
                record_type="2",
                payment_method="5" if with_qr else "1",
                receipt_number=f"202406030000000000{index:02d}",
                common_tax_institution_code="19999",
                case_key=key,
                confirmation_number=confirmation,
                tax_item_code="010",
                tax_office_code="000",
                amount=amount,
                paid_on=dt.date(2024, 6, 3),
                revenue_date=dt.date(2024, 6, 10),
                levy_year=2024,
                tax_year=2024,
                period_code="01",
                due_date=dt.date(2024, 7, 1),
                elqr=qr,
            )
        )
    return layout_file(ELTAX, header, records)


KAKUHO = cvs_file([cvs_record("A", "02"), cvs_record("B", "02"), cvs_record("C", "02"), cvs_record("D", "02")])
DAY = [  # (channel, name, content), in processing order
    ("zengin-91", "kfuri.dat", debit_result_file()),
    ("cvs", "cvs-sokuho.dat", cvs_file([cvs_record("A", "01"), cvs_record("B", "01")])),
    ("mpn", "mpn.dat", mpn_file()),
    ("zengin-91", "kfuri-large.dat", result_91(LARGE)),
    ("cvs", "cvs-kakuho.dat", KAKUHO),
    ("ocr", "ocr.dat", ocr_file()),
    ("eltax", "eltax.dat", eltax_file()),
    ("cvs", "cvs-kakuho-resent.dat", KAKUHO.replace(CRLF, b"\n")),
]
DONE_BEFORE_KILL = {"kfuri.dat", "cvs-sokuho.dat", "mpn.dat"}
KILLED_IN = "kfuri-large.dat"


def expected_postings() -> Counter[tuple[str, str, str, int]]:
    """(納付チャネル区分, 消込特定キー, 収納区分, 本税) of every record the collection system must get, once."""
    expected: Counter[tuple[str, str, str, int]] = Counter()
    for key, amount, code in DEBITS:
        expected[(DEBIT, key, PAID if code == "0" else FAILED, amount)] += 1
    for debit in LARGE:
        expected[(DEBIT, debit.key, PAID if debit.code == "0" else FAILED, debit.amount)] += 1
    for name in ("A", "B"):  # 速報, then 確報
        reference, amount, *_ = STORE_PAYMENTS[name]
        expected[(STORE, reference, PRELIMINARY, amount)] += 1
    for name in ("A", "B", "C", "D"):
        reference, amount, *_ = STORE_PAYMENTS[name]
        expected[(STORE, reference, PAID, amount)] += 1
    for number, amount, _ in MPN_PAYMENTS:  # the 取消 of the first is not posted
        expected[(PAYEASY, number, PAID, amount)] += 1
    for number, *_, amount, _ in OCR_NOTICES:
        expected[(OCR_KIND, number, PAID, amount)] += 1
    for key, _, amount, _ in ELTAX_PAYMENTS:
        expected[(ELTAX_KIND, key, PAID, amount)] += 1
    return expected


def sliced(path: Path) -> tuple[str, list[tuple[str, str, str, int, int, int]]]:
    """(元ファイルID, [(納付チャネル区分, 消込特定キー, 収納区分, 本税, 延滞金, 元レコード番号)]) of an output, by slicing
    the 128-byte records (formats/layouts/collection-intake.toml: key 2–21, channel 22–23, status 24, 本税 25–36, 延滞金 37–46,
    元レコード番号 110–117)."""
    lines = path.read_bytes().split(CRLF)
    assert lines[-1] == b"" and all(len(line) == 128 for line in lines[:-1]), path
    file_id = lines[0][15:39].decode("ascii").strip()
    return file_id, [
        (
            line[21:23].decode(),
            line[1:21].decode().strip(),
            line[23:24].decode(),
            int(line[24:36]),
            int(line[36:46]),
            int(line[109:117]),
        )
        for line in lines[:-1]
        if line[:1] == b"2"
    ]


def warnings_of(row: dict[str, Any]) -> list[tuple[int | None, str]]:
    report = json.loads(Path(row["report_json"]).read_text(encoding="utf-8"))
    return [(w["record"], w["code"]) for w in report["warnings"]]


# ---------------------------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------------------------


def test_a_day_of_every_channel_is_posted_exactly_once_across_a_kill(tmp_path: Path, gateways: Gateways) -> None:
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1, rescan_seconds=0.3)
    start = time.time_ns() - 60_000_000_000
    for index, (channel, name, content) in enumerate(DAY):
        drop(spool, name, content, channel=channel, mtime_ns=start + index * 1_000_000_000)
    channel_of = {name: channel for channel, name, _ in DAY}

    # first run: killed (SIGKILL) while the large debit file is being processed
    first = gateways.run(spool, config=config)

    def killing_moment() -> bool:
        rows = {row["original_name"]: row for row in ledger_rows(spool)}
        done = all(rows.get(name, {}).get("state") == "archived" for name in DONE_BEFORE_KILL)
        return done and rows.get(KILLED_IN, {}).get("state") == "processing"

    wait_until(
        killing_moment,
        30,
        f"{KILLED_IN} in processing, the files before it archived",
        process=first,
        spool=spool,
        interval=0.01,
    )
    time.sleep(0.02)
    assert first.kill() == -9
    at_kill = {row["original_name"]: row for row in ledger_rows(spool)}
    assert {name for name, row in at_kill.items() if row["state"] == "archived"} == DONE_BEFORE_KILL, at_kill
    assert at_kill[KILLED_IN]["state"] not in TERMINAL_FOLDERS, "the kill came too late: nothing was in progress"
    waiting = {path.name for path in inbox_files(spool)}
    assert waiting == {name for _, name, _ in DAY[4:]}, waiting

    # second run: recovers the interrupted file, then takes the waiting ones
    second = gateways.run(spool, config=config)
    wait_until(lambda: settled(spool, len(DAY)), 60, "every file of the day finished", process=second, spool=spool)
    assert second.terminate() == 0

    # every input in exactly one terminal folder (all of them archived), nothing left behind
    rows = ledger_rows(spool)
    assert sorted(row["original_name"] for row in rows) == sorted(name for _, name, _ in DAY)
    finals = set()
    for row in rows:
        assert (row["state"], row["status"]) == ("archived", "ok"), (row["original_name"], row["state"], row["reason"])
        final = Path(row["final_path"])
        assert final == spool / "archive" / f"{row['id']}__{row['original_name']}" and final.is_file()
        assert row["channel"] == channel_of[row["original_name"]]
        finals.add(final)
    assert {p for folder in TERMINAL_FOLDERS.values() for p in files_in(spool / folder)} == finals
    assert not inbox_files(spool) and not files_in(spool / "work")
    assert rows_by_name(rows)[KILLED_IN]["id"] == at_kill[KILLED_IN]["id"], "the interrupted file was taken again"

    # the collection outputs: valid intake files, exactly the ledger's deliveries, every payment once
    outputs = files_in(spool / "outbox" / "collection")
    deliveries = [d for d in ledger_deliveries(spool) if d["destination"] == "collection"]
    assert sorted(Path(d["path"]) for d in deliveries) == outputs
    assert all(d["state"] == "committed" for d in deliveries)
    names_by_id = {row["id"]: row["original_name"] for row in rows}
    posted: Counter[tuple[str, str, str, int]] = Counter()
    sources: Counter[tuple[str, int]] = Counter()
    late_fees: dict[str, int] = {}
    outputs_of: Counter[str] = Counter()
    for path in outputs:
        assert validate_path(path, COLLECTION).status is Status.OK, path
        decoded = read_collection(path)
        file_id, records = sliced(path)
        assert decoded.header["source_file_id"] == file_id and path.name.startswith(f"{file_id}.collection.")
        outputs_of[names_by_id[file_id]] += 1
        assert [(r["channel_kind"], r["reconciliation_key"], r["status"], r["principal"]) for r in decoded.records] == [
            record[:4] for record in records
        ]
        for channel_kind, key, status, principal, late_fee, source_record in records:
            posted[(channel_kind, key, status, principal)] += 1
            sources[(file_id, source_record)] += 1
            if channel_kind == OCR_KIND:
                late_fees[key] = late_fee
    assert not [source for source, count in sources.items() if count > 1], "an input record was posted twice"
    expected = expected_postings()
    assert posted == expected, (
        f"missing {list((expected - posted).items())[:5]}, extra {list((posted - expected).items())[:5]}"
    )
    # one output per file that routed something; the re-sent 確報 file routed nothing
    assert outputs_of == Counter({name: 1 for _, name, _ in DAY if name != "cvs-kakuho-resent.dat"})
    assert late_fees == {OCR_NOTICES[0][0]: 0, OCR_NOTICES[1][0]: 1200, OCR_NOTICES[2][0]: 0}

    # 収納 once per payment; A's and B's 速報 once; notice D posted by both channels, flagged once
    paid = Counter((kind, key) for (kind, key, status, _), n in posted.items() if status == PAID for _ in range(n))
    assert max(paid.values()) == 1
    assert sum(n for (_, _, status, _), n in posted.items() if status == PRELIMINARY) == 2
    assert not [key for (kind, key, status, _) in posted if status == CANCELLED]
    d_key = STORE_PAYMENTS["D"][0]
    assert paid[(DEBIT, d_key)] == paid[(STORE, d_key)] == 1
    by_name = rows_by_name(rows)
    assert warnings_of(by_name["cvs-kakuho.dat"]) == [(5, "DOUBLE_PAYMENT")]  # D's 確報 is record 5
    assert warnings_of(by_name["kfuri.dat"]) == []
    assert warnings_of(by_name["cvs-sokuho.dat"]) == []
    assert warnings_of(by_name["mpn.dat"]) == [(4, "CANCEL_AFTER_CONFIRMED")]  # the 取消 is not applied
    assert warnings_of(by_name["cvs-kakuho-resent.dat"]) == [(r, "DUPLICATE_POSTING") for r in (2, 3, 4, 5)]
    assert warnings_of(by_name["ocr.dat"]) == warnings_of(by_name["eltax.dat"]) == []

    # the ledger remembers one posting per payment event, in its final state
    postings = _query(spool, "SELECT payment_key, status FROM postings")
    assert len(postings) == len({row["payment_key"] for row in postings}) == len(DEBITS) + len(LARGE) + 4 + 2 + 3 + 2
    assert Counter(row["status"] for row in postings) == Counter(
        confirmed=2 + sum(d.code == "0" for d in LARGE) + 4 + 2 + 3 + 2, failed=1 + sum(d.code != "0" for d in LARGE)
    )
    # the failed debits reached the follow-up list once, from the two debit files only
    followups = files_in(spool / "outbox" / "followup")
    assert sorted(names_by_id[p.name.split(".")[0]] for p in followups) == ["kfuri-large.dat", "kfuri.dat"]

    events = audit_events(spool)
    assert not [e for e in events if e["event"] in ("worker-failed", "quarantine-failed")]
    # killed while processing, the file was routed again from the start; killed once its outputs were
    # decided (delivering), they were only renamed into place
    resumed = [at_kill[KILLED_IN]["id"]] if at_kill[KILLED_IN]["state"] == "processing" else []
    assert [e.get("file_id") for e in events if e["event"] == "resumed"] == resumed


def rows_by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["original_name"]: row for row in rows}


# ---------------------------------------------------------------------------------------------
# the default layouts and the configuration this test relies on
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout_id", ["cvs", "mpn", "ocr", "eltax"])
def test_default_layouts_load_and_map_to_payments(layout_id: str) -> None:
    """Each channel's default layout loads (formats/layouts/), its [canonical] table passes the
    check made at start, and the default configuration has a channel of that format."""
    layout = FORMATS[layout_id]
    mapping = canonical_mapping(layout)
    assert mapping.kind == {"cvs": "convenience-store", "mpn": "pay-easy", "ocr": "ocr", "eltax": "eltax"}[layout_id]
    settings = load_settings(ROOT / "config" / "gateway.toml")
    assert settings.channels[layout_id].format == layout_id
    assert (ROOT / "config" / "gateway.toml").read_bytes() == (
        ROOT / "gateway" / "defaults" / "gateway.toml"
    ).read_bytes()


def test_day_files_are_valid_in_their_layouts() -> None:
    """The built files of the day validate clean (so the end-to-end test tests posting, not validation)."""
    for channel, name, content in DAY:
        result = validate_stream(io.BytesIO(content), FORMATS[channel], name=name)
        assert result.status is Status.OK, (name, [str(e.code) for e in result.errors][:5])


# ---------------------------------------------------------------------------------------------
# bugs found while writing the golden files (fixed; these keep them fixed)
# ---------------------------------------------------------------------------------------------


def test_one_wrong_barcode_digit_is_reported_once() -> None:
    path = DATA / "cvs" / "barcode_check_digit.dat"
    rejected = validate_path(path, CVS).as_dict()["rejected"]
    assert [(r["record"], r["offset"], r["field"], r["code"]) for r in rejected] == [
        (3, 290, "barcode", "FIELD_CHECK_DIGIT")
    ]


def test_report_golden_walk_knows_the_default_layouts() -> None:
    from tests.unit.test_reports import _report

    report = _report(DATA / "mpn" / "unknown_data_kind.dat")
    assert [(r["record"], r["code"]) for r in report.rejected] == [(3, "FIELD_CODE")]


def test_posting_decisions_spilled_to_the_ledger_are_the_ones_kept_in_memory(tmp_path: Path) -> None:
    """A large file's posting decisions go to the ledger in batches (memory stays flat) and what the ledger
    holds is read for a batch of records at once: the day's files give the same outputs, flags and postings
    whether decisions spill every 7 records and are read 3 at a time, or stay in memory and are read one by one."""
    from gateway.datapath.pipeline import Pipeline
    from gateway.storage.ledger import Ledger
    from spool.scanner import Arrival

    results = {}
    for spill_at, batch in ((7, 3), (10_000_000, 1)):  # spilled and read in batches; in memory and one by one
        root = tmp_path / f"spill-{spill_at}"
        root.mkdir()
        settings = load_settings(None, spool_root=root)
        with Ledger(settings.ledger_path()) as ledger:
            pipeline = Pipeline(settings, ledger)
            pipeline.posting_spill_at = spill_at
            pipeline.posting_batch = batch
            pipeline.spool.ensure()
            day = []
            for channel, name, content in DAY:
                path = pipeline.spool.inbox(channel) / name
                path.write_bytes(content)
                stat = path.stat()
                outcome = pipeline.process(pipeline.claim(Arrival(channel, path, stat.st_size, stat.st_mtime_ns)))
                row = ledger.get(outcome.file_id)
                collection = [sliced(Path(d.path))[1] for d in outcome.outputs if d.destination == "collection"]
                day.append((name, outcome.state, collection, warnings_of({"report_json": row.report_json})))
            postings = [
                tuple(r)
                for r in ledger.db.execute(
                    "SELECT payment_key, notice_key, status, amount, record FROM postings ORDER BY payment_key"
                )
            ]
            assert ledger.db.execute("SELECT COUNT(*) FROM postings_pending").fetchone()[0] == 0
        results[spill_at] = (day, postings)
    assert results[7] == results[10_000_000]
    day, postings = results[7]
    posted = Counter(record[:4] for _, _, outputs, _ in day for output in outputs for record in output)
    assert posted == expected_postings()
    assert len(postings) > 6_000
