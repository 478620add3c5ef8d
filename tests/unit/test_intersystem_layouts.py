"""Inter-system layouts (調定データ, 収納情報, 宛名情報, MICJET 番号連携, 公金受取口座):
golden files, identification, round trips of every record layout, and the 個人番号 rule.

The golden files live under tests/data/<layout id>/ (hand-written samples beside their
expected results, listed in each folder's README.md); the comparison is the one of
tests/unit/test_golden.py. The layouts in Python are taken from their modules; those described
in layout files (formats/layouts/<id>.toml) from the built-in formats (formats.registry.FORMATS).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.builder import FileBuilder, Group
from formats.checkdigits import is_valid_my_number, my_number_check_digit
from formats.errors import FieldError, Reason, Severity
from formats.fastpath import validate_fast
from formats.fields import Code, Constant, Date, Digits, DoubleByteText, Filler, Numeric, Text
from formats.layout import FileLayout, RecordLayout
from formats.layouts.micjet import MICJET_LINKAGE, PUBLIC_FUND_ACCOUNT, MyNumberCheckDigit
from formats.layouts.payment_info import PAYMENT_INFO, RECONCILIATION
from formats.reader import field_rejection
from formats.registry import FORMATS
from formats.validate import validate_path, validate_stream
from tests.support.paths import DATA

LEVY_ASSESSMENT = FORMATS["levy-assessment"]
ADDRESS = FORMATS["address"]
LAYOUTS: dict[str, FileLayout] = {
    layout.id: layout
    for layout in (LEVY_ASSESSMENT, PAYMENT_INFO, RECONCILIATION, ADDRESS, MICJET_LINKAGE, PUBLIC_FUND_ACCOUNT)
}
DATA_DIR = DATA
CASES = sorted(path for layout_id in LAYOUTS for path in (DATA_DIR / layout_id).glob("*.dat"))
KEYS = ("record", "offset", "field", "code", "level")

# Invented individual numbers (never a real person's): 11-digit bodies with their check
# digit computed by the rule of payment-channels.md §5. For 12345678901, counting from
# the right P(1..11) = 1 0 9 8 7 6 5 4 3 2 1 and Q = 2 3 4 5 6 7 2 3 4 5 6:
# 2 + 0 + 36 + 40 + 42 + 42 + 10 + 12 + 12 + 10 + 6 = 212; 212 mod 11 = 3; 11 - 3 = 8.
MY_NUMBER = "123456789018"
MY_NUMBER_2 = "987654321093"
MY_NUMBER_R0 = "271828182840"  # r ≤ 1: check digit 0
BAD_MY_NUMBER = "123456789010"  # the check digit should be 8


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))


PARSED_CASES = [path for path in CASES if "parsed" in _expected(path)]


# -- golden files ------------------------------------------------------------------------


def test_every_layout_has_golden_cases():
    """Each layout's folder has a clean file with parsed records and at least four bad files."""
    for layout_id in LAYOUTS:
        cases = [path for path in CASES if path.parent.name == layout_id]
        statuses = [_expected(path)["status"] for path in cases]
        assert any(path in PARSED_CASES for path in cases), layout_id
        assert sum(status != "ok" for status in statuses) >= 4, layout_id


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_format_is_its_folder(path: Path):
    """A golden file's expected format is the layout its folder is named after."""
    assert _expected(path)["format"] == path.parent.name


# The golden files themselves are compared with their expectations by tests/unit/test_golden.py, which walks
# every tests/data/<format>/ folder (these layouts' folders included), on both validation paths.


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_personal_values_never_appear_in_rejections(path: Path):
    """No rejection or warning of a golden file shows a 個人番号, and personal fields are masked."""
    expected = _expected(path)
    result = validate_path(path, LAYOUTS[expected["format"]]).as_dict()
    text = json.dumps(result, ensure_ascii=False)
    for number in (MY_NUMBER, MY_NUMBER_2, MY_NUMBER_R0, BAD_MY_NUMBER, "12345678901A"):
        assert number not in text
    for item in result["rejected"] + result["warnings"]:
        if item["field"] in ("my_number", "name", "address", "address_line2", "birth_date", "account_holder"):
            assert "*" in item["found"] or item["found"].strip() == ""


# -- identification --------------------------------------------------------------------------

#: Golden files that carry another layout's header on purpose (validated as their folder's format).
FOREIGN_HEADERS = {"reconciliation/header_wrong_layout_id.dat": "payment-info"}


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
def test_identify_by_header(layout_id: str):
    """Each layout recognises its own header (the layout id after the record type) and no other file's."""
    layout = LAYOUTS[layout_id]
    assert layout.identify is not None
    own = (DATA_DIR / layout_id / "clean_crlf.dat").read_bytes()
    assert layout.identify(own[: layout.record_length])
    others = [
        path
        for path in DATA_DIR.glob("*/*.dat")
        if path.parent.name != layout_id
        and path.stat().st_size
        and FOREIGN_HEADERS.get(f"{path.parent.name}/{path.name}") != layout_id
    ]
    assert others
    for path in others:
        assert not layout.identify(path.read_bytes()[:128]), path


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
def test_no_other_format_claims_the_file(layout_id: str):
    """Of every built-in format and these five, exactly one accepts a clean file's first record."""
    first = (DATA_DIR / layout_id / "clean_crlf.dat").read_bytes()[:128]
    candidates = {**FORMATS, **LAYOUTS}
    assert [fid for fid, layout in candidates.items() if layout.identify and layout.identify(first)] == [layout_id]


# -- round trips of every record layout ---------------------------------------------------

RECORDS = [(layout.id, record) for layout in LAYOUTS.values() for _, (_, record) in layout.records.items()]

_KANJI = "試験見本架空市町村丁目番地号室荘棟あいうアイウ漢字一二三１２３　"


def _valid_my_numbers() -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=11, max_size=11).map(lambda body: body + str(my_number_check_digit(body)))


def strategy_for(record: RecordLayout, name: str) -> st.SearchStrategy[Any]:
    """Values a field must build and parse back unchanged."""
    kind = record.by_name[name].kind
    if any(isinstance(rule, MyNumberCheckDigit) and rule.field == name for rule in record.rules):
        return st.one_of(st.none(), _valid_my_numbers())
    if name == "bank_code":
        return st.just("0001")  # known codes: no warnings to filter
    if name == "branch_code":
        return st.just("001")
    if isinstance(kind, Constant):
        return st.just(kind.value.decode("ascii"))
    if isinstance(kind, Filler):
        return st.none()
    if isinstance(kind, Numeric):
        values = st.integers(min_value=0, max_value=10**kind.width - 1)
        return st.one_of(st.none(), values) if kind.optional else values
    if isinstance(kind, Digits):
        size = (
            {"min_size": kind.width, "max_size": kind.width}
            if kind.align == "zero"
            else {"min_size": 1, "max_size": kind.width}
        )
        values = st.text("0123456789", **size)
        return st.one_of(st.none(), values) if kind.optional else values
    if isinstance(kind, Text):
        chars = sorted({bytes([b]).decode("cp932") for b in kind.charset.allowed(True)})
        values = st.text(chars, max_size=kind.width).map(lambda s: s.rstrip(" "))
        return values.filter(bool) if kind.required else values
    if isinstance(kind, DoubleByteText):
        values = st.text(_KANJI, max_size=kind.width // 2).map(lambda s: s.rstrip("\u3000"))
        return values if kind.optional else values.filter(bool)
    if isinstance(kind, Code):
        codes = st.sampled_from(sorted(kind.codes))
        return st.one_of(st.none(), codes) if kind.optional else codes
    if isinstance(kind, Date):
        if kind.fmt == "GYYMMDD":
            dates = st.dates(dt.date(1868, 10, 23), dt.date(2087, 12, 31))  # 明治元年 … 令和69年
        else:
            dates = st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31))
        return st.one_of(st.none(), dates) if kind.optional else dates
    raise AssertionError(f"no strategy for {kind!r}")


def record_values(record: RecordLayout) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({spec.name: strategy_for(record, spec.name) for spec in record.fields})


@pytest.mark.parametrize(("layout_id", "record"), RECORDS, ids=lambda v: v if isinstance(v, str) else v.name)
def test_record_size(layout_id: str, record: RecordLayout):
    """Every record layout is exactly its file's record length."""
    assert record.struct.sizeof() == record.length == LAYOUTS[layout_id].record_length


@pytest.mark.parametrize(("layout_id", "record"), RECORDS, ids=lambda v: v if isinstance(v, str) else v.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip(layout_id: str, record: RecordLayout, data: st.DataObject):
    """build ∘ parse and parse ∘ build are identities for any valid values, on every path."""
    values = data.draw(record_values(record))
    raw = record.build(values)
    assert len(raw) == record.length
    expected = {spec.name: values[spec.name] for spec in record.fields if spec.reported}
    assert record.parse(raw) == expected
    checked, issues = record.check(raw)
    assert not [issue for issue in issues if issue.severity is Severity.ERROR]
    assert checked == expected
    assert record.build(checked) == raw
    assert record.encode(values) == raw
    assert record.decode_clean(raw) == expected


#: Trailer fields that are sums of a data field besides the main amount (checked too).
EXTRA_SUMS = {
    "payment-info": {"late_fee_total": "late_fee", "dunning_fee_total": "dunning_fee"},
    "reconciliation": {"late_fee_total": "late_fee", "dunning_fee_total": "dunning_fee"},
}


def _assemble(layout: FileLayout, header: dict[str, Any], records: list[dict[str, Any]]) -> bytes:
    """A whole file: header, data, a trailer with every total computed, end; CRLF after each record.

    Computed here independently of FileBuilder, and compared with what FileBuilder writes.
    """
    totals = layout.totals
    trailer = {totals.count_field: len(records), totals.amount_field: sum(r[totals.data_amount_field] for r in records)}
    for trailer_field, data_field in EXTRA_SUMS.get(layout.id, {}).items():
        trailer[trailer_field] = sum(r[data_field] for r in records)
    parts = [
        layout.layout_for("header").build(header),
        *(layout.layout_for("data").build(r) for r in records),
        layout.layout_for("trailer").build(trailer),
        layout.layout_for("end").build({}),
    ]
    assert FileBuilder(layout, normalise=False).to_bytes([Group(header, records)]) == b"".join(
        part + b"\r\n" for part in parts
    )
    return b"".join(part + b"\r\n" for part in parts)


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_built_files_validate(tmp_path_factory: pytest.TempPathFactory, layout_id: str, data: st.DataObject):
    """A file assembled from valid values with computed totals validates ok on both paths, totals included."""
    layout = LAYOUTS[layout_id]
    header = data.draw(record_values(layout.layout_for("header")))
    records = data.draw(st.lists(record_values(layout.layout_for("data")), min_size=1, max_size=5))
    content = _assemble(layout, header, records)
    path = tmp_path_factory.mktemp("built") / "file.dat"
    path.write_bytes(content)
    fast = validate_path(path, layout)
    slow = validate_stream(io.BytesIO(content), layout, name=str(path))
    assert fast.as_dict() == slow.as_dict()
    assert fast.status == "ok", fast.errors
    amount = layout.totals.data_amount_field
    assert fast.groups[0].computed == {
        "count": len(records),
        "amount": sum(r[amount] for r in records),
        **{total: sum(r[data_field] for r in records) for total, data_field in EXTRA_SUMS.get(layout_id, {}).items()},
    }


# -- the 個人番号 rule -----------------------------------------------------------------------

LINKAGE = MICJET_LINKAGE.layout_for("data")


def _linkage(my_number: bytes) -> bytes:
    assert len(my_number) == 12
    return b"2" + b"0000001" + b"1" + b"000000000000101" + b"000000000012345" + my_number + b"20240601" + b" " * 21


def test_example_arithmetic():
    """The worked example in this module's comment: body 12345678901 has check digit 8."""
    assert my_number_check_digit("12345678901") == 8
    assert all(is_valid_my_number(number) for number in (MY_NUMBER, MY_NUMBER_2, MY_NUMBER_R0))
    assert not is_valid_my_number(BAD_MY_NUMBER)


@pytest.mark.parametrize("number", [MY_NUMBER, MY_NUMBER_2, MY_NUMBER_R0])
def test_valid_my_number_is_accepted(number: str):
    """A number whose check digit is right parses with no issue."""
    values, issues = LINKAGE.check(_linkage(number.encode()))
    assert issues == []
    assert values["my_number"] == number


def test_blank_my_number_is_not_checked():
    """All spaces means no number held: None, and the rule says nothing."""
    values, issues = LINKAGE.check(_linkage(b" " * 12))
    assert issues == []
    assert values["my_number"] is None


def test_wrong_check_digit_is_an_error_at_the_field():
    """A wrong check digit is FIELD_CHECK_DIGIT, an error (never a warning), at the field's 12th byte."""
    raw = _linkage(BAD_MY_NUMBER.encode())
    _, issues = LINKAGE.check(raw)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.code is Reason.FIELD_CHECK_DIGIT
    assert issue.severity is Severity.ERROR
    assert issue.field.name == "my_number" and issue.field.label == "個人番号"
    assert issue.position == 11
    assert issue.found == BAD_MY_NUMBER.encode()


def test_wrong_check_digit_is_masked_in_the_rejection():
    """The rejection an operator reads names the field but never shows the number, not even in part."""
    _, issues = LINKAGE.check(_linkage(BAD_MY_NUMBER.encode()))
    rejection = field_rejection(issues[0], record=2, record_offset=82)
    assert rejection.offset == 82 + 39
    assert rejection.found == "*" * 12
    assert BAD_MY_NUMBER not in rejection.message
    assert BAD_MY_NUMBER[:6] not in rejection.message and BAD_MY_NUMBER[-3:] not in rejection.message


def test_non_digit_my_number_is_a_field_error_not_a_check_digit_error():
    """A letter in the number is FIELD_NOT_NUMERIC of the field; the check-digit rule does not run."""
    for raw in (b"12345678901A", b"12345678901 ", b" 23456789018"):
        _, issues = LINKAGE.check(_linkage(raw))
        assert [issue.code for issue in issues] == [Reason.FIELD_NOT_NUMERIC], raw


@given(body=st.text("0123456789", min_size=11, max_size=11), wrong=st.integers(min_value=1, max_value=9))
def test_every_other_check_digit_is_refused(body: str, wrong: int):
    """For any body, the right check digit is accepted and each of the nine others refused."""
    right = my_number_check_digit(body)
    assert LINKAGE.check(_linkage(f"{body}{right}".encode()))[1] == []
    _, issues = LINKAGE.check(_linkage(f"{body}{(right + wrong) % 10}".encode()))
    assert [issue.code for issue in issues] == [Reason.FIELD_CHECK_DIGIT]


@settings(max_examples=200)
@given(
    rows=st.lists(
        st.one_of(
            st.text("0123456789", min_size=12, max_size=12),
            _valid_my_numbers(),
            st.just(" " * 12),
        ),
        min_size=1,
        max_size=16,
    )
)
def test_vector_rule_agrees_with_the_record_rule(rows: list[str]):
    """The fast path's vectorised check digit accepts exactly the numbers the record rule accepts."""
    rule = LINKAGE.rules[0]
    assert isinstance(rule, MyNumberCheckDigit)
    block = np.frombuffer(b"".join(_linkage(row.encode()) for row in rows), dtype=np.uint8).reshape(len(rows), 80)
    spec = LINKAGE.by_name["my_number"]
    fast = rule.vector_ok(LINKAGE, lambda name: block[:, spec.offset : spec.offset + spec.width]).tolist()
    slow = [not LINKAGE.check(_linkage(row.encode()))[1] for row in rows]
    assert fast == slow


def test_only_the_linkage_file_carries_an_individual_number():
    """personal="mynumber" appears in micjet-linkage only; levy, payment, address and account files have none."""
    for layout in LAYOUTS.values():
        numbered = [
            (record.name, spec.name)
            for _, (_, record) in layout.records.items()
            for spec in record.fields
            if spec.personal == "mynumber"
        ]
        assert numbered == ([("data", "my_number")] if layout is MICJET_LINKAGE else []), layout.id
        names = {spec.name for _, (_, record) in layout.records.items() for spec in record.fields}
        assert ("my_number" in names) == (layout is MICJET_LINKAGE), layout.id


def test_personal_fields_are_marked():
    """Names, birth dates, sex, addresses, account numbers and identifiers are marked for masking."""
    marks = {
        "address": {
            "name": "name",
            "kana_name": "name",
            "delivery_name": "name",
            "birth_date": "other",
            "sex": "other",
            "postal_code": "other",
            "address": "other",
            "address_line2": "other",
            "delivery_postal_code": "other",
            "delivery_address": "other",
            "delivery_address_line2": "other",
            "resident_code": "account",
        },
        "public-fund-account": {
            "account_number": "account",
            "account_holder": "name",
            "resident_code": "account",
            "integrated_address_number": "account",
        },
        "micjet-linkage": {"my_number": "mynumber", "resident_code": "account", "integrated_address_number": "account"},
        "levy-assessment": {"resident_code": "account"},
        "payment-info": {"resident_code": "account"},
    }
    for layout_id, expected in marks.items():
        data = LAYOUTS[layout_id].layout_for("data")
        assert {spec.name: spec.personal for spec in data.fields if spec.personal} == expected, layout_id


# -- field kinds at the edges the address file needs ---------------------------------------

BIRTH = ADDRESS.layout_for("data").by_name["birth_date"].kind
LINE2 = ADDRESS.layout_for("data").by_name["address_line2"].kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"3640107", dt.date(1989, 1, 7)),  # 昭和64年1月7日, the last day of 昭和
        (b"4010108", dt.date(1989, 1, 8)),  # 平成元年1月8日
        (b"4310430", dt.date(2019, 4, 30)),  # 平成31年4月30日, the last day of 平成
        (b"5010501", dt.date(2019, 5, 1)),  # 令和元年5月1日
        (b"1010101", None),  # 明治元年1月1日 is before 明治 began (1868-10-23): refused
        (b"0000000", "blank"),
    ],
)
def test_wareki_birth_dates(raw: bytes, expected: Any):
    """和暦 birth dates decode to the day they name, within their era only."""
    if expected is None:
        with pytest.raises(FieldError):
            BIRTH.decode(raw)
    elif expected == "blank":
        assert BIRTH.decode(raw) is None
    else:
        assert BIRTH.decode(raw) == expected
        assert BIRTH.encode(expected) == raw


@pytest.mark.parametrize("raw", [b"6010101", b"0630415", b"4310501", b"4320101", b"3640108", b"3500230", b"5000101"])
def test_bad_wareki_is_field_date(raw: bytes):
    """Era codes 6 and 0, days after an era ended (平成31年5月1日, 平成32年, 昭和64年1月8日), 2月30日 and era year 0."""
    with pytest.raises(FieldError) as caught:
        BIRTH.decode(raw)
    assert caught.value.code is Reason.FIELD_DATE


def test_double_byte_cut_at_the_field_end():
    """A 方書 cut after 30 characters leaves the 31st's lead byte as the 61st byte: FIELD_DOUBLE_BYTE there."""
    text = "架空ハイツ一二三四五六七八九十号棟の奥の部屋一二三四五六七八九"  # 31 characters
    assert len(text) == 31
    cut = text.encode("cp932")[:61]
    with pytest.raises(FieldError) as caught:
        LINE2.decode(cut)
    assert caught.value.code is Reason.FIELD_DOUBLE_BYTE
    assert caught.value.position == 60
    assert LINE2.decode(text[:30].encode("cp932") + b" ") == text[:30]


def test_half_width_padding_after_full_width_text_is_accepted():
    """Some senders pad full-width fields with half-width spaces after the text: read as the text alone.

    (Golden files use full-width padding, the form the layout writes, so that clean records build back
    to the same bytes; half-width padding is accepted but not reproduced.)"""
    name = ADDRESS.layout_for("data").by_name["name"].kind
    assert name.decode("試験　太郎".encode("cp932").ljust(40, b" ")) == "試験　太郎"
    assert LINE2.decode("架空ハイツ".encode("cp932").ljust(61, b" ")) == "架空ハイツ"
    assert LINE2.decode(b" " * 61) == ""


def test_blank_optional_dates_read_as_none():
    """An optional date (法定納期限, 生年月日 of a 法人) that is all spaces or all zeros reads as None."""
    statutory = LEVY_ASSESSMENT.layout_for("data").by_name["statutory_due_date"].kind
    assert statutory.decode(b" " * 8) is None and statutory.decode(b"0" * 8) is None
    assert BIRTH.decode(b" " * 7) is None
    assert statutory.encode(None) == b"0" * 8  # written back as zeros


# -- the fast path agrees with the Construct path ------------------------------------------

FAST_LAYOUTS = ["levy-assessment", "payment-info", "reconciliation", "micjet-linkage", "public-fund-account"]
_BYTES = list(b"0123456789 A") + [0x82, 0xAE, 0x31, 0x32, 0x38, 0x39, 0x0A, 0x0D]


@pytest.mark.parametrize("layout_id", FAST_LAYOUTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), block=st.integers(min_value=1, max_value=4))
def test_mutated_files_agree(tmp_path: Path, layout_id: str, data: st.DataObject, block: int):
    """Whatever bytes of a clean file are changed, a fast-path result equals the Construct path's."""
    content = bytearray((DATA_DIR / layout_id / "clean_crlf.dat").read_bytes())
    for position, value in data.draw(
        st.lists(st.tuples(st.integers(0, len(content) - 1), st.sampled_from(_BYTES)), min_size=1, max_size=4)
    ):
        content[position] = value
    path = tmp_path / "file.dat"
    path.write_bytes(bytes(content))
    fast = validate_fast(path, LAYOUTS[layout_id], block_records=block)
    slow = validate_stream(io.BytesIO(bytes(content)), LAYOUTS[layout_id], name=str(path))
    if fast is not None:
        assert fast.as_dict() == slow.as_dict()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    digits=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 11), st.sampled_from("0123456789")), min_size=1, max_size=3
    )
)
def test_mutated_my_numbers_agree(tmp_path: Path, digits: list[tuple[int, int, str]]):
    """Changed digits of the 個人番号 fields are judged alike by the vector rule and the record rule."""
    content = bytearray((DATA_DIR / "micjet-linkage" / "clean_no_separator.dat").read_bytes())
    for record, position, digit in digits:
        content[80 * (record + 1) + 39 + position] = ord(digit)  # data records 2-5, 個人番号 at bytes 40-51
    path = tmp_path / "file.dat"
    path.write_bytes(bytes(content))
    fast = validate_fast(path, MICJET_LINKAGE, block_records=2)
    slow = validate_stream(io.BytesIO(bytes(content)), MICJET_LINKAGE, name=str(path))
    assert fast is not None
    assert fast.as_dict() == slow.as_dict()
