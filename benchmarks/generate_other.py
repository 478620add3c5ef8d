"""Generate large, valid convenience-store 確報 (format ``cvs``) and 収納消込結果 (format
``reconciliation``) files for benchmarks (invented data only).

As benchmarks/generate.py does for 全銀 91: one template record built by the layout's own
``build`` (formats/layouts/cvs.toml, formats/layouts/payment_info.py), tiled with numpy and
varied per record so that every record is a distinct payment; header, trailer and end are
built by the layout too, the trailer's totals computed from what was written.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np

from benchmarks.generate import CHUNK, _digits
from formats.registry import load_formats

FORMATS = load_formats()
CVS = FORMATS["cvs"]
RECONCILIATION = FORMATS["reconciliation"]

# weights of the cvs barcode's check digit (modulus 10, weights 3/1 from the right, over 43 digits)
_W31 = np.array([3 if (42 - i) % 2 == 0 else 1 for i in range(43)], dtype=np.int64)


def _barcodes(references: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """44-digit barcodes: AI 91, 国コード 9, 企業コード 54321, 利用企業コード 23456, 納付番号 (16),
    再発行区分 0, 支払期限 240630, 印紙フラグ 0, 支払金額 (6), check digit."""
    n = len(references)
    out = np.empty((n, 44), dtype=np.uint8)
    out[:, :13] = np.frombuffer(b"9195432123456", dtype=np.uint8)
    out[:, 13:29] = _digits(references, 16)
    out[:, 29:37] = np.frombuffer(b"02406300", dtype=np.uint8)
    out[:, 37:43] = _digits(amounts, 6)
    total = ((out[:, :43].astype(np.int64) - 0x30) * _W31).sum(axis=1)
    out[:, 43] = 0x30 + (10 - total % 10) % 10
    return out


def write_cvs(path: Path, records: int, *, seed: int = 7, separator: bytes = b"\r\n") -> dict[str, int]:
    """A cvs file of ``records`` 確報 (データ種 02), one group: return its totals."""
    rng = np.random.default_rng(seed)
    header = CVS.layout_for("header").build(
        dict(
            serial=1,
            record_type="1",
            created_on=dt.date(2024, 6, 3),
            user_company_code="23456",
            user_company_name="テスト市",
            agent_code="54321",
            agent_name="TEST AGENT",
        )
    )
    data = CVS.layout_for("data")
    template = np.frombuffer(
        data.build(
            dict(
                serial=2,
                record_type="2",
                created_on=dt.date(2024, 6, 3),
                retailer_code="0101",
                cns_application_code="0007",
                user_company_code="23456",
                tax_code="02",
                acceptance_kind="1",
                data_kind="02",
                data_id=None,
                paid_on=dt.date(2024, 6, 1),
                paid_time="1432",
                barcode="91954321234562024020000000001024063000123000",
                amount=12300,
                store_code="0012345",
                settlement_on=dt.date(2024, 6, 7),
                store_name="ﾃｽﾄﾏｰﾄ ｴｷﾏｴ",
            )
        )
        + separator,
        dtype=np.uint8,
    )
    spec = data.by_name
    count = amount = 0
    with path.open("wb") as out:
        out.write(header + separator)
        for start in range(0, records, CHUNK):
            n = min(CHUNK, records - start)
            block = np.tile(template, (n, 1))
            serial = np.arange(start, start + n, dtype=np.int64)
            amounts = rng.integers(100, 300_000, size=n, dtype=np.int64)
            for name, values in (
                ("serial", serial + 2),
                ("amount", amounts),
                ("paid_time", (serial % 24) * 100 + serial % 60),
                ("store_code", serial % 10_000_000),
            ):
                field = spec[name]
                block[:, field.offset : field.offset + field.width] = _digits(values, field.width)
            barcode = spec["barcode"]
            block[:, barcode.offset : barcode.offset + barcode.width] = _barcodes(2024020000000000 + serial, amounts)
            out.write(block.tobytes())
            count += n
            amount += int(amounts.sum())
        out.write(
            CVS.layout_for("trailer").build(
                dict(serial=records + 2, record_type="8", total_count=count, total_amount=amount)
            )
            + separator
        )
        out.write(CVS.layout_for("end").build(dict(serial=records + 3, record_type="9")) + separator)
    return dict(count=count, amount=amount)


def write_reconciliation(path: Path, records: int, *, seed: int = 8, separator: bytes = b"\r\n") -> dict[str, int]:
    """A 収納消込結果 file of ``records`` postings, one per resident, every 科目 in turn: its totals."""
    rng = np.random.default_rng(seed)
    header = RECONCILIATION.layout_for("header").build(
        dict(
            record_type="1",
            layout_id="GWRC01",
            created_on=dt.date(2024, 7, 4),
            municipality_code="999999",
            run_number=1,
            revenue_date=dt.date(2024, 7, 3),
        )
    )
    data = RECONCILIATION.layout_for("data")
    template = np.frombuffer(
        data.build(
            dict(
                record_type="2",
                municipality_code="999999",
                resident_code="000000000012345",
                notice_number="2024-0101-0001",
                accounting_year=2024,
                fiscal_year=2024,
                tax_item="01",
                instalment="01",
                revenue_kind="1",
                channel_kind="01",
                principal=18000,
                late_fee=0,
                dunning_fee=0,
                receipt_date=dt.date(2024, 7, 1),
                revenue_date=dt.date(2024, 7, 3),
                paid_in_full="0",
                revenue_seq=1,
                reconciliation_key="00000000000000000101",
            )
        )
        + separator,
        dtype=np.uint8,
    )
    spec = data.by_name
    # 科目 01, 02 (市県民税), 04 (固定資産税), 06 (国保税): every department of config/gateway.toml gets some
    items = np.frombuffer(b"01020406", dtype=np.uint8).reshape(4, 2)
    totals = dict(count=0, amount=0, late_fee=0, dunning_fee=0)
    with path.open("wb") as out:
        out.write(header + separator)
        for start in range(0, records, CHUNK):
            n = min(CHUNK, records - start)
            block = np.tile(template, (n, 1))
            serial = np.arange(start, start + n, dtype=np.int64)
            principal = rng.integers(100, 500_000, size=n, dtype=np.int64)
            late = np.where(serial % 10 == 0, rng.integers(0, 5_000, size=n, dtype=np.int64), 0)
            for name, values in (
                ("resident_code", 100_000 + serial),
                ("principal", principal),
                ("late_fee", late),
                ("reconciliation_key", 10_000_000 + serial),
            ):
                field = spec[name]
                block[:, field.offset : field.offset + field.width] = _digits(values, field.width)
            item = spec["tax_item"]
            block[:, item.offset : item.offset + 2] = items[serial % 4]
            notice = spec["notice_number"]
            block[:, notice.offset + 10 : notice.offset + 14] = _digits(serial % 10_000, 4)
            block[:, notice.offset + 5 : notice.offset + 9] = _digits(serial // 10_000, 4)
            out.write(block.tobytes())
            totals["count"] += n
            totals["amount"] += int(principal.sum())
            totals["late_fee"] += int(late.sum())
        out.write(
            RECONCILIATION.layout_for("trailer").build(
                dict(
                    record_type="8",
                    record_count=totals["count"],
                    principal_total=totals["amount"],
                    late_fee_total=totals["late_fee"],
                    dunning_fee_total=0,
                )
            )
            + separator
        )
        out.write(RECONCILIATION.layout_for("end").build(dict(record_type="9")) + separator)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("format", choices=("cvs", "reconciliation"))
    parser.add_argument("path", type=Path)
    parser.add_argument("-n", "--records", type=int, default=200_000)
    args = parser.parse_args()
    write = write_cvs if args.format == "cvs" else write_reconciliation
    print(write(args.path, args.records))


if __name__ == "__main__":
    main()
