"""Assembles the hand-written 収納消込結果 samples (reconciliation); no project code.

Every record is a literal concatenation of byte strings following the layout in the
comments of formats/layouts/payment_info.py (RECONCILIATION_HEADER; the data, trailer and end
records are those of the 収納情報 layout in the same file; positions 1-based, 150-byte
records). Nothing here imports formats/ or gateway/. The expected results
(<case>.dat.json) are written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/reconciliation/make_samples.py
利用団体コード 999999, 住民コード, 納付書番号 and 消込特定キー are invented.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, join, record, text, writer
from tests.support.fixedwidth import exact as a
from tests.support.fixedwidth import num as n

HERE = Path(__file__).resolve().parent

rec = partial(record, length=150)
write = writer(HERE)
t = partial(text, encoding="ascii")  # ASCII only, left-aligned, space-padded


def header(layout_id: str = "GWRC01") -> bytes:
    return rec(
        b"1",  # 1      データ区分
        a(layout_id, 6),  # 2-7    レイアウト識別
        a("20240704", 8),  # 8-15   作成日
        a("999999", 6),  # 16-21  利用団体コード
        a("001", 3),  # 22-24  消込処理回
        a("20240703", 8),  # 25-32  日計日
        SP * 118,  # 33-150 予備
    )


def data(
    resident: str,
    notice: str,
    fiscal: str,
    item: str,
    instalment: str,
    kind: str,
    channel: str,
    principal: int,
    late: int,
    dunning: int,
    receipt: str,
    full: str,
    seq: int,
    key: str,
) -> bytes:
    return rec(
        b"2",  # 1       データ区分
        a("999999", 6),  # 2-7     利用団体コード
        a(resident, 15),  # 8-22    住民コード
        t(notice, 20),  # 23-42   納付書番号
        a("2024", 4),  # 43-46   会計年度
        a(fiscal, 4),  # 47-50   賦課年度
        a(item, 2),  # 51-52   科目
        a(instalment, 2),  # 53-54   期別
        a(kind, 1),  # 55      収入区分
        a(channel, 2),  # 56-57   納付区分
        n(principal, 10),  # 58-67   収入額
        n(late, 10),  # 68-77   収入延滞金
        n(dunning, 8),  # 78-85   収入督促手数料
        a(receipt, 8),  # 86-93   納付日
        a("20240703", 8),  # 94-101  日計日
        a(full, 1),  # 102     完納フラグ
        n(seq, 4),  # 103-106 収入履歴SEQ
        t(key, 20),  # 107-126 消込特定キー
        SP * 24,  # 127-150 予備
    )


def trailer(count: int, principal: int, late: int, dunning: int) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 8),  # 2-9    件数
        n(principal, 14),  # 10-23  収入額合計
        n(late, 12),  # 24-35  収入延滞金合計
        n(dunning, 10),  # 36-45  収入督促手数料合計
        SP * 105,  # 46-150 予備
    )


def end() -> bytes:
    return rec(b"9", SP * 149)  # 1 データ区分, 2-150 予備


# One reconciliation run (消込処理回 001, 日計日 2024-07-03), every 科目 in one file:
# 1: 科目 01 市県民税 (普通徴収) 2024 1期, 口座振替                      → 市民税課
# 2: 科目 02 市県民税 (特別徴収) 2024 期別 02, eLTAX                      → 市民税課
# 3: 科目 04 固定資産税 2023 4期, コンビニ, 延滞金 1400 督促手数料 100, 完納 → 資産税課
# 4: 科目 06 国民健康保険税 2024 1期, ペイジー                            → 保険年金課
# 5: 科目 05 軽自動車税 2024 期別 01, OCR・窓口, 完納                      → no default department
# 6: 科目 03 法人市民税 2023, 収入取消 (収入区分 2) of an OCR posting      → no default department
# 収入額 18000 + 42000 + 31500 + 27300 + 10800 + 63000 = 192600, 延滞金 1400, 督促手数料 100.
P1 = data(
    "000000000012345",
    "2024-0101-0001",
    "2024",
    "01",
    "01",
    "1",
    "01",
    18000,
    0,
    0,
    "20240701",
    "0",
    1,
    "00000000000000000101",
)
P2 = data(
    "000000000023456",
    "2024-0201-0006",
    "2024",
    "02",
    "02",
    "1",
    "05",
    42000,
    0,
    0,
    "20240702",
    "0",
    1,
    "LTX-2024070200000007",
)
P3 = data(
    "000000000034567",
    "2023-0401-0004",
    "2023",
    "04",
    "04",
    "1",
    "02",
    31500,
    1400,
    100,
    "20240628",
    "1",
    1,
    "CVS-2024062800000055",
)
P4 = data(
    "000000000045678",
    "2024-0601-0001",
    "2024",
    "06",
    "01",
    "1",
    "03",
    27300,
    0,
    0,
    "20240701",
    "0",
    1,
    "PEZ-2024070100000003",
)
P5 = data(
    "000000000056789",
    "2024-0501-0001",
    "2024",
    "05",
    "01",
    "1",
    "04",
    10800,
    0,
    0,
    "20240627",
    "1",
    1,
    "OCR-20240627-000021",
)
P6 = data(
    "000000000098765",
    "2023-0301-0002",
    "2023",
    "03",
    "00",
    "2",
    "04",
    63000,
    0,
    0,
    "20240614",
    "0",
    2,
    "OCR-20240614-000008",
)
POSTINGS = [P1, P2, P3, P4, P5, P6]
TRAILER = trailer(6, 192600, 1400, 100)


def build() -> None:
    write("clean_crlf", join([header(), *POSTINGS, TRAILER, end()]))
    # record 3 (posting 2) has 科目 07, not one of 01-06
    bad_item = data(
        "000000000023456",
        "2024-0201-0006",
        "2024",
        "07",
        "02",
        "1",
        "05",
        42000,
        0,
        0,
        "20240702",
        "0",
        1,
        "LTX-2024070200000007",
    )
    write("unknown_tax_item", join([header(), P1, bad_item, P3, P4, P5, P6, TRAILER, end()]))
    write("trailer_amount_mismatch", join([header(), *POSTINGS, trailer(6, 192601, 1400, 100), end()]))
    write("trailer_late_fee_mismatch", join([header(), *POSTINGS, trailer(6, 192600, 1500, 100), end()]))
    # the header of a 収納情報 file (レイアウト識別 GWPI01) on a 収納消込結果 file; the rest of the header is the run's
    write("header_wrong_layout_id", join([header("GWPI01"), *POSTINGS, TRAILER, end()]))


if __name__ == "__main__":
    build()
