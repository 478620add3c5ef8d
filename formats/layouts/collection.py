"""収納連携データ — the collection system's fixed-width intake, of the gateway's design.

Every payment the gateway routes to the collection system (収納管理システム) is one
data record here, whatever channel it came by: the canonical
:class:`gateway.model.records.Payment` laid out in 128-byte cp932 records, Zengin-style
(header, data*, trailer, end) so that the same engine validates it. Field names are
those of the canonical model (after the national standard's 収納 items). Account
numbers are deliberately not carried: the collection system already knows the
registered account by its 消込特定キー (data minimisation).
"""

from __future__ import annotations

import construct

from formats.codelists import CODE_LISTS
from formats.fields import Code, Constant, Date, Digits, Filler, Numeric, Text
from formats.layout import ControlTotals, end_record, FileLayout, RecordLayout

__all__ = ["CHANNEL_KINDS", "COLLECTION_INTAKE", "DATA", "END", "HEADER", "RECORD_LENGTH", "STATUSES", "TRAILER"]

RECORD_LENGTH = 128
LAYOUT_ID = b"GWCI01"

#: 納付チャネル区分 (formats/codelists.toml)
CHANNEL_KINDS = CODE_LISTS["channel-kinds"]
#: 収納区分
STATUSES = {"1": "収納", "2": "振替不能", "3": "速報", "4": "速報取消"}

HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",
        "layout_id" / Constant(LAYOUT_ID) * "レイアウト識別",
        "created_on" / Date("YYYYMMDD") * "作成日",
        "source_file_id" / Text(24, "ascii", required=True) * "元ファイルID",
        "source_channel" / Text(16, "ascii", required=True) * "受付チャネル",
        "source_format" / Text(16, "ascii", required=True) * "元ファイル形式",
        "filler" / Filler(57) * "予備",
    ),
    length=RECORD_LENGTH,
)

DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",
        "reconciliation_key" / Text(20, "ascii", required=True) * "消込特定キー",
        "channel_kind" / Code(2, CHANNEL_KINDS) * "納付チャネル区分",
        "status" / Code(1, STATUSES) * "収納区分",
        "principal" / Numeric(12) * "本税",
        "late_fee" / Numeric(10) * "延滞金",
        "dunning_fee" / Numeric(8) * "督促手数料",
        "receipt_date" / Date("YYYYMMDD", optional=True) * "領収日",
        "revenue_date" / Date("YYYYMMDD", optional=True) * "収入日",
        "result_code" / Text(2, "ascii") * "結果コード",
        "notice_number" / Text(20, "ascii") * "通知書番号",
        "tax_item" / Text(4, "ascii") * "科目",
        "fiscal_year" / Numeric(4, optional=True) * "賦課年度",
        "instalment" / Text(2, "ascii") * "期別",
        "bank_code" / Digits(4, optional=True) * "金融機関コード",
        "branch_code" / Digits(3, optional=True) * "店番",
        "source_record" / Numeric(8) * "元レコード番号",
        "filler" / Filler(11) * "予備",
    ),
    length=RECORD_LENGTH,
)

TRAILER = RecordLayout(
    "trailer",
    "トレーラ・レコード",
    construct.Struct(
        "record_type" / Constant(b"8") * "データ区分",
        "record_count" / Numeric(8) * "件数",
        "principal_total" / Numeric(14) * "本税合計",
        "late_fee_total" / Numeric(12) * "延滞金合計",
        "dunning_fee_total" / Numeric(10) * "督促手数料合計",
        "filler" / Filler(83) * "予備",
    ),
    length=RECORD_LENGTH,
)

END = end_record(RECORD_LENGTH)

COLLECTION_INTAKE = FileLayout(
    id="collection-intake",
    title="収納連携データ (収納管理システム取込)",
    records={b"1": ("header", HEADER), b"2": ("data", DATA), b"8": ("trailer", TRAILER), b"9": ("end", END)},
    totals=ControlTotals(count_field="record_count", amount_field="principal_total", data_amount_field="principal",
                         extra={"late_fee_total": "late_fee", "dunning_fee_total": "dunning_fee"}),
    record_length=RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + LAYOUT_ID,
    description="The gateway's output to the collection system: one record per routed payment (CRLF after each).",
)

