"""The 44-digit convenience-store barcode: public vector, fields, profiles, bad input, properties.

Every number here is a published sample or invented; none belongs to a real payer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.codecs import (
    DEFAULT_PROFILE,
    BarcodeProfile,
    ErrorCode,
    FreeFieldPart,
    decode_barcode,
    encode_barcode,
    expand_two_digit_year,
)

TODAY = date(2025, 4, 1)

# Public sample: github.com/barcode-jar/javafx, src/main/java/sample/BarcodeKind.java, the
# CONVENIENCE ("コンビニ収納用（GS1-128）") sample data "{FNC1}91912345000000000000004520875004013100295004"
# ({FNC1} is the GS1-128 start control, not data). Its fields: AI 91, issuer 9 + 12345, free field
# 000000000000004520875, first issue, deadline 040131 (2004-01-31), stamp flag 0, ¥29,500, CD 4.
# Check digit by hand over the 43 body digits 9191234500000000000000452087500401310029500:
#   weight-3 digits (the rightmost and every second one leftwards) 0,5,2,0,3,0,0,5,8,2,4,0,…,0,4,2,9,9 sum 53,
#   weight-1 digits 0,9,0,1,1,4,0,7,0,5,0,…,0,5,3,1,1 sum 37; 3·53 + 37 = 196; (10 − 6) mod 10 = 4.
PUBLIC = "91912345000000000000004520875004013100295004"

# Invented: issuer 9 + 00001, 利用企業コード 00002, 納付番号 0000000000123456, 2nd reissue,
# no deadline (999999), no stamp, ¥12,300. Check digit from encode_barcode.
NO_DEADLINE = encode_barcode(
    issuer_code="00001",
    free_field={"user_company_code": "00002", "customer_reference": "0000000000123456"},
    amount=12300,
    reissue=2,
)


def test_public_vector_decodes() -> None:
    """The published sample decodes to its fields with no error."""
    result = decode_barcode(PUBLIC, today=TODAY)
    assert result.valid and result.errors == ()
    assert result.ai == "91"
    assert (result.issuer_country, result.issuer_code) == ("9", "12345")
    assert result.free_field == "000000000000004520875"
    assert result.free_fields == {"user_company_code": "00000", "customer_reference": "0000000004520875"}
    assert result.reissue == 0
    assert result.deadline == date(2004, 1, 31)
    assert result.stamp_flag == 0
    assert result.amount == 29500
    assert result.check_digit == 4
    assert result.canonical == PUBLIC


def test_public_vector_is_what_encode_builds() -> None:
    """encode_barcode builds the published sample from its fields, check digit included."""
    assert (
        encode_barcode(
            issuer_code="12345", free_field="000000000000004520875", amount=29500, deadline=date(2004, 1, 31)
        )
        == PUBLIC
    )


def test_fields_are_in_layout_order() -> None:
    """fields lists the layout in order, the free-field parts under their profile names."""
    assert list(decode_barcode(PUBLIC, today=TODAY).fields) == [
        "ai",
        "issuer_country",
        "issuer_code",
        "free_field",
        "user_company_code",
        "customer_reference",
        "reissue",
        "deadline",
        "stamp_flag",
        "amount",
        "check_digit",
        "canonical",
    ]


def test_no_deadline() -> None:
    """999999 is no deadline: deadline None, no_deadline True, and still valid."""
    result = decode_barcode(NO_DEADLINE)
    assert result.valid
    assert result.deadline is None and result.no_deadline and result.deadline_raw == "999999"
    assert (result.reissue, result.amount) == (2, 12300)
    assert result.free_fields["customer_reference"] == "0000000000123456"


@pytest.mark.parametrize(
    "value", ["EAN" + PUBLIC, "EAN " + PUBLIC, "ean" + PUBLIC, "  " + PUBLIC + "\n", " EAN  " + PUBLIC + " "]
)
def test_ean_prefix_and_surrounding_spaces(value: str) -> None:
    """An "EAN" prefix and surrounding white space are accepted."""
    result = decode_barcode(value, today=TODAY)
    assert result.valid and result.amount == 29500


def test_positions_count_in_the_value_as_given() -> None:
    """An error's position is the offset in the value as given, prefix included."""
    bad = PUBLIC[:-1] + "5"
    (error,) = decode_barcode("EAN " + bad, today=TODAY).errors
    assert (error.code, error.position, error.expected, error.found) == (ErrorCode.CHECK_DIGIT, 47, "4", "5")


@pytest.mark.parametrize("value", [PUBLIC[:-1], PUBLIC + "0", "", PUBLIC[:30]])
def test_wrong_length(value: str) -> None:
    """A value that is not 44 digits is one LENGTH error, not an exception."""
    result = decode_barcode(value)
    assert not result.valid
    assert [error.code for error in result.errors] == [ErrorCode.LENGTH]
    assert result.errors[0].expected == "44 digits"
    assert result.amount is None


def test_length_error_hints_at_missing_ai() -> None:
    """A 42-digit value under the default profile suggests the barcode lost its AI."""
    (error,) = decode_barcode(PUBLIC[2:]).errors
    assert error.code == ErrorCode.LENGTH and "without the AI" in error.message


@pytest.mark.parametrize(("index", "char"), [(10, "a"), (40, "-"), (0, "x"), (20, "５")])
def test_non_digit(index: int, char: str) -> None:
    """A non-digit (full-width digits included) is a NOT_DIGIT error at its position."""
    value = PUBLIC[:index] + char + PUBLIC[index + 1 :]
    result = decode_barcode(value, today=TODAY)
    assert not result.valid
    codes = {error.code for error in result.errors}
    assert ErrorCode.NOT_DIGIT in codes
    (error,) = [error for error in result.errors if error.code == ErrorCode.NOT_DIGIT]
    assert (error.position, error.found) == (index, char)
    assert ErrorCode.CHECK_DIGIT not in codes  # no check digit is computed over a non-digit


def test_bad_check_digit() -> None:
    """A wrong check digit is a CHECK_DIGIT error with expected and found."""
    result = decode_barcode(PUBLIC[:-1] + "0", today=TODAY)
    assert not result.valid
    (error,) = result.errors
    assert (error.code, error.position, error.expected, error.found, error.field) == (
        ErrorCode.CHECK_DIGIT,
        43,
        "4",
        "0",
        "check_digit",
    )


def test_wrong_ai() -> None:
    """Any AI other than 91 is an AI error (and the check digit, which covers the AI, fails too)."""
    result = decode_barcode("90" + PUBLIC[2:], today=TODAY)
    assert {error.code for error in result.errors} == {ErrorCode.AI, ErrorCode.CHECK_DIGIT}


@pytest.mark.parametrize("deadline", ["041331", "040230", "000000", "250931"])
def test_impossible_date(deadline: str) -> None:
    """An impossible YYMMDD is a DATE error; the deadline is None, the rest still decodes."""
    body = PUBLIC[:30] + deadline + PUBLIC[36:43]
    value = body + _check_digit(body)
    result = decode_barcode(value, today=TODAY)
    assert [error.code for error in result.errors] == [ErrorCode.DATE]
    assert result.errors[0].position == 30 and result.errors[0].found == deadline
    assert result.deadline is None and not result.no_deadline and result.amount == 29500


def test_stamp_flag_must_be_zero_or_one() -> None:
    """印紙フラグ 2 is a VALUE error."""
    value = PUBLIC[:36] + "2" + PUBLIC[37:43]
    value += _check_digit(value)
    (error,) = decode_barcode(value, today=TODAY).errors
    assert (error.code, error.position, error.field) == (ErrorCode.VALUE, 36, "stamp_flag")


def _check_digit(body: str) -> str:
    from formats.checkdigits import mod10_w31

    return str(mod10_w31(body))


@pytest.mark.parametrize(("yy", "year"), [(25, 2025), (0, 2000), (75, 2075), (76, 1976), (99, 1999)])
def test_century_window(yy: int, year: int) -> None:
    """Two-digit years fall in the window today−49 … today+50 (default pivot)."""
    assert expand_two_digit_year(yy, today=TODAY) == year


def test_century_window_is_configurable() -> None:
    """A smaller pivot moves the window into the past."""
    assert expand_two_digit_year(30, today=TODAY, pivot=4) == 1930
    assert expand_two_digit_year(29, today=TODAY, pivot=4) == 2029
    value = encode_barcode(issuer_code="12345", free_field="0" * 21, amount=1, deadline=date(2030, 3, 31))
    assert decode_barcode(value, today=TODAY, pivot=4).deadline == date(1930, 3, 31)
    assert decode_barcode(value, today=TODAY).deadline == date(2030, 3, 31)


def test_profile_without_ai() -> None:
    """A profile for barcodes stored without "91" reads 42 digits and keeps positions in the value."""
    profile = BarcodeProfile(with_ai=False)
    result = decode_barcode(PUBLIC[2:], profile=profile, today=TODAY)
    assert result.valid and result.ai == "91" and result.canonical == PUBLIC
    (error,) = decode_barcode(PUBLIC[2:-1] + "0", profile=profile, today=TODAY).errors
    assert (error.code, error.position) == (ErrorCode.CHECK_DIGIT, 41)
    assert decode_barcode(PUBLIC, profile=profile).errors[0].code == ErrorCode.LENGTH


def test_profile_without_check_digit() -> None:
    """A profile for barcodes stored without a check digit computes it instead of checking it."""
    profile = BarcodeProfile(with_check_digit=False)
    result = decode_barcode(PUBLIC[:-1], profile=profile, today=TODAY)
    assert result.valid and result.check_digit == 4 and result.canonical == PUBLIC


def test_profile_without_ai_and_check_digit() -> None:
    """Both omissions together leave 41 digits."""
    profile = BarcodeProfile(with_ai=False, with_check_digit=False)
    assert profile.length == 41
    assert decode_barcode(PUBLIC[2:-1], profile=profile, today=TODAY).canonical == PUBLIC


def test_profile_issuer_width_and_free_field_split() -> None:
    """An agent's profile splits the issuer code and the free field its own way."""
    profile = BarcodeProfile(
        name="agent-x",
        issuer_code_width=6,
        free_field=(
            FreeFieldPart("tax_code", 3, "税目"),
            FreeFieldPart("notice_number", 12, "通知書番号"),
            FreeFieldPart("fiscal_year", 4),
            FreeFieldPart("instalment", 2, "期別"),
        ),
    )
    result = decode_barcode(PUBLIC, profile=profile, today=TODAY)
    assert result.issuer_country is None and result.issuer_code == "912345"
    assert result.free_fields == {
        "tax_code": "000",
        "notice_number": "000000000004",
        "fiscal_year": "5208",
        "instalment": "75",
    }
    assert result.labels["notice_number"] == "通知書番号"
    assert result.personal_fields == frozenset()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(issuer_code_width=0),
        dict(issuer_code_width=7),
        dict(free_field=(FreeFieldPart("a", 20),)),
        dict(free_field=(FreeFieldPart("a", 10), FreeFieldPart("a", 11))),
        dict(free_field=(FreeFieldPart("amount", 21),)),
    ],
)
def test_profile_refuses_impossible_layouts(kwargs: dict) -> None:
    """A profile whose parts do not make 21 digits, repeat a name or shadow a field is refused."""
    with pytest.raises(ValueError):
        BarcodeProfile(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(issuer_code="1234"),
        dict(free_field="1" * 20),
        dict(amount=1_000_000),
        dict(stamp_flag=2),
        dict(reissue=10),
        dict(free_field={"unknown": "1"}),
        dict(free_field={"user_company_code": "123"}),
    ],
)
def test_encode_refuses_fields_that_do_not_fit(kwargs: dict) -> None:
    """encode_barcode raises ValueError for a field that does not fit the layout."""
    arguments: dict[str, Any] = dict(issuer_code="12345", free_field="0" * 21, amount=100)
    arguments.update(kwargs)
    with pytest.raises(ValueError):
        encode_barcode(**arguments)


barcode_fields = st.fixed_dictionaries(
    {
        "issuer_code": st.text("0123456789", min_size=5, max_size=5),
        "free_field": st.text("0123456789", min_size=21, max_size=21),
        "amount": st.integers(0, 999_999),
        "deadline": st.none() | st.dates(date(1976, 1, 1), date(2075, 12, 31)),
        "reissue": st.integers(0, 9),
        "stamp_flag": st.integers(0, 1),
    }
)
profiles = st.sampled_from(
    [
        DEFAULT_PROFILE,
        BarcodeProfile(with_ai=False),
        BarcodeProfile(with_check_digit=False),
        BarcodeProfile(with_ai=False, with_check_digit=False),
    ]
)


@given(barcode_fields, profiles)
def test_round_trip(fields: dict, profile: BarcodeProfile) -> None:
    """decode(encode(fields)) gives the fields back, for every stored form."""
    value = encode_barcode(profile=profile, **fields)
    assert len(value) == profile.length
    result = decode_barcode(value, profile=profile, today=TODAY)
    assert result.valid, result.errors
    assert result.issuer_code == fields["issuer_code"] and result.free_field == fields["free_field"]
    assert result.amount == fields["amount"] and result.deadline == fields["deadline"]
    assert (result.reissue, result.stamp_flag) == (fields["reissue"], fields["stamp_flag"])


@given(barcode_fields, st.integers(0, 43), st.integers(1, 9))
def test_single_changed_digit_is_always_detected(fields: dict, index: int, step: int) -> None:
    """The modulus-10 3/1 check digit catches every single changed digit, the check digit included."""
    value = encode_barcode(**fields)
    changed = value[:index] + str((int(value[index]) + step) % 10) + value[index + 1 :]
    result = decode_barcode(changed, today=TODAY)
    assert not result.valid
    assert any(error.code in (ErrorCode.CHECK_DIGIT, ErrorCode.AI) for error in result.errors)
    if index >= 2:
        assert any(error.code == ErrorCode.CHECK_DIGIT for error in result.errors)


@given(st.text(max_size=60))
def test_never_raises(value: str) -> None:
    """Any text at all decodes to a result, never an exception."""
    result = decode_barcode(value, today=TODAY)
    assert result.valid == (not result.errors)
