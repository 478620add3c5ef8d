"""全銀 種別コード 91 — 口座振替 (direct debit). Requests (依頼) and results (振替結果)
share one layout; positions follow ../shared/reference/zengin.md (1-based in comments)."""

from __future__ import annotations

import construct

from formats.errors import Reason
from formats.fields import Code, Constant, Date, Digits, Filler, Numeric, Text
from formats.layout import ControlTotals, FileLayout, RecordLayout, ResultSplit
from formats.layouts.zengin.common import (
    ACCOUNT_TYPES_CONSIGNOR,
    CODE_DIVISION,
    END,
    NEW_CODES,
    RECORD_LENGTH,
    RESULT_CODES,
    KnownBank,
    KnownCode,
    identify_zengin,
)

__all__ = ["ACCOUNT_TYPES", "DEBIT_91", "HEADER", "DATA", "TRAILER"]

#: 預金種目 of the payer's account.
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "3": "納税準備", "9": "その他"}

HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "type_code" / Constant(b"91") * "種別コード",  # 2–3
        "code_division" / Code(1, CODE_DIVISION) * "コード区分",  # 4
        "consignor_code" / Digits(10) * "委託者コード",  # 5–14
        "consignor_name" / Text(40, "zengin-name", required=True) * "委託者名",  # 15–54
        "debit_date" / Date("MMDD") * "引落日",  # 55–58
        "bank_code" / Digits(4) * "取引銀行番号",  # 59–62
        "bank_name" / Text(15, "zengin-bank-name") * "取引銀行名",  # 63–77
        "branch_code" / Digits(3) * "取引支店番号",  # 78–80
        "branch_name" / Text(15, "zengin-bank-name") * "取引支店名",  # 81–95
        "account_type" / Code(1, ACCOUNT_TYPES_CONSIGNOR, optional=True) * "預金種目(委託者)",  # 96
        "account_number" / Digits(7, optional=True, personal="account") * "口座番号(委託者)",  # 97–103
        "filler" / Filler(17) * "ダミー",  # 104–120
    ),
    length=RECORD_LENGTH,
)

DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",  # 1
        "bank_code" / Digits(4) * "引落銀行番号",  # 2–5
        "bank_name" / Text(15, "zengin-bank-name") * "引落銀行名",  # 6–20
        "branch_code" / Digits(3) * "引落支店番号",  # 21–23
        "branch_name" / Text(15, "zengin-bank-name") * "引落支店名",  # 24–38
        "filler_1" / Filler(4) * "ダミー",  # 39–42
        "account_type" / Code(1, ACCOUNT_TYPES) * "預金種目",  # 43
        "account_number" / Digits(7, personal="account") * "口座番号",  # 44–50
        "account_holder" / Text(30, "zengin-name", required=True, personal="name") * "預金者名",  # 51–80
        "amount" / Numeric(10) * "引落金額",  # 81–90
        "new_code" / Code(1, NEW_CODES) * "新規コード",  # 91
        "customer_number" / Digits(20, align="left", personal="account") * "顧客番号",  # 92–111
        "result_code" / Digits(1, optional=True) * "振替結果コード",  # 112
        "filler_2" / Filler(8) * "ダミー",  # 113–120
    ),
    length=RECORD_LENGTH,
    rules=(KnownBank(), KnownCode("result_code", RESULT_CODES, Reason.UNKNOWN_RESULT_CODE)),
)

TRAILER = RecordLayout(
    "trailer",
    "トレーラ・レコード",
    construct.Struct(
        "record_type" / Constant(b"8") * "データ区分",  # 1
        "total_count" / Numeric(6) * "合計件数",  # 2–7
        "total_amount" / Numeric(12) * "合計金額",  # 8–19
        "transferred_count" / Numeric(6) * "振替済件数",  # 20–25
        "transferred_amount" / Numeric(12) * "振替済金額",  # 26–37
        "failed_count" / Numeric(6) * "振替不能件数",  # 38–43
        "failed_amount" / Numeric(12) * "振替不能金額",  # 44–55
        "filler" / Filler(65) * "ダミー",  # 56–120
    ),
    length=RECORD_LENGTH,
)

DEBIT_91 = FileLayout(
    id="zengin-91",
    title="全銀 口座振替 (種別91) 依頼・結果",
    records={b"1": ("header", HEADER), b"2": ("data", DATA), b"8": ("trailer", TRAILER), b"9": ("end", END)},
    totals=ControlTotals(split=ResultSplit()),
    identify=identify_zengin(b"91"),
    description="Direct-debit requests to the bank and results back (振替結果コード at byte 112).",
)
