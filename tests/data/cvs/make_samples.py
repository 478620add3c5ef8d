"""Assembles the hand-written samples of the cvs channel's default layout
(formats/layouts/cvs.toml, コンビニ収納 速報・確報・速報取消, 120-byte records); no project code.

Every record is a literal concatenation of byte strings following the positions in the
layout file's comments (1-based). Nothing here imports formats/ or gateway/. The barcode
check digit is computed by the small function below, written from
../../../../shared/reference/payment-channels.md §1 (modulus 10, weights 3/1 from the right,
over the 43 digits before it, the AI "91" included), and asserted against a digit worked out
by hand. The expected results (<case>.dat.json) are written by hand beside each .dat.

Run from anywhere:  python tests/data/cvs/make_samples.py
Invented data: 利用企業コード 23456 (not the 12345 of config/layouts/cvs-agent-example.toml,
whose identify must not claim these files), 企業コード 54321, 納付番号 2024020000000001 ….
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

USER_COMPANY = "23456"
A, B, C = "2024020000000001", "2024020000000002", "2024020000000003"


def mod10_w31(body: str) -> str:
    """Modulus 10, weights 3/1: the rightmost digit weighs 3, then 1, 3, 1 … leftwards."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def barcode(reference: str, amount: int, deadline: str = "240630", ai: str = "91") -> bytes:
    """AI + 国コード 9 + 企業コード 54321 + 利用企業コード + 納付番号 (16) + 再発行区分 0
    + 支払期限 YYMMDD + 印紙フラグ 0 + 支払金額 (6) + check digit."""
    body = ai + "9" + "54321" + USER_COMPANY + reference + "0" + deadline + "0" + f"{amount:06d}"
    assert len(body) == 43, body
    return (body + mod10_w31(body)).encode("ascii")


# Worked by hand for payment A (12,300 yen): the digits at odd places from the right (weight 3)
# are 0,3,1,0,3,0,2,1,0,0,0,0,2,4,0,6,4,2,2,4,9,9 (sum 52), the others (weight 1)
# 0,2,0,0,6,4,0,0,0,0,0,0,0,2,2,5,3,1,3,5,1 (sum 34): 3·52 + 34 = 190, so the check digit is 0.
assert mod10_w31("9195432123456" + A + "0" + "240630" + "0" + "012300") == "0"


def header() -> bytes:
    return rec(
        n(1, 6),  # 1–6     蓄積連番
        b"1",  # 7       レコード区分
        b"20240603",  # 8–15    データ作成日
        USER_COMPANY.encode(),  # 16–20   利用企業コード
        k("テスト市", 40, ZENKAKU_SPACE),  # 21–60   利用企業名 (全角, 全角空白埋め)
        b"54321",  # 61–65   収納代行会社コード
        k("TEST AGENT", 20),  # 66–85   収納代行会社名
        SP * 35,  # 86–120  予備
    )


def data(
    serial: int,
    kind: bytes,
    reference: str,
    amount: int,
    store: bytes,
    name: str,
    *,
    settlement: bytes = b"240607",
    code: bytes | None = None,
    paid_time: bytes = b"1432",
) -> bytes:
    return rec(
        n(serial, 6),  # 1–6     蓄積連番
        b"2",  # 7       レコード区分
        b"240603",  # 8–13    データ作成日 YYMMDD
        b"0101",  # 14–17   小売業企業コード
        b"0007",  # 18–21   ＣＮＳ申請コード
        USER_COMPANY.encode(),  # 22–26   利用企業コード
        b"02",  # 27–28   税目コード (固定資産税・都市計画税)
        b"1",  # 29      収納受付区分 (店頭)
        kind,  # 30–31   データ種
        SP * 2,  # 32–33   予備
        SP,  # 34      データ識別 (blank)
        b"20240601",  # 35–42   収納日付
        paid_time,  # 43–46   収納時分
        code or barcode(reference, amount),  # 47–90   バーコード
        n(amount, 6),  # 91–96   収納金額
        store,  # 97–103  収納店舗コード
        settlement,  # 104–109 支払い予定日
        k(name, 11),  # 110–120 収納店舗名
    )


def trailer(serial: int, count: int, amount: int) -> bytes:
    return rec(n(serial, 6), b"8", n(count, 7), n(amount, 12), SP * 94)


def end(serial: int) -> bytes:
    return rec(n(serial, 6), b"9", SP * 113)


STORE_1, NAME_1 = b"0012345", "ﾃｽﾄﾏｰﾄ ｴｷﾏｴ"
STORE_2, NAME_2 = b"0098765", "ｻﾝﾌﾟﾙ ﾎﾝﾃﾝ"


def clean_records() -> list[bytes]:
    """A 速報 then its 確報 (A), a 速報 and its 取消 (B), a 確報 with no 速報 (C)."""
    return [
        header(),
        data(2, b"01", A, 12300, STORE_1, NAME_1),
        data(3, b"02", A, 12300, STORE_1, NAME_1),
        data(4, b"01", B, 4500, STORE_2, NAME_2),
        data(5, b"03", B, 4500, STORE_2, NAME_2, settlement=b"000000"),
        data(6, b"02", C, 8000, STORE_1, NAME_1, paid_time=b"0915"),
        trailer(7, 5, 12300 + 12300 + 4500 + 4500 + 8000),
        end(8),
    ]


def main() -> None:
    write("clean_crlf", join(clean_records()))

    # A's 確報 (record 3) with the barcode's check digit 0 changed to 7
    records = clean_records()
    good = barcode(A, 12300)
    assert good.endswith(b"0")
    records[2] = data(3, b"02", A, 12300, STORE_1, NAME_1, code=good[:-1] + b"7")
    write("barcode_check_digit", join(records))

    # C's 確報 (record 6) with 支払期限 240230 (30 February): its check digit is right
    records = clean_records()
    records[5] = data(6, b"02", C, 8000, STORE_1, NAME_1, paid_time=b"0915", code=barcode(C, 8000, deadline="240230"))
    write("barcode_deadline_not_a_date", join(records))

    # A's 速報 (record 2) with the application identifier 92 instead of 91: its check digit is right
    records = clean_records()
    records[1] = data(2, b"01", A, 12300, STORE_1, NAME_1, code=barcode(A, 12300, ai="92"))
    write("barcode_wrong_ai", join(records))

    # B's 取消 (record 5) with データ種 04, a code the layout does not know
    records = clean_records()
    records[4] = data(5, b"04", B, 4500, STORE_2, NAME_2, settlement=b"000000")
    write("unknown_data_kind", join(records))

    # a record whose レコード区分 is 5 between records 3 and 4 (蓄積連番 then 000099)
    records = clean_records()
    records.insert(3, rec(n(99, 6), b"5", SP * 113))
    write("unknown_record_kind", join(records))

    # the trailer's 合計件数 6 for 5 data records
    records = clean_records()
    records[6] = trailer(7, 6, 41600)
    write("trailer_count_mismatch", join(records))

    # the trailer's 合計金額 41,601 for 41,600
    records = clean_records()
    records[6] = trailer(7, 5, 41601)
    write("trailer_amount_mismatch", join(records))


if __name__ == "__main__":
    main()
