"""The eL-QR TLV string: CRC check value, a hand-derived sample, every kind of bad input, properties.

The only public eL-QR strings found (kyoshizawa/newpos_test_okica, see below) are described
there as real codes from real tax notices, so they are not copied here; the sample below is
invented and derived by hand from payment-channels.md §4.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.codecs import ErrorCode, Severity, crc16_ccitt_false, decode_elqr, encode_elqr, ocr_check_digits

# Invented sample. Tags: 00 "01" | 01 "12" | 27 (96) = 00 (05) "13800" + 01 (83) MPN | 54 (11) | 62 (26) | 80 (85)
# zeros | 63 (05) CRC. MPN upper part, body (37) = 口座番号 00000000000 + 払込金額 00000012300 + 手数料負担区分 2
# + 機関ID 13800 + 印紙税要否 0 + 税目・料金番号 012 + 拡張 00000; its non-zero digits d[i] and weights:
#   odd i (CD2 weight 1, CD1 weight w1 = 3,4,…,9,2,…): i=17 1·3, i=19 3·4, i=23 1·6, i=25 8·7, i=31 2·2
#   even i (CD2 weight w2 = 9,8,…,2,9,…, CD1 weight 1): i=18 2·8, i=22 2·6, i=24 3·5, i=30 1·2
#   CD2 = (1+3+1+8+2 + 16+12+15+2) mod 10 = 60 mod 10 = 0
#   CD1 = (3+12+6+56+4 + 2+2+3+1 + 2·0) mod 11 = 89 mod 11 = 1        → upper part "10" + body
# MPN lower part, body (42) = 案件特定キー 00000202504010000001 + 確認番号 123456 + eLTAX利用領域 0
# + 共通納税機関コード 99999 + 税務事務所コード 000 + 拡張 0000000, check digits 8 3 by the same rule.
# 54 = 00000012300; 62 = 2025 2025 01 20250430 20250531; the CRC over the first 250 characters
# (up to and including "6305") is 548, written 00548.
# 0-based offsets used below: tag 27's value at 16 (27/00 value 20), MPN at 29 (upper CD 29–30, body 31–67;
# lower CD 68–69, body 70–111), tag 54 at 112 (value 116), 62 at 127 (value 131), 80 at 157 (value 161),
# 63 at 246 (CRC value 250–254).
SAMPLE = (
    "000201"
    "010212"
    "2796"
    "0005"
    "13800"
    "0183"
    "10"
    "00000000000"
    "00000012300"
    "2"
    "13800"
    "0"
    "012"
    "00000"
    "83"
    "00000202504010000001"
    "123456"
    "0"
    "99999"
    "000"
    "0000000"
    "5411"
    "00000012300"
    "6226"
    "2025"
    "2025"
    "01"
    "20250430"
    "20250531"
    "8085" + "0" * 85 + "6305"
    "00548"
)
SAMPLE_FIELDS: dict[str, Any] = dict(
    amount=12300,
    tax_item_code="012",
    case_key="00000202504010000001",
    confirmation_number="123456",
    common_tax_institution_code="99999",
    levy_year=2025,
    tax_year=2025,
    period_code="01",
    due_date=date(2025, 4, 30),
    payment_deadline=date(2025, 5, 31),
)


def seal(text: str) -> str:
    """``text`` (everything before tag 63) with a right CRC element appended."""
    covered = text + "6305"
    return covered + f"{crc16_ccitt_false(covered.encode('ascii')):05d}"


def codes(text: str) -> list[ErrorCode]:
    return [error.code for error in decode_elqr(text).errors]


def test_crc_check_value() -> None:
    """CRC-16/CCITT-FALSE("123456789") is the catalogue check value 0x29B1 (10673 decimal).

    The same 10673 is asserted by github.com/kyoshizawa/newpos_test_okica,
    app/src/test/java/jp/mcapps/android/multi_payment_terminal/EncodingELQRUnitTest.java.
    """
    assert crc16_ccitt_false(b"123456789") == 0x29B1 == 10673
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_sample_is_well_formed() -> None:
    """The hand-written sample is 255 characters and its MPN check digits follow §3."""
    assert len(SAMPLE) == 255
    assert ocr_check_digits(SAMPLE[31:68]) == (1, 0)
    assert ocr_check_digits(SAMPLE[70:112]) == (8, 3)


def test_decode_sample() -> None:
    """The sample decodes valid with every field read."""
    result = decode_elqr(SAMPLE)
    assert result.valid and result.errors == ()
    fields = result.fields
    assert (fields["payload_format"], fields["initiation_method"], fields["agency_id"]) == ("01", "12", "13800")
    assert fields["upper_check_digits"] == "10" and fields["lower_check_digits"] == "83"
    assert fields["account_number"] == "00000000000"
    assert fields["payment_amount"] == fields["amount"] == 12300
    assert (fields["fee_payer"], fields["institution_id"], fields["stamp_duty"]) == ("2", "13800", "0")
    assert fields["tax_item_code"] == "012"
    assert fields["case_key"] == "00000202504010000001"
    assert fields["confirmation_number"] == "123456"
    assert (fields["eltax_area"], fields["common_tax_institution_code"], fields["tax_office_code"]) == (
        "0",
        "99999",
        "000",
    )
    assert (fields["levy_year"], fields["tax_year"], fields["period_code"]) == (2025, 2025, "01")
    assert fields["due_date"] == date(2025, 4, 30)
    assert fields["payment_deadline"] == date(2025, 5, 31)
    assert fields["reserved"] == "0" * 85
    assert fields["crc"] == 548


def test_el_number() -> None:
    """eL番号 is 共通納税機関コード + 案件特定キー + 確認番号 + 税目・料金番号."""
    assert decode_elqr(SAMPLE).el_number == "9999900000202504010000001123456012"


def test_encode_builds_the_sample() -> None:
    """encode_elqr builds exactly the hand-written sample from its fields."""
    assert encode_elqr(**SAMPLE_FIELDS) == SAMPLE


def test_as_dict_is_json_ready() -> None:
    """as_dict carries valid, fields (dates as ISO text) and errors."""
    payload = decode_elqr(SAMPLE).as_dict()
    assert payload["valid"] is True and payload["errors"] == []
    assert payload["fields"]["due_date"] == "2025-04-30"


def test_surrounding_white_space_is_accepted() -> None:
    """A trailing newline from a scanner, or leading spaces, do not matter."""
    assert decode_elqr("  " + SAMPLE + "\r\n").valid


def test_bad_crc() -> None:
    """A wrong CRC is a CRC error naming tag 63, its position, expected and found."""
    result = decode_elqr(SAMPLE[:-5] + "00549")
    (error,) = result.errors
    assert (error.code, error.field, error.position, error.expected, error.found) == (
        ErrorCode.CRC,
        "63",
        250,
        "00548",
        "00549",
    )


def test_crc_not_digits() -> None:
    """A CRC that is not five digits is a CRC error too."""
    assert codes(SAMPLE[:-5] + "0054A") == [ErrorCode.CRC]


@pytest.mark.parametrize("value", [SAMPLE[:-1], SAMPLE[:200], SAMPLE[:3], ""])
def test_truncated(value: str) -> None:
    """A cut-off string reports its length and where the TLV breaks."""
    result = decode_elqr(value)
    assert not result.valid
    assert ErrorCode.LENGTH in codes(value)
    if value:
        assert ErrorCode.TLV_TRUNCATED in codes(value)


def test_truncated_names_the_tag() -> None:
    """The truncation error names the element whose value runs past the end."""
    errors = decode_elqr(SAMPLE[:200]).errors
    (error,) = [e for e in errors if e.code == ErrorCode.TLV_TRUNCATED]
    assert error.field == "80" and error.expected == "85 characters"


def test_unknown_tag() -> None:
    """An unknown tag is a TAG_UNKNOWN error at its position (and the length is off)."""
    text = seal(SAMPLE[:-9] + "9903abc")
    result = decode_elqr(text)
    assert ErrorCode.TAG_UNKNOWN in codes(text)
    (error,) = [e for e in result.errors if e.code == ErrorCode.TAG_UNKNOWN]
    assert (error.field, error.position) == ("99", 246)


def test_duplicate_tag() -> None:
    """A tag that appears twice is a TAG_DUPLICATE error at the second one."""
    text = seal(SAMPLE[:-9] + "5411" + "00000012300")
    result = decode_elqr(text)
    (error,) = [e for e in result.errors if e.code == ErrorCode.TAG_DUPLICATE]
    assert (error.field, error.position) == ("54", 246)


def test_wrong_tag_length() -> None:
    """A known tag with the wrong length is a TAG_LENGTH error, not also a missing tag."""
    text = seal(SAMPLE[: -9 - 89] + "8084" + "0" * 84)
    assert ErrorCode.TAG_LENGTH in codes(text)
    assert ErrorCode.TAG_MISSING not in codes(text)


def test_missing_tag() -> None:
    """A string without tag 80 reports TAG_MISSING for it."""
    text = seal(SAMPLE[: -9 - 89])
    result = decode_elqr(text)
    assert any(e.code == ErrorCode.TAG_MISSING and e.field == "80" for e in result.errors)


def test_crc_must_be_last() -> None:
    """Anything after the CRC element is a TAG_ORDER error."""
    assert ErrorCode.TAG_ORDER in codes(SAMPLE + "0000")


def test_header_not_digits() -> None:
    """A tag or length that is not digits stops the parse with a TLV_HEADER error at its position."""
    text = SAMPLE[:112] + "5A11" + SAMPLE[116:]
    errors = decode_elqr(text).errors
    (error,) = [e for e in errors if e.code == ErrorCode.TLV_HEADER]
    assert error.position == 112


@pytest.mark.parametrize(("start", "replacement", "field"), [(4, "02", "00"), (10, "11", "01"), (20, "13801", "27/00")])
def test_fixed_values(start: int, replacement: str, field: str) -> None:
    """00 must be "01", 01 must be "12" and 27/00 must be "13800"."""
    text = SAMPLE[:start] + replacement + SAMPLE[start + len(replacement) : -9]
    result = decode_elqr(seal(text))
    assert [(e.code, e.field, e.position) for e in result.errors] == [(ErrorCode.VALUE, field, start)]


def test_mpn_check_digit_errors() -> None:
    """A wrong MPN check digit is a CHECK_DIGIT error naming tag 27/01 and the part."""
    text = SAMPLE[:29] + "11" + SAMPLE[31:68] + "84" + SAMPLE[70:-9]
    errors = decode_elqr(seal(text)).errors
    assert [(e.code, e.position) for e in errors] == [(ErrorCode.CHECK_DIGIT, 30), (ErrorCode.CHECK_DIGIT, 69)]
    assert (errors[0].expected, errors[0].found) == ("0", "1")
    assert errors[0].field == "27/01 upper part" and errors[1].field == "27/01 lower part"


def test_mpn_not_digits() -> None:
    """A non-digit in the MPN data is a NOT_DIGIT error at its position."""
    text = SAMPLE[:40] + "X" + SAMPLE[41:-9]
    assert [(e.code, e.position, e.field) for e in decode_elqr(seal(text)).errors] == [
        (ErrorCode.NOT_DIGIT, 40, "27/01")
    ]


@pytest.mark.parametrize(("offset", "bad"), [(10, "20250230"), (18, "20251301")])
def test_impossible_dates(offset: int, bad: str) -> None:
    """An impossible 納期限 or 支払期限 is a DATE error in tag 62 at its position."""
    at = 131 + offset
    text = SAMPLE[:at] + bad + SAMPLE[at + 8 : -9]
    result = decode_elqr(seal(text))
    assert [(e.code, e.field, e.position, e.found) for e in result.errors] == [(ErrorCode.DATE, "62", at, bad)]


def test_amount_mismatch() -> None:
    """Tag 54 and the MPN 払込金額 must agree."""
    text = SAMPLE[:116] + "00000012301" + SAMPLE[127:-9]
    assert codes(seal(text)) == [ErrorCode.MISMATCH]


def test_reserved_not_zero_is_a_warning() -> None:
    """A non-zero reserved tag 80 is a warning: the value stays valid."""
    text = SAMPLE[:161] + "1" + SAMPLE[162:-9]
    result = decode_elqr(seal(text))
    (error,) = result.errors
    assert (error.code, error.severity, error.position) == (ErrorCode.VALUE, Severity.WARNING, 161)
    assert result.valid


def test_non_ascii() -> None:
    """A non-ASCII character is reported where it is, and no CRC is judged over it."""
    text = SAMPLE[:140] + "２" + SAMPLE[141:]
    result = decode_elqr(text)
    assert not result.valid
    assert (ErrorCode.NOT_ASCII, 140) in [(e.code, e.position) for e in result.errors]
    assert ErrorCode.CRC not in codes(text)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(tax_item_code="12"),
        dict(case_key="1" * 19),
        dict(confirmation_number="12345a"),
        dict(amount=-1),
        dict(period_code="1"),
        dict(common_tax_institution_code="123456"),
    ],
)
def test_encode_refuses_fields_that_do_not_fit(kwargs: dict) -> None:
    """encode_elqr raises ValueError for a field that does not fit the layout."""
    with pytest.raises(ValueError):
        encode_elqr(**{**SAMPLE_FIELDS, **kwargs})


elqr_fields = st.fixed_dictionaries(
    {
        "amount": st.integers(0, 99_999_999_999),
        "tax_item_code": st.text("0123456789", min_size=3, max_size=3),
        "case_key": st.text("0123456789", min_size=20, max_size=20),
        "confirmation_number": st.text("0123456789", min_size=6, max_size=6),
        "common_tax_institution_code": st.text("0123456789", min_size=5, max_size=5),
        "levy_year": st.integers(2000, 2099),
        "tax_year": st.integers(2000, 2099),
        "period_code": st.text("0123456789", min_size=2, max_size=2),
        "due_date": st.dates(date(2000, 1, 1), date(2099, 12, 31)),
        "payment_deadline": st.dates(date(2000, 1, 1), date(2099, 12, 31)),
        "tax_office_code": st.text("0123456789", min_size=3, max_size=3),
    }
)


@given(elqr_fields)
def test_round_trip(fields: dict) -> None:
    """decode(encode(fields)) is valid and gives the fields back."""
    result = decode_elqr(encode_elqr(**fields))
    assert result.valid, result.errors
    for name, value in fields.items():
        assert result.fields[name] == value


@given(st.integers(0, 249), st.characters(min_codepoint=0x20, max_codepoint=0x7E))
def test_crc_detects_any_single_changed_character(index: int, char: str) -> None:
    """Changing any one character before the CRC value changes the CRC, and the string is never valid."""
    if SAMPLE[index] == char:
        return
    changed = SAMPLE[:index] + char + SAMPLE[index + 1 :]
    assert crc16_ccitt_false(changed[:250].encode("ascii")) != crc16_ccitt_false(SAMPLE[:250].encode("ascii"))
    assert not decode_elqr(changed).valid


@given(st.integers(250, 254), st.sampled_from("0123456789"))
def test_changed_crc_digit_is_detected(index: int, digit: str) -> None:
    """Changing a digit of the CRC value itself is a CRC error."""
    if SAMPLE[index] == digit:
        return
    changed = SAMPLE[:index] + digit + SAMPLE[index + 1 :]
    assert codes(changed) == [ErrorCode.CRC]


@given(st.text(max_size=300))
def test_never_raises(value: str) -> None:
    """Any text at all decodes to a result, never an exception."""
    assert decode_elqr(value).valid in (True, False)


def test_a_codec_rule_names_the_error_not_an_earlier_warning() -> None:
    """A reserved tag that is not zeros is only a warning, found before the CRC: a field holding such an eL-QR
    whose CRC is wrong is refused for its check digit (the CRC), not for the warning."""
    import construct

    from formats.codecs import first_error
    from formats.declarative import CodecRule
    from formats.errors import Reason
    from formats.fields import Text
    from formats.layout import RecordLayout

    at = SAMPLE.index("8085") + 4  # tag 80, 85 characters of reserved zeros
    changed = SAMPLE[:at] + "1" + SAMPLE[at + 1 :]  # not zeros: a warning; and the CRC no longer fits
    result = decode_elqr(changed)
    assert [issue.code for issue in result.errors][:1] == [ErrorCode.VALUE] and not result.valid
    assert first_error(result).code is ErrorCode.CRC
    layout = RecordLayout(
        "data", "データ", construct.Struct("qr" / Text(len(changed), "ascii") * "eL-QR"), length=len(changed)
    )
    (issue,) = CodecRule("qr", "elqr").check(layout, {"qr": changed}, changed.encode("ascii"))
    assert issue.code is Reason.FIELD_CHECK_DIGIT
