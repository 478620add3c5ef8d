"""Field kinds for fixed-width records, as small Construct adapters over ``Bytes(width)``.

A layout reads like the spec table::

    "amount" / Numeric(10) * "引落金額",

Every kind knows three things about its bytes:

- ``decode(raw, strict)``: bytes → value, or :class:`~formats.errors.FieldError`
  naming the reason, what was expected and the first offending byte;
- ``encode(value)``: value → exactly ``width`` bytes (padded), or
  :class:`FieldBuildError` when the value does not fit;
- ``vector_ok(cols, strict)``: the same acceptance test over a block of records at
  once (a ``uint8`` array of shape ``(n, width)``), for the fast validation path.
  A kind that cannot say exactly returns ``None`` and its layout is validated
  record by record. ``vector_ok`` must accept exactly what ``decode`` accepts;
  tests/unit/test_fastpath.py checks that the two agree.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

import construct
import numpy as np

from formats.charset import get_charset
from formats.dates import ERAS, century_for, from_wareki
from formats.errors import FieldError, Reason
from formats.masking import Personal

__all__ = [
    "Code",
    "Constant",
    "Date",
    "Digits",
    "DoubleByteText",
    "FieldBuildError",
    "FieldKind",
    "Filler",
    "Numeric",
    "Text",
]

SPACE = 0x20
ZERO = 0x30
NINE = 0x39


class FieldBuildError(construct.ValidationError):
    """Raised while building when a value does not fit its field (too long, wrong characters).

    ``reason`` is the plain explanation; Construct adds the path to the message.
    """

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        super().__init__(reason, path=path)


def _strict_from(context: Any) -> bool:
    params = getattr(context, "_params", None) or {}
    return bool(params.get("strict", True)) if isinstance(params, Mapping) else True


def _is_digit(cols: np.ndarray) -> np.ndarray:
    return (cols >= ZERO) & (cols <= NINE)


def _first_not(raw: bytes, allowed: frozenset[int] | bytes) -> int:
    """Index of the first byte of ``raw`` not in ``allowed``, or -1 (the common case checked in C)."""
    if allowed is _DIGIT_BYTES:
        if raw.isdigit():
            return -1
    elif not raw.translate(None, bytes(sorted(allowed))):
        return -1
    return next(index for index, byte in enumerate(raw) if byte not in allowed)


_DIGIT_BYTES = frozenset(b"0123456789")
_SPACE_BYTES = frozenset(b" ")


if TYPE_CHECKING:  # construct's classes are generic only in its stubs (construct-typing)
    _BytesAdapter = construct.Adapter[bytes, bytes, Any, Any]
else:
    _BytesAdapter = construct.Adapter


class FieldKind(_BytesAdapter):
    """Base of every field kind: ``width`` bytes holding one value."""

    kind: ClassVar[str] = "field"

    def __init__(self, width: int, *, optional: bool = False, personal: Personal | None = None) -> None:
        if width < 1:
            raise ValueError(f"a field must be at least 1 byte wide, got {width}")
        super().__init__(construct.Bytes(width))
        self.width = width
        self.optional = optional
        self.personal = personal

    # -- construct hooks -------------------------------------------------
    def _decode(self, obj: bytes, context: Any, path: str) -> Any:
        try:
            return self.decode(obj, _strict_from(context))
        except FieldError as error:
            error.path = path
            raise

    def _encode(self, obj: Any, context: Any, path: str) -> bytes:
        try:
            return self.encode(obj)
        except FieldBuildError as error:
            raise FieldBuildError(error.reason, path=path) from None

    # -- the kind's own behaviour ---------------------------------------
    def decode(self, raw: bytes, strict: bool = True) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, value: Any) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray | None:
        return None

    def convert(self, raw: bytes) -> Any:
        """``decode`` for bytes already known to be valid (the fast path checked them): no checks."""
        return self.decode(raw)

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        """Allowed bytes per position, when every byte being allowed is *almost* the whole
        test: ``decode`` succeeds iff each byte is in its set and ``extra_ok`` holds.
        ``None`` when the kind's acceptance is not of that shape (use ``vector_ok``)."""
        return None

    def extra_ok(self, cols: np.ndarray) -> np.ndarray | None:
        """The part of the test that is not per byte (see ``byte_sets``); ``None`` = nothing more."""
        return None

    def describe(self) -> str:
        return f"{self.kind}{self.width}"

    def _blank(self, raw: bytes) -> bool:
        return raw.count(SPACE) == len(raw)

    def _refuse(self, message: str) -> FieldBuildError:
        return FieldBuildError(f"{message} (field kind {self.describe()})")


class Numeric(FieldKind):
    """N: digits only, right-aligned, zero-filled; an ``int``. ``optional``: all spaces → ``None``."""

    kind = "N"

    def decode(self, raw: bytes, strict: bool = True) -> int | None:
        bad = _first_not(raw, _DIGIT_BYTES)
        if bad < 0:
            return int(raw)
        if self.optional and self._blank(raw):
            return None
        raise FieldError(Reason.FIELD_NOT_NUMERIC, f"{self.width} digits (0-9)", raw, bad)

    def encode(self, value: int | None) -> bytes:
        if type(value) is int and 0 <= value < 10**self.width:  # the common case, first
            return b"%0*d" % (self.width, value)
        if value is None:
            if self.optional:
                return b" " * self.width
            raise self._refuse("a value is required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._refuse(f"expected a whole number, got {value!r}")
        if value < 0:
            raise self._refuse(f"negative value {value} cannot be written")
        text = str(value)
        if len(text) > self.width:
            raise self._refuse(f"{value} has {len(text)} digits, the field holds {self.width}")
        return text.zfill(self.width).encode("ascii")

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        ok = cast(np.ndarray, _is_digit(cols).all(axis=1))  # numpy types .all(axis=…) as scalar | array
        if self.optional:
            ok |= (cols == SPACE).all(axis=1)
        return ok

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        if self.optional and self.width > 1:
            return None  # all digits or all spaces: not a per-byte test
        return [_DIGIT_BYTES | (_SPACE_BYTES if self.optional else frozenset())] * self.width

    def convert(self, raw: bytes) -> int | None:
        return int(raw) if raw.isdigit() else None

    def vector_int(self, cols: np.ndarray) -> np.ndarray:
        """Values of rows already known to be all digits, as int64."""
        weights = 10 ** np.arange(self.width - 1, -1, -1, dtype=np.int64)
        return (cols.astype(np.int64) - ZERO) @ weights


class Digits(FieldKind):
    """A code made of digits kept as a string (leading zeros matter: bank codes, 顧客番号).

    ``align="zero"``: every byte a digit. ``align="left"``: digits left-aligned and
    space-padded (some banks pad 顧客番号 this way). ``optional``: all spaces → ``None``.
    """

    kind = "digits"

    def __init__(
        self, width: int, *, align: str = "zero", optional: bool = False, personal: Personal | None = None
    ) -> None:
        if align not in ("zero", "left"):
            raise ValueError(f"align must be 'zero' or 'left', got {align!r}")
        super().__init__(width, optional=optional, personal=personal)
        self.align = align

    def decode(self, raw: bytes, strict: bool = True) -> str | None:
        if self._blank(raw):
            if self.optional:
                return None
            raise FieldError(Reason.FIELD_REQUIRED, f"{self.width} digits", raw, 0)
        body = raw.rstrip(b" ") if self.align == "left" else raw
        bad = _first_not(body, _DIGIT_BYTES)
        if bad >= 0:
            expected = f"{self.width} digits" if self.align == "zero" else "digits, left-aligned, space-padded"
            raise FieldError(Reason.FIELD_NOT_NUMERIC, expected, raw, bad)
        return body.decode("ascii")

    def encode(self, value: str | int | None) -> bytes:
        if value is None or value == "":
            if self.optional:
                return b" " * self.width
            raise self._refuse("a value is required")
        text = str(value)
        if not text.isascii() or not text.isdigit():
            raise self._refuse(f"{text!r} is not made of digits")
        if len(text) > self.width:
            raise self._refuse(f"{text!r} has {len(text)} digits, the field holds {self.width}")
        padded = text.zfill(self.width) if self.align == "zero" else text.ljust(self.width)
        return padded.encode("ascii")

    def convert(self, raw: bytes) -> str | None:
        text = raw.rstrip(b" ")
        return text.decode("ascii") if text else None

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        if self.align == "zero":
            if self.optional and self.width > 1:
                return None
            return [_DIGIT_BYTES | (_SPACE_BYTES if self.optional else frozenset())] * self.width
        return [_DIGIT_BYTES | _SPACE_BYTES] * self.width

    def extra_ok(self, cols: np.ndarray) -> np.ndarray | None:
        if self.align == "zero":
            return None
        digit = _is_digit(cols)
        space = cols == SPACE
        blank = space.all(axis=1)
        after_space = np.logical_or.accumulate(space, axis=1)
        ok: np.ndarray = ~(after_space & digit).any(axis=1) & ~blank
        return ok | blank if self.optional else ok

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        digit = _is_digit(cols)
        space = cols == SPACE
        blank = space.all(axis=1)
        ok: np.ndarray
        if self.align == "zero":
            ok = cast(np.ndarray, digit.all(axis=1))  # numpy types .all(axis=…) as scalar | array
        else:
            # digits then spaces: no digit after a space, first byte a digit
            after_space = np.logical_or.accumulate(space, axis=1)
            ok = (digit | space).all(axis=1) & ~(after_space & digit).any(axis=1) & ~blank
        return ok | blank if self.optional else ok


class Text(FieldKind):
    """C: left-aligned, space-padded single-byte text in a named charset; a stripped ``str``.

    Parsing never fixes data: a byte outside the charset is a FIELD_CHARSET error at
    its position. ``required``: all spaces is a FIELD_REQUIRED error.
    """

    kind = "C"

    def __init__(
        self, width: int, charset: str = "sjis-single", *, required: bool = False, personal: Personal | None = None
    ) -> None:
        super().__init__(width, optional=not required, personal=personal)
        self.charset = get_charset(charset)
        self.required = required
        self._tables = {True: self.charset.table(True), False: self.charset.table(False)}
        self._allowed = bytes(sorted(self.charset.allowed(True)))

    def describe(self) -> str:
        return f"C{self.width} [{self.charset.name}]"

    def decode(self, raw: bytes, strict: bool = True) -> str:
        bad = self.charset.first_invalid(raw, strict)
        if bad >= 0:
            raise FieldError(Reason.FIELD_CHARSET, self.charset.describe(strict), raw, bad)
        if self.required and self._blank(raw):
            raise FieldError(Reason.FIELD_REQUIRED, "a value (not all spaces)", raw, 0)
        return raw.decode("cp932").rstrip(" ")

    def encode(self, value: str | None) -> bytes:
        text = value or ""
        if self.required and not text.strip():
            raise self._refuse("a value is required")
        try:
            data = text.encode("cp932")
        except UnicodeEncodeError as error:
            raise self._refuse(f"character {text[error.start]!r} cannot be written in Shift_JIS") from None
        if len(data) <= self.width and not data.translate(None, self._allowed):  # the common case
            return data.ljust(self.width, b" ")
        bad = self.charset.first_invalid(data, True)
        if bad >= 0:
            raise self._refuse(f"byte {bad + 1} of {text!r} is not allowed in {self.charset.name}")
        raise self._refuse(f"{text!r} is {len(data)} bytes, the field holds {self.width}")

    def convert(self, raw: bytes) -> str:
        return raw.decode("cp932").rstrip(" ")

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        return [self.charset.allowed(strict)] * self.width

    def extra_ok(self, cols: np.ndarray) -> np.ndarray | None:
        return ~(cols == SPACE).all(axis=1) if self.required else None

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        ok: np.ndarray = self._tables[strict][cols].all(axis=1)
        if self.required:
            ok &= ~(cols == SPACE).all(axis=1)
        return ok


class DoubleByteText(FieldKind):
    """Full-width text in cp932 (氏名, 住所); ``width`` counts bytes.

    Padding is full-width spaces (0x8140) or, for the odd last byte or by some
    senders, half-width spaces. A byte sequence cut in the middle of a character,
    or a single-byte character inside, is a FIELD_DOUBLE_BYTE error.
    """

    kind = "N"  # 全角 in the usual layout notation

    def describe(self) -> str:
        return f"全角{self.width}バイト"

    def decode(self, raw: bytes, strict: bool = True) -> str:
        index = 0
        chars: list[str] = []
        while index < len(raw):
            byte = raw[index]
            if byte == SPACE:  # half-width padding only at the end
                if raw[index:].count(SPACE) != len(raw) - index:
                    raise FieldError(Reason.FIELD_DOUBLE_BYTE, "full-width characters (cp932)", raw, index)
                break
            pair = raw[index : index + 2]
            try:
                if len(pair) < 2:
                    raise UnicodeDecodeError("cp932", pair, 0, 1, "truncated")
                char = pair.decode("cp932")
            except UnicodeDecodeError:
                raise FieldError(Reason.FIELD_DOUBLE_BYTE, "full-width characters (cp932)", raw, index) from None
            if len(char) != 1:
                raise FieldError(Reason.FIELD_DOUBLE_BYTE, "full-width characters (cp932)", raw, index)
            chars.append(char)
            index += 2
        text = "".join(chars).rstrip("\u3000")
        if not text and not self.optional and not raw.strip(b" "):
            raise FieldError(Reason.FIELD_REQUIRED, "a value (not all spaces)", raw, 0)
        return text

    def encode(self, value: str | None) -> bytes:
        text = value or ""
        try:
            data = text.encode("cp932")
        except UnicodeEncodeError as error:
            raise self._refuse(f"character {text[error.start]!r} cannot be written in cp932") from None
        if len(data) != 2 * len(text):
            raise self._refuse(f"{text!r} contains half-width characters")
        if len(data) > self.width:
            raise self._refuse(f"{text!r} is {len(data)} bytes, the field holds {self.width}")
        pad = self.width - len(data)
        return data + "\u3000".encode("cp932") * (pad // 2) + b" " * (pad % 2)

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        """``decode``'s test over a block: every byte pair from the start is one cp932 character
        (:func:`cp932_pairs`, the codec's own answer for each of the 65,536 pairs) until a pair that
        starts with a half-width space, from which on every byte is a space; all spaces is refused
        unless ``optional``. A row passes iff, at every even offset, the pair there is a character
        or the rest of the row is spaces (the first space-led pair is never a character)."""
        width = cols.shape[1]
        space = cols == SPACE
        # rest[:, j]: bytes j… of the row are all spaces
        rest = np.logical_and.accumulate(space[:, ::-1], axis=1)[:, ::-1]
        leads = cols[:, 0::2]
        pairs = np.zeros(leads.shape, dtype=bool)
        whole = width // 2  # pairs with both bytes in the field (an odd last byte is a lead without a trail)
        if whole:
            index = leads[:, :whole].astype(np.intp) * 256 + cols[:, 1::2][:, :whole]
            pairs[:, :whole] = np.take(cp932_pairs(), index)
        ok = cast(np.ndarray, (pairs | rest[:, 0::2]).all(axis=1))  # numpy types .all(axis=…) as scalar | array
        if not self.optional:
            ok &= ~rest[:, 0]
        return ok


_CP932_PAIRS: np.ndarray | None = None


def cp932_pairs() -> np.ndarray:
    """65,536 booleans: is the byte pair ``lead * 256 + trail`` exactly one character in cp932
    (``bytes((lead, trail)).decode("cp932")`` is one character)? A byte that decodes on its own
    leads no such pair (the pair decodes to two characters, or fails), so only the other leads are
    tried, pair by pair, with the codec itself."""
    global _CP932_PAIRS
    if _CP932_PAIRS is None:
        table = np.zeros(65536, dtype=bool)
        for lead in range(256):
            try:
                bytes((lead,)).decode("cp932")
                continue
            except UnicodeDecodeError:
                pass
            for trail in range(256):
                try:
                    table[lead * 256 + trail] = len(bytes((lead, trail)).decode("cp932")) == 1
                except UnicodeDecodeError:
                    pass
        _CP932_PAIRS = table
    return _CP932_PAIRS


class Code(FieldKind):
    """An enumerated code: the value must be one of ``codes`` (value → meaning)."""

    kind = "code"

    def __init__(
        self, width: int, codes: Mapping[str, str], *, optional: bool = False, personal: Personal | None = None
    ) -> None:
        super().__init__(width, optional=optional, personal=personal)
        for code in codes:
            if len(code.encode("ascii")) != width:
                raise ValueError(f"code {code!r} is not {width} bytes wide")
        self.codes = dict(codes)
        self._rows = np.array([list(code.encode("ascii")) for code in codes], dtype=np.uint8)

    def describe(self) -> str:
        return "one of " + ", ".join(f"{code} ({meaning})" for code, meaning in self.codes.items())

    def decode(self, raw: bytes, strict: bool = True) -> str | None:
        if self.optional and self._blank(raw):
            return None
        text = raw.decode("latin-1")
        if text not in self.codes:
            raise FieldError(Reason.FIELD_CODE, self.describe(), raw, 0)
        return text

    def encode(self, value: str | None) -> bytes:
        if value is None and self.optional:
            return b" " * self.width
        if value not in self.codes:
            raise self._refuse(f"{value!r} is not {self.describe()}")
        return value.encode("ascii")

    def convert(self, raw: bytes) -> str | None:
        return None if self.optional and self._blank(raw) else raw.decode("latin-1")

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        if self.width != 1:
            return None
        return [
            frozenset(code.encode("ascii")[0] for code in self.codes) | (_SPACE_BYTES if self.optional else frozenset())
        ]

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        ok = np.zeros(len(cols), dtype=bool)
        for row in self._rows:
            ok |= (cols == row).all(axis=1)
        if self.optional:
            ok |= (cols == SPACE).all(axis=1)
        return ok


class Constant(FieldKind):
    """A fixed value such as the データ区分 or 種別コード."""

    kind = "const"

    def __init__(self, value: bytes) -> None:
        super().__init__(len(value))
        self.value = value
        self._row = np.frombuffer(value, dtype=np.uint8)

    def describe(self) -> str:
        return repr(self.value.decode("ascii"))

    def decode(self, raw: bytes, strict: bool = True) -> str:
        if raw != self.value:
            position = next(i for i, (a, b) in enumerate(zip(raw, self.value, strict=False)) if a != b)
            raise FieldError(Reason.FIELD_CONSTANT, self.describe(), raw, position)
        return raw.decode("ascii")

    def encode(self, value: Any = None) -> bytes:
        if value not in (None, self.value, self.value.decode("ascii")):
            raise self._refuse(f"{value!r} is not the constant {self.describe()}")
        return self.value

    def convert(self, raw: bytes) -> str:
        return raw.decode("ascii")

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        return [frozenset([byte]) for byte in self.value]

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        ok: np.ndarray = (cols == self._row).all(axis=1)
        return ok


class Filler(FieldKind):
    """ダミー / 予備: spaces. Strict mode refuses anything else; permissive accepts any bytes."""

    kind = "filler"

    def describe(self) -> str:
        return f"{self.width} spaces"

    def decode(self, raw: bytes, strict: bool = True) -> None:
        if strict:
            bad = _first_not(raw, b" ")
            if bad >= 0:
                raise FieldError(Reason.FIELD_NOT_SPACES, self.describe(), raw, bad)
        return None

    def encode(self, value: Any = None) -> bytes:
        return b" " * self.width

    def byte_sets(self, strict: bool = True) -> list[frozenset[int]] | None:
        return [_SPACE_BYTES if strict else frozenset(range(256))] * self.width

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray:
        if not strict:
            return np.ones(len(cols), dtype=bool)
        ok: np.ndarray = (cols == SPACE).all(axis=1)
        return ok


def _era_bounds() -> tuple[np.ndarray, np.ndarray]:
    """First and last day (as YYYYMMDD numbers) of each era, indexed by era code (index 0: none)."""
    firsts = np.zeros(10, dtype=np.int64)
    lasts = np.zeros(10, dtype=np.int64)
    for era in ERAS:
        last = era.last_day or dt.date.max
        firsts[int(era.code)] = era.first_day.year * 10000 + era.first_day.month * 100 + era.first_day.day
        lasts[int(era.code)] = last.year * 10000 + last.month * 100 + last.day
    return firsts, lasts


_DATE_FORMATS = {"MMDD": 4, "YYMMDD": 6, "YYYYMMDD": 8, "GYYMMDD": 7}


class Date(FieldKind):
    """A date: ``MMDD`` (year implied; kept as the string "MMDD"), ``YYMMDD`` (century
    window ``pivot``), ``YYYYMMDD``, or ``GYYMMDD`` (和暦: era code 1–5 + era year).

    ``optional``: all spaces or all zeros → ``None``.
    """

    kind = "date"

    def __init__(self, fmt: str, *, optional: bool = False, pivot: int = 70, personal: Personal | None = None) -> None:
        if fmt not in _DATE_FORMATS:
            raise ValueError(f"date format must be one of {', '.join(_DATE_FORMATS)}, got {fmt!r}")
        super().__init__(_DATE_FORMATS[fmt], optional=optional, personal=personal)
        self.fmt = fmt
        self.pivot = pivot

    def describe(self) -> str:
        return f"a date {self.fmt}"

    def decode(self, raw: bytes, strict: bool = True) -> dt.date | str | None:
        if self.optional and (self._blank(raw) or raw.count(ZERO) == len(raw)):
            return None
        bad = _first_not(raw, _DIGIT_BYTES)
        if bad >= 0:
            raise FieldError(Reason.FIELD_DATE, self.describe(), raw, bad)
        text = raw.decode("ascii")
        try:
            if self.fmt == "MMDD":
                month, day = int(text[:2]), int(text[2:])
                dt.date(2000, month, day)  # a leap year: 0229 is a valid month-day
                return text
            if self.fmt == "YYMMDD":
                return dt.date(century_for(int(text[:2]), self.pivot), int(text[2:4]), int(text[4:]))
            if self.fmt == "YYYYMMDD":
                return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            return from_wareki(text[0], int(text[1:3]), int(text[3:5]), int(text[5:]))
        except ValueError:
            raise FieldError(Reason.FIELD_DATE, self.describe(), raw, 0) from None

    def encode(self, value: dt.date | str | None) -> bytes:
        if value is None:
            if self.optional:
                return b"0" * self.width
            raise self._refuse("a date is required")
        if self.fmt == "MMDD":
            text = value.strftime("%m%d") if isinstance(value, dt.date) else str(value)
            if len(text) != 4 or not text.isdigit():
                raise self._refuse(f"{value!r} is not MMDD")
            return text.encode("ascii")
        if not isinstance(value, dt.date):
            raise self._refuse(f"expected a date, got {value!r}")
        if self.fmt == "YYMMDD":
            return value.strftime("%y%m%d").encode("ascii")
        if self.fmt == "YYYYMMDD":
            return f"{value.year:04d}{value.month:02d}{value.day:02d}".encode("ascii")
        from formats.dates import to_wareki

        era, year = to_wareki(value)
        return f"{era}{year:02d}{value.month:02d}{value.day:02d}".encode("ascii")

    def vector_ok(self, cols: np.ndarray, strict: bool = True) -> np.ndarray | None:
        digits = _is_digit(cols).all(axis=1)
        values = (cols.astype(np.int64) - ZERO) @ (10 ** np.arange(self.width - 1, -1, -1, dtype=np.int64))
        era_ok: np.ndarray = np.ones(len(cols), dtype=bool)
        if self.fmt == "GYYMMDD":
            # 和暦: era code 1–5 (formats.dates.ERAS), era year ≥ 1, a real date inside the era
            code, era_year = values // 1000000, (values // 10000) % 100
            month, day = (values // 100) % 100, values % 100
            firsts, lasts = _era_bounds()
            known = np.isin(code, np.array([int(era.code) for era in ERAS]))
            era = np.where(known, code, 0)
            year = firsts[era] // 10000 + era_year - 1
            stamp = year * 10000 + month * 100 + day
            era_ok = known & (era_year >= 1) & (stamp >= firsts[era]) & (stamp <= lasts[era])
        elif self.fmt == "MMDD":
            year = np.full(len(cols), 2000)
            month, day = values // 100, values % 100
        elif self.fmt == "YYMMDD":
            yy = values // 10000
            year = np.where(yy < self.pivot, 2000 + yy, 1900 + yy)
            month, day = (values // 100) % 100, values % 100
        else:
            year = values // 10000
            month, day = (values // 100) % 100, values % 100
        ok: np.ndarray = digits & era_ok & (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1)
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        month_days = np.array([0] + [calendar.monthrange(2001, m)[1] for m in range(1, 13)])
        limit = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
        ok &= day <= limit
        if self.optional:
            ok |= (cols == SPACE).all(axis=1) | (cols == ZERO).all(axis=1)
        return ok
