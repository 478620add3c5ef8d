"""The eL-QR (地方税統一QRコード, since 2023): an EMV-style TLV string of 255 characters.

Each element is a 2-digit tag, a 2-digit length and that many characters of value
(payment-channels.md §4). The elements, in the order they are written:

===  ===  =================================================================================
tag  len  value
===  ===  =================================================================================
00   02   ``payload_format`` — "01"
01   02   ``initiation_method`` — "12"
27   96   nested TLV: 00 (05) ``agency_id`` "13800" (地方税共同機構); 01 (83) the MPN data,
          two OCR-style parts each led by its CD1 CD2 pair (:func:`~formats.codecs.ocr.ocr_check_digits`):
          upper (39) CD(2) 口座番号(11) 払込金額(11) 手数料負担区分(1) 機関ID(5) 印紙税要否(1)
          税目・料金番号(3) 拡張(5); lower (44) CD(2) 案件特定キー(20) 確認番号(6) eLTAX利用領域(1)
          共通納税機関コード(5) 税務事務所コード(3) 拡張(7)
54   11   ``amount`` in yen
62   26   賦課年度(4) 課税年度(4) 期別コード(2) 納期限 YYYYMMDD(8) 支払期限 YYYYMMDD(8)
80   85   ``reserved`` — zeros
63   05   ``crc`` — CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)
          over the ASCII text up to and including "6305", written as 5 DECIMAL digits
===  ===  =================================================================================

eL番号 = 共通納税機関コード + 案件特定キー + 確認番号 + 税目・料金番号 (34 digits).

The CRC is the standard library's :func:`binascii.crc_hqx` (poly 0x1021, no
reflection) started from 0xFFFF, which is exactly CRC-16/CCITT-FALSE: its check value
over "123456789" is 0x29B1 (10673). :func:`decode_elqr` never raises for bad input;
every error names its tag path ("27/01") and its 0-based position in the value.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

from formats.codecs._common import CodecIssue, ErrorCode, FieldValue, Severity, ascii_digits, result_dict
from formats.codecs.ocr import encode_ocr, pair_errors

__all__ = ["ELQR_LABELS", "ELQR_LENGTH", "ElqrResult", "crc16_ccitt_false", "decode_elqr", "encode_elqr"]

ELQR_LENGTH = 255
AGENCY_ID = "13800"

#: Top-level tags and their fixed lengths, in the order they are written.
TOP_TAGS: dict[str, int] = {"00": 2, "01": 2, "27": 96, "54": 11, "62": 26, "80": 85, "63": 5}
#: Tags inside tag 27.
INNER_TAGS: dict[str, int] = {"00": 5, "01": 83}
#: Values that are fixed by the specification.
FIXED: dict[str, str] = {"00": "01", "01": "12", "27/00": AGENCY_ID}

# (name, width) of the MPN parts after their two check digits.
UPPER_PARTS: tuple[tuple[str, int], ...] = (
    ("account_number", 11),
    ("payment_amount", 11),
    ("fee_payer", 1),
    ("institution_id", 5),
    ("stamp_duty", 1),
    ("tax_item_code", 3),
    ("upper_extension", 5),
)
LOWER_PARTS: tuple[tuple[str, int], ...] = (
    ("case_key", 20),
    ("confirmation_number", 6),
    ("eltax_area", 1),
    ("common_tax_institution_code", 5),
    ("tax_office_code", 3),
    ("lower_extension", 7),
)
# (name, width) of tag 62.
ADDITIONAL_PARTS: tuple[tuple[str, int], ...] = (
    ("levy_year", 4),
    ("tax_year", 4),
    ("period_code", 2),
    ("due_date", 8),
    ("payment_deadline", 8),
)

ELQR_LABELS: dict[str, str] = {
    "payload_format": "ペイロード形式 (00)",
    "initiation_method": "生成方法 (01)",
    "agency_id": "地方税共同機構コード (27/00)",
    "upper_check_digits": "上段チェックデジット",
    "account_number": "口座番号",
    "payment_amount": "払込金額",
    "fee_payer": "手数料負担区分",
    "institution_id": "機関ID",
    "stamp_duty": "印紙税要否",
    "tax_item_code": "税目・料金番号",
    "upper_extension": "拡張 (上段)",
    "lower_check_digits": "下段チェックデジット",
    "case_key": "案件特定キー",
    "confirmation_number": "確認番号",
    "eltax_area": "eLTAX利用領域",
    "common_tax_institution_code": "共通納税機関コード",
    "tax_office_code": "税務事務所コード",
    "lower_extension": "拡張 (下段)",
    "amount": "金額 (54)",
    "levy_year": "賦課年度",
    "tax_year": "課税年度",
    "period_code": "期別コード",
    "due_date": "納期限",
    "payment_deadline": "支払期限",
    "reserved": "予約領域 (80)",
    "crc": "CRC (63)",
    "el_number": "eL番号",
}
PERSONAL = frozenset({"case_key", "confirmation_number", "el_number"})


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (poly 0x1021, init 0xFFFF, no reflection, xorout 0)."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True, slots=True)
class ElqrResult:
    """A decoded eL-QR: the fields that could be read, ``valid``, and every error found."""

    value: str
    fields: dict[str, FieldValue]
    errors: tuple[CodecIssue, ...]

    @property
    def valid(self) -> bool:
        return not any(error.severity == Severity.ERROR for error in self.errors)

    @property
    def el_number(self) -> str | None:
        value = self.fields.get("el_number")
        return value if isinstance(value, str) else None

    @property
    def labels(self) -> dict[str, str]:
        return dict(ELQR_LABELS)

    @property
    def personal_fields(self) -> frozenset[str]:
        return PERSONAL

    def as_dict(self) -> dict[str, Any]:
        return result_dict("elqr", self)


@dataclass(frozen=True, slots=True)
class _Element:
    tag: str
    position: int  # of the tag
    value: str

    @property
    def value_position(self) -> int:
        return self.position + 4


def _parse_tlv(
    text: str, base: int, known: dict[str, int], prefix: str, errors: list[CodecIssue]
) -> dict[str, _Element]:
    """The elements of ``text`` (which starts at ``base`` in the value) with the right length, by tag."""
    elements: dict[str, _Element] = {}
    position = 0
    while position < len(text):
        where = base + position
        if len(text) - position < 4:
            errors.append(
                CodecIssue(
                    ErrorCode.TLV_TRUNCATED,
                    where,
                    "a 2-digit tag and a 2-digit length",
                    text[position:],
                    prefix or None,
                    f"{prefix or 'text'} ends inside an element header at position {where}",
                )
            )
            break
        tag, length_text = text[position : position + 2], text[position + 2 : position + 4]
        path = f"{prefix}/{tag}" if prefix else tag
        if not (ascii_digits(tag) and ascii_digits(length_text)):
            errors.append(
                CodecIssue(
                    ErrorCode.TLV_HEADER,
                    where,
                    "a 2-digit tag and a 2-digit length",
                    tag + length_text,
                    prefix or None,
                    f"element header at position {where} is not digits: {tag + length_text!r}",
                )
            )
            break
        length = int(length_text)
        value = text[position + 4 : position + 4 + length]
        if len(value) < length:
            errors.append(
                CodecIssue(
                    ErrorCode.TLV_TRUNCATED,
                    where + 4,
                    f"{length} characters",
                    f"{len(value)}",
                    path,
                    f"tag {path} says {length} characters but only {len(value)} follow",
                )
            )
            break
        if tag not in known:
            errors.append(
                CodecIssue(
                    ErrorCode.TAG_UNKNOWN,
                    where,
                    f"one of {', '.join(known)}",
                    tag,
                    path,
                    f"unknown tag {path} at position {where}",
                )
            )
        elif tag in elements:
            errors.append(
                CodecIssue(
                    ErrorCode.TAG_DUPLICATE,
                    where,
                    f"tag {tag} once",
                    f"tag {tag} again",
                    path,
                    f"tag {path} appears again at position {where} (first at {elements[tag].position})",
                )
            )
        elif length != known[tag]:
            errors.append(
                CodecIssue(
                    ErrorCode.TAG_LENGTH,
                    where + 2,
                    f"{known[tag]:02d}",
                    length_text,
                    path,
                    f"tag {path}: expected length {known[tag]:02d}, found {length_text}",
                )
            )
        else:
            elements[tag] = _Element(tag, where, value)
        position += 4 + length
    return elements


def _digits(element: _Element, path: str, errors: list[CodecIssue]) -> bool:
    """True when the element's value is all ASCII digits; otherwise an error at the first other character."""
    if ascii_digits(element.value):
        return True
    index = next(i for i, char in enumerate(element.value) if not ("0" <= char <= "9"))
    errors.append(
        CodecIssue(
            ErrorCode.NOT_DIGIT,
            element.value_position + index,
            "ASCII digits",
            element.value[index],
            path,
            f"tag {path}: expected digits only, found "
            f"{element.value[index]!r} at position {element.value_position + index}",
        )
    )
    return False


def _split(text: str, parts: tuple[tuple[str, int], ...]) -> dict[str, str]:
    values, offset = {}, 0
    for name, width in parts:
        values[name] = text[offset : offset + width]
        offset += width
    return values


def _date(text: str, position: int, path: str, label: str, errors: list[CodecIssue]) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        errors.append(
            CodecIssue(ErrorCode.DATE, position, "a real date YYYYMMDD", text, path, f"{label} {text!r} is not a date")
        )
        return None


def decode_elqr(value: str) -> ElqrResult:
    """Decode an eL-QR string; problems are errors naming tag and position, never exceptions."""
    text = value.strip()
    lead = len(value) - len(value.lstrip())
    errors: list[CodecIssue] = []
    fields: dict[str, FieldValue] = {}

    non_ascii = [(index, char) for index, char in enumerate(text) if not char.isascii()]
    for index, char in non_ascii[:10]:
        errors.append(
            CodecIssue(
                ErrorCode.NOT_ASCII,
                lead + index,
                "ASCII",
                char,
                None,
                f"character {lead + index} is not ASCII: {char!r}",
            )
        )
    if len(text) != ELQR_LENGTH:
        errors.append(
            CodecIssue(
                ErrorCode.LENGTH,
                lead,
                f"{ELQR_LENGTH} characters",
                f"{len(text)} characters",
                None,
                f"expected {ELQR_LENGTH} characters, found {len(text)}",
            )
        )

    top = _parse_tlv(text, lead, TOP_TAGS, "", errors)
    for tag in TOP_TAGS:
        if tag not in top and not any(e.field == tag and e.code != ErrorCode.TAG_DUPLICATE for e in errors):
            errors.append(CodecIssue(ErrorCode.TAG_MISSING, None, f"tag {tag}", None, tag, f"tag {tag} is missing"))

    for tag, path in (("00", "00"), ("01", "01")):
        if tag in top:
            name = "payload_format" if tag == "00" else "initiation_method"
            fields[name] = top[tag].value
            if top[tag].value != FIXED[path]:
                errors.append(
                    CodecIssue(
                        ErrorCode.VALUE,
                        top[tag].value_position,
                        FIXED[path],
                        top[tag].value,
                        path,
                        f"tag {path}: expected {FIXED[path]!r}, found {top[tag].value!r}",
                    )
                )

    if "27" in top:
        inner = _parse_tlv(top["27"].value, top["27"].value_position, INNER_TAGS, "27", errors)
        for tag in INNER_TAGS:
            path = f"27/{tag}"
            if tag not in inner and not any(e.field == path for e in errors):
                errors.append(
                    CodecIssue(ErrorCode.TAG_MISSING, None, f"tag {path}", None, path, f"tag {path} is missing")
                )
        if "00" in inner:
            fields["agency_id"] = inner["00"].value
            if inner["00"].value != AGENCY_ID:
                errors.append(
                    CodecIssue(
                        ErrorCode.VALUE,
                        inner["00"].value_position,
                        AGENCY_ID,
                        inner["00"].value,
                        "27/00",
                        f"tag 27/00: expected {AGENCY_ID!r} (地方税共同機構), found {inner['00'].value!r}",
                    )
                )
        if "01" in inner and _digits(inner["01"], "27/01", errors):
            mpn, at = inner["01"].value, inner["01"].value_position
            upper, lower = mpn[:39], mpn[39:]
            errors.extend(pair_errors(upper, at, "27/01 upper part"))
            errors.extend(pair_errors(lower, at + 39, "27/01 lower part"))
            fields["upper_check_digits"] = upper[:2]
            fields.update(_split(upper[2:], UPPER_PARTS))
            fields["payment_amount"] = int(upper[13:24])
            fields["lower_check_digits"] = lower[:2]
            fields.update(_split(lower[2:], LOWER_PARTS))

    if "54" in top and _digits(top["54"], "54", errors):
        fields["amount"] = int(top["54"].value)
        if "payment_amount" in fields and fields["payment_amount"] != fields["amount"]:
            errors.append(
                CodecIssue(
                    ErrorCode.MISMATCH,
                    top["54"].value_position,
                    f"{fields['payment_amount']}",
                    top["54"].value,
                    "54",
                    f"tag 54 amount {fields['amount']:,} differs from the MPN 払込金額 {fields['payment_amount']:,}",
                )
            )

    if "62" in top and _digits(top["62"], "62", errors):
        parts = _split(top["62"].value, ADDITIONAL_PARTS)
        at = top["62"].value_position
        fields["levy_year"] = int(parts["levy_year"])
        fields["tax_year"] = int(parts["tax_year"])
        fields["period_code"] = parts["period_code"]
        fields["due_date"] = _date(parts["due_date"], at + 10, "62", "納期限", errors)
        fields["payment_deadline"] = _date(parts["payment_deadline"], at + 18, "62", "支払期限", errors)

    if "80" in top:
        fields["reserved"] = top["80"].value
        if top["80"].value.strip("0"):
            index = next(i for i, char in enumerate(top["80"].value) if char != "0")
            errors.append(
                CodecIssue(
                    ErrorCode.VALUE,
                    top["80"].value_position + index,
                    "zeros (reserved)",
                    top["80"].value[index],
                    "80",
                    "tag 80 (reserved) is not all zeros: a newer layout?",
                    Severity.WARNING,
                )
            )

    if "63" in top:
        crc_element = top["63"]
        if crc_element.position + 9 != lead + len(text):
            errors.append(
                CodecIssue(
                    ErrorCode.TAG_ORDER,
                    crc_element.position,
                    "tag 63 (CRC) last",
                    "more elements after it",
                    "63",
                    "tag 63 (CRC) must be the last element",
                )
            )
        if ascii_digits(crc_element.value):
            fields["crc"] = int(crc_element.value)
        covered = text[: crc_element.position - lead + 4]
        if covered.isascii():
            expected = crc16_ccitt_false(covered.encode("ascii"))
            if crc_element.value != f"{expected:05d}":
                errors.append(
                    CodecIssue(
                        ErrorCode.CRC,
                        crc_element.value_position,
                        f"{expected:05d}",
                        crc_element.value,
                        "63",
                        f"CRC-16/CCITT-FALSE over characters 0–{crc_element.position + 3}: "
                        f"expected {expected:05d}, found {crc_element.value!r}",
                    )
                )

    if all(
        name in fields for name in ("common_tax_institution_code", "case_key", "confirmation_number", "tax_item_code")
    ):
        fields["el_number"] = "".join(
            str(fields[name])
            for name in ("common_tax_institution_code", "case_key", "confirmation_number", "tax_item_code")
        )
    ordered = {name: fields[name] for name in ELQR_LABELS if name in fields}
    return ElqrResult(value, ordered, tuple(errors))


def _yyyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _need(name: str, text: str, width: int) -> str:
    if len(text) != width or not ascii_digits(text):
        raise ValueError(f"{name}: expected {width} ASCII digits, found {text!r}")
    return text


def encode_elqr(
    *,
    amount: int,
    tax_item_code: str,
    case_key: str,
    confirmation_number: str,
    common_tax_institution_code: str,
    levy_year: int,
    tax_year: int,
    period_code: str,
    due_date: date,
    payment_deadline: date,
    tax_office_code: str = "000",
    account_number: str = "00000000000",
    fee_payer: str = "2",
    institution_id: str = AGENCY_ID,
    stamp_duty: str = "0",
    eltax_area: str = "0",
    upper_extension: str = "00000",
    lower_extension: str = "0000000",
) -> str:
    """A valid eL-QR string (both MPN check-digit pairs and the CRC computed); ValueError for bad fields."""
    if not 0 <= amount <= 99_999_999_999:
        raise ValueError(f"amount: expected 0 to 99,999,999,999 yen, found {amount:,}")
    upper = "".join(
        (
            _need("account_number", account_number, 11),
            f"{amount:011d}",
            _need("fee_payer", fee_payer, 1),
            _need("institution_id", institution_id, 5),
            _need("stamp_duty", stamp_duty, 1),
            _need("tax_item_code", tax_item_code, 3),
            _need("upper_extension", upper_extension, 5),
        )
    )
    lower = "".join(
        (
            _need("case_key", case_key, 20),
            _need("confirmation_number", confirmation_number, 6),
            _need("eltax_area", eltax_area, 1),
            _need("common_tax_institution_code", common_tax_institution_code, 5),
            _need("tax_office_code", tax_office_code, 3),
            _need("lower_extension", lower_extension, 7),
        )
    )
    mpn = encode_ocr(upper) + encode_ocr(lower)
    additional = (
        f"{_need('levy_year', f'{levy_year:04d}', 4)}{_need('tax_year', f'{tax_year:04d}', 4)}"
        f"{_need('period_code', period_code, 2)}{_yyyymmdd(due_date)}{_yyyymmdd(payment_deadline)}"
    )
    merchant = f"0005{AGENCY_ID}0183{mpn}"
    text = f"0002010102122796{merchant}5411{amount:011d}6226{additional}8085{'0' * 85}6305"
    return text + f"{crc16_ccitt_false(text.encode('ascii')):05d}"
