"""収納情報 — posted payments back to each levy department, the gateway's default layout.

At every reconciliation run (毎収納消込処理時) the collection section transfers (移転)
what was collected to the department that levies the tax: 市(県)民税 to 市民税課,
固定資産税 (償却資産を含む) to 資産税課, 国民健康保険税 to 保険年金課 (seed, Ⅱ-5
移転先1–3; legal basis 番号法第9条第1項 別表第一 16の項). One data record per
posting, in 150-byte cp932 records, Zengin-style (header ``1``, data ``2``, trailer
``8``, end ``9``).

Fields are the seed's 収納情報ファイル items (別添1: 利用団体コード, 住民コード,
納付書番号, 会計年度, 賦課年度, 科目コード, 期別, 収入額, 収入延滞金, 収入督促手数料,
収入区分, 納付区分, 納付日, 日計日, 完納フラグ, 収入履歴SEQ), named after the canonical
:class:`gateway.model.records.Payment`:

- 収入額 → ``principal`` (本税), 収入延滞金 → ``late_fee``, 収入督促手数料 →
  ``dunning_fee``: kept apart, as the national standard does;
- 納付日 → ``receipt_date`` (領収日, the day the money was paid), 日計日 →
  ``revenue_date`` (収入日, the day it was booked);
- ``reconciliation_key`` (消込特定キー) names the payment the posting came from, so a
  department can trace it and a resend is recognisable.

Data minimisation (seed, Ⅲ リスク1 "目的を超えた紐付け"): people are linked by 住民コード
only. 個人番号, names, addresses and bank accounts are not in this layout, so no route
can send them to a levy department by this format.

Control totals: the trailer's 件数, 収入額合計, 収入延滞金合計 and 収入督促手数料合計 are
checked against the data records (the 延滞金 and 督促手数料 totals when every record's value
is readable: a record whose value is not is rejected on its own, and 収入額合計 decides
whether the file is proven). Amounts are written as positive numbers; a 収入取消 (``revenue_kind`` 2)
reverses an earlier posting and is added to the totals as written (gross totals).

The header carries the layout id ``GWPI01`` right after the record type (``identify``)
and the receiving department (``department``).
"""

from __future__ import annotations

import construct

from formats.codelists import CODE_LISTS
from formats.fields import Code, Constant, Date, Digits, Filler, Numeric, Text
from formats.layout import ControlTotals, FileLayout, RecordLayout, end_record

__all__ = [
    "COMPLETION_FLAGS",
    "DATA",
    "DEPARTMENTS",
    "DEPARTMENT_TAX_ITEMS",
    "END",
    "HEADER",
    "LAYOUT_ID",
    "PAYMENT_INFO",
    "RECONCILIATION",
    "RECORD_LENGTH",
    "REVENUE_KINDS",
    "TRAILER",
]

RECORD_LENGTH = 150
LAYOUT_ID = b"GWPI01"

#: 移転先 (the receiving department) and the 科目 each one receives (seed, Ⅱ-5).
DEPARTMENTS = {
    "01": "市民税課",
    "02": "資産税課",
    "03": "保険年金課",
}
#: 科目 (of the 調定, levy-assessment) and 納付区分 (of the collection intake): the shared code lists.
TAX_ITEMS = CODE_LISTS["tax-items"]
CHANNEL_KINDS = CODE_LISTS["channel-kinds"]

#: Which 科目 (TAX_ITEMS) go to which department, for routing: only what the
#: assessment declares as 移転 (市(県)民税, 固定資産税, 国民健康保険税). 法人市民税 and
#: 軽自動車税 are not declared there, so no default route sends them; a city adds them by
#: configuration once its assessment says so.
DEPARTMENT_TAX_ITEMS = {
    "01": frozenset({"01", "02"}),
    "02": frozenset({"04"}),
    "03": frozenset({"06"}),
}

#: 収入区分.
REVENUE_KINDS = {
    "1": "収入",
    "2": "収入取消",
    "3": "充当",
}

#: 完納フラグ.
COMPLETION_FLAGS = {
    "0": "未完納",
    "1": "完納",
}

HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "layout_id" / Constant(LAYOUT_ID) * "レイアウト識別",  # 2–7
        "created_on" / Date("YYYYMMDD") * "作成日",  # 8–15
        "municipality_code" / Digits(6) * "利用団体コード",  # 16–21
        "department" / Code(2, DEPARTMENTS) * "移転先",  # 22–23
        "revenue_date" / Date("YYYYMMDD") * "日計日",  # 24–31
        "filler" / Filler(119) * "予備",  # 32–150
    ),
    length=RECORD_LENGTH,
)

DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",  # 1
        "municipality_code" / Digits(6) * "利用団体コード",  # 2–7
        "resident_code" / Digits(15, personal="account") * "住民コード",  # 8–22
        "notice_number" / Text(20, "ascii", required=True) * "納付書番号",  # 23–42
        "accounting_year" / Numeric(4) * "会計年度",  # 43–46
        "fiscal_year" / Numeric(4) * "賦課年度",  # 47–50
        "tax_item" / Code(2, TAX_ITEMS) * "科目",  # 51–52
        "instalment" / Digits(2) * "期別",  # 53–54
        "revenue_kind" / Code(1, REVENUE_KINDS) * "収入区分",  # 55
        "channel_kind" / Code(2, CHANNEL_KINDS) * "納付区分",  # 56–57
        "principal" / Numeric(10) * "収入額",  # 58–67
        "late_fee" / Numeric(10) * "収入延滞金",  # 68–77
        "dunning_fee" / Numeric(8) * "収入督促手数料",  # 78–85
        "receipt_date" / Date("YYYYMMDD") * "納付日",  # 86–93
        "revenue_date" / Date("YYYYMMDD") * "日計日",  # 94–101
        "paid_in_full" / Code(1, COMPLETION_FLAGS) * "完納フラグ",  # 102
        "revenue_seq" / Numeric(4) * "収入履歴SEQ",  # 103–106
        "reconciliation_key" / Text(20, "ascii", required=True) * "消込特定キー",  # 107–126
        "filler" / Filler(24) * "予備",  # 127–150
    ),
    length=RECORD_LENGTH,
)

TRAILER = RecordLayout(
    "trailer",
    "トレーラ・レコード",
    construct.Struct(
        "record_type" / Constant(b"8") * "データ区分",  # 1
        "record_count" / Numeric(8) * "件数",  # 2–9
        "principal_total" / Numeric(14) * "収入額合計",  # 10–23
        "late_fee_total" / Numeric(12) * "収入延滞金合計",  # 24–35
        "dunning_fee_total" / Numeric(10) * "収入督促手数料合計",  # 36–45
        "filler" / Filler(105) * "予備",  # 46–150
    ),
    length=RECORD_LENGTH,
)

END = end_record(RECORD_LENGTH)

_TOTALS = ControlTotals(
    count_field="record_count",
    amount_field="principal_total",
    data_amount_field="principal",
    extra={"late_fee_total": "late_fee", "dunning_fee_total": "dunning_fee"},
)

PAYMENT_INFO = FileLayout(
    id="payment-info",
    title="収納情報 (収納管理システム → 市民税課・資産税課・保険年金課)",
    records={b"1": ("header", HEADER), b"2": ("data", DATA), b"8": ("trailer", TRAILER), b"9": ("end", END)},
    totals=_TOTALS,
    record_length=RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + LAYOUT_ID,
    description=(
        "Posted payments to the levy department of their 科目, at every reconciliation run: 本税, 延滞金 "
        "and 督促手数料 apart, 納付日 (領収日) and 日計日 (収入日); linked by 住民コード only."
    ),
)

RECONCILIATION_LAYOUT_ID = b"GWRC01"

RECONCILIATION_HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "layout_id" / Constant(RECONCILIATION_LAYOUT_ID) * "レイアウト識別",  # 2–7
        "created_on" / Date("YYYYMMDD") * "作成日",  # 8–15
        "municipality_code" / Digits(6) * "利用団体コード",  # 16–21
        "run_number" / Numeric(3) * "消込処理回",  # 22–24
        "revenue_date" / Date("YYYYMMDD") * "日計日",  # 25–32
        "filler" / Filler(118) * "予備",  # 33–150
    ),
    length=RECORD_LENGTH,
)

#: 収納消込結果: what the collection system posted in one reconciliation run, every 科目 in one
#: file. The gateway splits it by 科目 into one :data:`PAYMENT_INFO` file per department
#: (routes with ``when.tax_item``; adapters/renderers.py ``payment-info``). Data, trailer and
#: end records are those of :data:`PAYMENT_INFO`; the header names the run instead of a department.
RECONCILIATION = FileLayout(
    id="reconciliation",
    title="収納消込結果 (収納管理システム → ゲートウェイ: 全科目, 消込処理ごと)",
    records={
        b"1": ("header", RECONCILIATION_HEADER),
        b"2": ("data", DATA),
        b"8": ("trailer", TRAILER),
        b"9": ("end", END),
    },
    totals=_TOTALS,
    record_length=RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + RECONCILIATION_LAYOUT_ID,
    description=(
        "The collection system's postings of one reconciliation run (消込処理回, 日計日), every 科目 in one "
        "file; the gateway splits it into one 収納情報 file per levy department."
    ),
)
