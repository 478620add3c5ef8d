"""Assembles the hand-written 収納情報 samples (payment-info); no project code.

Every record is a literal concatenation of byte strings following the layout in the
docstring and comments of formats/layouts/payment_info.py (positions 1-based, 150-byte
records). Nothing here imports formats/ or gateway/. The expected results
(<case>.dat.json) are written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/payment-info/make_samples.py
利用団体コード 999999, 住民コード, 納付書番号 and 消込特定キー are invented.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import LF, SP, join, record, text, writer
from tests.support.fixedwidth import exact as a
from tests.support.fixedwidth import num as n

HERE = Path(__file__).resolve().parent

rec = partial(record, length=150)
write = writer(HERE)
t = partial(text, encoding="ascii")  # ASCII only, left-aligned, space-padded


def header() -> bytes:
    return rec(
        b"1",  # 1      データ区分
        a("GWPI01", 6),  # 2-7    レイアウト識別
        a("20240704", 8),  # 8-15   作成日
        a("999999", 6),  # 16-21  利用団体コード
        a("01", 2),  # 22-23  移転先 (市民税課)
        a("20240703", 8),  # 24-31  日計日
        SP * 119,  # 32-150 予備
    )


def data(
    resident: str,
    notice: str,
    fiscal: str,
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
    *,
    late_raw: bytes | None = None,
) -> bytes:
    return rec(
        b"2",  # 1       データ区分
        a("999999", 6),  # 2-7     利用団体コード
        a(resident, 15),  # 8-22    住民コード
        t(notice, 20),  # 23-42   納付書番号
        a("2024", 4),  # 43-46   会計年度
        a(fiscal, 4),  # 47-50   賦課年度
        a("01", 2),  # 51-52   科目 (市県民税 普通徴収)
        a(instalment, 2),  # 53-54   期別
        a(kind, 1),  # 55      収入区分
        a(channel, 2),  # 56-57   納付区分
        n(principal, 10),  # 58-67   収入額
        late_raw if late_raw is not None else n(late, 10),  # 68-77 収入延滞金
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


# 1: a 2024 1期 paid by direct debit; 2: a 2023 4期 paid late at a convenience store with
# 延滞金 1200 and 督促手数料 100 (完納); 3: a 収入取消 of an OCR posting.
# 収入額 25000 + 26000 + 5000 = 56000, 延滞金 1200, 督促手数料 100.
P1 = data(
    "000000000012345",
    "2024-0001-0001",
    "2024",
    "01",
    "1",
    "01",
    25000,
    0,
    0,
    "20240701",
    "0",
    1,
    "00000000000000000011",
)
P2 = data(
    "000000000067890",
    "2023-0009-0001",
    "2023",
    "04",
    "1",
    "02",
    26000,
    1200,
    100,
    "20240628",
    "1",
    1,
    "CVS-2024062800000042",
)
P3 = data(
    "000000000024680", "2024-0001-0003", "2024", "01", "2", "04", 5000, 0, 0, "20240620", "0", 2, "OCR-20240620-000017"
)
TRAILER = trailer(3, 56000, 1200, 100)


def build() -> None:
    write("clean_crlf", join([header(), P1, P2, P3, TRAILER, end()]))
    write("clean_lf", join([header(), P1, P2, P3, TRAILER, end()], LF))
    # record 3's 納付日 is 2024-06-31
    bad_receipt = data(
        "000000000067890",
        "2023-0009-0001",
        "2023",
        "04",
        "1",
        "02",
        26000,
        1200,
        100,
        "20240631",
        "1",
        1,
        "CVS-2024062800000042",
    )
    write("receipt_date_not_on_calendar", join([header(), P1, bad_receipt, P3, TRAILER, end()]))
    # record 3's 納付区分 is 09
    bad_channel = data(
        "000000000067890",
        "2023-0009-0001",
        "2023",
        "04",
        "1",
        "09",
        26000,
        1200,
        100,
        "20240628",
        "1",
        1,
        "CVS-2024062800000042",
    )
    write("unknown_channel_kind", join([header(), P1, bad_channel, P3, TRAILER, end()]))
    # record 3's 収入延滞金 has a space inside: the record is rejected, the 収入額 total still proves
    bad_late = data(
        "000000000067890",
        "2023-0009-0001",
        "2023",
        "04",
        "1",
        "02",
        26000,
        0,
        100,
        "20240628",
        "1",
        1,
        "CVS-2024062800000042",
        late_raw=b"0000001 00",
    )
    write("late_fee_not_numeric", join([header(), P1, bad_late, P3, TRAILER, end()]))
    write("trailer_count_mismatch", join([header(), P1, P2, P3, trailer(4, 56000, 1200, 100), end()]))
    write("trailer_amount_mismatch", join([header(), P1, P2, P3, trailer(3, 56001, 1200, 100), end()]))
    write("trailer_late_fee_mismatch", join([header(), P1, P2, P3, trailer(3, 56000, 1300, 100), end()]))
    write("trailer_dunning_fee_mismatch", join([header(), P1, P2, P3, trailer(3, 56000, 1200, 0), end()]))
    # header, data, trailer, then end of file
    write("missing_end", join([header(), P1, P2, P3, TRAILER]))


if __name__ == "__main__":
    build()
