"""宛名情報 — names and addresses from the address system (庁内基本情報連携システム).

The address system manages the 宛名 of residents and of people not registered here
(住登外者), their 送付先 and their changes (seed, Ⅰ-2 システム2); the collection system
takes the changes in to address its notices. One data record per change, in 500-byte
cp932 records, Zengin-style (header ``1``, data ``2``, trailer ``8``, end ``9``).
Fields are the seed's 宛名情報 items (別添1: 利用団体コード, 住民コード, 異動区分,
異動事由コード, 異動日, 住民区分, カナ氏名, 氏名, 生年月日元号 + 生年月日, 性別,
郵便番号, 住所, 方書, 送付先郵便番号, 送付先住所, 送付先方書, 送付先氏名, 連番).

Characters:

- 氏名, 住所, 方書 and the 送付先 fields are full-width cp932 (:class:`DoubleByteText`);
  widths count **bytes**. Padding is full-width spaces, or half-width spaces after
  the text. A half-width character inside, or a character cut at the field's end (a
  lead byte as its last byte), is ``FIELD_DOUBLE_BYTE``. 方書 is 61 bytes, as the
  address system defines it (30 characters and one byte of padding): a sender that
  cuts a longer 方書 at the byte leaves the 31st character's lead byte there.
- カナ氏名 is half-width katakana (single-byte Shift_JIS, small kana allowed).
- Text is kept exactly as sent: no NFC/NFKC, no kana folding (reference/standard-data.md).

生年月日 is 和暦 ``GYYMMDD``: era code 1 明治, 2 大正, 3 昭和, 4 平成, 5 令和 and the
era year. Any other era code (0, 6 …), a day outside its era (平成31年5月1日, 平成32年),
or a day that is not on the calendar (2月30日) is ``FIELD_DATE`` and the record is
rejected, kept in the report for an operator. Blank (all spaces or zeros) means no
birth date (法人・団体).

Personal values (masked in reports and logs): 氏名, カナ氏名 and 送付先氏名 as names;
生年月日, 性別, 郵便番号, 住所, 方書 and the 送付先 address as ``other`` (never shown);
住民コード like a customer number (last 3 digits). The 個人番号 is deliberately not in
this layout: the number travels only in the MICJET linkage file (formats.layouts.micjet), and
the collection system links 宛名 by 住民コード.

There is no amount in an address file: the trailer's control total is a hash total,
the sum of the data records' 連番 (record serial numbers, 1 … n in a complete file),
beside the 件数. A record dropped and another sent twice keeps the count but not the
hash total.

The header carries the layout id ``GWAD01`` right after the record type (``identify``).
"""

from __future__ import annotations

import construct

from formats.fields import Code, Constant, Date, Digits, DoubleByteText, Filler, Numeric, Text
from formats.layout import ControlTotals, FileLayout, RecordLayout, end_record
from formats.layouts.micjet import hash_total_trailer

__all__ = [
    "ADDRESS",
    "CHANGE_KINDS",
    "DATA",
    "END",
    "EXTRACT_KINDS",
    "HEADER",
    "LAYOUT_ID",
    "RECORD_LENGTH",
    "RESIDENT_KINDS",
    "SEXES",
    "TRAILER",
]

RECORD_LENGTH = 500
LAYOUT_ID = b"GWAD01"

#: 抽出区分 of the whole file.
EXTRACT_KINDS = {"1": "異動分", "2": "全件"}
#: 異動区分.
CHANGE_KINDS = {"1": "新規", "2": "変更", "3": "消除"}
#: 住民区分.
RESIDENT_KINDS = {"1": "住民", "2": "住登外者", "3": "法人・団体"}
#: 性別 (住民基本台帳の表記).
SEXES = {"1": "男", "2": "女"}

HEADER = RecordLayout(
    "header",
    "ヘッダー・レコード",
    construct.Struct(
        "record_type" / Constant(b"1") * "データ区分",  # 1
        "layout_id" / Constant(LAYOUT_ID) * "レイアウト識別",  # 2–7
        "created_on" / Date("YYYYMMDD") * "作成日",  # 8–15
        "municipality_code" / Digits(6) * "利用団体コード",  # 16–21
        "extract_kind" / Code(1, EXTRACT_KINDS) * "抽出区分",  # 22
        "filler" / Filler(478) * "予備",  # 23–500
    ),
    length=RECORD_LENGTH,
)

DATA = RecordLayout(
    "data",
    "データ・レコード",
    construct.Struct(
        "record_type" / Constant(b"2") * "データ区分",  # 1
        "municipality_code" / Digits(6) * "利用団体コード",  # 2–7
        "serial" / Numeric(7) * "連番",  # 8–14
        "resident_code" / Digits(15, personal="account") * "住民コード",  # 15–29
        "change_kind" / Code(1, CHANGE_KINDS) * "異動区分",  # 30
        "change_reason" / Digits(2) * "異動事由コード",  # 31–32
        "change_date" / Date("YYYYMMDD") * "異動日",  # 33–40
        "resident_kind" / Code(1, RESIDENT_KINDS) * "住民区分",  # 41
        "kana_name" / Text(40, "sjis-single", required=True, personal="name") * "カナ氏名",  # 42–81
        "name" / DoubleByteText(40, personal="name") * "氏名",  # 82–121
        "birth_date" / Date("GYYMMDD", optional=True, personal="other") * "生年月日",  # 122–128
        "sex" / Code(1, SEXES, optional=True, personal="other") * "性別",  # 129
        "postal_code" / Digits(7, optional=True, personal="other") * "郵便番号",  # 130–136
        "address" / DoubleByteText(80, personal="other") * "住所",  # 137–216
        "address_line2" / DoubleByteText(61, optional=True, personal="other") * "方書",  # 217–277
        "delivery_postal_code" / Digits(7, optional=True, personal="other") * "送付先郵便番号",  # 278–284
        "delivery_address" / DoubleByteText(80, optional=True, personal="other") * "送付先住所",  # 285–364
        "delivery_address_line2" / DoubleByteText(60, optional=True, personal="other") * "送付先方書",  # 365–424
        "delivery_name" / DoubleByteText(40, optional=True, personal="name") * "送付先氏名",  # 425–464
        "filler" / Filler(36) * "予備",  # 465–500
    ),
    length=RECORD_LENGTH,
)

TRAILER = hash_total_trailer(RECORD_LENGTH)

END = end_record(RECORD_LENGTH)

ADDRESS = FileLayout(
    id="address",
    title="宛名情報 (庁内基本情報連携システム → 収納管理システム)",
    records={b"1": ("header", HEADER), b"2": ("data", DATA), b"8": ("trailer", TRAILER), b"9": ("end", END)},
    totals=ControlTotals(count_field="record_count", amount_field="serial_total", data_amount_field="serial"),
    record_length=RECORD_LENGTH,
    multi_group=False,
    identify=lambda first: first[:7] == b"1" + LAYOUT_ID,
    description=(
        "Name and address changes: 氏名・住所・方書 full-width (widths in bytes), カナ氏名 half-width, "
        "生年月日 和暦 GYYMMDD; no 個人番号; the trailer's control total is the sum of 連番."
    ),
)
