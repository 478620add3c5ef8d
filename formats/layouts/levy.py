"""調定データ — assessments (調定) from each levy system, the gateway's default layout.

Each levy system (市民税, 固定資産税, 軽自動車税, 国民健康保険税) sends the collection
system what it assessed: one data record per notice and instalment (期別), in 120-byte
cp932 records, Zengin-style (header ``1``, data ``2``, trailer ``8``, end ``9``) so the
same engine validates them. No public layout exists; the fields are those the city's
own assessment lists for its 収納情報ファイル (../shared/seed/, 別添1: 利用団体コード,
住民コード, 納付書番号, 会計年度, 賦課年度, 調定区分, 期別, 科目, 調定額, 納期限,
法定納期限, 納付方法, 異動事由, 異動日, 調定履歴SEQ), named after the canonical model
(gateway/model/records.py) where it has the item:

- ``notice_number`` 納付書番号 is the 通知書番号 of the national 期別 key;
- ``fiscal_year`` is the 賦課年度 (the canonical name), ``accounting_year`` the 会計年度;
- ``tax_item`` 科目 and ``instalment`` 期別 as in the canonical model.

``assessed_amount`` 調定額 is the instalment's amount *after* this change: a 更正
(増額 or 減額) carries the new amount, not the difference, so amounts are never
negative and the trailer's 調定額合計 is a plain sum. ``assessment_seq`` (調定履歴SEQ)
numbers the versions of one instalment's assessment, so a file sent twice is
recognisable record by record.

The file links people by 住民コード (the internal 宛名番号), never by 個人番号: the
levy systems and the collection system match on the internal number (seed, Ⅱ-3
⑤ 情報の突合). 住民コード is personal (masked like a customer number: last 3 digits).

The header carries the layout id ``GWLV01`` right after the record type, so a file
is recognised from its first record (``identify``).
"""

from __future__ import annotations

import construct

from formats.codelists import CODE_LISTS
from formats.fields import Code, Constant, Date, Digits, Filler, Numeric, Text
from formats.layout import ControlTotals, end_record, FileLayout, RecordLayout

__all__ = [
    "ASSESSMENT_KINDS",
    "DATA",
    "END",
    "HEADER",
    "LAYOUT_ID",
    "LEVY_ASSESSMENT",
    "LEVY_SYSTEMS",
    "PAYMENT_METHODS",
    "RECORD_LENGTH",
    "TAX_ITEMS",
    "TRAILER",
]

RECORD_LENGTH = 120
LAYOUT_ID = b"GWLV01"

#: 送信元の賦課システム.
LEVY_SYSTEMS = {
    "01": "市民税システム",
    "02": "固定資産税システム",
    "03": "軽自動車税システム",
    "04": "国民健康保険税システム",
}

#: 科目 (税目): the gateway's default codes, shared with the 収納情報 back to the levy departments
#: (formats/codelists.toml).
TAX_ITEMS = CODE_LISTS["tax-items"]

#: 調定区分.
ASSESSMENT_KINDS = {
    "1": "当初調定",
    "2": "随時調定",
    "3": "更正 (増額)",
    "4": "更正 (減額)",
    "5": "調定取消",
}

#: 納付方法.
PAYMENT_METHODS = {
    "1": "納付書",
    "2": "口座振替",
    "3": "特別徴収",
    "4": "年金特別徴収",
}

HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",                   # 1
        "layout_id" / Constant(LAYOUT_ID) * "レイアウト識別",             # 2–7
        "created_on" / Date("YYYYMMDD") * "作成日",                      # 8–15
        "municipality_code" / Digits(6) * "利用団体コード",               # 16–21
        "source_system" / Code(2, LEVY_SYSTEMS) * "送信元システム",       # 22–23
        "filler" / Filler(97) * "予備",                                  # 24–120
    ),
    length=RECORD_LENGTH,
)

DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",                                  # 1
        "municipality_code" / Digits(6) * "利用団体コード",                              # 2–7
        "resident_code" / Digits(15, personal="account") * "住民コード",                 # 8–22
        "notice_number" / Text(20, "ascii", required=True) * "納付書番号",               # 23–42
        "accounting_year" / Numeric(4) * "会計年度",                                    # 43–46
        "fiscal_year" / Numeric(4) * "賦課年度",                                        # 47–50
        "tax_item" / Code(2, TAX_ITEMS) * "科目",                                       # 51–52
        "assessment_kind" / Code(1, ASSESSMENT_KINDS) * "調定区分",                      # 53
        "instalment" / Digits(2) * "期別",                                              # 54–55
        "assessed_amount" / Numeric(10) * "調定額",                                     # 56–65
        "due_date" / Date("YYYYMMDD") * "納期限",                                       # 66–73
        "statutory_due_date" / Date("YYYYMMDD", optional=True) * "法定納期限",           # 74–81
        "payment_method" / Code(1, PAYMENT_METHODS) * "納付方法",                        # 82
        "change_reason" / Digits(2, optional=True) * "異動事由",                         # 83–84
        "change_date" / Date("YYYYMMDD") * "異動日",                                    # 85–92
        "assessment_seq" / Numeric(3) * "調定履歴SEQ",                                  # 93–95
        "filler" / Filler(25) * "予備",                                                 # 96–120
    ),
    length=RECORD_LENGTH,
)

TRAILER = RecordLayout(
    "trailer",
    "トレーラ・レコード",
    construct.Struct(
        "record_type" / Constant(b"8") * "データ区分",      # 1
        "record_count" / Numeric(8) * "件数",               # 2–9
        "assessed_total" / Numeric(14) * "調定額合計",       # 10–23
        "filler" / Filler(97) * "予備",                     # 24–120
    ),
    length=RECORD_LENGTH,
)

END = end_record(RECORD_LENGTH)

LEVY_ASSESSMENT = FileLayout(
    id="levy-assessment",
    title="調定データ (各賦課システム → 収納管理システム)",
    records={b"1": ("header", HEADER), b"2": ("data", DATA), b"8": ("trailer", TRAILER), b"9": ("end", END)},
    totals=ControlTotals(count_field="record_count", amount_field="assessed_total",
                         data_amount_field="assessed_amount"),
    record_length=RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + LAYOUT_ID,
    description=("Assessments from a levy system: one record per notice and instalment, 調定額 after the change "
                 "(never a difference); linked by 住民コード, never by 個人番号."),
)
