"""Layout files (config/layouts/*.toml): they compile to the same structures as the built-in
layouts, validate alike on both paths, and say exactly what is wrong with a wrong file."""

from __future__ import annotations

import datetime as dt
import io
import re
import textwrap
import tomllib
from typing import Any

import construct
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.checkdigits import SCHEMES, CheckDigitRule, mod10_w31
from formats.codelists import CODE_LISTS, load_code_lists
from formats.declarative import (
    FIELD_KINDS,
    VECTOR_SCHEMES,
    FieldCheckDigit,
    LayoutFileError,
    compile_layout,
    load_layout_dir,
    load_layout_file,
)
from formats.describe import kind_notes, layouts_markdown
from formats.fastpath import validate_fast
from formats.fields import FieldKind
from formats.layout import FileLayout, LayoutError, RecordLayout
from formats.layouts.zengin import DEBIT_91
from formats.reader import RecordReader
from formats.registry import BUILT_IN_FILES, DEFAULT_LAYOUTS, FORMATS, load_formats
from formats.validate import validate_path, validate_stream
from tests.support.paths import DATA, ROOT
from tests.unit.test_layouts import strategy_for

HERE = DATA / "declarative"
ZENGIN_TOML = HERE / "zengin-91.toml"
GOLDEN_91 = sorted((DATA / "zengin-91").glob("*.dat"))
LAYOUTS_DIR = ROOT / "config" / "layouts"
EXAMPLE = LAYOUTS_DIR / "cvs-agent-example.toml"
SAMPLES = HERE / "cvs-agent-example"

#: The attributes that make two field kinds the same kind of field.
KIND_ATTRIBUTES = ("width", "optional", "personal", "align", "required", "codes", "value", "fmt", "pivot")


@pytest.fixture(scope="module")
def zengin() -> FileLayout:
    return load_layout_file(ZENGIN_TOML)


@pytest.fixture(scope="module")
def example() -> FileLayout:
    return load_layout_file(EXAMPLE)


def _kind_facts(kind: FieldKind) -> dict[str, Any]:
    facts = {name: getattr(kind, name) for name in KIND_ATTRIBUTES if hasattr(kind, name)}
    if hasattr(kind, "charset"):
        facts["charset"] = kind.charset.name
    return {"type": type(kind), "notes": kind_notes(kind), "describe": kind.describe(), **facts}


def _fields(record: RecordLayout) -> list[tuple[Any, ...]]:
    return [(spec.name, spec.label, spec.offset, spec.width, _kind_facts(spec.kind)) for spec in record.fields]


# -- the built-in zengin-91, written as a layout file -----------------------------------


def test_zengin_toml_has_the_builtin_fields(zengin):
    """The hand-written zengin-91.toml compiles to the built-in layout's records: same fields (names, labels, offsets, widths, kinds)."""
    assert zengin.records.keys() == DEBIT_91.records.keys()
    for key, (role, record) in zengin.records.items():
        builtin_role, builtin = DEBIT_91.records[key]
        assert role == builtin_role
        assert (record.name, record.label, record.length) == (builtin.name, builtin.label, builtin.length)
        assert isinstance(record.struct, construct.Struct)
        assert _fields(record) == _fields(builtin)
        assert [type(rule) for rule in record.rules] == [type(rule) for rule in builtin.rules]
    assert zengin.totals == DEBIT_91.totals
    assert (zengin.record_length, zengin.encoding, zengin.type_offset, zengin.multi_group) == (
        DEBIT_91.record_length,
        DEBIT_91.encoding,
        DEBIT_91.type_offset,
        DEBIT_91.multi_group,
    )


def test_zengin_toml_is_described_like_the_builtin(zengin):
    """describe prints the same field tables for the layout file as for the built-in layout."""

    def tables(layout: FileLayout) -> str:
        return layouts_markdown([layout]).split("### ", 1)[1]

    assert tables(zengin) == tables(DEBIT_91)


@pytest.mark.parametrize("path", GOLDEN_91, ids=lambda p: p.stem)
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "construct"])
def test_zengin_toml_validates_golden_files_alike(zengin, path, fast):
    """Every golden zengin-91 file gives exactly the built-in layout's result (apart from the format id)."""
    compiled = validate_path(path, zengin, fast=fast).as_dict()
    builtin = validate_path(path, DEBIT_91, fast=fast).as_dict()
    assert compiled.pop("format") == "zengin-91-toml"
    assert builtin.pop("format") == "zengin-91"
    assert compiled == builtin


def test_zengin_toml_identifies_like_the_builtin(zengin):
    """The identify table accepts exactly the first records the built-in identification accepts."""
    assert len(GOLDEN_91) >= 20
    for path in GOLDEN_91:
        first = path.read_bytes()[:120]
        assert zengin.identify(first) == DEBIT_91.identify(first), path.name
    assert zengin.identify(b"191" + b" " * 117)
    assert not zengin.identify(b"121" + b" " * 117)


# -- round trips and the fast path on compiled layouts ---------------------------------


def _barcodes() -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=43, max_size=43).map(lambda body: body + str(mod10_w31(body)))


def _values(record: RecordLayout) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {spec.name: _barcodes() if spec.name == "barcode" else strategy_for(spec.kind) for spec in record.fields}
    )


@pytest.mark.parametrize("role", ["header", "data", "trailer", "end"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_example_round_trip(example, role, data):
    """On a compiled layout, parse ∘ build gives the values back and build ∘ parse the bytes back."""
    record = example.layout_for(role)
    values = data.draw(_values(record))
    raw = record.build(values)
    expected = {spec.name: values[spec.name] for spec in record.fields if spec.reported}
    assert record.parse(raw) == expected
    checked, issues = record.check(raw)
    assert issues == [] and checked == expected
    assert record.build(record.parse(raw)) == raw
    assert record.encode(values) == raw
    assert record.decode_clean(raw) == expected


def test_example_sample_round_trip(example):
    """Every record of the hand-written sample builds back to its exact bytes."""
    with (SAMPLES / "ok_crlf.dat").open("rb") as stream:
        results = list(RecordReader(stream, example))
    assert [result.role for result in results] == ["header", "data", "data", "data", "data", "trailer", "end"]
    for result in results:
        assert result.ok and result.layout is not None
        assert result.layout.build(result.values) == result.raw


def _barcode(payment_number: str, amount: int) -> str:
    """AI 91, 国コード 9, 企業コード 54321, 利用企業コード 12345, 納付番号 (16), 再発行区分 0,
    支払期限 240531, 印紙フラグ 0, 支払金額 (6), then the mod10-w31 check digit."""
    body = "91" + "9" + "54321" + "12345" + payment_number + "0" + "240531" + "0" + f"{amount:06d}"
    assert len(body) == 43
    return body + str(mod10_w31(body))


def _example_file() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Header and data values for a file of the example layout: six payments."""
    header = dict(
        serial=1,
        created_on=dt.date(2024, 6, 3),
        user_company_code="12345",
        user_company_name="テスト市",
        agent_code="54321",
        agent_name="TEST AGENT",
    )
    records = []
    for serial, (kind, amount) in enumerate(
        [("01", 12300), ("02", 12300), ("01", 4500), ("03", 4500), ("02", 800), ("02", 999999)], start=2
    ):
        records.append(
            dict(
                serial=serial,
                created_on=dt.date(2024, 6, 3),
                retailer_code="0101",
                cns_application_code="0007",
                user_company_code="12345",
                tax_code="02",
                acceptance_kind="1",
                data_kind=kind,
                data_id=None,
                paid_on=dt.date(2024, 6, 1),
                paid_time="1432",
                barcode=_barcode(f"{202401 * 10**10 + serial:016d}", amount),
                amount=amount,
                store_code="0012345",
                settlement_on=dt.date(2024, 6, 7),
                store_name="ﾃｽﾄﾏｰﾄ",
            )
        )
    return header, records


def test_built_file_of_a_compiled_layout_validates_and_reads_back(example, tmp_path):
    """Records built with a compiled layout make a file that validates ok and reads back to the same values."""
    header, records = _example_file()
    path = tmp_path / "built.dat"
    path.write_bytes(_build(example, header, records, b"\r\n"))
    result = validate_path(path, example)
    assert result.status == "ok", result.as_dict()["rejected"]
    assert result.groups[0].declared == {"count": 6, "amount": sum(r["amount"] for r in records)}
    with path.open("rb") as stream:
        data = [r.values for r in RecordReader(stream, example) if r.role == "data"]
    assert data == [{**r, "record_type": "2"} for r in records]


def _build(layout: FileLayout, header: dict[str, Any], records: list[dict[str, Any]], separator: bytes) -> bytes:
    """header, data…, trailer (totals computed), end; 蓄積連番 numbers every record.

    (FileBuilder fills only the totals of the trailer and nothing of the end record, so
    it cannot build a layout whose trailer and end carry a required 蓄積連番.)"""
    count = len(records)
    lines = [layout.layout_for("header").build(header)]
    lines += [layout.layout_for("data").build(values) for values in records]
    lines.append(
        layout.layout_for("trailer").build(
            {"serial": count + 2, "total_count": count, "total_amount": sum(r["amount"] for r in records)}
        )
    )
    lines.append(layout.layout_for("end").build({"serial": count + 3}))
    return b"".join(line + separator for line in lines)


def _mutants() -> list[tuple[str, int, bytes]]:
    """(what, byte offset in a CRLF file of 9 records, new bytes): each breaks one thing."""
    row = 122
    return [
        ("clean", 0, b""),
        ("amount not numeric", 2 * row + 90, b"X"),
        ("bad check digit", 3 * row + 89, b"+1"),  # the barcode's last digit, plus one
        ("unknown data kind", 4 * row + 29, b"09"),
        ("filler not spaces", 5 * row + 31, b"Z"),
        ("bad date", 2 * row + 34, b"20240231"),
        ("unknown record type", 6 * row + 6, b"5"),
        ("trailer count", 7 * row + 7, b"0000009"),
        ("store name double-byte", 3 * row + 109, "試".encode("cp932")),
    ]


@pytest.mark.parametrize(("what", "offset", "patch"), _mutants(), ids=lambda v: v if isinstance(v, str) else "")
def test_fast_path_agrees_on_a_compiled_layout(example, tmp_path, what, offset, patch):
    """validate_fast and the Construct path give the same result on a compiled layout, clean or broken."""
    header, records = _example_file()
    content = bytearray(_build(example, header, records, b"\r\n"))
    if patch == b"+1":
        patch = bytes([(content[offset] - 0x30 + 1) % 10 + 0x30])
    content[offset : offset + len(patch)] = patch
    path = tmp_path / "file.dat"
    path.write_bytes(bytes(content))
    fast = validate_fast(path, example, block_records=3)
    slow = validate_stream(io.BytesIO(bytes(content)), example, name=str(path))
    assert fast is not None, "a compiled layout with a check digit still takes the fast path"
    assert fast.as_dict() == slow.as_dict()
    assert (slow.status == "ok") == (what == "clean")


@pytest.mark.parametrize("path", GOLDEN_91[:12], ids=lambda p: p.stem)
def test_fast_path_agrees_on_the_zengin_toml(zengin, path):
    """On the compiled zengin-91.toml, the fast path and the Construct path agree on golden files."""
    fast = validate_fast(path, zengin, block_records=2)
    slow = validate_stream(io.BytesIO(path.read_bytes()), zengin, name=str(path))
    if fast is not None:
        assert fast.as_dict() == slow.as_dict()


# -- the example layouts in config/layouts ---------------------------------------------


def test_example_layouts_load():
    """Every file of config/layouts loads; the convenience-store example has the seed's fields and 120-byte records."""
    layouts = load_layout_dir(LAYOUTS_DIR, reserved=FORMATS)
    assert "cvs-agent-example" in layouts
    assert list(layouts) == sorted(layouts)
    example = layouts["cvs-agent-example"]
    assert example.record_length == 120
    assert [role for role, _ in example.records.values()] == ["header", "data", "trailer", "end"]
    labels = [spec.label for spec in example.layout_for("data").fields]
    assert labels == [
        "蓄積連番",
        "レコード区分",
        "データ作成日",
        "小売業企業コード",
        "ＣＮＳ申請コード",
        "利用企業コード",
        "税目コード",
        "収納受付区分",
        "データ種",
        "予備",
        "データ識別",
        "収納日付",
        "収納時分",
        "バーコード",
        "収納金額",
        "収納店舗コード",
        "支払い予定日",
        "収納店舗名",
    ]
    assert example.layout_for("data").by_name["barcode"].width == 44
    assert "EXAMPLE" in example.description


def test_example_sample_validates_ok(example):
    """The hand-written sample (速報, 確報, 速報, 取消) validates ok and is identified by its header."""
    path = SAMPLES / "ok_crlf.dat"
    result = validate_path(path, example).as_dict()
    assert result["status"] == "ok", result["rejected"]
    assert (result["records"], result["accepted"], result["separator"]) == (4, 4, "crlf")
    assert result["groups"][0]["declared"] == {"count": 4, "amount": 33600}
    assert result["groups"][0]["computed"] == {"count": 4, "amount": 33600}
    assert example.identify(path.read_bytes()[:120])
    assert not example.identify(next(iter(GOLDEN_91)).read_bytes()[:120])
    with path.open("rb") as stream:
        first = [r.values for r in RecordReader(stream, example) if r.role == "data"][0]
    assert first["barcode"] == "91954321123452024010000000001024053100123004"
    assert first["data_kind"] == "01" and first["amount"] == 12300 and first["store_name"] == "ﾃｽﾄﾏｰﾄ ｴｷﾏｴ"


def test_example_identify_claims_no_other_golden_file(example):
    """The example's identify accepts none of the golden files of the other formats."""
    others = sorted(DATA.glob("*/*.dat"))
    assert others
    for path in others:
        assert not example.identify(path.read_bytes().lstrip(b"\r\n")[:512]), path


def test_example_check_digit_is_checked(example):
    """The barcode's check_digit compiles to a FieldCheckDigit rule: a wrong last digit is FIELD_CHECK_DIGIT at the barcode."""
    rules = example.layout_for("data").rules
    assert [type(rule) for rule in rules] == [FieldCheckDigit]
    assert rules[0].field == "barcode"
    assert rules[0].rule == CheckDigitRule("mod10-w31", (0, 43), 43)
    result = validate_path(SAMPLES / "bad_check_digit.dat", example).as_dict()
    assert result["status"] == "rejected-records"
    assert [(r["record"], r["offset"], r["field"], r["code"], r["level"]) for r in result["rejected"]] == [
        (3, 2 * 122 + 46, "barcode", "FIELD_CHECK_DIGIT", "field")
    ]
    assert result["rejected"][0]["expected"] == "check digit 4 at byte 44 (mod10-w31 over bytes 1–43 of the field)"


def test_every_scheme_is_vectorised():
    """Every check-digit scheme of formats.checkdigits has a block version for the fast path."""
    assert set(VECTOR_SCHEMES) == set(SCHEMES)


@st.composite
def _check_digit_blocks(draw):
    scheme = draw(st.sampled_from(sorted(SCHEMES)))
    width = draw(st.integers(min_value=2, max_value=30))
    start = draw(st.integers(min_value=0, max_value=width - 2))
    end = draw(st.integers(min_value=start + 1, max_value=width - 1))
    position = draw(st.sampled_from([p for p in range(width) if not start <= p < end]))
    byte = st.one_of(st.sampled_from(b"0123456789"), st.sampled_from(b" A\x00/:"))
    rows = draw(
        st.lists(
            st.lists(st.sampled_from(b"0123456789"), min_size=width, max_size=width)
            | st.lists(byte, min_size=width, max_size=width)
            | st.just([0x20] * width),
            min_size=1,
            max_size=20,
        )
    )
    rule = CheckDigitRule(scheme, (start, end), position)
    right = draw(st.lists(st.sampled_from(b"0123456789"), min_size=width, max_size=width))
    right[position] = ord(rule.expected(bytes(right).decode("ascii")))  # one row that passes, at least
    return rule, np.array([*rows, right], dtype=np.uint8)


@settings(max_examples=300, deadline=None)
@given(case=_check_digit_blocks())
def test_vector_check_digits_agree_with_the_scheme(case):
    """FieldCheckDigit.vector_ok accepts exactly the rows that CheckDigitRule.check accepts (blank rows aside)."""
    rule, cols = case
    check = FieldCheckDigit("f", rule)
    ok = check.vector_ok(None, lambda name: cols)
    assert ok[-1]
    expected = [rule.check(row.tobytes().decode("latin-1")) or bool((row == 0x20).all()) for row in cols]
    assert ok.tolist() == expected


def test_docs_examples_compile():
    """Every complete layout in docs/layout-files.md compiles."""
    text = (ROOT / "docs" / "layout-files.md").read_text(encoding="utf-8")
    blocks = [block for block in re.findall(r"```toml\n(.*?)```", text, re.S) if "[[records]]" in block]
    assert blocks
    for block in blocks:
        layout = compile_layout(tomllib.loads(block), "docs/layout-files.md")
        assert isinstance(layout, FileLayout)


# -- wrong layout files ----------------------------------------------------------------

BASE = ZENGIN_TOML.read_text(encoding="utf-8")
DATA_REC = ", record data (type '2')"

#: (case, text replaced in zengin-91.toml, replacement, the message after the file's path)
WRONG: list[tuple[str, str, str, str]] = [
    (
        "widths",
        '{ name = "filler_2", label = "ダミー", width = 8,',
        '{ name = "filler_2", label = "ダミー", width = 7,',
        f"{DATA_REC}: the fields' widths add up to 119 bytes (1 + 4 + 15 + 3 + 15 + 4 + 1 + 7 + 30 + 10 + 1 + 20 + 1 + 7), "
        "the record length is 120 (1 byte short)",
    ),
    (
        "unknown kind",
        'width = 10, kind = "numeric" }',
        'width = 10, kind = "nmeric" }',
        f"{DATA_REC}, field amount (引落金額): unknown kind 'nmeric' (did you mean 'numeric'?); known kinds: "
        "numeric, digits, text, double-byte, code, constant, date, filler",
    ),
    (
        "unknown charset",
        'width = 30, kind = "text", charset = "zengin-name"',
        'width = 30, kind = "text", charset = "zengin-nam"',
        f"{DATA_REC}, field account_holder (預金者名): unknown charset 'zengin-nam' (did you mean 'zengin-name'?); "
        "known charsets: ascii, digits-space, sjis-single, zengin-bank-name, zengin-name, zengin-name-wo",
    ),
    (
        "duplicate field",
        '{ name = "filler_2", label = "ダミー"',
        '{ name = "filler_1", label = "ダミー"',
        f"{DATA_REC}, field filler_1 (ダミー): field name 'filler_1' is used twice (fields 6 and 14 of the record)",
    ),
    (
        "duplicate type",
        'type = "8"',
        'type = "2"',
        ", record trailer (type '2'): record type '2' is already used by record data",
    ),
    (
        "missing trailer",
        'role = "trailer"',
        'role = "end"',
        ": no record with role 'trailer': a layout needs exactly one header, one data and one trailer record "
        "(an end record is optional)",
    ),
    (
        "constant too long",
        'width = 2, kind = "constant", value = "91"',
        'width = 2, kind = "constant", value = "910"',
        ", record header (type '1'), field type_code (種別コード): constant value '910' is 3 bytes, the field is 2 bytes "
        "wide (a constant fills its field exactly)",
    ),
    (
        "unknown field key",
        'kind = "digits", align = "left"',
        'kind = "digits", aling = "left"',
        f"{DATA_REC}, field customer_number (顧客番号): unknown key 'aling' for a digits field (did you mean 'align'?); "
        "allowed keys: name, label, width, kind, align, optional, personal, check_digit",
    ),
    (
        "unknown top key",
        "multi_group = true",
        "multi_groupe = true",
        ": unknown key 'multi_groupe' (did you mean 'multi_group'?); allowed keys: id, title, description, record_length, "
        "encoding, type_offset, multi_group, identify, totals, records, canonical",
    ),
    (
        "unknown totals key",
        "split = { code_field",
        "split = { cod_field",
        ": unknown key 'totals.split.cod_field' (did you mean 'code_field'?); allowed keys: code_field, success_code, "
        "transferred_count, transferred_amount, failed_count, failed_amount",
    ),
    (
        "totals field missing",
        'amount_field = "total_amount"',
        'amount_field = "total_amt"',
        ", record trailer (type '8'): totals.amount_field = 'total_amt': the trailer record has no such field (its numeric "
        "fields: total_count, total_amount, transferred_count, transferred_amount, failed_count, failed_amount)",
    ),
    (
        "totals field not numeric",
        'data_amount_field = "amount"',
        'data_amount_field = "bank_code"',
        f"{DATA_REC}, field bank_code (引落銀行番号): totals.data_amount_field = 'bank_code': a numeric field expected, "
        "this is a digits field (numeric fields of the data record: amount)",
    ),
    (
        "wrong type",
        'width = 10, kind = "numeric" }',
        'width = "10", kind = "numeric" }',
        f"{DATA_REC}, field amount (引落金額): width: Input should be a valid integer, found '10'",
    ),
    (
        "missing kind",
        '{ name = "amount", label = "引落金額", width = 10, kind = "numeric" }',
        '{ name = "amount", label = "引落金額", width = 10 }',
        f"{DATA_REC}, field amount (引落金額): missing key 'kind' (one of: numeric, digits, text, double-byte, code, "
        "constant, date, filler)",
    ),
    (
        "code too wide",
        'codes = { "0" = "JIS" }',
        'codes = { "00" = "JIS" }',
        ", record header (type '1'), field code_division (コード区分): code '00' is 2 bytes, the field is 1 byte wide "
        "(every code fills the field exactly)",
    ),
    (
        "date width",
        'width = 4, kind = "date", format = "MMDD"',
        'width = 4, kind = "date", format = "YYMMDD"',
        ", record header (type '1'), field debit_date (引落日): a YYMMDD date is 6 bytes, the width is 4",
    ),
    (
        "type byte not constant",
        '{ name = "record_type", label = "データ区分", width = 1, kind = "constant", value = "9" }',
        '{ name = "record_type", label = "データ区分", width = 1, kind = "digits" }',
        ", record end (type '9'), field record_type (データ区分): this digits field covers the record-type byte "
        "(type_offset 0): that byte must be part of a constant field whose value has '9' there",
    ),
    (
        "type byte differs",
        'width = 1, kind = "constant", value = "8" },',
        'width = 1, kind = "constant", value = "7" },',
        ", record trailer (type '8'), field record_type (データ区分): the constant '7' has '7' at the record-type byte "
        "(type_offset 0), the record's type is '8'",
    ),
    (
        "unknown rule",
        'rule = "known-bank"',
        'rule = "known-bnk"',
        f"{DATA_REC}: unknown rule 'known-bnk' (did you mean 'known-bank'?); known rules: known-bank, known-code, codec",
    ),
    (
        "rule field missing",
        '\nfield = "result_code"',
        '\nfield = "result"',
        f"{DATA_REC}: rule 'known-code': field = 'result' is not a field of this record (record_type, bank_code, "
        "bank_name, branch_code, branch_name, filler_1, account_type, account_number, account_holder, amount, new_code, "
        "customer_number, result_code, filler_2)",
    ),
    (
        "bad field name",
        'name = "amount", label',
        'name = "Amount", label',
        f"{DATA_REC}, field Amount (引落金額): name 'Amount': lower-case letters, digits and '_' expected, starting "
        "with a letter",
    ),
    (
        "identify past the record",
        'identify = { offset = 0, equals = "191" }',
        'identify = { offset = 118, equals = "191" }',
        ": identify: '191' at offset 118 runs past the record (record_length 120)",
    ),
    (
        "unknown check-digit scheme",
        'kind = "digits", align = "left", personal = "account" }',
        'kind = "digits", align = "left", personal = "account", check_digit = { scheme = "mod10-w13", span = [0, 19], position = 19 } }',
        f"{DATA_REC}, field customer_number (顧客番号): check_digit.scheme 'mod10-w13' is not known (did you mean "
        "'mod10-w31'?); known schemes: mod10-w31, luhn, mod11-w2-7, 7dr, 9dr",
    ),
    (
        "check digit outside the field",
        'kind = "digits", align = "left", personal = "account" }',
        'kind = "digits", align = "left", personal = "account", check_digit = { scheme = "luhn", span = [0, 20], position = 20 } }',
        f"{DATA_REC}, field customer_number (顧客番号): check_digit.position 20: a byte of the field expected (0–19)",
    ),
    (
        "check digit on text",
        'width = 30, kind = "text", charset = "zengin-name", required = true, personal = "name" }',
        'width = 30, kind = "text", charset = "zengin-name", required = true, personal = "name", check_digit = { scheme = "luhn", span = [0, 9], position = 9 } }',
        f"{DATA_REC}, field account_holder (預金者名): unknown key 'check_digit' for a text field; allowed keys: name, "
        "label, width, kind, charset, required, personal",
    ),
]


@pytest.mark.parametrize(("case", "old", "new", "message"), WRONG, ids=[case[0] for case in WRONG])
def test_wrong_layout_file_is_refused(tmp_path, case, old, new, message):
    """A wrong layout file gives LayoutFileError whose message names the file, the record, the field and the problem."""
    assert BASE.count(old) >= 1, case
    path = tmp_path / "layout.toml"
    path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LayoutFileError) as caught:
        load_layout_file(path)
    assert str(caught.value).splitlines()[0] == f"{path}{message}"
    assert caught.value.source == str(path)
    assert isinstance(caught.value, LayoutError)


def test_every_problem_of_a_file_is_listed(tmp_path):
    """Shape problems are all listed, one a line, the misspelt key before the missing key it causes."""
    path = tmp_path / "layout.toml"
    path.write_text(
        BASE.replace('label = "トレーラ・レコード"', 'lable = "トレーラ・レコード"').replace(
            "multi_group = true", "multi_group = 1"
        ),
        encoding="utf-8",
    )
    with pytest.raises(LayoutFileError) as caught:
        load_layout_file(path)
    assert caught.value.problems == [
        f"{path}, record trailer (type '8'): unknown key 'lable' (did you mean 'label'?); allowed keys: type, role, "
        "name, label, fields, rules",
        f"{path}: multi_group: Input should be a valid boolean, found 1",
        f"{path}, record trailer (type '8'): missing key 'label'",
    ]
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_not_toml_is_refused(tmp_path):
    """A TOML syntax error names the file, line and column."""
    path = tmp_path / "layout.toml"
    path.write_text(BASE.replace("multi_group = true", "multi_group = tru"), encoding="utf-8")
    with pytest.raises(
        LayoutFileError, match=re.escape(f"{path}: not valid TOML: Invalid value (at line 12, column 15)")
    ):
        load_layout_file(path)


def test_load_layout_dir_refuses_a_second_file_with_the_same_id(tmp_path):
    """Two layout files with one id are refused, naming both; a built-in id is refused when reserved."""
    (tmp_path / "a.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(BASE, encoding="utf-8")
    with pytest.raises(
        LayoutFileError,
        match=re.escape(f"{tmp_path / 'b.toml'}: id 'zengin-91-toml' is already used by {tmp_path / 'a.toml'}"),
    ):
        load_layout_dir(tmp_path)
    (tmp_path / "b.toml").unlink()
    (tmp_path / "c.toml").write_text(BASE.replace('id = "zengin-91-toml"', 'id = "zengin-91"'), encoding="utf-8")
    with pytest.raises(LayoutFileError, match="id 'zengin-91' is already the identifier of a built-in format"):
        load_layout_dir(tmp_path, reserved=FORMATS)


def test_load_layout_dir_is_sorted_by_id(tmp_path):
    """load_layout_dir returns the layouts by id in sorted order, skipping hidden and non-TOML files."""
    for name, layout_id in (("z.toml", "alpha"), ("a.toml", "beta"), (".hidden.toml", "gamma")):
        (tmp_path / name).write_text(BASE.replace('id = "zengin-91-toml"', f'id = "{layout_id}"'), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a layout", encoding="utf-8")
    assert list(load_layout_dir(tmp_path)) == ["alpha", "beta"]


def test_compile_layout_takes_parsed_toml():
    """compile_layout compiles a dict (parsed TOML) and names the given source in errors."""
    data = tomllib.loads(BASE)
    assert compile_layout(data, "inline").id == "zengin-91-toml"
    data["record_length"] = 121
    with pytest.raises(
        LayoutFileError,
        match=r"^inline, record header \(type '1'\): the fields' widths add up to 120 "
        r"bytes .*, the record length is 121 \(1 byte short\)",
    ):
        compile_layout(data, "inline")


def test_field_kinds_are_the_documented_ones():
    """The kinds a layout file accepts are the eight the docs list."""
    assert FIELD_KINDS == ("numeric", "digits", "text", "double-byte", "code", "constant", "date", "filler")
    docs = (ROOT / "docs" / "layout-files.md").read_text(encoding="utf-8")
    for kind in FIELD_KINDS:
        assert f"| `{kind}` |" in docs


# -- further control totals (totals.extra) ---------------------------------------------

FEES = textwrap.dedent("""\
    id = "fees"
    title = "本税と延滞金"
    record_length = 30
    multi_group = false

    [totals]
    count_field = "total_count"
    amount_field = "principal_total"
    data_amount_field = "principal"
    extra = { late_fee_total = "late_fee" }

    [[records]]
    type = "1"
    role = "header"
    label = "ヘッダー"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "1" },
      { name = "filler", label = "予備", width = 29, kind = "filler" },
    ]

    [[records]]
    type = "2"
    role = "data"
    label = "データ"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "2" },
      { name = "tax_item", label = "科目", width = 2, kind = "code", codes = { "01" = "市県民税", "06" = "国民健康保険税" } },
      { name = "principal", label = "本税", width = 10, kind = "numeric" },
      { name = "late_fee", label = "延滞金", width = 8, kind = "numeric" },
      { name = "filler", label = "予備", width = 9, kind = "filler" },
    ]

    [[records]]
    type = "8"
    role = "trailer"
    label = "トレーラ"
    fields = [
      { name = "record_type", label = "区分", width = 1, kind = "constant", value = "8" },
      { name = "total_count", label = "件数", width = 5, kind = "numeric" },
      { name = "principal_total", label = "本税合計", width = 12, kind = "numeric" },
      { name = "late_fee_total", label = "延滞金合計", width = 12, kind = "numeric" },
    ]
""")


def _fees_file(layout: FileLayout, late_fee_total: int) -> bytes:
    lines = [
        layout.layout_for("header").encode({}),
        layout.layout_for("data").encode({"tax_item": "01", "principal": 1000, "late_fee": 100}),
        layout.layout_for("data").encode({"tax_item": "06", "principal": 2000, "late_fee": 0}),
        layout.layout_for("trailer").encode(
            {"total_count": 2, "principal_total": 3000, "late_fee_total": late_fee_total}
        ),
    ]
    return b"".join(line + b"\r\n" for line in lines)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "construct"])
def test_further_totals_are_checked(tmp_path, fast):
    """totals.extra compiles to ControlTotals.extra: the trailer's 延滞金合計 must be the sum of the data records' 延滞金."""
    layout = compile_layout(tomllib.loads(FEES), "fees.toml")
    assert dict(layout.totals.extra) == {"late_fee_total": "late_fee"}
    path = tmp_path / "fees.dat"
    path.write_bytes(_fees_file(layout, 100))
    assert validate_path(path, layout, fast=fast).status == "ok"
    path.write_bytes(_fees_file(layout, 99))
    result = validate_path(path, layout, fast=fast).as_dict()
    assert [(issue["code"], issue["field"]) for issue in result["rejected"]] == [
        ("TRAILER_AMOUNT_MISMATCH", "late_fee_total")
    ]
    assert result["groups"][0]["declared"]["late_fee_total"] == 99
    assert result["groups"][0]["computed"]["late_fee_total"] == 100


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '{ late_fee_sum = "late_fee" }',
            ", record trailer (type '8'): totals.extra: 'late_fee_sum': the trailer record "
            "has no such field (its numeric fields: total_count, principal_total, late_fee_total)",
        ),
        (
            '{ late_fee_total = "late_fees" }',
            ", record data (type '2'): totals.extra.late_fee_total = 'late_fees': the data "
            "record has no such field (its numeric fields: principal, late_fee)",
        ),
        (
            '{ late_fee_total = "tax_item" }',
            ", record data (type '2'), field tax_item (科目): totals.extra.late_fee_total = "
            "'tax_item': a numeric field expected, this is a code field (numeric fields of "
            "the data record: principal, late_fee)",
        ),
        ("{ late_fee_total = 5 }", ": totals.extra.late_fee_total: Input should be a valid string, found 5"),
    ],
)
def test_wrong_further_totals_are_refused(extra, message):
    """A further total must name a numeric trailer field and a numeric data field."""
    text = FEES.replace('extra = { late_fee_total = "late_fee" }', f"extra = {extra}")
    with pytest.raises(LayoutFileError) as caught:
        compile_layout(tomllib.loads(text), "fees.toml")
    assert str(caught.value) == f"fees.toml{message}"


# -- shared code lists (formats/codelists.toml) ----------------------------------------


def test_a_named_code_list_compiles_as_if_written_out():
    """codes = "tax-items" gives exactly the Code kind (codes and their order) of the table written in the file."""
    named = compile_layout(
        tomllib.loads(FEES.replace('codes = { "01" = "市県民税", "06" = "国民健康保険税" }', 'codes = "tax-items"')),
        "named",
    )
    table = "{ " + ", ".join(f'"{code}" = "{meaning}"' for code, meaning in CODE_LISTS["tax-items"].items()) + " }"
    written = compile_layout(
        tomllib.loads(FEES.replace('codes = { "01" = "市県民税", "06" = "国民健康保険税" }', f"codes = {table}")),
        "written",
    )
    kind = named.layout_for("data").by_name["tax_item"].kind
    assert _kind_facts(kind) == _kind_facts(written.layout_for("data").by_name["tax_item"].kind)
    assert list(kind.codes) == ["01", "02", "03", "04", "05", "06"]


def test_a_known_code_rule_may_name_a_code_list(tmp_path):
    """The codes of a known-code rule may be a shared code list too: a code outside it is a warning."""
    text = FEES.replace('kind = "code", codes = { "01" = "市県民税", "06" = "国民健康保険税" }', 'kind = "digits"')
    text = text.replace(
        'width = 9, kind = "filler" },\n]\n',
        'width = 9, kind = "filler" },\n]\nrules = [{ rule = "known-code", field = "tax_item", '
        'codes = "tax-items" }]\n',
        1,
    )
    layout = compile_layout(tomllib.loads(text), "rule")
    (rule,) = layout.layout_for("data").rules
    assert rule.codes == dict(CODE_LISTS["tax-items"])
    path = tmp_path / "fees.dat"
    path.write_bytes(_fees_file(layout, 100).replace(b"206", b"207"))
    result = validate_path(path, layout).as_dict()
    assert result["status"] == "ok"
    assert [(issue["field"], issue["code"]) for issue in result["warnings"]] == [("tax_item", "FIELD_CODE")]


@pytest.mark.parametrize(
    ("codes", "width", "message"),
    [
        (
            '"tax-item"',
            2,
            "codes = 'tax-item': no such code list (did you mean 'tax-items'?); the shared code lists "
            "(formats/codelists.toml): tax-items, channel-kinds",
        ),
        (
            '"tax-items"',
            1,
            "code list 'tax-items': code '01' is 2 bytes, the field is 1 byte wide (every code fills the "
            "field exactly)",
        ),
        ("5", 2, "codes: a table of codes (code = meaning) or the name of a shared code list expected, found 5"),
        ("{}", 2, "codes: a table of codes (code = meaning) or the name of a shared code list expected"),
    ],
)
def test_wrong_code_list_names_are_refused(codes, width, message):
    """An unknown list name, a list whose codes do not fill the field, or codes of the wrong shape are refused."""
    text = FEES.replace(
        'width = 2, kind = "code", codes = { "01" = "市県民税", "06" = "国民健康保険税" }',
        f'width = {width}, kind = "code", codes = {codes}',
    )
    text = text.replace(
        '{ name = "filler", label = "予備", width = 9,', f'{{ name = "filler", label = "予備", width = {11 - width},'
    )
    with pytest.raises(LayoutFileError) as caught:
        compile_layout(tomllib.loads(text), "fees.toml")
    assert str(caught.value) == f"fees.toml, record data (type '2'), field tax_item (科目): {message}"


def test_the_shared_code_lists_load():
    """formats/codelists.toml holds the lists the docs name, each of ASCII codes of one width."""
    assert list(CODE_LISTS) == ["tax-items", "channel-kinds"]
    docs = (ROOT / "docs" / "layout-files.md").read_text(encoding="utf-8")
    for name, codes in CODE_LISTS.items():
        assert f"| `{name}` |" in docs
        assert len({len(code) for code in codes}) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[Tax]\n"01" = "x"\n', "code list name 'Tax': lower-case letters, digits and '-' expected"),
        ('tax = "01"\n', "[tax]: a table of codes (code = meaning) expected"),
        ('[tax]\n"01" = 1\n', "[tax]: code '01': an ASCII code and its meaning as text expected"),
        (
            '[tax]\n"01" = "a"\n"1" = "b"\n',
            "[tax]: codes of different widths (01, 1); a list's codes all fill one field",
        ),
        ("[tax\n", "cannot be read as TOML"),
    ],
)
def test_a_wrong_code_list_file_is_refused(tmp_path, text, message):
    """A code-list file of the wrong shape is refused, naming the file and the list."""
    path = tmp_path / "codelists.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError, match=re.escape(f"{path}: {message}")):
        load_code_lists(path)


def test_load_layout_dir_leaves_out_excluded_files(tmp_path):
    """Files named in exclude (without .toml) are not read, not even to check their ids."""
    for name, layout_id in (("alpha.toml", "alpha"), ("beta.toml", "zengin-91")):
        (tmp_path / name).write_text(BASE.replace('id = "zengin-91-toml"', f'id = "{layout_id}"'), encoding="utf-8")
    assert list(load_layout_dir(tmp_path, reserved=FORMATS, exclude=["beta"])) == ["alpha"]


def test_built_in_layout_files_stay_built_in(tmp_path):
    """A built-in format described in a layout file (formats/layouts/<id>.toml) is the same object everywhere,
    is not read again as a default layout, and a city's file cannot replace it."""
    formats = load_formats()
    assert BUILT_IN_FILES
    for layout_id in BUILT_IN_FILES:
        assert formats[layout_id] is FORMATS[layout_id]
        assert (DEFAULT_LAYOUTS / f"{layout_id}.toml").is_file()
    city = tmp_path / "city.toml"
    city.write_text(BASE.replace('id = "zengin-91-toml"', f'id = "{BUILT_IN_FILES[0]}"'), encoding="utf-8")
    with pytest.raises(
        LayoutFileError, match=f"id '{BUILT_IN_FILES[0]}' is already the identifier of a built-in format"
    ):
        load_formats(tmp_path)


def test_an_empty_split_takes_every_default() -> None:
    """`split = {}` means the 全銀 91 defaults (docs/layout-files.md), not the dataclass's slot descriptors."""
    import dataclasses

    from formats.declarative import SplitModel
    from formats.layout import ResultSplit

    assert SplitModel.model_validate({}).model_dump() == dataclasses.asdict(ResultSplit())
