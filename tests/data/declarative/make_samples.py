"""Assembles the hand-written samples for the example layout config/layouts/cvs-agent-example.toml;
no project code.

Every record below is a literal concatenation of byte strings following the positions
in the layout file's comments (1-based). Nothing here imports formats/ or gateway/. The
barcode check digits are computed by the small function below, written from
../../../../shared/reference/payment-channels.md §1 (modulus 10, weights 3/1 from the
right, over the 43 digits before it including the AI "91"), and asserted against
digits worked out by hand.

Run from anywhere:  python tests/data/declarative/make_samples.py
The samples sit one folder deeper than tests/data/<format>/*.dat on purpose: they are
not golden files of a built-in format (tests/unit/test_golden.py walks only */*.dat).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for tests.support
from tests.support.fixedwidth import SP, ZENKAKU_SPACE, join, record, writer
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k

HERE = Path(__file__).resolve().parent / "cvs-agent-example"

rec = partial(record, length=120)
write = writer(HERE)


def mod10_w31(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def barcode(payment_number: str, amount: int, deadline: str = "240531") -> bytes:
    """AI 91 + 国コード 9 + 企業コード 54321 + 利用企業コード 12345 + 納付番号 (16)
    + 再発行区分 0 + 支払期限 + 印紙フラグ 0 + 支払金額 (6) + CD."""
    body = "91" + "9" + "54321" + "12345" + payment_number + "0" + deadline + "0" + f"{amount:06d}"
    assert len(body) == 43, body
    return (body + mod10_w31(body)).encode("ascii")


# worked by hand for the first barcode: the weighted sum of its 43 digits is 176, so the check digit is 4
assert mod10_w31("9195432112345" + "2024010000000001" + "0" + "240531" + "0" + "012300") == "4"


def header() -> bytes:
    return rec(
        n(1, 6),  # 1–6     蓄積連番
        b"1",  # 7       レコード区分
        b"20240603",  # 8–15    データ作成日
        b"12345",  # 16–20   利用企業コード
        k("テスト市", 40, ZENKAKU_SPACE),  # 21–60   利用企業名 (全角, 全角空白埋め)
        b"54321",  # 61–65   収納代行会社コード
        k("TEST AGENT ｼｭｳﾉｳ", 20),  # 66–85   収納代行会社名
        SP * 35,  # 86–120  予備
    )


def data(
    serial: int,
    kind: bytes,
    payment_number: str,
    amount: int,
    store: bytes,
    name: str,
    settlement: bytes = b"240607",
    code: bytes | None = None,
) -> bytes:
    return rec(
        n(serial, 6),  # 1–6     蓄積連番
        b"2",  # 7       レコード区分
        b"240603",  # 8–13    データ作成日 YYMMDD
        b"0101",  # 14–17   小売業企業コード
        b"0007",  # 18–21   ＣＮＳ申請コード
        b"12345",  # 22–26   利用企業コード
        b"02",  # 27–28   税目コード (固定資産税)
        b"1",  # 29      収納受付区分 (店頭)
        kind,  # 30–31   データ種
        SP * 2,  # 32–33   予備
        SP,  # 34      データ識別 (blank)
        b"20240601",  # 35–42   収納日付
        b"1432",  # 43–46   収納時分
        code or barcode(payment_number, amount),  # 47–90   バーコード
        n(amount, 6),  # 91–96   収納金額
        store,  # 97–103  収納店舗コード
        settlement,  # 104–109 支払い予定日
        k(name, 11),  # 110–120 収納店舗名
    )


def trailer(serial: int, count: int, amount: int) -> bytes:
    return rec(n(serial, 6), b"8", n(count, 7), n(amount, 12), SP * 94)


def end(serial: int) -> bytes:
    return rec(n(serial, 6), b"9", SP * 113)


def main() -> None:
    # 速報, then its 確報, then another 速報 and its cancellation; 支払い予定日 none (zeros) on the cancellation
    records = [
        header(),
        data(2, b"01", "2024010000000001", 12300, b"0012345", "ﾃｽﾄﾏｰﾄ ｴｷﾏｴ"),
        data(3, b"02", "2024010000000001", 12300, b"0012345", "ﾃｽﾄﾏｰﾄ ｴｷﾏｴ"),
        data(4, b"01", "2024010000000002", 4500, b"0098765", "ｻﾝﾌﾟﾙ ﾎﾝﾃﾝ"),
        data(5, b"03", "2024010000000002", 4500, b"0098765", "ｻﾝﾌﾟﾙ ﾎﾝﾃﾝ", settlement=b"000000"),
        trailer(6, 4, 12300 + 12300 + 4500 + 4500),
        end(7),
    ]
    write("ok_crlf", join(records))
    # the same file with the last barcode digit of record 3 changed (4 → 5)
    good = barcode("2024010000000001", 12300)
    assert good.endswith(b"4")
    records[2] = data(3, b"02", "2024010000000001", 12300, b"0012345", "ﾃｽﾄﾏｰﾄ ｴｷﾏｴ", code=good[:-1] + b"5")
    write("bad_check_digit", join(records))


if __name__ == "__main__":
    main()
