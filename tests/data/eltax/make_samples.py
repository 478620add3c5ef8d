"""Assembles the hand-written samples of the eltax channel's default layout
(formats/layouts/eltax.toml, eLTAX 共通納税 納付情報 with eL番号 and eL-QR, 400-byte records);
no project code.

Every record is a literal concatenation of byte strings following the positions in the
layout file's comments (1-based). Nothing here imports formats/ or gateway/. The eL-QR
strings are assembled from ../../../../shared/reference/payment-channels.md §4 (TLV: tag 2,
length 2, value) with their two pairs of OCR check digits (§3) and their CRC-16/CCITT-FALSE
(poly 0x1021, init 0xFFFF, over the text up to and including "6305", written as 5 decimal
digits; the standard library's binascii.crc_hqx started from 0xFFFF is exactly that CRC),
each asserted against a value worked out by hand or the CRC's published check value. The
expected results (<case>.dat.json) are written by hand beside each .dat.

Run from anywhere:  python tests/data/eltax/make_samples.py
Invented data: 共通納税機関コード 19999, 案件特定キー 00000000202400012345 …, 受付番号 2024060300000000000x.
"""

from __future__ import annotations

import binascii
import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, ZENKAKU_SPACE, join, record, writer
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k

HERE = Path(__file__).resolve().parent
COMMON_CODE = "19999"

rec = partial(record, length=400)
write = writer(HERE)


def ocr_check_digits(body: str) -> str:
    """CD1 CD2 over a body d[0..n-1] (payment-channels.md §3):
    CD2 = (Σ even i d[i]·w2 + Σ odd i d[i]) mod 10, w2 = 9, 8 … 2, 9 … advancing on even i only;
    CD1 = (Σ even i d[i] + Σ odd i d[i]·w1 + 2·CD2) mod 11 (10 → 0), w1 = 3 … 9, 2, 3 … advancing on odd i only."""
    w2 = [9, 8, 7, 6, 5, 4, 3, 2]
    w1 = [3, 4, 5, 6, 7, 8, 9, 2]
    digits = [int(d) for d in body]
    cd2 = (sum(d * w2[j % 8] for j, d in enumerate(digits[0::2])) + sum(digits[1::2])) % 10
    cd1 = (sum(digits[0::2]) + sum(d * w1[j % 8] for j, d in enumerate(digits[1::2])) + 2 * cd2) % 11 % 10
    return f"{cd1}{cd2}"


def crc16(text: str) -> int:
    """CRC-16/CCITT-FALSE of the ASCII text."""
    return binascii.crc_hqx(text.encode("ascii"), 0xFFFF)


# Worked by hand: body 1234 → CD2 = (1·9 + 3·8) + (2 + 4) = 39 → 9;
# CD1 = (1 + 3) + (2·3 + 4·4) + 2·9 = 44 → 44 mod 11 = 0.
assert ocr_check_digits("1234") == "09"
# The published check value of CRC-16/CCITT-FALSE: "123456789" → 0x29B1.
assert crc16("123456789") == 0x29B1


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def elqr(
    *,
    amount: int,
    tax_item_code: str,
    case_key: str,
    confirmation: str,
    levy_year: int,
    tax_year: int,
    period: str,
    due: str,
    deadline: str,
    agency: str = "13800",
    break_lower_cd1: bool = False,
    break_crc: bool = False,
) -> str:
    """A 255-character eL-QR: 00 "01", 01 "12", 27 {00 agency, 01 MPN upper (39) + lower (44)},
    54 amount, 62 賦課年度 課税年度 期別 納期限 支払期限, 80 zeros, 63 CRC."""
    upper = "0" * 11 + f"{amount:011d}" + "2" + "13800" + "0" + tax_item_code + "00000"  # 口座番号 … 拡張
    lower = case_key + confirmation + "0" + COMMON_CODE + "000" + "0000000"  # 案件特定キー … 拡張
    assert (len(upper), len(lower)) == (37, 42)
    lower_cds = ocr_check_digits(lower)
    if break_lower_cd1:
        lower_cds = str((int(lower_cds[0]) + 1) % 10) + lower_cds[1]
    mpn = ocr_check_digits(upper) + upper + lower_cds + lower
    text = (
        tlv("00", "01")
        + tlv("01", "12")
        + tlv("27", tlv("00", agency) + tlv("01", mpn))
        + tlv("54", f"{amount:011d}")
        + tlv("62", f"{levy_year:04d}{tax_year:04d}{period}{due}{deadline}")
        + tlv("80", "0" * 85)
        + "6305"
    )
    crc = crc16(text)
    if break_crc:
        crc = (crc + 1) % 65536
    value = text + f"{crc:05d}"
    assert len(value) == 255, len(value)
    return value


def header() -> bytes:
    return rec(
        b"1",  # 1       データ区分
        b"ELTAX",  # 2–6     データ種別
        b"20240605",  # 7–14    作成日
        b"149999",  # 15–20   団体コード
        k("テスト市", 40, ZENKAKU_SPACE),  # 21–60   団体名 (全角, 全角空白埋め)
        COMMON_CODE.encode(),  # 61–65   共通納税機関コード
        SP * 335,  # 66–400  予備
    )


def data(
    method: bytes,
    receipt: str,
    case_key: str,
    confirmation: str,
    tax_item_code: str,
    amount: int,
    paid_on: bytes,
    revenue: bytes,
    levy_year: int,
    tax_year: int,
    period: str,
    due: str,
    qr: str | None,
) -> bytes:
    return rec(
        b"2",  # 1       データ区分
        method,  # 2       納付方法
        receipt.encode(),  # 3–22    受付番号
        COMMON_CODE.encode(),  # 23–27   共通納税機関コード
        case_key.encode(),  # 28–47   案件特定キー
        confirmation.encode(),  # 48–53   確認番号
        tax_item_code.encode(),  # 54–56   税目・料金番号
        b"000",  # 57–59   税務事務所コード
        n(amount, 11),  # 60–70   納付金額
        paid_on,  # 71–78   納付日
        revenue,  # 79–86   払込予定日
        n(levy_year, 4),  # 87–90   賦課年度
        n(tax_year, 4),  # 91–94   課税年度
        period.encode(),  # 95–96   期別コード
        due.encode(),  # 97–104  納期限
        qr.encode() if qr else SP * 255,  # 105–359 eL-QR (blank: not paid with it)
        SP * 41,  # 360–400 予備
    )


def trailer(count: int, amount: int) -> bytes:
    return rec(b"8", n(count, 7), n(amount, 15), SP * 377)


def end() -> bytes:
    return rec(b"9", SP * 399)


KEY_1, KEY_2, KEY_3 = "00000000202400012345", "00000000202400067890", "00000000202300011111"
QR_1: dict[str, Any] = dict(
    amount=36000,
    tax_item_code="010",
    case_key=KEY_1,
    confirmation="482913",
    levy_year=2024,
    tax_year=2024,
    period="01",
    due="20240701",
    deadline="20240701",
)
QR_3: dict[str, Any] = dict(
    amount=10800,
    tax_item_code="030",
    case_key=KEY_3,
    confirmation="730046",
    levy_year=2023,
    tax_year=2023,
    period="04",
    due="20240131",
    deadline="20240630",
)


def record_1(qr: str | None = None) -> bytes:
    """Paid at a bank counter with the eL-QR."""
    return data(
        b"5",
        "20240603000000000001",
        KEY_1,
        "482913",
        "010",
        36000,
        b"20240603",
        b"20240610",
        2024,
        2024,
        "01",
        "20240701",
        qr or elqr(**QR_1),
    )


def record_2() -> bytes:
    """ダイレクト納付: no eL-QR."""
    return data(
        b"1",
        "20240603000000000002",
        KEY_2,
        "105277",
        "020",
        52000,
        b"20240603",
        b"20240610",
        2024,
        2024,
        "02",
        "20240731",
        None,
    )


def record_3(qr: str | None = None) -> bytes:
    """Paid in an app with the eL-QR, after its 納期限; 払込予定日 not known yet (zeros)."""
    return data(
        b"4",
        "20240604000000000003",
        KEY_3,
        "730046",
        "030",
        10800,
        b"20240604",
        b"00000000",
        2023,
        2023,
        "04",
        "20240131",
        qr or elqr(**QR_3),
    )


def clean_records() -> list[bytes]:
    return [header(), record_1(), record_2(), record_3(), trailer(3, 36000 + 52000 + 10800), end()]


def main() -> None:
    write("clean_crlf", join(clean_records()))

    # record 2's eL-QR with its CRC one more than right
    records = clean_records()
    records[1] = record_1(elqr(**QR_1, break_crc=True))
    write("bad_elqr_crc", join(records))

    # record 4's eL-QR with the lower MPN part's CD1 changed (the CRC computed over the changed text)
    records = clean_records()
    records[3] = record_3(elqr(**QR_3, break_lower_cd1=True))
    write("elqr_bad_check_digit", join(records))

    # record 2's eL-QR with tag 27/00 13801 instead of 13800 (地方税共同機構), its CRC right
    records = clean_records()
    records[1] = record_1(elqr(**QR_1, agency="13801"))
    write("elqr_wrong_agency", join(records))

    # a record whose データ区分 is 3 after record 2
    records = clean_records()
    records.insert(2, rec(b"3", SP * 399))
    write("unknown_record_kind", join(records))

    # the trailer's 合計件数 4 for 3 data records
    records = clean_records()
    records[4] = trailer(4, 98800)
    write("trailer_count_mismatch", join(records))


if __name__ == "__main__":
    main()
