"""Field kinds: parsing, building, errors, and agreement of the vector checks with Construct."""

from __future__ import annotations

import datetime as dt

import construct
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.errors import FieldError, Reason
from formats.fields import (
    Code,
    Constant,
    Date,
    Digits,
    DoubleByteText,
    FieldBuildError,
    Filler,
    Numeric,
    Text,
)
from formats.registry import FORMATS


def parse(kind, raw: bytes, strict: bool = True):
    return kind.parse(raw, strict=strict)


def test_numeric_parses_zero_filled_digits_to_int():
    """N fields are right-aligned, zero-filled digits and give an int."""
    assert parse(Numeric(10), b"0000012345") == 12345


def test_numeric_rejects_space_with_position():
    """A space inside an N field is FIELD_NOT_NUMERIC at that byte."""
    with pytest.raises(FieldError) as caught:
        parse(Numeric(6), b"12 456")
    assert caught.value.code is Reason.FIELD_NOT_NUMERIC
    assert caught.value.position == 2


def test_numeric_optional_blank_is_none_and_builds_spaces():
    """An optional N field of spaces is None both ways."""
    kind = Numeric(4, optional=True)
    assert parse(kind, b"    ") is None
    assert kind.build(None) == b"    "


def test_numeric_build_refuses_too_many_digits_and_negatives():
    """Building refuses values that do not fit, saying why."""
    with pytest.raises(FieldBuildError, match="7 digits, the field holds 6"):
        Numeric(6).build(1_000_000)
    with pytest.raises(FieldBuildError, match="negative"):
        Numeric(6).build(-1)


def test_digits_keep_leading_zeros():
    """Digit codes stay strings so that leading zeros survive."""
    assert parse(Digits(4), b"0001") == "0001"
    assert Digits(4).build("1") == b"0001"


def test_digits_left_aligned_space_padded():
    """顧客番号 may be left-aligned and space-padded; a digit after the padding is refused."""
    kind = Digits(8, align="left")
    assert parse(kind, b"1234    ") == "1234"
    assert kind.build("1234") == b"1234    "
    with pytest.raises(FieldError) as caught:
        parse(kind, b"12 4    ")
    assert caught.value.code is Reason.FIELD_NOT_NUMERIC


def test_text_strips_padding_and_checks_charset_on_bytes():
    """C fields give stripped text; bytes outside the charset are refused at their position."""
    kind = Text(10, "zengin-name")
    assert parse(kind, "ﾃｽﾄ ﾀﾛｳ".encode("cp932").ljust(10)) == "ﾃｽﾄ ﾀﾛｳ"
    with pytest.raises(FieldError) as caught:
        parse(kind, "ﾃｽﾄｯ".encode("cp932").ljust(10))  # small kana
    assert (caught.value.code, caught.value.position) == (Reason.FIELD_CHARSET, 3)


def test_text_double_byte_in_kana_field_is_charset_error():
    """Full-width characters in a half-width kana field are refused, never fixed."""
    with pytest.raises(FieldError) as caught:
        parse(Text(10, "zengin-name"), "テスト".encode("cp932").ljust(10))
    assert caught.value.code is Reason.FIELD_CHARSET
    assert caught.value.position == 0


def test_text_permissive_mode_accepts_what_strict_refuses():
    """A permissive channel accepts "/" and ｰ in a name; strict mode does not."""
    raw = "ﾃｽﾄ/ｰ".encode("cp932").ljust(10)
    assert parse(Text(10, "zengin-name"), raw, strict=False) == "ﾃｽﾄ/ｰ"
    with pytest.raises(FieldError):
        parse(Text(10, "zengin-name"), raw)


def test_text_required_blank_is_refused():
    """A required name of spaces only is FIELD_REQUIRED."""
    with pytest.raises(FieldError) as caught:
        parse(Text(5, "zengin-name", required=True), b"     ")
    assert caught.value.code is Reason.FIELD_REQUIRED


def test_text_build_refuses_overlong_and_foreign_characters():
    """Building names the problem: too many bytes, or a byte outside the charset."""
    with pytest.raises(FieldBuildError, match="6 bytes, the field holds 5"):
        Text(5, "zengin-name").build("ABCDEF")
    with pytest.raises(FieldBuildError, match="not allowed"):
        Text(5, "zengin-name").build("ab")


def test_double_byte_text_round_trip_and_padding():
    """全角 fields count bytes and pad with full-width spaces."""
    kind = DoubleByteText(10)
    raw = kind.build("試験")
    assert raw == "試験".encode("cp932") + "\u3000\u3000\u3000".encode("cp932")
    assert parse(kind, raw) == "試験"


def test_double_byte_text_cut_in_the_middle_of_a_character():
    """A field ending in the first byte of a double-byte character is FIELD_DOUBLE_BYTE at that byte."""
    raw = "試験".encode("cp932") + "験".encode("cp932")[:1]
    with pytest.raises(FieldError) as caught:
        parse(DoubleByteText(5), raw)
    assert (caught.value.code, caught.value.position) == (Reason.FIELD_DOUBLE_BYTE, 4)


def test_double_byte_text_refuses_half_width_inside():
    """Half-width characters between full-width ones are refused."""
    with pytest.raises(FieldError) as caught:
        parse(DoubleByteText(6), "試".encode("cp932") + b"AB" + "験".encode("cp932"))
    assert caught.value.code is Reason.FIELD_DOUBLE_BYTE


def test_code_and_constant():
    """Codes must be listed; constants must match exactly."""
    kind = Code(1, {"1": "普通", "2": "当座"})
    assert parse(kind, b"2") == "2"
    with pytest.raises(FieldError) as caught:
        parse(kind, b"5")
    assert caught.value.code is Reason.FIELD_CODE
    with pytest.raises(FieldError) as caught:
        parse(Constant(b"91"), b"21")
    assert caught.value.code is Reason.FIELD_CONSTANT


def test_filler_strict_and_permissive():
    """ダミー must be spaces in strict mode; permissive mode accepts any bytes."""
    with pytest.raises(FieldError) as caught:
        parse(Filler(4), b"  x ")
    assert (caught.value.code, caught.value.position) == (Reason.FIELD_NOT_SPACES, 2)
    assert parse(Filler(4), b"  x ", strict=False) is None


@pytest.mark.parametrize(
    ("fmt", "raw", "expected"),
    [
        ("MMDD", b"0229", "0229"),
        ("YYMMDD", b"250401", dt.date(2025, 4, 1)),
        ("YYMMDD", b"991231", dt.date(1999, 12, 31)),
        ("YYYYMMDD", b"20240229", dt.date(2024, 2, 29)),
        ("GYYMMDD", b"5060401", dt.date(2024, 4, 1)),
        ("GYYMMDD", b"4310430", dt.date(2019, 4, 30)),
        ("GYYMMDD", b"3640107", dt.date(1989, 1, 7)),
    ],
)
def test_dates(fmt, raw, expected):
    """Western and 和暦 dates parse to the right day and build back to the same bytes."""
    kind = Date(fmt)
    assert parse(kind, raw) == expected
    assert kind.build(expected) == raw


@pytest.mark.parametrize(
    ("fmt", "raw"),
    [
        ("MMDD", b"1332"),
        ("YYYYMMDD", b"20230229"),
        ("GYYMMDD", b"6010101"),
        ("GYYMMDD", b"4310501"),
        ("GYYMMDD", b"5010430"),
        ("YYMMDD", b"25 401"),
    ],
)
def test_bad_dates(fmt, raw):
    """Impossible dates, unknown era codes and dates outside their era are FIELD_DATE."""
    with pytest.raises(FieldError) as caught:
        parse(Date(fmt), raw)
    assert caught.value.code is Reason.FIELD_DATE


def test_construct_error_carries_the_field_path():
    """Parsing a whole struct raises with the path naming the bad field."""
    from formats.layouts.zengin.debit import DATA

    raw = bytearray(
        b"2"
        + b"0001"
        + b" " * 15
        + b"001"
        + b" " * 15
        + b"    "
        + b"1"
        + b"0000001"
        + b"ABC".ljust(30)
        + b"00000X0000"
        + b"0"
        + b"1".ljust(20)
        + b"0"
        + b" " * 8
    )
    with pytest.raises(construct.ValidationError) as caught:
        DATA.parse(bytes(raw))
    assert "amount" in str(caught.value.path)


# -- the fast path's vector checks agree with Construct, kind by kind ------------------

_ALPHABET = list(b"0123456789 ABZ()-./\xb1\xb6\xdd\xde\xdf\xa6\xaf\x82\xa0\x1a\x0a") + list(range(256))


def _all_fields():
    seen = {}
    for layout in FORMATS.values():
        for _key, (_role, record) in layout.records.items():
            for spec in record.fields:
                seen[(layout.id, record.name, spec.name)] = spec.kind
    return sorted(seen.items(), key=lambda item: item[0])


#: A kind's attributes that say nothing of the bytes it accepts: Construct's own bookkeeping.
_CONSTRUCT_STATE = frozenset({"name", "docs", "flagbuildnone", "parsed", "subcon"})


def _kind_key(kind):
    """What makes two field kinds the same: their class and every option they were made with
    (width, optional, align, charset, codes, fmt, pivot, value, personal …). The private
    attributes are tables derived from those options, the rest is Construct's state."""
    options = []
    for attr, value in sorted(vars(kind).items()):
        if attr.startswith("_") or attr in _CONSTRUCT_STATE:
            continue
        options.append((attr, tuple(value.items()) if isinstance(value, dict) else value))
    return type(kind), tuple(options)


def _distinct_kinds():
    """One (layout, record, field) for each distinct field kind: the first, in name order,
    of the places that kind is used (the same class and options accept the same bytes)."""
    first = {}
    for where, kind in _all_fields():
        first.setdefault(_kind_key(kind), (where, kind))
    return list(first.values())


@pytest.mark.parametrize(
    ("where", "kind"), _distinct_kinds(), ids=lambda v: "/".join(v) if isinstance(v, tuple) else ""
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_vector_check_agrees_with_construct(where, kind, data):
    """For any bytes, the fast path's vector check accepts exactly what Construct's parse accepts."""
    rows = data.draw(
        st.lists(
            st.one_of(
                st.binary(min_size=kind.width, max_size=kind.width),
                st.lists(st.sampled_from(_ALPHABET[:22]), min_size=kind.width, max_size=kind.width).map(bytes),
                st.sampled_from([b"0" * kind.width, b" " * kind.width, b"9" * kind.width]),
            ),
            min_size=1,
            max_size=8,
        )
    )
    for strict in (True, False):
        vector = kind.vector_ok(np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), kind.width), strict)
        if vector is None:
            continue
        for raw, fast in zip(rows, vector.tolist()):
            try:
                kind.parse(raw, strict=strict)
                slow = True
            except FieldError:
                slow = False
            assert fast == slow, (where, raw, strict)
