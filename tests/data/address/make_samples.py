"""Assembles the hand-written 宛名情報 samples (address); no project code.

Every record is a literal concatenation of byte strings following the layout in the
comments of formats/layouts/address.toml (positions 1-based, 500-byte records).
Full-width fields are cp932 bytes padded with full-width spaces (0x8140) and, for an
odd width, one half-width space: the form the layout writes, so clean records build
back to the same bytes. Nothing here imports formats/ or gateway/. The expected
results (<case>.dat.json) are written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/address/make_samples.py
Names, addresses, postal codes and 住民コード are invented (試験　太郎, 架空県架空市 …).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, ZENKAKU_SPACE, align_left, join, record, writer
from tests.support.fixedwidth import exact as a
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k
from tests.support.fixedwidth import zenkaku as dbl

HERE = Path(__file__).resolve().parent

rec = partial(record, length=500)
write = writer(HERE)


def header() -> bytes:
    return rec(
        b"1",  # 1      データ区分
        a("GWAD01", 6),  # 2-7    レイアウト識別
        a("20240601", 8),  # 8-15   作成日
        a("999999", 6),  # 16-21  利用団体コード
        a("1", 1),  # 22     抽出区分 (異動分)
        SP * 478,  # 23-500 予備
    )


def data(
    serial: int,
    resident: str,
    change: str,
    reason: str,
    changed: str,
    kind: str,
    kana: str,
    name: str,
    birth: str,
    sex: str,
    postal: str,
    address: str,
    line2: str,
    d_postal: str = "       ",
    d_address: str = "",
    d_line2: str = "",
    d_name: str = "",
    *,
    name_raw: bytes | None = None,
    address_raw: bytes | None = None,
    line2_raw: bytes | None = None,
) -> bytes:
    return rec(
        b"2",  # 1       データ区分
        a("999999", 6),  # 2-7     利用団体コード
        n(serial, 7),  # 8-14    連番
        a(resident, 15),  # 15-29   住民コード
        a(change, 1),  # 30      異動区分
        a(reason, 2),  # 31-32   異動事由コード
        a(changed, 8),  # 33-40   異動日
        a(kind, 1),  # 41      住民区分
        k(kana, 40),  # 42-81   カナ氏名
        name_raw if name_raw is not None else dbl(name, 40),  # 82-121  氏名
        a(birth, 7),  # 122-128 生年月日 (GYYMMDD)
        a(sex, 1),  # 129     性別
        a(postal, 7),  # 130-136 郵便番号
        address_raw if address_raw is not None else dbl(address, 80),  # 137-216 住所
        line2_raw if line2_raw is not None else dbl(line2, 61),  # 217-277 方書
        a(d_postal, 7),  # 278-284 送付先郵便番号
        dbl(d_address, 80),  # 285-364 送付先住所
        dbl(d_line2, 60),  # 365-424 送付先方書
        dbl(d_name, 40),  # 425-464 送付先氏名
        SP * 36,  # 465-500 予備
    )


def trailer(count: int, serial_total: int) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 8),  # 2-9    件数
        n(serial_total, 14),  # 10-23  連番合計
        SP * 477,  # 24-500 予備
    )


def end() -> bytes:
    return rec(b"9", SP * 499)  # 1 データ区分, 2-500 予備


#: 方書 of exactly 30 characters: fills 60 of its 61 bytes, one half-width space after.
LINE2_30 = "架空マンション東棟二〇二号室奥の間一二三四五六七八九十百千万"
assert len(LINE2_30) == 30, len(LINE2_30)

# 1: 住民, born 昭和64年1月7日 (the last day of 昭和), 方書 of 10 characters, no 送付先.
A1 = data(
    1,
    "000000000012345",
    "1",
    "01",
    "20240401",
    "1",
    "ｼｹﾝ ﾀﾛｳ",
    "試験　太郎",
    "3640107",
    "1",
    "9999901",
    "架空県架空市一丁目１番１号",
    "架空ハイツ１０１号室",
)
# 2: 住民, born 平成31年4月30日 (the last day of 平成), 方書 of 30 characters, a 送付先.
A2 = data(
    2,
    "000000000067890",
    "2",
    "31",
    "20240515",
    "1",
    "ﾐﾎﾝ ﾊﾅｺ",
    "見本　花子",
    "4310430",
    "2",
    "9999902",
    "架空県架空市二丁目２番２号",
    LINE2_30,
    "9999903",
    "架空県見本市三丁目３番３号",
    "見本ビル３階",
    "見本　一郎",
)
# 3: 住登外者, born 令和元年5月1日 (the first day of 令和), small kana ｮ in the カナ氏名, no 方書.
A3 = data(
    3,
    "000000000024680",
    "1",
    "05",
    "20240520",
    "2",
    "ｼｻｸ ｼｮｳ",
    "試作　翔",
    "5010501",
    "1",
    "9999904",
    "架空県試作町四丁目４番４号",
    "",
)
# 4: 法人・団体: no 生年月日 (zeros), no 性別 (space).
A4 = data(
    4,
    "000000000099999",
    "2",
    "40",
    "20240531",
    "3",
    "ｶﾌﾞｼｷｶﾞｲｼｬ ｶｸｳｼｮｳｼﾞ",
    "株式会社架空商事",
    "0000000",
    " ",
    "9999905",
    "架空県架空市五丁目５番５号",
    "",
)
CLEAN = [A1, A2, A3, A4]
TRAILER = trailer(4, 10)


def with_birth(birth: str, serial: int = 2) -> bytes:
    """Record A2 (or A3) with another 生年月日."""
    if serial == 2:
        return data(
            2,
            "000000000067890",
            "2",
            "31",
            "20240515",
            "1",
            "ﾐﾎﾝ ﾊﾅｺ",
            "見本　花子",
            birth,
            "2",
            "9999902",
            "架空県架空市二丁目２番２号",
            LINE2_30,
            "9999903",
            "架空県見本市三丁目３番３号",
            "見本ビル３階",
            "見本　一郎",
        )
    return data(
        3,
        "000000000024680",
        "1",
        "05",
        "20240520",
        "2",
        "ｼｻｸ ｼｮｳ",
        "試作　翔",
        birth,
        "1",
        "9999904",
        "架空県試作町四丁目４番４号",
        "",
    )


def build() -> None:
    write("clean_crlf", join([header(), *CLEAN, TRAILER, end()]))

    # 生年月日 with era code 6 (no such era) / era code 0 (not one of 1-5)
    write("era_code_6", join([header(), A1, with_birth("6010101"), A3, A4, TRAILER, end()]))
    write("era_code_0", join([header(), A1, with_birth("0630415"), A3, A4, TRAILER, end()]))
    # 平成31年5月1日 (the day 令和 began) and 平成32年1月1日: after 平成 ended
    write(
        "heisei_after_its_end",
        join([header(), A1, with_birth("4310501"), with_birth("4320101", serial=3), A4, TRAILER, end()]),
    )
    # 昭和50年2月30日: not on the calendar
    write("birth_date_not_on_calendar", join([header(), A1, with_birth("3500230"), A3, A4, TRAILER, end()]))

    # 方書 of 31 characters cut at 61 bytes: the 31st character's lead byte is the field's last byte
    long_line2 = (LINE2_30 + "号").encode("cp932")
    cut = long_line2[:61]
    assert len(cut) == 61 and cut[60] == "号".encode("cp932")[0] == 0x8D
    cut_record = data(
        2,
        "000000000067890",
        "2",
        "31",
        "20240515",
        "1",
        "ﾐﾎﾝ ﾊﾅｺ",
        "見本　花子",
        "4310430",
        "2",
        "9999902",
        "架空県架空市二丁目２番２号",
        "",
        "9999903",
        "架空県見本市三丁目３番３号",
        "見本ビル３階",
        "見本　一郎",
        line2_raw=cut,
    )
    write("katagaki_cut_at_lead_byte", join([header(), A1, cut_record, A3, A4, TRAILER, end()]))

    # a half-width space inside 氏名 (record 3) and half-width digits inside 住所 (record 4)
    name_half = "見本".encode("cp932") + SP + "花子".encode("cp932")
    name_half = align_left(name_half, 40, ZENKAKU_SPACE)
    assert len(name_half) == 40 and name_half[4] == 0x20
    bad_name = data(
        2,
        "000000000067890",
        "2",
        "31",
        "20240515",
        "1",
        "ﾐﾎﾝ ﾊﾅｺ",
        "",
        "4310430",
        "2",
        "9999902",
        "架空県架空市二丁目２番２号",
        LINE2_30,
        "9999903",
        "架空県見本市三丁目３番３号",
        "見本ビル３階",
        "見本　一郎",
        name_raw=name_half,
    )
    address_half = "架空県試作町4丁目4番4号".encode("cp932")
    address_half = align_left(address_half, 80, ZENKAKU_SPACE)
    assert len(address_half) == 80 and address_half[12] == ord("4")
    bad_address = data(
        3,
        "000000000024680",
        "1",
        "05",
        "20240520",
        "2",
        "ｼｻｸ ｼｮｳ",
        "試作　翔",
        "5010501",
        "1",
        "9999904",
        "",
        "",
        address_raw=address_half,
    )
    write("half_width_in_double_byte", join([header(), A1, bad_name, bad_address, A4, TRAILER, end()]))

    # control totals: 4 records, 連番 1+2+3+4 = 10
    write("trailer_count_mismatch", join([header(), *CLEAN, trailer(5, 10), end()]))
    write("trailer_serial_total_mismatch", join([header(), *CLEAN, trailer(4, 11), end()]))
    # record 2 sent twice, record 3 lost: the count still says 4, the 連番 total does not
    write("record_sent_twice", join([header(), A1, A2, A2, A4, TRAILER, end()]))


if __name__ == "__main__":
    build()
