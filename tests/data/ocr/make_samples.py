"""Assembles the hand-written samples of the ocr channel's default layout
(formats/layouts/ocr.toml, 済通データ from the designated bank, 120-byte records); no project code.

Every record is a literal concatenation of byte strings following the positions in the
layout file's comments (1-based). Nothing here imports formats/ or gateway/. The two check
digits are computed by the small functions below, written from
../../../../shared/reference/payment-channels.md §3 (the OCR line's CD1 CD2) and from the
layout file's comments (the 納付書番号's modulus 10 weights 3/1 over its first 15 digits),
each asserted against a value worked out by hand. The expected results (<case>.dat.json)
are written by hand beside each .dat.

Run from anywhere:  python tests/data/ocr/make_samples.py
Invented data: 納付書番号 2024010000123450 …; bank 0001 / branch 001 (in the zengin-code master,
so the known-bank rule stays quiet) and 9998 (not in it).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, ZENKAKU_SPACE, join, record, writer
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k

HERE = Path(__file__).resolve().parent

rec = partial(record, length=120)
write = writer(HERE)


def mod10_w31(body: str) -> str:
    """Modulus 10, weights 3/1: the rightmost digit weighs 3, then 1, 3, 1 … leftwards."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def ocr_check_digits(body: str) -> str:
    """CD1 CD2 of an OCR line's body d[0..n-1] (indexed from the left):
    CD2 = (Σ even i d[i]·w2 + Σ odd i d[i]) mod 10, w2 = 9, 8 … 2, 9 … advancing on even i only;
    CD1 = (Σ even i d[i] + Σ odd i d[i]·w1 + 2·CD2) mod 11 (10 → 0), w1 = 3 … 9, 2, 3 … advancing on odd i only."""
    w2 = [9, 8, 7, 6, 5, 4, 3, 2]
    w1 = [3, 4, 5, 6, 7, 8, 9, 2]
    digits = [int(d) for d in body]
    even = digits[0::2]
    odd = digits[1::2]
    cd2 = (sum(d * w2[j % 8] for j, d in enumerate(even)) + sum(odd)) % 10
    cd1 = (sum(even) + sum(d * w1[j % 8] for j, d in enumerate(odd)) + 2 * cd2) % 11 % 10
    return f"{cd1}{cd2}"


# Worked by hand: body 1234 → CD2 = (1·9 + 3·8) + (2 + 4) = 39 → 9;
# CD1 = (1 + 3) + (2·3 + 4·4) + 2·9 = 44 → 44 mod 11 = 0: the line is 09 1234.
assert ocr_check_digits("1234") == "09"
# Worked by hand: 納付書番号 body 202401000012345 → weight 3 (from the right) on 5,3,1,0,0,0,2,2
# (sum 13), weight 1 on 4,2,0,0,1,4,0 (sum 11): 3·13 + 11 = 50, so the check digit is 0.
assert mod10_w31("202401000012345") == "0"

NOTICE_1 = "202401000012345" + mod10_w31("202401000012345")  # 2024010000123450
NOTICE_2 = "202402000067890" + mod10_w31("202402000067890")
NOTICE_3 = "202303000011111" + mod10_w31("202303000011111")


def ocr_line(notice: str, tax_item: str, instalment: str, year: int, amount: int) -> bytes:
    """The slip's lower line: CD1 CD2 + 納付書番号 (16) + 科目 (2) + 期別 (2) + 年度 (4) + 金額 (10) + 予備 (8 zeros)."""
    body = notice + tax_item + instalment + f"{year:04d}" + f"{amount:010d}" + "0" * 8
    assert len(body) == 42, body
    return (ocr_check_digits(body) + body).encode("ascii")


def header() -> bytes:
    return rec(
        b"1",  # 1       データ区分
        b"OCR",  # 2–4     データ種別
        b"20240605",  # 5–12    作成日
        b"0001",  # 13–16   金融機関
        k("ﾐｽﾞﾎ", 15),  # 17–31   金融機関名
        b"149999",  # 32–37   団体コード
        k("テスト市", 20, ZENKAKU_SPACE),  # 38–57   団体名 (全角, 全角空白埋め)
        SP * 63,  # 58–120  予備
    )


def data(
    seq: int,
    notice: str,
    tax_item: str,
    instalment: str,
    year: int,
    amount: int,
    late_fee: bytes,
    paid_on: bytes,
    *,
    bank: bytes = b"0001",
    branch: bytes = b"001",
    line: bytes | None = None,
    notice_field: bytes | None = None,
) -> bytes:
    return rec(
        b"2",  # 1       データ区分
        b"00",  # 2–3     チェックＣＤ
        b"3001",  # 4–7     ＯＣＲＩＤ
        bank,  # 8–11    金融機関
        branch,  # 12–14   支店
        n(seq, 6),  # 15–20   入力ＳＥＱ
        notice_field or notice.encode(),  # 21–36   納付書番号
        tax_item.encode(),  # 37–38   科目コード
        instalment.encode(),  # 39–40   期別
        n(year, 4),  # 41–44   年度
        n(amount, 10),  # 45–54   領収額
        late_fee,  # 55–62   延滞金
        paid_on,  # 63–70   収納日
        line or ocr_line(notice, tax_item, instalment, year, amount),  # 71–114  OCR (下段)
        SP * 6,  # 115–120 予備
    )


def trailer(count: int, amount: int) -> bytes:
    return rec(b"8", n(count, 7), n(amount, 13), SP * 99)


def end() -> bytes:
    return rec(b"9", SP * 119)


def clean_records() -> list[bytes]:
    """Three notices: 市県民税 1期 (延滞金 0), 固定資産税 2期 with 延滞金 1,200, 国保税 3期 of 2023 (延滞金 blank)."""
    return [
        header(),
        data(1, NOTICE_1, "01", "01", 2024, 25000, n(0, 8), b"20240603"),
        data(2, NOTICE_2, "02", "02", 2024, 48000, n(1200, 8), b"20240603"),
        data(3, NOTICE_3, "04", "03", 2023, 9900, SP * 8, b"20240604"),
        trailer(3, 25000 + 48000 + 9900),
        end(),
    ]


def main() -> None:
    write("clean_crlf", join(clean_records()))

    # record 3's OCR line with its second check digit (CD2) changed
    records = clean_records()
    good = ocr_line(NOTICE_2, "02", "02", 2024, 48000)
    wrong = good[:1] + str((int(good[1:2]) + 1) % 10).encode() + good[2:]
    records[2] = data(2, NOTICE_2, "02", "02", 2024, 48000, n(1200, 8), b"20240603", line=wrong)
    write("bad_ocr_check_digit", join(records))

    # record 2's 納付書番号 with its check digit (16th digit, 0) changed to 9; the OCR line is right
    records = clean_records()
    assert NOTICE_1.endswith("0")
    records[1] = data(
        1, NOTICE_1, "01", "01", 2024, 25000, n(0, 8), b"20240603", notice_field=NOTICE_1[:15].encode() + b"9"
    )
    write("bad_notice_check_digit", join(records))

    # record 4 paid at bank 9998 (not in the zengin-code master): a warning, the record is kept
    records = clean_records()
    records[3] = data(3, NOTICE_3, "04", "03", 2023, 9900, SP * 8, b"20240604", bank=b"9998")
    write("unknown_bank", join(records))

    # a record whose データ区分 is 7 after record 3
    records = clean_records()
    records.insert(3, rec(b"7", SP * 119))
    write("unknown_record_kind", join(records))

    # the trailer's 領収額合計 82,000 for 82,900
    records = clean_records()
    records[4] = trailer(3, 82000)
    write("trailer_amount_mismatch", join(records))


if __name__ == "__main__":
    main()
