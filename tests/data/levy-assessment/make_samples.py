"""Assembles the hand-written 調定データ samples (levy-assessment); no project code.

Every record is a literal concatenation of byte strings following the layout in the
comments of formats/layouts/levy-assessment.toml (positions 1-based, 120-byte records).
Nothing here imports formats/ or gateway/. The expected results (<case>.dat.json) are
written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/levy-assessment/make_samples.py
利用団体コード 999999, 住民コード and 納付書番号 are invented.
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

rec = partial(record, length=120)
write = writer(HERE)
t = partial(text, encoding="ascii")  # ASCII only, left-aligned, space-padded


def header(layout_id: str = "GWLV01") -> bytes:
    return rec(
        b"1",  # 1      データ区分
        a(layout_id, 6),  # 2-7    レイアウト識別
        a("20240401", 8),  # 8-15   作成日
        a("999999", 6),  # 16-21  利用団体コード
        a("01", 2),  # 22-23  送信元システム (市民税システム)
        SP * 97,  # 24-120 予備
    )


def data(
    resident: str,
    notice: str,
    item: str,
    kind: str,
    instalment: str,
    amount: int,
    due: str,
    statutory: str,
    method: str,
    reason: str,
    changed: str,
    seq: int,
    *,
    amount_raw: bytes | None = None,
) -> bytes:
    return rec(
        b"2",  # 1      データ区分
        a("999999", 6),  # 2-7    利用団体コード
        a(resident, 15),  # 8-22   住民コード
        t(notice, 20),  # 23-42  納付書番号
        a("2024", 4),  # 43-46  会計年度
        a("2024", 4),  # 47-50  賦課年度
        a(item, 2),  # 51-52  科目
        a(kind, 1),  # 53     調定区分
        a(instalment, 2),  # 54-55  期別
        amount_raw if amount_raw is not None else n(amount, 10),  # 56-65 調定額
        a(due, 8),  # 66-73  納期限
        a(statutory, 8),  # 74-81  法定納期限
        a(method, 1),  # 82     納付方法
        a(reason, 2),  # 83-84  異動事由
        a(changed, 8),  # 85-92  異動日
        n(seq, 3),  # 93-95  調定履歴SEQ
        SP * 25,  # 96-120 予備
    )


def trailer(count: int, total: int) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 8),  # 2-9    件数
        n(total, 14),  # 10-23  調定額合計
        SP * 97,  # 24-120 予備
    )


def end() -> bytes:
    return rec(b"9", SP * 119)  # 1 データ区分, 2-120 予備


# Three assessments of 市県民税 (普通徴収), 25000 + 24000 + 26000 = 75000 yen:
# 1期 and 2期 of one notice (当初調定), then a 更正 (増額) of 1期 (調定履歴SEQ 2).
R1 = data("000000000012345", "2024-0001-0001", "01", "1", "01", 25000, "20240701", "20240701", "1", "  ", "20240610", 1)
R2 = data("000000000012345", "2024-0001-0001", "01", "1", "02", 24000, "20240902", "00000000", "2", "  ", "20240610", 1)
R3 = data("000000000067890", "2024-0001-0002", "01", "3", "01", 26000, "20240701", "00000000", "1", "21", "20240805", 2)


def build() -> None:
    # clean: CRLF after every record
    write("clean_crlf", join([header(), R1, R2, R3, trailer(3, 75000), end()]))
    # the same file with no separators at all
    write("clean_no_separator", join([header(), R1, R2, R3, trailer(3, 75000), end()], b""))
    # record 3's 納期限 is 2025-02-30: not on the calendar
    bad_due = data(
        "000000000012345", "2024-0001-0001", "01", "1", "02", 24000, "20250230", "00000000", "2", "  ", "20240610", 1
    )
    write("due_date_not_on_calendar", join([header(), R1, bad_due, R3, trailer(3, 75000), end()]))
    # record 3's 科目 is 99: not a code
    bad_item = data(
        "000000000012345", "2024-0001-0001", "99", "1", "02", 24000, "20240902", "00000000", "2", "  ", "20240610", 1
    )
    write("unknown_tax_item", join([header(), R1, bad_item, R3, trailer(3, 75000), end()]))
    # record 3's 調定額 has a space inside
    bad_amount = data(
        "000000000012345",
        "2024-0001-0001",
        "01",
        "1",
        "02",
        0,
        "20240902",
        "00000000",
        "2",
        "  ",
        "20240610",
        1,
        amount_raw=b"00000 4000",
    )
    write("amount_not_numeric", join([header(), R1, bad_amount, R3, trailer(3, 75000), end()]))
    # trailers that disagree with the records
    write("trailer_count_mismatch", join([header(), R1, R2, R3, trailer(2, 75000), end()]))
    write("trailer_amount_mismatch", join([header(), R1, R2, R3, trailer(3, 75100), end()]))
    # the header's layout id is not GWLV01
    write("header_wrong_layout_id", join([header("GWLV02"), R1, R2, R3, trailer(3, 75000), end()]))


if __name__ == "__main__":
    build()
