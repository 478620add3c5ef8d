"""Assembles the hand-written 公金受取口座 samples (public-fund-account); no project code.

Every record is a literal concatenation of byte strings following the layout in the
docstring and comments of formats/layouts/micjet.py (positions 1-based, 120-byte records).
Nothing here imports formats/ or gateway/. The expected results (<case>.dat.json) are
written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/public-fund-account/make_samples.py
Names and account numbers are invented (ｼｹﾝ ﾀﾛｳ …); bank 0001 / branch 001 exist in
the zengin-code master, bank 9998 does not.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, join, record, writer
from tests.support.fixedwidth import exact as a
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k

HERE = Path(__file__).resolve().parent

rec = partial(record, length=120)
write = writer(HERE)


def header() -> bytes:
    return rec(
        b"1",  # 1      データ区分
        a("GWPA01", 6),  # 2-7    レイアウト識別
        a("20240610", 8),  # 8-15   作成日
        a("999999", 6),  # 16-21  利用団体コード
        a("20240607", 8),  # 22-29  照会日
        SP * 91,  # 30-120 予備
    )


def data(
    serial: int, integrated: str, resident: str, bank: str, branch: str, kind: str, number: str, holder: str
) -> bytes:
    return rec(
        b"2",  # 1      データ区分
        n(serial, 7),  # 2-8    連番
        a(integrated, 15),  # 9-23   団体内統合宛名番号
        a(resident, 15),  # 24-38  住民コード
        a(bank, 4),  # 39-42  金融機関コード
        a(branch, 3),  # 43-45  支店コード
        a(kind, 1),  # 46     預金種別
        a(number, 7),  # 47-53  口座番号
        k(holder, 30),  # 54-83  名義人カナ
        SP * 37,  # 84-120 予備
    )


def trailer(count: int, serial_total: int) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 8),  # 2-9    件数
        n(serial_total, 14),  # 10-23  連番合計
        SP * 97,  # 24-120 予備
    )


def end() -> bytes:
    return rec(b"9", SP * 119)  # 1 データ区分, 2-120 予備


F1 = data(1, "000000000000101", "000000000012345", "0001", "001", "1", "1234567", "ｼｹﾝ ﾀﾛｳ")
F3 = data(3, "000000000000103", "000000000024680", "0001", "001", "4", "3456789", "ｼｻｸ ｼﾖｳ")  # ｮ enlarged to ﾖ


def f2(*, bank: str = "0001", kind: str = "2", holder: str = "ﾐﾎﾝ ﾊﾅｺ") -> bytes:
    return data(2, "000000000000102", "000000000067890", bank, "001", kind, "2345678", holder)


TRAILER = trailer(3, 6)


def build() -> None:
    write("clean_crlf", join([header(), F1, f2(), F3, TRAILER, end()]))
    # bank 9998 is not in the zengin-code master: a warning, the record is kept
    write("unknown_bank_code", join([header(), F1, f2(bank="9998"), F3, TRAILER, end()]))
    # 名義人カナ in full-width katakana (first byte 0x83)
    full = "ミホン　ハナコ"
    assert full.encode("cp932")[0] == 0x83
    write("holder_full_width", join([header(), F1, f2(holder=full), F3, TRAILER, end()]))
    # 名義人カナ with a small ｮ (0xAE), not allowed in Zengin names
    small = data(3, "000000000000103", "000000000024680", "0001", "001", "4", "3456789", "ｼｻｸ ｼｮｳ")
    assert "ｮ".encode("cp932") == b"\xae"
    write("holder_small_kana", join([header(), F1, f2(), small, TRAILER, end()]))
    # 名義人カナ all spaces
    write("holder_blank", join([header(), F1, f2(holder=""), F3, TRAILER, end()]))
    # 預金種別 3 (納税準備預金) cannot be a 公金受取口座
    write("account_type_not_listed", join([header(), F1, f2(kind="3"), F3, TRAILER, end()]))
    write("trailer_count_mismatch", join([header(), F1, f2(), F3, trailer(2, 6), end()]))
    write("trailer_serial_total_mismatch", join([header(), F1, f2(), F3, trailer(3, 7), end()]))


if __name__ == "__main__":
    build()
