"""Record layouts: sizes, round trips (build ∘ parse, parse ∘ build), and layout errors."""

from __future__ import annotations

import datetime as dt

import construct
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.charset import get_charset
from formats.checkdigits import my_number_check_digit
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
from formats.layout import LayoutError, RecordLayout
from formats.registry import FORMATS

RECORD_LAYOUTS = sorted(
    {
        (layout.id, record.name): record for layout in FORMATS.values() for _, (_, record) in layout.records.items()
    }.items()
)
RECORD_LENGTHS = {layout.id: layout.record_length for layout in FORMATS.values()}


def _text_chars(kind: Text) -> list[str]:
    return sorted({bytes([b]).decode("cp932") for b in kind.charset.allowed(True)})


def strategy_for(kind):
    """Values a field kind must build and parse back unchanged."""
    if isinstance(kind, Constant):
        return st.just(kind.value.decode("ascii"))
    if isinstance(kind, Filler):
        return st.none()
    if isinstance(kind, Numeric):
        values = st.integers(min_value=0, max_value=10**kind.width - 1)
        return st.one_of(st.none(), values) if kind.optional else values
    if isinstance(kind, Digits):
        size = (
            dict(min_size=kind.width, max_size=kind.width)
            if kind.align == "zero"
            else dict(min_size=1, max_size=kind.width)
        )
        values = st.text("0123456789", **size)
        return st.one_of(st.none(), values) if kind.optional else values
    if isinstance(kind, Text):
        chars = _text_chars(kind)
        values = st.text(chars, max_size=kind.width).map(lambda s: s.rstrip(" "))
        return values.filter(bool) if kind.required else values
    if isinstance(kind, DoubleByteText):
        return st.text("試験市町村丁目番地あいうアイウ漢字", max_size=kind.width // 2)
    if isinstance(kind, Code):
        values = st.sampled_from(sorted(kind.codes))
        return st.one_of(st.none(), values) if kind.optional else values
    if isinstance(kind, Date):
        if kind.fmt == "MMDD":
            return st.dates(dt.date(2000, 1, 1), dt.date(2000, 12, 31)).map(lambda d: d.strftime("%m%d"))
        if kind.fmt == "YYMMDD":
            return st.dates(dt.date(1970, 1, 1), dt.date(2069, 12, 31))
        if kind.fmt == "GYYMMDD":
            return st.dates(dt.date(1926, 12, 25), dt.date(2050, 12, 31))
        return st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31))
    raise AssertionError(f"no strategy for {kind!r}")


_HALF = st.one_of(st.text("0123456789", min_size=10, max_size=10), st.just(" " * 10))

#: Fields whose valid values depend on a record rule, not only on their kind.
OVERRIDES = {
    # 顧客コード1・2: two halves, each ten digits or ten spaces (識別表示 not "Y")
    ("data", "customer_codes"): st.tuples(_HALF, _HALF).map(lambda h: (h[0] + h[1]).rstrip(" ")),
    ("data", "edi_flag"): st.none(),
    # 個人番号: 11 digits and their check digit (or blank)
    ("data", "my_number"): st.one_of(
        st.none(), st.text("0123456789", min_size=11, max_size=11).map(lambda b: b + str(my_number_check_digit(b)))
    ),
}
_STRATEGIES: dict[int, st.SearchStrategy] = {}


def record_values(record: RecordLayout):
    if id(record) not in _STRATEGIES:
        _STRATEGIES[id(record)] = st.fixed_dictionaries(
            {
                spec.name: OVERRIDES[(record.name, spec.name)]
                if (record.name, spec.name) in OVERRIDES
                else strategy_for(spec.kind)
                for spec in record.fields
            }
        )
    return _STRATEGIES[id(record)]


@pytest.mark.parametrize(("where", "record"), RECORD_LAYOUTS, ids=lambda v: "/".join(v) if isinstance(v, tuple) else "")
def test_record_size_is_the_record_length(where, record):
    """Every record layout's Construct struct is exactly its file's record length (120 for Zengin)."""
    assert record.struct.sizeof() == record.length == RECORD_LENGTHS[where[0]]
    if where[0].startswith("zengin-"):
        assert record.length == 120


@pytest.mark.parametrize(("where", "record"), RECORD_LAYOUTS, ids=lambda v: "/".join(v) if isinstance(v, tuple) else "")
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip(where, record, data):
    """parse(build(values)) == values and build(parse(bytes)) == bytes, for any valid values."""
    values = data.draw(record_values(record))
    if "bank_code" in values and record.name == "data":
        values.update(bank_code="0001", branch_code="001")  # known codes: no warnings to filter
    raw = record.build(values)
    assert len(raw) == record.length
    parsed = record.parse(raw)
    expected = {spec.name: values[spec.name] for spec in record.fields if spec.reported}
    assert parsed == expected
    checked, issues = record.check(raw)
    assert not [issue for issue in issues if issue.severity == "error"]
    assert checked == expected
    assert record.build(parsed) == raw
    assert record.encode(values) == raw  # the fast builder gives Construct's bytes
    assert record.decode_clean(raw) == expected  # and the fast reader Construct's values


def test_build_error_names_the_field():
    """A value that does not fit says which record and field (Japanese and English)."""
    record = FORMATS["zengin-91"].layout_for("data")
    values = {spec.name: None for spec in record.fields}
    values.update(
        bank_code="0001",
        branch_code="001",
        account_type="1",
        account_number="1234567",
        account_holder="ﾃｽﾄ",
        amount=10**10,
        new_code="0",
        customer_number="1",
    )
    with pytest.raises(FieldBuildError, match=r"record data, field 引落金額 \(amount\): .*11 digits"):
        record.build(values)


def test_layout_size_mismatch_is_refused():
    """A layout whose fields do not add up to the record length fails with both numbers."""
    with pytest.raises(LayoutError, match="add up to 119 bytes, the record length is 120"):
        RecordLayout("bad", "不正", construct.Struct("a" / Numeric(119) * "項目"), length=120)


def test_layout_duplicate_names_are_refused():
    """Two fields with one name are refused, naming it."""
    with pytest.raises(LayoutError, match="'a' is used twice"):
        RecordLayout(
            "bad", "不正", construct.Struct("a" / Numeric(60) * "項目", "a" / Numeric(60) * "項目"), length=120
        )


def test_layout_needs_field_kinds():
    """Raw Construct fields are refused: every field must be a field kind with its name."""
    with pytest.raises(LayoutError, match="not a field kind"):
        RecordLayout("bad", "不正", construct.Struct("a" / construct.Bytes(120)), length=120)


def test_charsets_are_known():
    """The charsets the layouts name exist and refuse small kana in strict mode."""
    for name in ("zengin-name", "zengin-name-wo", "zengin-bank-name"):
        assert 0xAF not in get_charset(name).allowed(True)


def test_the_collection_intake_trailer_proves_its_late_fee_and_dunning_fee_totals(tmp_path):
    """The intake's 延滞金合計 and 督促手数料合計 are control totals too: a wrong one refuses the file, at its field."""
    import datetime as dt

    from adapters.renderers import CollectionIntakeRenderer, OutputMeta
    from formats.registry import get_format
    from formats.validate import validate_path
    from gateway.model.records import Payment

    COLLECTION_INTAKE = get_format("collection-intake")
    renderer = CollectionIntakeRenderer()
    source = {"file_id": "F1", "channel": "ocr", "record": 2, "offset": 0}
    content = (
        renderer.begin(OutputMeta("F1", "ocr", "ocr", dt.date(2024, 6, 1)))
        + renderer.add(
            Payment(
                kind="ocr",
                status="paid",
                reconciliation_key="K1",
                principal=5000,
                late_fee=100,
                dunning_fee=0,
                source=source,
            )
        )
        + renderer.end()
    )
    good = tmp_path / "good.dat"
    good.write_bytes(content)
    assert validate_path(good, COLLECTION_INTAKE).status == "ok"
    trailer = content.split(b"\r\n")[2]
    bad = tmp_path / "bad.dat"
    bad.write_bytes(content.replace(trailer, trailer[:23] + b"000000000999" + trailer[35:]))  # 延滞金合計, bytes 24–35
    result = validate_path(bad, COLLECTION_INTAKE)
    assert [(e.code, e.field) for e in result.errors] == [("TRAILER_AMOUNT_MISMATCH", "late_fee_total")]


def test_a_misspelt_further_total_does_not_make_a_layout():
    """A further total naming a field the trailer (or the data record) does not have is a layout error,
    not a check that silently never runs."""
    import dataclasses

    from formats.layout import LayoutError
    from formats.layouts.payment_info import PAYMENT_INFO

    with pytest.raises(LayoutError, match="trailer field 'late_fee_totl' must be Numeric"):
        dataclasses.replace(
            PAYMENT_INFO, totals=dataclasses.replace(PAYMENT_INFO.totals, extra={"late_fee_totl": "late_fee"})
        )
    with pytest.raises(LayoutError, match="data field 'late_fe' must be Numeric"):
        dataclasses.replace(
            PAYMENT_INFO, totals=dataclasses.replace(PAYMENT_INFO.totals, extra={"late_fee_total": "late_fe"})
        )
