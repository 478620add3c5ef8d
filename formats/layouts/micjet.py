"""MICJET 番号連携サーバ — number linkage and 公金受取口座 results, the gateway's default layouts.

The number linkage server takes the address changes, decides who is the same person
by the 個人番号, numbers each person with a 団体内統合宛名番号, and answers inquiries
through the 中間サーバー made with each business's own 宛名番号 (seed, Ⅰ-2 システム3).
Two files come from it to the collection system, both Zengin-style fixed-width cp932
(header ``1``, data ``2``, trailer ``8``, end ``9``) with a layout id in the header
right after the record type (``identify``):

``micjet-linkage`` (``GWMJ01``, 80 bytes) — 団体内統合宛名番号 ↔ 住民コード ↔ 個人番号,
one record per linkage change (処理区分 新規 / 変更 / 削除). This is the only layout of
the gateway that carries a 個人番号:

- the field is 12 digits, ``personal="mynumber"`` (never shown, not even in part);
- the :class:`MyNumberCheckDigit` rule rejects a number whose check digit is wrong
  (``FIELD_CHECK_DIGIT``, an error: the record is rejected, never a warning), by the
  public rule of 番号法施行令 (formats.checkdigits); blank means no number is held
  (a 住登外者 who has not given one);
- the header names the business the linkage is for (``legal_basis``, the item of
  番号法 別表第一). Only the items the collection section's assessment cites are
  codes (16の項 地方税, 101の項): a file linked for any other business is refused
  whole (``FIELD_CODE`` in the header), as the assessment requires that linkage by
  number be impossible for work outside 別表第一 (seed, Ⅲ-3 リスク1).

``public-fund-account`` (``GWPA01``, 120 bytes) — the 公金受取口座 the inquiry found
(口座登録・連携ファイル関係情報, seed Ⅰ-1 ⑩), used for refunds (還付). One record per
person with a registered account; a person without one gets no record. The inquiry is
made and answered by 宛名番号, so records carry 団体内統合宛名番号 and 住民コード and no
個人番号 (data minimisation). 口座番号 is ``personal="account"``, 名義人カナ is
Zengin name text (the refund goes out as a 総合振込) and ``personal="name"``. Unknown
bank and branch codes are warnings, as in the Zengin formats.

Neither file carries an amount: the trailer's control total is a hash total, the sum
of the data records' 連番 (1 … n in a complete file), beside the 件数.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import construct
import numpy as np

from formats.checkdigits import is_valid_my_number, my_number_check_digits
from formats.errors import Reason
from formats.fields import Code, Constant, Date, Digits, Filler, Numeric, Text
from formats.layout import ControlTotals, FieldIssue, FileLayout, RecordLayout, RecordRule, end_record
from formats.layouts.zengin.common import KnownBank

__all__ = [
    "hash_total_trailer",
    "ACCOUNT_DATA",
    "ACCOUNT_END",
    "ACCOUNT_HEADER",
    "ACCOUNT_LAYOUT_ID",
    "ACCOUNT_RECORD_LENGTH",
    "ACCOUNT_TRAILER",
    "ACCOUNT_TYPES",
    "LEGAL_BASES",
    "LINKAGE_DATA",
    "LINKAGE_END",
    "LINKAGE_HEADER",
    "LINKAGE_LAYOUT_ID",
    "LINKAGE_RECORD_LENGTH",
    "LINKAGE_TRAILER",
    "MICJET_LINKAGE",
    "MyNumberCheckDigit",
    "PROCESS_KINDS",
    "PUBLIC_FUND_ACCOUNT",
]

LINKAGE_RECORD_LENGTH = 80
LINKAGE_LAYOUT_ID = b"GWMJ01"
ACCOUNT_RECORD_LENGTH = 120
ACCOUNT_LAYOUT_ID = b"GWPA01"

#: 利用事務: the item of 番号法 別表第一 the linkage is made for (seed, Ⅰ-4 法令上の根拠).
LEGAL_BASES = {
    "016": "番号法 別表第一 16の項 (地方税の賦課徴収)",
    "101": "番号法 別表第一 101の項 (評価書 Ⅰ-4 に記載の根拠)",
}
#: 処理区分.
PROCESS_KINDS = {"1": "新規", "2": "変更", "3": "削除"}
#: 預金種別 of a 公金受取口座.
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "4": "貯蓄"}


class MyNumberCheckDigit(RecordRule):
    """Reject (an error, not a warning) an individual number whose check digit is wrong.

    The field is a 12-digit :class:`~formats.fields.Digits`; blank (``None``) is not
    checked. The rule runs only when every field of the record parsed, so a number
    with a non-digit is a ``FIELD_NOT_NUMERIC`` error of the field instead.
    """

    EXPECTED = "12 digits whose last is the check digit of the first 11 (番号法施行令)"

    def __init__(self, field: str = "my_number") -> None:
        self.field = field

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        value = values.get(self.field)
        if value is None or is_valid_my_number(value):
            return
        spec = layout.by_name[self.field]
        yield FieldIssue(
            spec,
            Reason.FIELD_CHECK_DIGIT,
            self.EXPECTED,
            raw[spec.offset : spec.offset + spec.width],
            position=spec.width - 1,
        )

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], np.ndarray]) -> np.ndarray:
        cols = columns(self.field)
        digits = cols.astype(np.int64) - 0x30
        ok: np.ndarray = (my_number_check_digits(digits[:, :11]) == digits[:, 11]) | (cols == 0x20).all(axis=1)
        return ok


def hash_total_trailer(length: int) -> RecordLayout:
    """The trailer of a file without money: 件数 and 連番合計 (the sum of the records' 連番,
    1 … n in a complete file), so one record sent twice and another lost still shows."""
    return RecordLayout(
        "trailer",
        "トレーラ・レコード",
        construct.Struct(
            "record_type" / Constant(b"8") * "データ区分",  # 1
            "record_count" / Numeric(8) * "件数",  # 2–9
            "serial_total" / Numeric(14) * "連番合計",  # 10–23
            "filler" / Filler(length - 23) * "予備",  # 24–
        ),
        length=length,
    )


# ---------------------------------------------------------------- micjet-linkage (団体内統合宛名番号)

LINKAGE_HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "layout_id" / Constant(LINKAGE_LAYOUT_ID) * "レイアウト識別",  # 2–7
        "created_on" / Date("YYYYMMDD") * "作成日",  # 8–15
        "municipality_code" / Digits(6) * "利用団体コード",  # 16–21
        "legal_basis" / Code(3, LEGAL_BASES) * "利用事務",  # 22–24
        "filler" / Filler(56) * "予備",  # 25–80
    ),
    length=LINKAGE_RECORD_LENGTH,
)

LINKAGE_DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",  # 1
        "serial" / Numeric(7) * "連番",  # 2–8
        "process_kind" / Code(1, PROCESS_KINDS) * "処理区分",  # 9
        "integrated_address_number" / Digits(15, personal="account") * "団体内統合宛名番号",  # 10–24
        "resident_code" / Digits(15, personal="account") * "住民コード",  # 25–39
        "my_number" / Digits(12, optional=True, personal="mynumber") * "個人番号",  # 40–51
        "change_date" / Date("YYYYMMDD") * "異動日",  # 52–59
        "filler" / Filler(21) * "予備",  # 60–80
    ),
    length=LINKAGE_RECORD_LENGTH,
    rules=(MyNumberCheckDigit("my_number"),),
)

LINKAGE_TRAILER = hash_total_trailer(LINKAGE_RECORD_LENGTH)

LINKAGE_END = end_record(LINKAGE_RECORD_LENGTH)

MICJET_LINKAGE = FileLayout(
    id="micjet-linkage",
    title="番号連携データ (MICJET 番号連携サーバ → 収納管理システム)",
    records={
        b"1": ("header", LINKAGE_HEADER),
        b"2": ("data", LINKAGE_DATA),
        b"8": ("trailer", LINKAGE_TRAILER),
        b"9": ("end", LINKAGE_END),
    },
    totals=ControlTotals(count_field="record_count", amount_field="serial_total", data_amount_field="serial"),
    record_length=LINKAGE_RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + LINKAGE_LAYOUT_ID,
    description=(
        "団体内統合宛名番号 ↔ 住民コード ↔ 個人番号 (the only layout with a 個人番号: never shown, "
        "check digit verified, an error when wrong); the header names the 別表第一 business; "
        "the trailer's control total is the sum of 連番."
    ),
)

# ---------------------------------------------------------------- public-fund-account (公金受取口座)

ACCOUNT_HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "layout_id" / Constant(ACCOUNT_LAYOUT_ID) * "レイアウト識別",  # 2–7
        "created_on" / Date("YYYYMMDD") * "作成日",  # 8–15
        "municipality_code" / Digits(6) * "利用団体コード",  # 16–21
        "inquiry_date" / Date("YYYYMMDD") * "照会日",  # 22–29
        "filler" / Filler(91) * "予備",  # 30–120
    ),
    length=ACCOUNT_RECORD_LENGTH,
)

ACCOUNT_DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",  # 1
        "serial" / Numeric(7) * "連番",  # 2–8
        "integrated_address_number" / Digits(15, personal="account") * "団体内統合宛名番号",  # 9–23
        "resident_code" / Digits(15, personal="account") * "住民コード",  # 24–38
        "bank_code" / Digits(4) * "金融機関コード",  # 39–42
        "branch_code" / Digits(3) * "支店コード",  # 43–45
        "account_type" / Code(1, ACCOUNT_TYPES) * "預金種別",  # 46
        "account_number" / Digits(7, personal="account") * "口座番号",  # 47–53
        "account_holder" / Text(30, "zengin-name", required=True, personal="name") * "名義人カナ",  # 54–83
        "filler" / Filler(37) * "予備",  # 84–120
    ),
    length=ACCOUNT_RECORD_LENGTH,
    rules=(KnownBank(),),
)

ACCOUNT_TRAILER = hash_total_trailer(ACCOUNT_RECORD_LENGTH)

ACCOUNT_END = end_record(ACCOUNT_RECORD_LENGTH)

PUBLIC_FUND_ACCOUNT = FileLayout(
    id="public-fund-account",
    title="公金受取口座照会結果 (MICJET 番号連携サーバ → 収納管理システム)",
    records={
        b"1": ("header", ACCOUNT_HEADER),
        b"2": ("data", ACCOUNT_DATA),
        b"8": ("trailer", ACCOUNT_TRAILER),
        b"9": ("end", ACCOUNT_END),
    },
    totals=ControlTotals(count_field="record_count", amount_field="serial_total", data_amount_field="serial"),
    record_length=ACCOUNT_RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + ACCOUNT_LAYOUT_ID,
    description=(
        "Registered 公金受取口座 found by the inquiry, for refunds: one record per person with an account, "
        "linked by 団体内統合宛名番号 and 住民コード (no 個人番号); the trailer's control total is the sum of 連番."
    ),
)
