"""全銀 種別コード 21 — 総合振込 (credit transfer), used for refunds (還付).
Positions follow ../shared/reference/zengin.md (1-based in comments)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import construct
import numpy as np

from formats.errors import Reason
from formats.fields import Code, Constant, Date, Digits, Filler, Numeric, Text
from formats.layout import ControlTotals, FieldIssue, FileLayout, RecordLayout, RecordRule
from formats.layouts.zengin.common import (
    ACCOUNT_TYPES_CONSIGNOR,
    CODE_DIVISION,
    END,
    NEW_CODES,
    RECORD_LENGTH,
    KnownBank,
    identify_zengin,
)

__all__ = ["ACCOUNT_TYPES", "TRANSFER_21", "HEADER", "DATA", "TRAILER"]

#: 預金種目 of the payee's account (4 = 貯蓄).
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "4": "貯蓄", "9": "その他"}
TRANSFER_KINDS = {"7": "テレ振込", "8": "文書振込"}
EDI_FLAGS = {"Y": "EDI情報あり"}

HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "type_code" / Constant(b"21") * "種別コード",  # 2–3
        "code_division" / Code(1, CODE_DIVISION) * "コード区分",  # 4
        "requester_code" / Digits(10) * "振込依頼人コード",  # 5–14
        "requester_name" / Text(40, "zengin-name-wo", required=True) * "振込依頼人名",  # 15–54
        "transfer_date" / Date("MMDD") * "振込指定日",  # 55–58
        "bank_code" / Digits(4) * "仕向銀行番号",  # 59–62
        "bank_name" / Text(15, "zengin-bank-name") * "仕向銀行名",  # 63–77
        "branch_code" / Digits(3) * "仕向支店番号",  # 78–80
        "branch_name" / Text(15, "zengin-bank-name") * "仕向支店名",  # 81–95
        "account_type" / Code(1, ACCOUNT_TYPES_CONSIGNOR, optional=True) * "預金種目(依頼人)",  # 96
        "account_number" / Digits(7, optional=True, personal="account") * "口座番号(依頼人)",  # 97–103
        "filler" / Filler(17) * "ダミー",  # 104–120
    ),
    length=RECORD_LENGTH,
)


class CustomerCodes(RecordRule):
    """顧客コード1・2 are two N10 codes unless 識別表示 is "Y" (then 20 bytes of EDI情報)."""

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        if values.get("edi_flag") == "Y":
            return
        spec = layout.by_name["customer_codes"]
        chunk = raw[spec.offset : spec.offset + spec.width]
        for start in (0, 10):
            half = chunk[start : start + 10]
            if half.isdigit() or half == b" " * 10:
                continue
            position = start + next(i for i, b in enumerate(half) if not 0x30 <= b <= 0x39)
            yield FieldIssue(
                spec,
                Reason.FIELD_NOT_NUMERIC,
                "顧客コード1・2: two 10-digit codes, each all digits or all spaces, unless 識別表示 is Y",
                chunk,
                position,
            )
            return

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], np.ndarray]) -> np.ndarray:
        codes = columns("customer_codes")
        edi = columns("edi_flag")[:, 0] == ord("Y")
        ok: np.ndarray = edi.copy()
        halves = np.ones(len(codes), dtype=bool)
        for start in (0, 10):
            half = codes[:, start : start + 10]
            halves &= ((half >= 0x30) & (half <= 0x39)).all(axis=1) | (half == 0x20).all(axis=1)
        return ok | halves


DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",  # 1
        "bank_code" / Digits(4) * "被仕向銀行番号",  # 2–5
        "bank_name" / Text(15, "zengin-bank-name") * "被仕向銀行名",  # 6–20
        "branch_code" / Digits(3) * "被仕向支店番号",  # 21–23
        "branch_name" / Text(15, "zengin-bank-name") * "被仕向支店名",  # 24–38
        "clearing_house" / Digits(4, optional=True) * "手形交換所番号",  # 39–42
        "account_type" / Code(1, ACCOUNT_TYPES) * "預金種目",  # 43
        "account_number" / Digits(7, personal="account") * "口座番号",  # 44–50
        "payee_name" / Text(30, "zengin-name-wo", required=True, personal="name") * "受取人名",  # 51–80
        "amount" / Numeric(10) * "振込金額",  # 81–90
        "new_code" / Code(1, NEW_CODES) * "新規コード",  # 91
        "customer_codes" / Text(20, "sjis-single", personal="account") * "顧客コード1・2／EDI情報",  # 92–111
        "transfer_kind" / Code(1, TRANSFER_KINDS, optional=True) * "振込指定区分",  # 112
        "edi_flag" / Code(1, EDI_FLAGS, optional=True) * "識別表示",  # 113
        "filler" / Filler(7) * "ダミー",  # 114–120
    ),
    length=RECORD_LENGTH,
    rules=(KnownBank(), CustomerCodes()),
)

TRAILER = RecordLayout(
    "trailer",
    "トレーラ・レコード",
    construct.Struct(
        "record_type" / Constant(b"8") * "データ区分",  # 1
        "total_count" / Numeric(6) * "合計件数",  # 2–7
        "total_amount" / Numeric(12) * "合計金額",  # 8–19
        "filler" / Filler(101) * "ダミー",  # 20–120
    ),
    length=RECORD_LENGTH,
)

TRANSFER_21 = FileLayout(
    id="zengin-21",
    title="全銀 総合振込 (種別21)",
    records={b"1": ("header", HEADER), b"2": ("data", DATA), b"8": ("trailer", TRAILER), b"9": ("end", END)},
    totals=ControlTotals(),
    identify=identify_zengin(b"21"),
    description="Credit transfers to payees' accounts; the gateway builds them for refunds (還付).",
)
