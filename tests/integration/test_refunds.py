"""The refund flow end to end: the collection system's refund orders in, a 全銀 総合振込 (21) file out
that an independent parse accepts with the right totals and half-width kana names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from formats.builder import FileBuilder, Group
from formats.layouts.zengin import TRANSFER_21
from formats.reader import RecordReader
from formats.registry import get_format
from formats.validate import validate_path
from gateway.config.settings import load_settings
from gateway.datapath.pipeline import Pipeline
from gateway.storage.ledger import Ledger
from spool.scanner import Arrival

CONFIG = """
[spool]
root = "{root}"
[channels.refunds]
format = "refund-orders"
[destinations.bank-refunds]
render = "zengin-21-refunds"
options = {{ requester_code = "0000054321", requester_name = "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼﾔ", bank_code = "0001", branch_code = "001", account_type = "1", account_number = "0000002" }}
[[routes]]
name = "refunds-to-bank"
purpose = "市税過誤納金の還付"
when = {{ record = ["refund-order"] }}
to = ["bank-refunds"]
"""


def refund_orders() -> bytes:
    """Three invented refund orders; names in full-width katakana as the collection system keeps them."""
    orders = [
        ("000000000101", "テスト　タロウ", 12000),
        ("000000000102", "サンプル　ハナコ", 3400),
        ("000000000103", "カブシキガイシャ　ガッコウ", 56789),
    ]
    records = [
        dict(
            refund_id=refund_id,
            resident_code=f"{i:015d}",
            bank_code="0001",
            branch_code="001",
            account_type="1",
            account_number=f"{i:07d}",
            payee_kana=name,
            amount=amount,
            reason="01",
        )
        for i, (refund_id, name, amount) in enumerate(orders, start=1)
    ]
    header = dict(created_on=dt.date(2026, 6, 1), transfer_date=dt.date(2026, 6, 10))
    return FileBuilder(get_format("refund-orders")).to_bytes([Group(header, records)])


def test_refund_orders_become_a_zengin_21_file_the_bank_accepts(tmp_path: Path):
    """Refund orders in; out a 21 file that validates ok, with 振込指定日, half-width names and exact totals."""
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG.format(root=tmp_path / "spool"), encoding="utf-8")
    settings = load_settings(config)
    (tmp_path / "spool").mkdir()
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        inbox = pipeline.spool.inbox("refunds") / "refunds-0601.dat"
        inbox.write_bytes(refund_orders())
        stat = inbox.stat()
        outcome = pipeline.process(pipeline.claim(Arrival("refunds", inbox, stat.st_size, stat.st_mtime_ns)))
    assert (outcome.state, outcome.status) == ("archived", "ok")
    (delivery,) = outcome.outputs
    out = Path(delivery.path)
    # an independent parse: the 21 layout and validator, which never saw the renderer
    result = validate_path(out, TRANSFER_21)
    assert result.status == "ok", result.errors
    assert result.groups[0].declared == {"count": 3, "amount": 12000 + 3400 + 56789}
    with out.open("rb") as stream:
        records = [r for r in RecordReader(stream, TRANSFER_21)]
    header = records[0].values
    assert (header["requester_code"], header["transfer_date"], header["bank_code"]) == ("0000054321", "0610", "0001")
    names = [r.values["payee_name"] for r in records if r.role == "data"]
    assert names == ["ﾃｽﾄ ﾀﾛｳ", "ｻﾝﾌﾟﾙ ﾊﾅｺ", "ｶﾌﾞｼｷｶﾞｲｼﾔ ｶﾞﾂｺｳ"]
    assert [r.values["amount"] for r in records if r.role == "data"] == [12000, 3400, 56789]


def test_a_refund_destination_without_its_requester_does_not_load(tmp_path: Path):
    """The 21 renderer needs the city's requester details; without them the configuration is refused."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        CONFIG.format(root=tmp_path / "spool").replace('requester_code = "0000054321", ', ""), encoding="utf-8"
    )
    import pytest

    from gateway.config.settings import ConfigError

    with pytest.raises(
        ConfigError, match="destinations.bank-refunds.options .*needs destination options requester_code"
    ):
        load_settings(config)
