"""Layouts as configuration: ``config/layouts/*.toml`` compiled to the same structures
as the built-in layouts.

A layout file describes a file format the way the built-in modules do (one record
type a table, one field a line) and compiles to a :class:`~formats.layout.FileLayout`
whose record layouts are :class:`~formats.layout.RecordLayout` over
``construct.Struct`` of the field kinds in :mod:`formats.fields`
(``"name" / Kind(...) * "日本語名"``). The streaming reader, the validator, the fast
path, the builder and ``describe`` therefore treat it exactly like a built-in layout.

Reading a file goes in two steps: pydantic models (``extra="forbid"``, strict types)
check the shape of the TOML — unknown keys, missing keys, wrong types — then
:func:`compile_layout` checks what the models cannot (widths add up, names unique,
one header, data and trailer, constants fit, totals fields exist and are numeric …)
and builds the Construct structures. Any problem is one :class:`LayoutFileError`
naming the file, the record, the field and what is wrong. The format is documented,
key by key, in docs/layout-files.md.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import construct
import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from formats.charset import CHARSETS
from formats.checkdigits import SCHEMES, VECTOR_SCHEMES, CheckDigitRule
from formats.codelists import CODE_LISTS
from formats.errors import Reason
from formats.fields import Code, Constant, Date, Digits, DoubleByteText, FieldKind, Filler, Numeric, Text
from formats.layout import (
    ControlTotals,
    FieldIssue,
    FileLayout,
    LayoutError,
    RecordLayout,
    RecordRule,
    ResultSplit,
)
from formats.layouts.zengin.common import KnownBank, KnownCode

if TYPE_CHECKING:
    from formats.codecs import CodecResult

__all__ = [
    "FIELD_KINDS",
    "FieldCheckDigit",
    "FirstRecordTest",
    "VECTOR_SCHEMES",
    "LayoutFileError",
    "compile_layout",
    "load_layout_dir",
    "load_layout_file",
]

#: The ``kind`` values a field may have, in the order the docs list them.
FIELD_KINDS = ("numeric", "digits", "text", "double-byte", "code", "constant", "date", "filler")
ROLES = ("header", "data", "trailer", "end")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LAYOUT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class LayoutFileError(LayoutError):
    """Raised when a layout file cannot be read or compiled.

    The message names the file (``source``), the record and the field where it
    applies, and the problem; ``problems`` holds every problem found (pydantic
    reports all shape problems at once), the message lists them one a line.
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        record: str | None = None,
        field: str | None = None,
        more: Iterable[str] = (),
    ) -> None:
        self.source = source
        self.record = record
        self.field = field
        self.problem = problem
        self.problems = [_where(source, record, field, problem), *more]
        super().__init__("\n".join(self.problems))


def _where(source: str, record: str | None, field: str | None, problem: str) -> str:
    place = ", ".join(part for part in (source, record and f"record {record}", field and f"field {field}") if part)
    return f"{place}: {problem}"


# ---------------------------------------------------------------------------
# The file's shape, as pydantic models
# ---------------------------------------------------------------------------

Personal = Literal["name", "account", "mynumber", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CheckDigitModel(_Model):
    scheme: str
    span: list[int] = Field(min_length=2, max_length=2)
    position: int


class _FieldModel(_Model):
    name: str
    label: str
    width: int = Field(ge=1)


class NumericField(_FieldModel):
    kind: Literal["numeric"]
    optional: bool = False
    personal: Personal | None = None
    check_digit: CheckDigitModel | None = None


class DigitsField(_FieldModel):
    kind: Literal["digits"]
    align: Literal["zero", "left"] = "zero"
    optional: bool = False
    personal: Personal | None = None
    check_digit: CheckDigitModel | None = None


class TextField(_FieldModel):
    kind: Literal["text"]
    charset: str = "sjis-single"
    required: bool = False
    personal: Personal | None = None


class DoubleByteField(_FieldModel):
    kind: Literal["double-byte"]
    optional: bool = False
    personal: Personal | None = None


def _codes_shape(value: Any) -> Any:
    """One message for a ``codes`` of the wrong shape (not two, one per member of the union)."""
    if isinstance(value, str) or (
        isinstance(value, dict)
        and value
        and all(isinstance(code, str) and isinstance(meaning, str) for code, meaning in value.items())
    ):
        return value
    raise PydanticCustomError("codes", "a table of codes (code = meaning) or the name of a shared code list expected")


#: A table code → meaning, or the name of a shared code list (formats/codelists.toml).
Codes = Annotated[dict[str, str] | str, BeforeValidator(_codes_shape)]


class CodeField(_FieldModel):
    kind: Literal["code"]
    codes: Codes
    optional: bool = False
    personal: Personal | None = None


class ConstantField(_FieldModel):
    kind: Literal["constant"]
    value: str


class DateField(_FieldModel):
    kind: Literal["date"]
    format: Literal["MMDD", "YYMMDD", "YYYYMMDD", "GYYMMDD"]
    optional: bool = False
    pivot: int | None = Field(default=None, ge=0, le=99)
    personal: Personal | None = None


class FillerField(_FieldModel):
    kind: Literal["filler"]


FieldModel = Annotated[
    NumericField | DigitsField | TextField | DoubleByteField | CodeField | ConstantField | DateField | FillerField,
    Field(discriminator="kind"),
]


class KnownBankRule(_Model):
    rule: Literal["known-bank"]
    bank_field: str = "bank_code"
    branch_field: str = "branch_code"


class KnownCodeRule(_Model):
    rule: Literal["known-code"]
    field: str
    codes: Codes
    reason: Literal["UNKNOWN_RESULT_CODE", "FIELD_CODE"] = "FIELD_CODE"


class CodecRuleModel(_Model):
    rule: Literal["codec"]
    field: str
    codec: Literal["cvs-barcode", "ocr", "elqr"]


RuleModel = Annotated[KnownBankRule | KnownCodeRule | CodecRuleModel, Field(discriminator="rule")]


class RecordModel(_Model):
    type: str
    role: Literal["header", "data", "trailer", "end"]
    name: str | None = None
    label: str
    fields: list[FieldModel] = Field(min_length=1)
    rules: list[RuleModel] = Field(default_factory=list)


_SPLIT = ResultSplit()  # the defaults (the class's own attributes are slot descriptors)


class SplitModel(_Model):
    code_field: str = _SPLIT.code_field
    success_code: str = _SPLIT.success_code
    transferred_count: str = _SPLIT.transferred_count
    transferred_amount: str = _SPLIT.transferred_amount
    failed_count: str = _SPLIT.failed_count
    failed_amount: str = _SPLIT.failed_amount


class TotalsModel(_Model):
    count_field: str
    amount_field: str
    data_amount_field: str
    split: SplitModel | None = None
    #: further amount totals: trailer field → the data field it sums (延滞金合計 → 延滞金)
    extra: dict[str, str] = Field(default_factory=dict)


class IdentifyModel(_Model):
    offset: int = Field(ge=0)
    equals: str = Field(min_length=1)


class LayoutModel(_Model):
    id: str
    title: str
    description: str = ""
    record_length: int = Field(ge=1)
    encoding: Literal["cp932"] = "cp932"
    type_offset: int = Field(default=0, ge=0)
    multi_group: bool = True
    identify: list[IdentifyModel] | None = None
    totals: TotalsModel
    records: list[RecordModel] = Field(min_length=1)
    #: how data records become canonical payments (checked by gateway/model/normalise.py, not here)
    canonical: dict[str, Any] | None = None

    @field_validator("identify", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


_KIND_MODELS: dict[str, type[BaseModel]] = {
    "numeric": NumericField,
    "digits": DigitsField,
    "text": TextField,
    "double-byte": DoubleByteField,
    "code": CodeField,
    "constant": ConstantField,
    "date": DateField,
    "filler": FillerField,
}
_TAG_OF = {model: tag for tag, model in _KIND_MODELS.items()}
_RULE_MODELS: dict[str, type[BaseModel]] = {
    "known-bank": KnownBankRule,
    "known-code": KnownCodeRule,
    "codec": CodecRuleModel,
}


# ---------------------------------------------------------------------------
# Compiled pieces that are not field kinds
# ---------------------------------------------------------------------------


class CodecRule(RecordRule):
    """A field holding a barcode, an OCR line or an eL-QR string must decode cleanly (formats/codecs):
    a wrong check digit is FIELD_CHECK_DIGIT, anything else the codec refuses FIELD_CODE."""

    def __init__(self, field: str, codec: str) -> None:
        self.field = field
        self.codec = codec

    def decode(self, value: str) -> CodecResult:
        from formats.codecs import DECODERS

        return DECODERS[self.codec](value)

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        value = values.get(self.field)
        if value is None:
            return
        result = self.decode(str(value))
        if result.valid:
            return
        from formats.codecs import ErrorCode, first_error

        spec = layout.by_name[self.field]
        first = first_error(result)
        code = Reason.FIELD_CHECK_DIGIT if first.code in (ErrorCode.CHECK_DIGIT, ErrorCode.CRC) else Reason.FIELD_CODE
        yield FieldIssue(
            spec,
            code,
            f"a valid {self.codec}: {first.expected}",
            raw[spec.offset : spec.offset + spec.width],
            max(0, min(first.position or 0, spec.width - 1)),
            detail=first.message,
        )

    def __repr__(self) -> str:
        return f"CodecRule({self.field!r}, {self.codec!r})"

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], Any]) -> Any:
        """The same test over a block, exact for the rows it passes: a row whose field is all ASCII
        digits is checked in numpy (:data:`VECTOR_CODECS`: the codec's layout at fixed positions,
        its dates and check digits); a blank field passes when its kind reads it as no value (the
        rule then checks nothing); any other row is left to the record path (False)."""
        spec = layout.by_name[self.field]
        kind = spec.kind
        if not isinstance(kind, (Digits, Text)):
            return None  # a value that is not the field's bytes as written (a number): not vectorised
        cols = columns(self.field)
        blank = (cols == 0x20).all(axis=1)
        digits = ((cols >= 0x30) & (cols <= 0x39)).all(axis=1)
        ok = np.zeros(len(cols), dtype=bool)
        if digits.any():
            ok[digits] = VECTOR_CODECS[self.codec](cols[digits].astype(np.int64) - 0x30)
        if isinstance(kind, Digits) and kind.optional:
            ok |= blank  # read as None: the rule checks nothing
        return ok


def _dates_ok(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``datetime.date(year, month, day)`` would not raise."""
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    limit = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok: np.ndarray = (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= limit)
    return ok


def _number(digits: np.ndarray) -> np.ndarray:
    """The rows of ``digits`` (int64 digit values) as numbers."""
    number: np.ndarray = digits @ (10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64))
    return number


def _yyyymmdd_ok(digits: np.ndarray) -> np.ndarray:
    return _dates_ok(_number(digits[:, :4]), _number(digits[:, 4:6]), _number(digits[:, 6:8]))


def _ocr_pair_ok(line: np.ndarray) -> np.ndarray:
    """CD1 CD2 + body rows whose two check digits are right (formats/codecs/ocr.py ``ocr_check_digits``)."""
    body = line[:, 2:]
    index = np.arange(body.shape[1])
    even = index % 2 == 0
    w2 = np.where(even, 9 - (index // 2) % 8, 1)
    w1 = np.where(even, 1, 2 + (index // 2 + 1) % 8)
    cd2 = (body @ w2) % 10
    cd1 = ((body @ w1) + 2 * cd2) % 11 % 10
    ok: np.ndarray = (line[:, 0] == cd1) & (line[:, 1] == cd2)
    return ok


def _vector_barcode(digits: np.ndarray) -> np.ndarray:
    """Rows (all digits) that :func:`formats.codecs.barcode.decode_barcode` finds valid, with its
    defaults: the default profile, today's century window (``DEFAULT_PIVOT``)."""
    import datetime as dt

    from formats.codecs.barcode import DEFAULT_PIVOT, DEFAULT_PROFILE, NO_DEADLINE

    profile = DEFAULT_PROFILE
    if digits.shape[1] != profile.length or not (profile.with_ai and profile.with_check_digit):
        return np.zeros(len(digits), dtype=bool)  # LENGTH (or a profile this test does not know)
    ok: np.ndarray = (digits[:, 0] == 9) & (digits[:, 1] == 1)  # AI "91"
    deadline = digits[:, 30:36]
    latest = dt.date.today().year + DEFAULT_PIVOT
    year = latest - (latest - _number(deadline[:, :2])) % 100
    dated = _dates_ok(year, _number(deadline[:, 2:4]), _number(deadline[:, 4:6]))
    ok &= dated | (_number(deadline) == int(NO_DEADLINE))
    ok &= digits[:, 36] <= 1  # 印紙フラグ 0 or 1
    ok &= VECTOR_SCHEMES["mod10-w31"](digits[:, :43]) == digits[:, 43]
    return ok


def _vector_ocr(digits: np.ndarray) -> np.ndarray:
    """Rows (all digits) that :func:`formats.codecs.ocr.decode_ocr` finds valid: 39 or 44 digits, both
    check digits right."""
    from formats.codecs.ocr import OCR_LINE_LENGTHS

    if digits.shape[1] not in OCR_LINE_LENGTHS.values():
        return np.zeros(len(digits), dtype=bool)
    return _ocr_pair_ok(digits)


#: The eL-QR as the codec writes it (formats/codecs/elqr.py ``encode_elqr``): every element's
#: tag and length, and the fixed values, at their positions in the 255 characters.
_ELQR_FIXED = (
    (0, "0002"),
    (4, "01"),
    (6, "0102"),
    (10, "12"),
    (12, "2796"),
    (16, "0005"),
    (20, "13800"),
    (25, "0183"),
    (112, "5411"),
    (127, "6226"),
    (157, "8085"),
    (246, "6305"),
)


def _crc16_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
        table[byte] = crc
    return table


_CRC16 = _crc16_table()


def _crc16_ccitt_false(data: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of each row of ``data`` (byte values), as ``binascii.crc_hqx(row, 0xFFFF)``."""
    crc = np.full(len(data), 0xFFFF, dtype=np.int64)
    for column in data.T:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ column]
    return crc


def _vector_elqr(digits: np.ndarray) -> np.ndarray:
    """Rows (all digits) that :func:`formats.codecs.elqr.decode_elqr` finds valid, among those laid
    out as the codec writes them (any other arrangement, even a valid one, is False: the record
    path decides): fixed tags, lengths and values; both MPN check-digit pairs; tag 54 equal to the
    MPN 払込金額; 納期限 and 支払期限 real dates; the CRC. Tag 80 is not looked at (not zeros is
    only a warning)."""
    from formats.codecs.elqr import ELQR_LENGTH

    if digits.shape[1] != ELQR_LENGTH:
        return np.zeros(len(digits), dtype=bool)
    ok = np.ones(len(digits), dtype=bool)
    for offset, text in _ELQR_FIXED:
        ok &= (digits[:, offset : offset + len(text)] == np.array([int(char) for char in text])).all(axis=1)
    ok &= _ocr_pair_ok(digits[:, 29:68]) & _ocr_pair_ok(digits[:, 68:112])
    ok &= (digits[:, 116:127] == digits[:, 42:53]).all(axis=1)  # tag 54 = the upper part's 払込金額
    ok &= _yyyymmdd_ok(digits[:, 141:149]) & _yyyymmdd_ok(digits[:, 149:157])
    ok &= _crc16_ccitt_false(digits[:, :250] + 0x30) == _number(digits[:, 250:255])
    return ok


#: Numpy versions of the codecs of :data:`formats.codecs.DECODERS`, for ``CodecRule.vector_ok``:
#: each takes rows of ASCII digits (as digit values) and gives True exactly where the codec finds
#: the value valid, or False where it cannot say (tests/unit/test_fastpath_kinds.py).
VECTOR_CODECS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cvs-barcode": _vector_barcode,
    "ocr": _vector_ocr,
    "elqr": _vector_elqr,
}


class FieldCheckDigit(RecordRule):
    """The check digit of a field (scheme, span and position from the layout file) must be right."""

    def __init__(self, field: str, rule: CheckDigitRule) -> None:
        self.field = field
        self.rule = rule

    def __repr__(self) -> str:
        return f"FieldCheckDigit({self.field!r}, {self.rule!r})"

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        spec = layout.by_name[self.field]
        chunk = raw[spec.offset : spec.offset + spec.width]
        if chunk.count(0x20) == len(chunk):
            return  # a blank optional field carries no check digit (a required one is refused by its kind)
        value = chunk.decode("latin-1")
        if self.rule.check(value):
            return
        start, end = self.rule.span
        digit = self.rule.expected(value)
        where = f"bytes {start + 1}–{end} of the field"
        expected = (
            f"check digit {digit} at byte {self.rule.position + 1} ({self.rule.scheme} over {where})"
            if digit is not None and spec.personal is None
            else f"a {self.rule.scheme} check digit at byte {self.rule.position + 1} over {where}"
        )
        yield FieldIssue(spec, Reason.FIELD_CHECK_DIGIT, expected, chunk, self.rule.position)

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], Any]) -> Any:
        """The same test over a block: in numpy for the schemes of :data:`VECTOR_SCHEMES`, row by
        row through :meth:`CheckDigitRule.check` for any other (tests/unit/test_declarative.py checks
        that both agree with ``check``)."""
        cols = columns(self.field)
        blank = (cols == 0x20).all(axis=1)
        compute = VECTOR_SCHEMES.get(self.rule.scheme)
        if compute is None:
            check = self.rule.check
            ok = np.fromiter((check(row.tobytes().decode("latin-1")) for row in cols), dtype=bool, count=len(cols))
            return ok | blank
        start, end = self.rule.span
        body = cols[:, start:end].astype(np.int64) - 0x30
        found = cols[:, self.rule.position].astype(np.int64) - 0x30
        digits = ((body >= 0) & (body <= 9)).all(axis=1) & (found >= 0) & (found <= 9)
        return (digits & (compute(np.clip(body, 0, 9)) == found)) | blank


class FirstRecordTest:
    """Identification from content: the first record has each ``(offset, bytes)`` in place."""

    def __init__(self, tests: Iterable[tuple[int, bytes]]) -> None:
        self.tests = tuple(tests)

    def __call__(self, first_record: bytes) -> bool:
        return all(first_record[offset : offset + len(value)] == value for offset, value in self.tests)

    def __repr__(self) -> str:
        return "FirstRecordTest(" + ", ".join(f"{offset}: {value!r}" for offset, value in self.tests) + ")"


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_layout_file(path: Path) -> FileLayout:
    """Read and compile one layout file; :class:`LayoutFileError` names what is wrong."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise LayoutFileError(source, f"cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise LayoutFileError(source, f"not UTF-8 text (byte {error.start + 1}): save layout files as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LayoutFileError(source, f"not valid TOML: {error}") from None
    return compile_layout(data, source)


def load_layout_dir(
    directory: Path, *, reserved: Iterable[str] = (), exclude: Iterable[str] = ()
) -> dict[str, FileLayout]:
    """Every ``*.toml`` layout file of ``directory`` (not recursive; hidden files skipped),
    read in name order, by identifier in sorted order.

    Two files with the same ``id``, or a file whose ``id`` is in ``reserved`` (e.g. the
    built-in formats' identifiers), is a :class:`LayoutFileError`. Files named in
    ``exclude`` (without ``.toml``; the built-in layouts' own files) are not read.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise LayoutFileError(str(directory), "not a directory of layout files")
    reserved = set(reserved)
    excluded = set(exclude)
    layouts: dict[str, FileLayout] = {}
    sources: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name.startswith(".") or path.stem in excluded:
            continue
        layout = load_layout_file(path)
        if layout.id in reserved:
            raise LayoutFileError(str(path), f"id {layout.id!r} is already the identifier of a built-in format")
        if layout.id in sources:
            raise LayoutFileError(str(path), f"id {layout.id!r} is already used by {sources[layout.id]}")
        layouts[layout.id] = layout
        sources[layout.id] = path
    return dict(sorted(layouts.items()))


# ---------------------------------------------------------------------------
# Compiling
# ---------------------------------------------------------------------------


def compile_layout(data: Mapping[str, Any], source: str) -> FileLayout:
    """Compile the parsed TOML of one layout file (``source`` names it in errors)."""
    try:
        model = LayoutModel.model_validate(data)
    except ValidationError as error:
        # unknown keys first: a misspelt key explains the "missing key" that follows from it
        errors = sorted(error.errors(include_url=False), key=lambda item: item["type"] != "extra_forbidden")
        problems = [_pydantic_problem(data, item) for item in errors]
        (record, field, problem), *rest = problems
        raise LayoutFileError(
            source, problem, record=record, field=field, more=[_where(source, *item) for item in rest]
        ) from None
    return _Compiler(model, source).compile()


class _Compiler:
    def __init__(self, model: LayoutModel, source: str) -> None:
        self.model = model
        self.source = source

    def fail(self, problem: str, record: RecordModel | None = None, field: Any = None) -> LayoutFileError:
        return LayoutFileError(
            self.source,
            problem,
            record=None if record is None else _record_name(record),
            field=field and _field_name(field),
        )

    # -- the whole file -------------------------------------------------------
    def compile(self) -> FileLayout:
        model = self.model
        if not LAYOUT_ID.match(model.id):
            raise self.fail(
                f"id {model.id!r}: lower-case letters, digits, '.', '_' or '-' expected "
                "(it names the format in channels and reports)"
            )
        if model.type_offset >= model.record_length:
            raise self.fail(
                f"type_offset {model.type_offset} is outside the record "
                f"(record_length {model.record_length}, offsets 0–{model.record_length - 1})"
            )
        self._roles()
        records: dict[bytes, tuple[Any, RecordLayout]] = {}
        seen_names: dict[str, RecordModel] = {}
        for record in model.records:
            key = self._record_type(record)
            if key in records:
                raise self.fail(f"record type {record.type!r} is already used by record {records[key][1].name}", record)
            name = record.name or record.role
            if not NAME.match(name):
                raise self.fail(
                    f"record name {name!r}: lower-case letters, digits and '_' expected, starting with a letter", record
                )
            if name in seen_names:
                raise self.fail(
                    f"record name {name!r} is already used by the record of type {seen_names[name].type!r}", record
                )
            seen_names[name] = record
            records[key] = (record.role, self._record(record))
        totals = self._totals()
        identify = self._identify()
        try:
            return FileLayout(
                id=model.id,
                title=model.title,
                records=records,
                totals=totals,
                record_length=model.record_length,
                encoding=model.encoding,
                type_offset=model.type_offset,
                multi_group=model.multi_group,
                identify=identify,
                description=model.description,
                canonical=model.canonical,
            )
        except LayoutError as error:  # pragma: no cover - the checks above come first
            raise self.fail(str(error)) from None

    def _roles(self) -> None:
        roles: list[str] = [record.role for record in self.model.records]
        for role in ("header", "data", "trailer"):
            if role not in roles:
                raise self.fail(
                    f"no record with role {role!r}: a layout needs exactly one header, one data and "
                    "one trailer record (an end record is optional)"
                )
        for role in ROLES:
            if roles.count(role) > 1:
                second = [record for record in self.model.records if record.role == role][1]
                raise self.fail(
                    f"a second record with role {role!r}: a layout has exactly one header, data and "
                    "trailer record and at most one end record",
                    second,
                )

    def _record_type(self, record: RecordModel) -> bytes:
        try:
            key = record.type.encode(self.model.encoding)
        except UnicodeEncodeError:
            key = b""
        if len(record.type) != 1 or len(key) != 1:
            raise self.fail(
                f"type {record.type!r}: the record type is one single-byte character, "
                f"the byte at type_offset {self.model.type_offset}",
                record,
            )
        return key

    def _identify(self) -> FirstRecordTest | None:
        if not self.model.identify:
            return None
        tests = []
        for test in self.model.identify:
            try:
                value = test.equals.encode(self.model.encoding)
            except UnicodeEncodeError:
                raise self.fail(f"identify: {test.equals!r} cannot be written in {self.model.encoding}") from None
            if test.offset + len(value) > self.model.record_length:
                raise self.fail(
                    f"identify: {test.equals!r} at offset {test.offset} runs past the record "
                    f"(record_length {self.model.record_length})"
                )
            tests.append((test.offset, value))
        return FirstRecordTest(tests)

    # -- one record -----------------------------------------------------------
    def _record(self, record: RecordModel) -> RecordLayout:
        length = self.model.record_length
        subcons = []
        rules: list[RecordRule] = []
        names: dict[str, int] = {}
        offset = 0
        type_field: tuple[Any, int] | None = None
        for number, field in enumerate(record.fields, start=1):
            if not NAME.match(field.name):
                raise self.fail(
                    f"name {field.name!r}: lower-case letters, digits and '_' expected, starting with a letter",
                    record,
                    field,
                )
            if field.name in names:
                raise self.fail(
                    f"field name {field.name!r} is used twice (fields {names[field.name]} and {number} of the record)",
                    record,
                    field,
                )
            names[field.name] = number
            if not field.label.strip():
                raise self.fail("label is empty: give the field's Japanese name (項目名)", record, field)
            kind = self._kind(record, field)
            if offset <= self.model.type_offset < offset + field.width:
                type_field = (field, offset)
            subcons.append(field.name / kind * field.label)
            offset += field.width
            check = getattr(field, "check_digit", None)
            if check is not None:
                rules.append(self._check_digit(record, field, check))
        if offset != length:
            difference = (
                f"{_bytes(length - offset)} short" if offset < length else f"{_bytes(offset - length)} too many"
            )
            widths = " + ".join(str(field.width) for field in record.fields)
            raise self.fail(
                f"the fields' widths add up to {offset} bytes ({widths}), the record length is {length} ({difference})",
                record,
            )
        self._type_byte(record, type_field)
        by_name = {field.name: field for field in record.fields}
        rules = [*(self._rule(record, rule, by_name) for rule in record.rules), *rules]
        try:
            return RecordLayout(
                record.name or record.role, record.label, construct.Struct(*subcons), length=length, rules=rules
            )
        except LayoutError as error:  # pragma: no cover - the checks above come first
            raise self.fail(str(error), record) from None

    def _type_byte(self, record: RecordModel, type_field: tuple[Any, int] | None) -> None:
        """The field over type_offset must be a constant holding the record type there
        (so that building a record writes its type byte)."""
        at = self.model.type_offset
        if type_field is None:  # pragma: no cover - widths add up, so some field covers it
            raise self.fail(f"no field covers type_offset {at}", record)
        field, start = type_field
        if not isinstance(field, ConstantField):
            raise self.fail(
                f"this {field.kind} field covers the record-type byte (type_offset {at}): that byte "
                f"must be part of a constant field whose value has {record.type!r} there",
                record,
                field,
            )
        found = field.value[at - start]
        if found != record.type:
            raise self.fail(
                f"the constant {field.value!r} has {found!r} at the record-type byte "
                f"(type_offset {at}), the record's type is {record.type!r}",
                record,
                field,
            )

    def _kind(self, record: RecordModel, field: Any) -> FieldKind:
        width = field.width
        try:
            if isinstance(field, NumericField):
                return Numeric(width, optional=field.optional, personal=field.personal)
            if isinstance(field, DigitsField):
                return Digits(width, align=field.align, optional=field.optional, personal=field.personal)
            if isinstance(field, TextField):
                if field.charset not in CHARSETS:
                    raise self.fail(
                        f"unknown charset {field.charset!r}{_suggest(field.charset, CHARSETS)}; "
                        f"known charsets: {', '.join(sorted(CHARSETS))}",
                        record,
                        field,
                    )
                return Text(width, field.charset, required=field.required, personal=field.personal)
            if isinstance(field, DoubleByteField):
                return DoubleByteText(width, optional=field.optional, personal=field.personal)
            if isinstance(field, CodeField):
                codes = self._codes(field.codes, "codes", record, field)
                for code in codes:
                    if not code.isascii():
                        raise self.fail(f"code {code!r}: codes are ASCII", record, field)
                    if len(code) != width:
                        raise self.fail(
                            f"{_named(field.codes)}code {code!r} is {_bytes(len(code))}, the field is "
                            f"{_bytes(width)} wide (every code fills the field exactly)",
                            record,
                            field,
                        )
                return Code(width, codes, optional=field.optional, personal=field.personal)
            if isinstance(field, ConstantField):
                if not field.value.isascii():
                    raise self.fail(f"constant value {field.value!r}: constants are ASCII", record, field)
                if len(field.value) != width:
                    raise self.fail(
                        f"constant value {field.value!r} is {_bytes(len(field.value))}, the field is "
                        f"{_bytes(width)} wide (a constant fills its field exactly)",
                        record,
                        field,
                    )
                return Constant(field.value.encode("ascii"))
            if isinstance(field, DateField):
                if field.pivot is not None and field.format != "YYMMDD":
                    raise self.fail(f"pivot applies to YYMMDD dates only, this one is {field.format}", record, field)
                kind = Date(
                    field.format,
                    optional=field.optional,
                    personal=field.personal,
                    **({"pivot": field.pivot} if field.pivot is not None else {}),
                )
                if kind.width != width:
                    raise self.fail(
                        f"a {field.format} date is {_bytes(kind.width)}, the width is {width}", record, field
                    )
                return kind
            assert isinstance(field, FillerField)
            return Filler(width)
        except ValueError as error:
            if isinstance(error, LayoutFileError):
                raise
            raise self.fail(str(error), record, field) from None  # pragma: no cover - checked above

    def _check_digit(self, record: RecordModel, field: Any, check: CheckDigitModel) -> RecordRule:
        start, end = check.span
        if not 0 <= start < end <= field.width:
            raise self.fail(
                f"check_digit.span [{start}, {end}]: 0 ≤ start < end ≤ {field.width} expected "
                "(0-based byte offsets inside the field, end exclusive)",
                record,
                field,
            )
        if not 0 <= check.position < field.width:
            raise self.fail(
                f"check_digit.position {check.position}: a byte of the field expected (0–{field.width - 1})",
                record,
                field,
            )
        if start <= check.position < end:
            raise self.fail(
                f"check_digit.position {check.position} lies inside its own span [{start}, {end}]", record, field
            )
        if check.scheme not in SCHEMES:
            raise self.fail(
                f"check_digit.scheme {check.scheme!r} is not known{_suggest(check.scheme, SCHEMES)}; "
                f"known schemes: {', '.join(SCHEMES)}",
                record,
                field,
            )
        try:
            rule = CheckDigitRule(check.scheme, (start, end), check.position)
        except ValueError as error:  # pragma: no cover - the checks above come first
            raise self.fail(f"check_digit: {error}", record, field) from None
        return FieldCheckDigit(field.name, rule)

    def _rule(self, record: RecordModel, rule: Any, fields: Mapping[str, Any]) -> RecordRule:
        def need(name: str, key: str, kinds: tuple[type[_FieldModel], ...], width: int | None = None) -> None:
            field = fields.get(name)
            if field is None:
                raise self.fail(
                    f"rule {rule.rule!r}: {key} = {name!r} is not a field of this record ({', '.join(fields)})", record
                )
            if not isinstance(field, kinds):
                allowed = " or ".join(_TAG_OF[kind] for kind in kinds)
                raise self.fail(
                    f"rule {rule.rule!r}: {key} = {name!r} is a {field.kind} field, {allowed} expected", record, field
                )
            if width is not None and field.width != width:
                raise self.fail(
                    f"rule {rule.rule!r}: {key} = {name!r} is {_bytes(field.width)} wide, {_bytes(width)} expected",
                    record,
                    field,
                )

        if isinstance(rule, CodecRuleModel):
            need(rule.field, "field", (DigitsField, TextField))
            return CodecRule(rule.field, rule.codec)
        if isinstance(rule, KnownBankRule):
            need(rule.bank_field, "bank_field", (DigitsField,), 4)
            need(rule.branch_field, "branch_field", (DigitsField,), 3)
            return KnownBank(rule.bank_field, rule.branch_field)
        assert isinstance(rule, KnownCodeRule)
        need(rule.field, "field", (DigitsField, CodeField, TextField))
        codes = self._codes(rule.codes, "rule 'known-code': codes", record, fields[rule.field])
        for code in codes:
            if len(code.encode("utf-8")) != fields[rule.field].width or not code.isascii():
                raise self.fail(
                    f"rule 'known-code': {_named(rule.codes)}code {code!r} does not fill the field "
                    f"({_bytes(fields[rule.field].width)}, ASCII)",
                    record,
                    fields[rule.field],
                )
        return KnownCode(rule.field, codes, Reason(rule.reason))

    def _codes(self, codes: dict[str, str] | str, key: str, record: RecordModel, field: Any) -> dict[str, str]:
        """The codes written in the file, or those of the shared code list it names."""
        if isinstance(codes, dict):
            return dict(codes)
        found = CODE_LISTS.get(codes)
        if found is None:
            raise self.fail(
                f"{key} = {codes!r}: no such code list{_suggest(codes, CODE_LISTS)}; the shared code "
                f"lists (formats/codelists.toml): {', '.join(CODE_LISTS)}",
                record,
                field,
            )
        return dict(found)

    # -- control totals -------------------------------------------------------
    def _totals(self) -> ControlTotals:
        totals = self.model.totals
        by_role = {record.role: record for record in self.model.records}
        trailer, data = by_role["trailer"], by_role["data"]

        def numeric(key: str, name: str, record: RecordModel, said: str | None = None) -> None:
            said = said or f"totals.{key} = {name!r}"
            fields = {field.name: field for field in record.fields}
            field = fields.get(name)
            numerics = [f.name for f in record.fields if isinstance(f, NumericField)]
            if field is None:
                raise self.fail(
                    f"{said}: the {record.role} record has no such field (its numeric "
                    f"fields: {', '.join(numerics) or 'none'})",
                    record,
                )
            if not isinstance(field, NumericField):
                raise self.fail(
                    f"{said}: a numeric field expected, this is a {field.kind} field "
                    f"(numeric fields of the {record.role} record: {', '.join(numerics) or 'none'})",
                    record,
                    field,
                )

        numeric("count_field", totals.count_field, trailer)
        numeric("amount_field", totals.amount_field, trailer)
        numeric("data_amount_field", totals.data_amount_field, data)
        for total, summed in totals.extra.items():
            numeric("extra", total, trailer, f"totals.extra: {total!r}")
            numeric(f"extra.{total}", summed, data)
        split = None
        if totals.split is not None:
            model = totals.split
            for key in ("transferred_count", "transferred_amount", "failed_count", "failed_amount"):
                numeric(f"split.{key}", getattr(model, key), trailer)
            code = {field.name: field for field in data.fields}.get(model.code_field)
            if code is None:
                raise self.fail(
                    f"totals.split.code_field = {model.code_field!r}: the data record has no such field", data
                )
            if not isinstance(code, (DigitsField, CodeField)) or code.width != 1:
                raise self.fail(
                    f"totals.split.code_field = {model.code_field!r}: a 1-byte digits or code field "
                    f"expected (the result code), this is a {code.kind} field of {_bytes(code.width)}",
                    data,
                    code,
                )
            if len(model.success_code) != 1 or not model.success_code.isascii():
                raise self.fail(
                    f"totals.split.success_code = {model.success_code!r}: one ASCII character expected", data, code
                )
            split = ResultSplit(**model.model_dump())
        return ControlTotals(
            count_field=totals.count_field,
            amount_field=totals.amount_field,
            data_amount_field=totals.data_amount_field,
            split=split,
            extra=dict(totals.extra),
        )


def _named(codes: dict[str, str] | str) -> str:
    return f"code list {codes!r}: " if isinstance(codes, str) else ""


def _bytes(count: int) -> str:
    return f"{count} byte" if count == 1 else f"{count} bytes"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _record_name(record: Any) -> str:
    if isinstance(record, RecordModel):
        return f"{record.name or record.role} (type {record.type!r})"
    if isinstance(record, Mapping):  # raw TOML, before the models accepted it
        name = record.get("name") or record.get("role")
        kind = record.get("type")
        if isinstance(name, str) and isinstance(kind, str):
            return f"{name} (type {kind!r})"
        if isinstance(name, str):
            return name
        if isinstance(kind, str):
            return f"of type {kind!r}"
    return ""


def _field_name(field: Any) -> str:
    if isinstance(field, Mapping):
        name, label = field.get("name"), field.get("label")
    else:
        name, label = getattr(field, "name", None), getattr(field, "label", None)
    if isinstance(name, str) and isinstance(label, str):
        return f"{name} ({label})"
    return name if isinstance(name, str) else ""


# ---------------------------------------------------------------------------
# pydantic errors, said in the file's terms
# ---------------------------------------------------------------------------


def _pydantic_problem(data: Mapping[str, Any], error: Any) -> tuple[str | None, str | None, str]:
    """(record, field, problem) for one pydantic error."""
    loc: tuple[Any, ...] = tuple(error["loc"])
    record = field = None
    rest = loc
    if len(loc) >= 2 and loc[0] == "records" and isinstance(loc[1], int):
        raw_record = _index(data.get("records"), loc[1])
        record = _record_name(raw_record) or f"number {loc[1] + 1}"
        rest = loc[2:]
        if len(rest) >= 2 and rest[0] == "fields" and isinstance(rest[1], int):
            raw_field = _index(raw_record.get("fields") if isinstance(raw_record, Mapping) else None, rest[1])
            field = _field_name(raw_field) or f"number {rest[1] + 1} of the record"
            rest = rest[2:]
    kind = error["type"]
    shown = _key_path(rest)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model is not None else []
        where = f" for a {loc[-2]} field" if len(loc) >= 2 and loc[-2] in _KIND_MODELS else ""
        problem = f"unknown key {shown!r}{where}{_suggest(key, allowed)}"
        if allowed:
            problem += f"; allowed keys: {', '.join(allowed)}"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tags, tag_key = (_RULE_MODELS, "rule") if "rules" in rest else (_KIND_MODELS, "kind")
        found = error.get("ctx", {}).get("tag")
        if kind == "union_tag_not_found":
            problem = f"missing key {tag_key!r} (one of: {', '.join(tags)})"
        else:
            problem = f"unknown {tag_key} {found!r}{_suggest(str(found), tags)}; known {tag_key}s: {', '.join(tags)}"
    elif kind == "missing":
        problem = f"missing key {shown!r}"
    else:
        value = error.get("input")
        problem = f"{shown or 'the file'}: {error['msg']}" + (
            "" if isinstance(value, (dict, list)) else f", found {value!r}"
        )
    return record, field, problem


def _key_path(parts: Iterable[Any]) -> str:
    """``totals.split.code_field``, ``rules[0].field``: a location as the file spells it (tags left out)."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in _KIND_MODELS and part not in _RULE_MODELS:
            path += f".{part}" if path else str(part)
    return path


def _index(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and 0 <= index < len(items) else None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys apply at ``loc`` (a pydantic error location)."""
    model: type[BaseModel] | None = LayoutModel
    for part in loc:
        if isinstance(part, int):
            continue
        if part in _KIND_MODELS:
            model = _KIND_MODELS[part]
            continue
        if part in _RULE_MODELS:
            model = _RULE_MODELS[part]
            continue
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    if origin in (list, Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
