"""Assembles the hand-written samples of the mpn channel's default layout
(formats/layouts/mpn.toml, ペイジー 一括消込データ, 120-byte records); no project code.

Every record is a literal concatenation of byte strings following the positions in the
layout file's comments (1-based). Nothing here imports formats/ or gateway/. The expected
results (<case>.dat.json) are written by hand beside each .dat.

Run from anywhere:  python tests/data/mpn/make_samples.py
Invented data: 収納機関番号 58021, 納付番号 2024030000000000000x, 確認番号, 仕向センタコード 0101/0202.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, ZENKAKU_SPACE, join, record, text, writer
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k

HERE = Path(__file__).resolve().parent
INSTITUTION = b"58021"

rec = partial(record, length=120)
write = writer(HERE)
left = partial(text, encoding="ascii")  # digits left-aligned, space-padded (納付番号, 確認番号)


def header() -> bytes:
    return rec(
        b"1",  # 1       データ区分
        b"MPKS",  # 2–5     データ種別
        b"20240604",  # 6–13    作成日
        INSTITUTION,  # 14–18   収納機関番号
        k("テスト市", 30, ZENKAKU_SPACE),  # 19–48   収納機関名 (全角, 全角空白埋め)
        b"0001",  # 49–52   取りまとめ金融機関コード
        SP * 68,  # 53–120  予備
    )


def data(
    kind: bytes,
    payment_number: str,
    confirmation: str,
    division: bytes,
    amount: int,
    paid_on: bytes,
    paid_time: bytes,
    center: bytes,
    processing: bytes,
    sequence: bytes,
    channel: bytes,
    payer_bank: bytes,
    *,
    raw_payment_number: bytes | None = None,
) -> bytes:
    return rec(
        b"2",  # 1       データ区分
        kind,  # 2–3     消込区分
        INSTITUTION,  # 4–8     収納機関番号
        raw_payment_number or left(payment_number, 20),  # 9–28    納付番号
        left(confirmation, 6),  # 29–34   確認番号
        division,  # 35–37   納付区分
        n(amount, 10),  # 38–47   納付金額
        paid_on,  # 48–55   収納日
        paid_time,  # 56–59   収納時刻
        center,  # 60–63   仕向センタコード
        processing,  # 64–71   処理年月日
        sequence,  # 72–79   通番
        channel,  # 80      収納チャネル
        payer_bank,  # 81–84   収納金融機関コード
        SP * 36,  # 85–120  予備
    )


def trailer(count: int, amount: int) -> bytes:
    return rec(b"8", n(count, 7), n(amount, 13), SP * 99)


def end() -> bytes:
    return rec(b"9", SP * 119)


P1, P2, P3 = "20240300000000000001", "2024030000000002", "20240300000000000003"


def clean_records() -> list[bytes]:
    """Three 消込 (one 納付番号 of 16 digits, one without 確認番号), then the 取消 of the first."""
    return [
        header(),
        data(
            b"01", P1, "123456", b"001", 15000, b"20240603", b"1010", b"0101", b"20240603", b"00000001", b"1", b"0005"
        ),
        data(b"01", P2, "9876", b"002", 7200, b"20240603", b"2130", b"0101", b"20240604", b"00000002", b"2", b"0009"),
        data(b"01", P3, "", b"003", 30000, b"20240602", b"0800", b"0202", b"20240603", b"00000001", b"3", b"0010"),
        data(
            b"02", P1, "123456", b"001", 15000, b"20240603", b"1010", b"0101", b"20240603", b"00000001", b"1", b"0005"
        ),
        trailer(4, 15000 + 7200 + 30000 + 15000),
        end(),
    ]


def main() -> None:
    write("clean_crlf", join(clean_records()))
    write("clean_no_separator", join(clean_records(), b""))

    # record 3 (the second 消込) with 消込区分 03, a code the layout does not know
    records = clean_records()
    records[2] = b"2" + b"03" + records[2][3:]
    write("unknown_data_kind", join(records))

    # record 2's 納付番号 with a letter in its 5th byte
    records = clean_records()
    records[1] = data(
        b"01",
        P1,
        "123456",
        b"001",
        15000,
        b"20240603",
        b"1010",
        b"0101",
        b"20240603",
        b"00000001",
        b"1",
        b"0005",
        raw_payment_number=b"2024A300000000000001",
    )
    write("payment_number_not_digits", join(records))

    # a record whose データ区分 is 5 after record 2
    records = clean_records()
    records.insert(2, rec(b"5", SP * 119))
    write("unknown_record_kind", join(records))

    # the trailer's 合計件数 5 for 4 data records
    records = clean_records()
    records[5] = trailer(5, 67200)
    write("trailer_count_mismatch", join(records))

    # the trailer's 合計金額 67,300 for 67,200
    records = clean_records()
    records[5] = trailer(4, 67300)
    write("trailer_amount_mismatch", join(records))


if __name__ == "__main__":
    main()
