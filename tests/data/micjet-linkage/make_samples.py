"""Assembles the hand-written MICJET 番号連携 samples (micjet-linkage); no project code.

Every record is a literal concatenation of byte strings following the layout in the
docstring and comments of formats/layouts/micjet.py (positions 1-based, 80-byte records).
Nothing here imports formats/ or gateway/. The expected results (<case>.dat.json) are
written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/micjet-linkage/make_samples.py

The 個人番号 below are INVENTED (never a real person's): an arbitrary 11-digit body and
the check digit of ../shared/reference/payment-channels.md §5, which this script
computes itself (so that a wrong one can be written on purpose). Worked example for
the body 12345678901, digits counted from the right P(1..11) = 1 0 9 8 7 6 5 4 3 2 1,
weights Q(n) = n + 1 (n ≤ 6), n − 5 (n ≥ 7) = 2 3 4 5 6 7 2 3 4 5 6:
    1·2 + 0·3 + 9·4 + 8·5 + 7·6 + 6·7 + 5·2 + 4·3 + 3·4 + 2·5 + 1·6
  = 2 + 0 + 36 + 40 + 42 + 42 + 10 + 12 + 12 + 10 + 6 = 212
212 mod 11 = 3 (> 1), so the check digit is 11 − 3 = 8: 123456789018.
For 27182818284 the sum is 221, 221 mod 11 = 1 (≤ 1): check digit 0, 271828182840.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, join, record, writer
from tests.support.fixedwidth import exact as a
from tests.support.fixedwidth import num as n

HERE = Path(__file__).resolve().parent

rec = partial(record, length=80)
write = writer(HERE)


def check_digit(body: str) -> int:
    """The 個人番号 check digit of an 11-digit body (payment-channels.md §5)."""
    assert len(body) == 11 and body.isdigit()
    weights = [n + 1 if n <= 6 else n - 5 for n in range(1, 12)]
    total = sum(int(digit) * weight for digit, weight in zip(reversed(body), weights))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def valid(body: str) -> str:
    return body + str(check_digit(body))


NUMBER_1 = valid("12345678901")
NUMBER_2 = valid("98765432109")
NUMBER_3 = valid("27182818284")
assert (NUMBER_1, NUMBER_2, NUMBER_3) == ("123456789018", "987654321093", "271828182840")
WRONG_1 = "123456789010"  # should end in 8
WRONG_3 = "271828182841"  # should end in 0


def header(legal_basis: str = "016") -> bytes:
    return rec(
        b"1",  # 1      データ区分
        a("GWMJ01", 6),  # 2-7    レイアウト識別
        a("20240601", 8),  # 8-15   作成日
        a("999999", 6),  # 16-21  利用団体コード
        a(legal_basis, 3),  # 22-24  利用事務 (番号法 別表第一の項)
        SP * 56,  # 25-80  予備
    )


def data(serial: int, kind: str, integrated: str, resident: str, number: str, changed: str) -> bytes:
    return rec(
        b"2",  # 1      データ区分
        n(serial, 7),  # 2-8    連番
        a(kind, 1),  # 9      処理区分
        a(integrated, 15),  # 10-24  団体内統合宛名番号
        a(resident, 15),  # 25-39  住民コード
        a(number, 12),  # 40-51  個人番号
        a(changed, 8),  # 52-59  異動日
        SP * 21,  # 60-80  予備
    )


def trailer(count: int, serial_total: int) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 8),  # 2-9    件数
        n(serial_total, 14),  # 10-23  連番合計
        SP * 57,  # 24-80  予備
    )


def end() -> bytes:
    return rec(b"9", SP * 79)  # 1 データ区分, 2-80 予備


def m1(number: str = NUMBER_1) -> bytes:
    return data(1, "1", "000000000000101", "000000000012345", number, "20240401")


def m2(number: str = NUMBER_2) -> bytes:
    return data(2, "1", "000000000000102", "000000000067890", number, "20240515")


def m3(number: str = NUMBER_3) -> bytes:
    return data(3, "2", "000000000000103", "000000000024680", number, "20240520")


# 4: a 住登外者 who has given no number: 個人番号 blank
M4 = data(4, "1", "000000000000104", "000000000013579", " " * 12, "20240531")
TRAILER = trailer(4, 10)


def build() -> None:
    write("clean_crlf", join([header(), m1(), m2(), m3(), M4, TRAILER, end()]))
    write("clean_no_separator", join([header(), m1(), m2(), m3(), M4, TRAILER, end()], b""))
    # records 2 and 4 carry a wrong check digit
    write("bad_check_digit", join([header(), m1(WRONG_1), m2(), m3(WRONG_3), M4, TRAILER, end()]))
    # record 3's number has a letter, record 4's ends in two spaces
    write("my_number_not_numeric", join([header(), m1(), m2("98765432109A"), m3("2718281828  "), M4, TRAILER, end()]))
    # the header names a business that is not one the assessment cites
    write("legal_basis_not_listed", join([header("999"), m1(), m2(), m3(), M4, TRAILER, end()]))
    write("trailer_count_mismatch", join([header(), m1(), m2(), m3(), M4, trailer(3, 10), end()]))
    write("trailer_serial_total_mismatch", join([header(), m1(), m2(), m3(), M4, trailer(4, 12), end()]))


if __name__ == "__main__":
    build()
