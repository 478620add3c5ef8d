"""Assembles the hand-written samples; no project code.

Every record below is a literal concatenation of byte strings taken from the
layouts in ../shared/reference/zengin.md (positions in the comments are 1-based,
as in the reference). Nothing here imports formats/ or gateway/: these files are
the ground truth the validator is tested against. The expected results
(<case>.dat.json) are written by hand beside each .dat, not by this script.

Run from anywhere:  python tests/data/make_samples.py
Names and numbers are invented (ﾃｽﾄ ﾀﾛｳ, ｻﾝﾌﾟﾙ ﾊﾅｺ …); bank 0001 / branch 001
exist in the zengin-code master, 9998 and 0001/999 do not.
"""

from __future__ import annotations

import random
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.support
from tests.support.fixedwidth import CRLF, LF, SP, join, record, writer
from tests.support.fixedwidth import exact as a
from tests.support.fixedwidth import num as n
from tests.support.fixedwidth import text as k

HERE = Path(__file__).resolve().parent
D91 = HERE / "zengin-91"
D21 = HERE / "zengin-21"

EOF_MARK = b"\x1a"

rec = partial(record, length=120)


# ---------------------------------------------------------------- 種別 91 (口座振替)


def h91(date: str = "0527", acct_type: str = "1", acct: str = "7654321") -> bytes:
    return rec(
        b"1",  # 1      データ区分
        b"91",  # 2-3    種別コード
        b"0",  # 4      コード区分 (JIS)
        a("1234567890", 10),  # 5-14   委託者コード
        k("ｻﾝﾌﾟﾙｼ ﾉｳｾﾞｲｶ", 40),  # 15-54  委託者名
        a(date, 4),  # 55-58  引落日 MMDD
        a("0001", 4),  # 59-62  取引銀行番号
        k("ﾐｽﾞﾎ", 15),  # 63-77  取引銀行名
        a("001", 3),  # 78-80  取引支店番号
        k("ﾄｳｷﾖｳ", 15),  # 81-95  取引支店名
        a(acct_type, 1),  # 96     預金種目(委託者)
        a(acct, 7),  # 97-103 口座番号(委託者)
        SP * 17,  # 104-120 ダミー
    )


def d91(
    acct: str,
    name: str,
    amount: int,
    cust: str,
    result: str = "0",
    *,
    acct_type: str = "1",
    new: str = "0",
    bank: str = "0001",
    bank_name: str = "ﾐｽﾞﾎ",
    branch: str = "001",
    branch_name: str = "ﾄｳｷﾖｳ",
    name_raw: bytes | None = None,
    amount_raw: bytes | None = None,
    cust_raw: bytes | None = None,
    filler2: bytes = SP * 8,
) -> bytes:
    return rec(
        b"2",  # 1      データ区分
        a(bank, 4),  # 2-5    引落銀行番号
        k(bank_name, 15),  # 6-20   引落銀行名
        a(branch, 3),  # 21-23  引落支店番号
        k(branch_name, 15),  # 24-38  引落支店名
        SP * 4,  # 39-42  ダミー
        a(acct_type, 1),  # 43     預金種目
        a(acct, 7),  # 44-50  口座番号
        name_raw if name_raw is not None else k(name, 30),  # 51-80 預金者名
        amount_raw if amount_raw is not None else n(amount, 10),  # 81-90 引落金額
        a(new, 1),  # 91     新規コード
        cust_raw if cust_raw is not None else a(cust, 20),  # 92-111 顧客番号
        a(result, 1),  # 112    振替結果コード
        filler2,  # 113-120 ダミー
    )


def t91(
    count: int, amount: int, done_count: int = 0, done_amount: int = 0, failed_count: int = 0, failed_amount: int = 0
) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 6),  # 2-7    合計件数
        n(amount, 12),  # 8-19   合計金額
        n(done_count, 6),  # 20-25  振替済件数
        n(done_amount, 12),  # 26-37  振替済金額
        n(failed_count, 6),  # 38-43  振替不能件数
        n(failed_amount, 12),  # 44-55  振替不能金額
        SP * 65,  # 56-120 ダミー
    )


def end() -> bytes:
    return rec(b"9", SP * 119)  # 1 データ区分, 2-120 ダミー


# ---------------------------------------------------------------- 種別 21 (総合振込)


def h21(date: str = "0610", acct_type: str = "1", acct: str = "7654321") -> bytes:
    return rec(
        b"1",  # 1      データ区分
        b"21",  # 2-3    種別コード
        b"0",  # 4      コード区分
        a("2345678901", 10),  # 5-14   振込依頼人コード
        k("ｻﾝﾌﾟﾙｼ ｶｲｹｲｶﾝﾘｼﾔ", 40),  # 15-54  振込依頼人名
        a(date, 4),  # 55-58  振込指定日 MMDD
        a("0001", 4),  # 59-62  仕向銀行番号
        k("ﾐｽﾞﾎ", 15),  # 63-77  仕向銀行名
        a("001", 3),  # 78-80  仕向支店番号
        k("ﾄｳｷﾖｳ", 15),  # 81-95  仕向支店名
        a(acct_type, 1),  # 96     預金種目(依頼人)
        a(acct, 7),  # 97-103 口座番号(依頼人)
        SP * 17,  # 104-120 ダミー
    )


def d21(
    acct: str,
    name: str,
    amount: int,
    codes: bytes,
    *,
    clearing: str = "    ",
    acct_type: str = "1",
    new: str = "0",
    kind: str = "7",
    edi: str = " ",
) -> bytes:
    return rec(
        b"2",  # 1      データ区分
        a("0001", 4),  # 2-5    被仕向銀行番号
        k("ﾐｽﾞﾎ", 15),  # 6-20   被仕向銀行名
        a("001", 3),  # 21-23  被仕向支店番号
        k("ﾄｳｷﾖｳ", 15),  # 24-38  被仕向支店名
        a(clearing, 4),  # 39-42  手形交換所番号
        a(acct_type, 1),  # 43     預金種目
        a(acct, 7),  # 44-50  口座番号
        k(name, 30),  # 51-80  受取人名
        n(amount, 10),  # 81-90  振込金額
        a(new, 1),  # 91     新規コード
        codes,  # 92-111 顧客コード1・2 / EDI情報 (20 bytes)
        a(kind, 1),  # 112    振込指定区分
        a(edi, 1),  # 113    識別表示
        SP * 7,  # 114-120 ダミー
    )


def t21(count: int, amount: int) -> bytes:
    return rec(
        b"8",  # 1      データ区分
        n(count, 6),  # 2-7    合計件数
        n(amount, 12),  # 8-19   合計金額
        SP * 101,  # 20-120 ダミー
    )


# ---------------------------------------------------------------- shared record sets

# A request (依頼): result codes "0", trailer 済/不能 zero. 3 records, 267300 yen.
REQ3 = [
    d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 5000, "00000000000000000001", new="1"),
    d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 12300, "00000000000000000002", acct_type="2"),
    d91("3456789", "ｶ)ﾃｽﾄｼﾖｳｼﾞ", 250000, "00000000000000000003", acct_type="3", new="2", bank_name="", branch_name=""),
]

# A result (振替結果): codes 0, 0, 1, 9; 4 records, 43500 yen; 済 2 / 15500, 不能 2 / 28000.
RES4 = [
    d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 12000, "00000000000000000011", "0"),
    d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 3500, "00000000000000000012", "0"),
    d91("3456789", "ﾚｲ ｼﾞﾛｳ", 8000, "00000000000000000013", "1", acct_type="2"),
    d91("4567890", "ｶ)ﾃｽﾄｼﾖｳｼﾞ", 20000, "00000000000000000014", "9", acct_type="9"),
]
RES4_TRAILER = t91(4, 43500, 2, 15500, 2, 28000)


def bad3(middle: bytes) -> list[bytes]:
    """A request of 3 data records (5000, <middle>, 7000) used by the bad-input cases."""
    return [
        d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 5000, "00000000000000000021"),
        middle,
        d91("3456789", "ﾚｲ ｼﾞﾛｳ", 7000, "00000000000000000023"),
    ]


MIDDLE = d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 6000, "00000000000000000022")  # amount 6000


def build_91() -> None:
    w = writer(D91)

    # 1. request, CRLF after every record
    w("request_single_crlf", join([h91(), *REQ3, t91(3, 267300), end()]))

    # 2-6. the same result file under every framing
    res = [h91(), *RES4, RES4_TRAILER, end()]
    w("result_single_crlf", join(res))
    w("result_no_separator", join(res, b""))
    w("result_crlf_between", join(res, after_last=False))
    w("result_lf", join(res, LF))
    w("result_eof_mark", join(res) + EOF_MARK)

    # 7. two groups then one end. Group 2's header leaves 預金種目/口座番号 blank; its
    #    codes are all 0 but its trailer reports 振替済 2, so it is a result too.
    w(
        "result_multi_group",
        join(
            [
                h91(),
                d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 12000, "00000000000000000031", "0"),
                d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 6000, "00000000000000000032", "2"),
                t91(2, 18000, 1, 12000, 1, 6000),
                h91(date="0627", acct_type=" ", acct="       "),
                d91("3456789", "ﾚｲ ｼﾞﾛｳ", 7000, "00000000000000000033", "0"),
                d91("5678901", "ﾃｽﾄ ｻﾌﾞﾛｳ", 9000, "00000000000000000034", "0"),
                t91(2, 16000, 2, 16000, 0, 0),
                end(),
            ]
        ),
    )

    # 8. 顧客番号 left-aligned, space-padded
    w(
        "customer_number_space_padded",
        join(
            [
                h91(),
                d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 3000, "12345" + " " * 15),
                d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 4000, "0000000042" + " " * 10),
                t91(2, 7000),
                end(),
            ]
        ),
    )

    # extra: a request whose 振替結果コード are spaces (accepted, read as null); 引落日 0229
    w(
        "request_result_code_space",
        join(
            [
                h91(date="0229"),
                d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 1000, "00000000000000000041", " "),
                d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 2000, "00000000000000000042", " "),
                t91(2, 3000),
                end(),
            ]
        ),
    )

    # 9. record 3 (2nd data record) is 119 bytes: its last ダミー byte is missing
    truncated = MIDDLE[:119]
    assert len(truncated) == 119
    w("truncated_record", join([h91(), *bad3(truncated), t91(3, 18000), end()]))

    # 10. record 3 is 121 bytes: one extra space after its ダミー
    extra = MIDDLE + SP
    assert len(extra) == 121
    w("extra_bytes", join([h91(), *bad3(extra), t91(3, 18000), end()]))

    # 11. CRLF file; record 3 ends with LF only
    recs = [h91(), *bad3(MIDDLE), t91(3, 18000), end()]
    seps = [CRLF, CRLF, LF, CRLF, CRLF, CRLF]
    w("mixed_lf_crlf", b"".join(r + s for r, s in zip(recs, seps)))

    # 12. 預金者名 in full-width (double-byte cp932) characters
    dbl = "テスト　ハナコ".encode("cp932")
    assert len(dbl) == 14 and dbl[0] == 0x83
    w(
        "double_byte_in_kana",
        join(
            [
                h91(),
                *bad3(d91("2345678", "", 6000, "00000000000000000022", name_raw=dbl.ljust(30, SP))),
                t91(3, 18000),
                end(),
            ]
        ),
    )

    # 13. 引落金額 with a letter
    w(
        "non_digit_amount",
        join(
            [
                h91(),
                *bad3(d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 0, "00000000000000000022", amount_raw=b"00001X0000")),
                t91(3, 22000),
                end(),
            ]
        ),
    )

    # 14. 預金者名 with a small kana ｯ (0xAF)
    small = k("ﾃｽﾄ ﾐｯｺ", 30)
    assert small[5] == 0xAF
    w(
        "small_kana",
        join([h91(), *bad3(d91("2345678", "", 6000, "00000000000000000022", name_raw=small)), t91(3, 18000), end()]),
    )

    # extra: ｦ (0xA6) in 預金者名: allowed in 21, not in 91
    wo = k("ﾃｽﾄ ｼｦﾘ", 30)
    assert wo[5] == 0xA6
    w(
        "wo_in_91",
        join([h91(), *bad3(d91("2345678", "", 6000, "00000000000000000022", name_raw=wo)), t91(3, 18000), end()]),
    )

    two = bad3(MIDDLE)[:2]  # 5000 + 6000
    # 15. header, data, end: no trailer
    w("missing_trailer", join([h91(), *two, end()]))
    # 16. header, data, trailer, then EOF: no end record
    w("missing_end", join([h91(), *two, t91(2, 11000)]))
    # 17. a data record before the first header
    w(
        "data_before_header",
        join([d91("9876543", "ｻﾝﾌﾟﾙ ｼﾞﾛｳ", 1000, "00000000000000000020"), h91(), *two, t91(2, 11000), end()]),
    )

    # 18-19. control totals: 3 records, 18000 yen
    w("trailer_count_mismatch", join([h91(), *bad3(MIDDLE), t91(4, 18000), end()]))
    w("trailer_amount_mismatch", join([h91(), *bad3(MIDDLE), t91(3, 19000), end()]))

    # 20. result whose trailer counts the 資金不足 (code 1) record as 振替済
    w("transferred_mismatch", join([h91(), *RES4, t91(4, 43500, 3, 23500, 1, 20000), end()]))

    # 21. a record of type "5" between data records
    w(
        "unknown_record_type",
        join([h91(), *bad3(MIDDLE)[:2], rec(b"5", SP * 119), bad3(MIDDLE)[2], t91(3, 18000), end()]),
    )

    # 22. result code 6 (unused): warning only, counted as 振替不能
    w(
        "unknown_result_code",
        join(
            [
                h91(),
                d91("1234567", "ﾃｽﾄ ﾀﾛｳ", 10000, "00000000000000000051", "0"),
                d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 4000, "00000000000000000052", "6"),
                d91("3456789", "ﾚｲ ｼﾞﾛｳ", 2500, "00000000000000000053", "0"),
                t91(3, 16500, 2, 12500, 1, 4000),
                end(),
            ]
        ),
    )

    # 23. 0 bytes
    w("empty", b"")

    # 24. 1000 random bytes from a fixed seed
    w("random_binary", random.Random(1234).randbytes(1000))

    # 25. an "X" in the second ダミー (113-120) of a data record
    w(
        "filler_not_spaces",
        join(
            [
                h91(),
                *bad3(d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 6000, "00000000000000000022", filler2=b"  X     ")),
                t91(3, 18000),
                end(),
            ]
        ),
    )

    # 26. 預金種目 "5"
    w(
        "bad_account_type",
        join(
            [
                h91(),
                *bad3(d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 6000, "00000000000000000022", acct_type="5")),
                t91(3, 18000),
                end(),
            ]
        ),
    )

    # 27. bank code 9998 (not in the master): warning only
    w(
        "unknown_bank_code",
        join(
            [
                h91(),
                *bad3(
                    d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 6000, "00000000000000000022", bank="9998", bank_name="", branch_name="")
                ),
                t91(3, 18000),
                end(),
            ]
        ),
    )

    # extra: bank 0001 with branch 999 (not in the master): warning only
    w(
        "unknown_branch_code",
        join(
            [
                h91(),
                *bad3(d91("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 6000, "00000000000000000022", branch="999", branch_name="")),
                t91(3, 18000),
                end(),
            ]
        ),
    )

    # extra: header 引落日 0230 (no such day): a field error in the header refuses the file
    w("header_bad_date", join([h91(date="0230"), *bad3(MIDDLE), t91(3, 18000), end()]))


def build_21() -> None:
    w = writer(D21)

    # 28. 3 transfers, 識別表示 space, 顧客コード1・2 digits
    w(
        "transfer_single_crlf",
        join(
            [
                h21(),
                d21("1234567", "ﾃｽﾄ ﾀﾛｳ", 1500, b"00000012340000005678"),
                d21("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 28000, b"00000012350000005679", clearing="0000", acct_type="4", new="1"),
                d21("3456789", "ｶ)ﾃｽﾄｼﾖｳｼﾞ", 100000, b"00000012360000005680", acct_type="2", kind="8"),
                t21(3, 129500),
                end(),
            ]
        ),
    )

    # 29. two groups, no separators; group 2: blank 顧客コード, blank 振込指定区分, blank header account
    w(
        "transfer_multi_group_no_separator",
        join(
            [
                h21(),
                d21("1234567", "ﾃｽﾄ ﾀﾛｳ", 2000, b"00000012340000005678"),
                d21("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 3000, b"00000012350000005679"),
                t21(2, 5000),
                h21(date="0710", acct_type=" ", acct="       "),
                d21("3456789", "ﾚｲ ｼﾞﾛｳ", 4500, SP * 20, kind=" "),
                t21(1, 4500),
                end(),
            ],
            b"",
        ),
    )

    # 30. 識別表示 Y: 92-111 hold EDI情報 text
    edi = k("ｶﾝﾌﾟｷﾝ NO.R06-0001", 20)
    w(
        "transfer_edi",
        join(
            [
                h21(),
                d21("1234567", "ﾃｽﾄ ﾀﾛｳ", 1500, b"00000012340000005678"),
                d21("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 2500, edi, edi="Y"),
                t21(2, 4000),
                end(),
            ]
        ),
    )

    # 31. trailer 合計金額 4500, records sum to 4000
    w(
        "transfer_amount_mismatch",
        join(
            [
                h21(),
                d21("1234567", "ﾃｽﾄ ﾀﾛｳ", 1500, b"00000012340000005678"),
                d21("2345678", "ｻﾝﾌﾟﾙ ﾊﾅｺ", 2500, b"00000012350000005679"),
                t21(2, 4500),
                end(),
            ]
        ),
    )

    # 32. ｦ in 受取人名: allowed in type 21
    w(
        "transfer_wo_allowed",
        join(
            [
                h21(),
                d21("1234567", "ﾃｽﾄ ｼｦﾘ", 3000, b"00000012340000005678"),
                t21(1, 3000),
                end(),
            ]
        ),
    )


if __name__ == "__main__":
    build_91()
    build_21()
