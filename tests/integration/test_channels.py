"""Payment channels described by layout files: the cvs channel's 速報/確報/取消 posted once, and a
new agent variant added by a layout file alone (no code) flowing end to end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from gateway.config.settings import ConfigError, load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.entrypoints.service import Service
from spool.scanner import Arrival
from tests.support.paths import DATA, ROOT
from tests.support.samples import debit_file

SAMPLE = DATA / "declarative" / "cvs-agent-example" / "ok_crlf.dat"
# the sample's two payments (hand-written, tests/data/declarative/make_samples.py)
BARCODE_A = "91954321123452024010000000001024053100123004"
BARCODE_B = "91954321123452024010000000002024053100045006"


def ingest(pipeline: Pipeline, channel: str, name: str, content: bytes):
    path = pipeline.spool.inbox(channel) / name
    path.write_bytes(content)
    stat = path.stat()
    file_id = pipeline.claim(Arrival(channel, path, stat.st_size, stat.st_mtime_ns))
    assert file_id
    return pipeline.process(file_id)


def intake(outcome) -> list[tuple[str, str, int]]:
    """(消込特定キー, 収納区分, 本税) of each data record of the collection output."""
    (delivery,) = [d for d in outcome.outputs if d.destination == "collection"]
    lines = Path(delivery.path).read_bytes().split(b"\r\n")
    return [(line[1:21].decode().strip(), line[23:24].decode(), int(line[24:36])) for line in lines if line[:1] == b"2"]


def warnings(pipeline: Pipeline, file_id: str) -> list[tuple[int, str]]:
    report = json.loads(Path(pipeline.ledger.get(file_id).report_json).read_text(encoding="utf-8"))
    return [(w["record"], w["code"]) for w in report["warnings"]]


def test_cvs_preliminary_confirmed_and_cancelled_reach_the_collection_system_once(pipeline):
    """速報 then 確報 of one payment is one 収納 (plus its 速報), a 速報 and its 取消 cancel; keys come from the barcode."""
    outcome = ingest(pipeline, "cvs", "cvs-0601.dat", SAMPLE.read_bytes())
    assert (outcome.state, outcome.status) == ("archived", "ok")
    assert intake(outcome) == [
        ("2024010000000001", "3", 12300),  # A 速報
        ("2024010000000001", "1", 12300),  # A 確報: the one confirmed payment
        ("2024010000000002", "3", 4500),  # B 速報
        ("2024010000000002", "4", 4500),  # B 速報取消
    ]


def test_cvs_file_sent_again_with_other_line_endings_posts_nothing(pipeline):
    """The same settlement data re-sent (other bytes, so not a file duplicate) posts nothing twice, and says why."""
    ingest(pipeline, "cvs", "cvs-0601.dat", SAMPLE.read_bytes())
    again = ingest(pipeline, "cvs", "cvs-0601-resent.dat", SAMPLE.read_bytes().replace(b"\r\n", b"\n"))
    assert again.state == "archived" and again.outputs == ()
    assert warnings(pipeline, again.file_id) == [
        (2, "PRELIMINARY_AFTER_CONFIRMED"),
        (3, "DUPLICATE_POSTING"),
        (4, "DUPLICATE_POSTING"),
        (5, "DUPLICATE_POSTING"),
    ]


def test_confirmed_without_preliminary_is_posted_and_a_double_payment_is_flagged(pipeline):
    """A 確報 with no earlier 速報 is posted normally; the same notice paid again by direct debit is
    posted too (the money is real) and flagged as a double payment (refund candidate)."""
    content = bytearray(SAMPLE.read_bytes())
    lines = content.split(b"\r\n")
    lines = [lines[0], lines[2], lines[-3], lines[-2], b""]  # header, A 確報 only, trailer, end
    # fix the trailer's 件数 (1) and 合計金額 (12,300), positions 8–14 and 15–26
    trailer = bytearray(lines[2])
    trailer[7:14] = b"0000001"
    trailer[14:26] = b"000000012300"
    lines[2] = bytes(trailer)
    confirmed_only = b"\r\n".join(lines)
    store = ingest(pipeline, "cvs", "cvs-0602.dat", confirmed_only)
    assert intake(store) == [("2024010000000001", "1", 12300)]
    # the city's 顧客番号 for direct debit is the same 消込特定キー: customer 1 → "00…01" (20 digits)
    debit = ingest(pipeline, "zengin-91", "kfuri.dat", debit_file([(12300, "0")]))
    assert debit.state == "archived"
    assert warnings(pipeline, debit.file_id) == []  # other key format: 20 digits, no clash
    # a debit whose 顧客番号 equals the store payment's key is a double payment
    from formats.builder import FileBuilder, Group
    from formats.layouts.zengin import DEBIT_91
    from tests.support.samples import debit_header, debit_record

    same = FileBuilder(DEBIT_91, result=True).to_bytes(
        [Group(debit_header(), [debit_record(9, 12300, "0", customer_number="2024010000000001")])]
    )
    double = ingest(pipeline, "zengin-91", "kfuri-2.dat", same)
    assert intake(double) == [("2024010000000001", "1", 12300)]
    assert warnings(pipeline, double.file_id) == [(2, "DOUBLE_PAYMENT")]


NEW_AGENT = textwrap.dedent("""\
    # A new agent's variant: 確報 only, 100-byte records, the amount first. No code: this file is all.
    id = "cvs-agent-z"
    title = "コンビニ収納 (Z社, 100バイト)"
    record_length = 100
    type_offset = 0
    multi_group = false
    identify = { offset = 0, equals = "HZ" }

    [totals]
    count_field = "count"
    amount_field = "total"
    data_amount_field = "amount"

    [[records]]
    type = "H"
    role = "header"
    label = "ヘッダー"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "H" },
      { name = "agent", label = "会社", width = 1, kind = "constant", value = "Z" },
      { name = "created_on", label = "作成日", width = 8, kind = "date", format = "YYYYMMDD" },
      { name = "filler", label = "予備", width = 90, kind = "filler" },
    ]

    [[records]]
    type = "D"
    role = "data"
    label = "明細"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "D" },
      { name = "amount", label = "収納金額", width = 7, kind = "numeric" },
      { name = "paid_on", label = "収納日", width = 8, kind = "date", format = "YYYYMMDD" },
      { name = "slip", label = "納付番号", width = 16, kind = "digits" },
      { name = "receipt_no", label = "受付番号", width = 10, kind = "digits" },
      { name = "filler", label = "予備", width = 58, kind = "filler" },
    ]

    [[records]]
    type = "T"
    role = "trailer"
    label = "トレーラー"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "T" },
      { name = "count", label = "件数", width = 6, kind = "numeric" },
      { name = "total", label = "金額", width = 12, kind = "numeric" },
      { name = "filler", label = "予備", width = 81, kind = "filler" },
    ]

    [canonical]
    kind = "convenience-store"
    status = "paid"
    reconciliation_key = "slip"
    payment_key = ["receipt_no"]
    principal = "amount"
    receipt_date = "paid_on"
    """)


def _agent_z_file() -> bytes:
    """Written by hand from the layout above: a header, two 確報, a trailer (CRLF after each)."""
    records = [
        b"HZ" + b"20260601" + b" " * 90,
        b"D" + b"0001500" + b"20260531" + b"1111222233334444" + b"0000000001" + b" " * 58,
        b"D" + b"0002750" + b"20260531" + b"5555666677778888" + b"0000000002" + b" " * 58,
        b"T" + b"000002" + b"000000004250" + b" " * 81,
    ]
    assert all(len(record) == 100 for record in records)
    return b"".join(record + b"\r\n" for record in records)


def test_a_new_agent_variant_flows_end_to_end_from_a_layout_file_alone(tmp_path: Path):
    """A city adds an agent's layout file and a channel in its configuration; files in that layout are
    validated, normalised and posted to the collection system by `gateway run`, with no code."""
    layouts = tmp_path / "layouts"
    layouts.mkdir()
    (layouts / "cvs-agent-z.toml").write_text(NEW_AGENT, encoding="utf-8")
    default = (ROOT / "config" / "gateway.toml").read_text(encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(
        default.replace(
            "[channels.zengin-91]",
            f'[formats]\nlayouts = "{layouts}"\n\n[channels.agent-z]\nformat = "cvs-agent-z"\n\n[channels.zengin-91]',
            1,
        ),
        encoding="utf-8",
    )
    settings = load_settings(config, spool_root=tmp_path / "spool")
    inbox = tmp_path / "spool" / "inbox" / "agent-z"
    inbox.mkdir(parents=True)
    (inbox / "Z0601.DAT").write_bytes(_agent_z_file())
    outcomes = []
    Service(
        settings.model_copy(update={"spool": settings.spool.model_copy(update={"quiet_seconds": 0.0})}),
    ).run(until_idle=True, on_outcome=outcomes.append)
    (outcome,) = outcomes
    assert (outcome.state, outcome.status) == ("archived", "ok")
    assert intake(outcome) == [("1111222233334444", "1", 1500), ("5555666677778888", "1", 2750)]


def test_a_wrong_canonical_table_fails_at_start(tmp_path: Path):
    """A layout file whose [canonical] names a field the record does not have stops the configuration loading."""
    layouts = tmp_path / "layouts"
    layouts.mkdir()
    (layouts / "cvs-agent-z.toml").write_text(
        NEW_AGENT.replace('principal = "amount"', 'principal = "amout"'), encoding="utf-8"
    )
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[formats]\nlayouts = "{layouts}"\n[channels.z]\nformat = "cvs-agent-z"\n'
        '[destinations.c]\nrender = "collection-intake"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="names 'amout', which is not a field of the data record"):
        load_settings(config)
