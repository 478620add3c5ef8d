"""The 44-digit convenience-store barcode (GS1-128, 料金代理収納, AI "91").

Layout (payment-channels.md §1, 0-based offsets in the full 44-digit form):

======  ===  ===========================================================================
offset  len  field
======  ===  ===========================================================================
0       2    ``ai`` — application identifier, always "91"
2       6    請求書発行企業コード = ``issuer_country`` (国コード) + ``issuer_code`` (企業コード);
             the split is :attr:`BarcodeProfile.issuer_code_width` (5 by default: "9" + 5)
8       21   自由使用欄 ``free_field``, split per agent by :attr:`BarcodeProfile.free_field`
             (by default 利用企業コード(5) ``user_company_code`` + 納付番号(16) ``customer_reference``)
29      1    ``reissue`` — 再発行区分 (0 first issue, n = n-th reissue)
30      6    ``deadline`` — 支払期限 YYMMDD; "999999" means no deadline (the field is then None)
36      1    ``stamp_flag`` — 印紙フラグ, 0 or 1 (public money uses 0)
37      6    ``amount`` — 支払金額 in yen (at most 999,999)
43      1    ``check_digit`` — modulus 10, weights 3/1 over the 43 digits before it, AI included
======  ===  ===========================================================================

:func:`decode_barcode` never raises for bad input: a wrong length, a non-digit, a wrong
AI, an impossible date or a bad check digit is a :class:`~formats.codecs.CodecIssue` in
the result, whose position is the 0-based offset in the value as given. It accepts
surrounding white space and an "EAN" prefix, and — when the profile says so — a value
stored without its AI or without its check digit. The two-digit year is read in a
sliding century window around ``today`` (see :func:`expand_two_digit_year`).
:func:`encode_barcode` builds a valid barcode from fields, for tests and samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from formats.checkdigits import mod10_w31
from formats.codecs._common import CodecIssue, ErrorCode, FieldValue, ascii_digits, result_dict

__all__ = [
    "BARCODE_LABELS",
    "DEFAULT_PIVOT",
    "DEFAULT_PROFILE",
    "NO_DEADLINE",
    "BarcodeProfile",
    "BarcodeResult",
    "FreeFieldPart",
    "decode_barcode",
    "encode_barcode",
    "expand_two_digit_year",
]

AI = "91"
LENGTH = 44
FREE_FIELD_LENGTH = 21
#: The 支払期限 value meaning "no deadline".
NO_DEADLINE = "999999"
#: Default century window: a two-digit year lies at most this many years after ``today``'s year.
DEFAULT_PIVOT = 50

#: Japanese names of the fixed fields, for tables an operator reads.
BARCODE_LABELS: dict[str, str] = {
    "ai": "AI",
    "issuer_country": "国コード",
    "issuer_code": "請求書発行企業コード",
    "free_field": "自由使用欄",
    "reissue": "再発行区分",
    "deadline": "支払期限",
    "stamp_flag": "印紙フラグ",
    "amount": "支払金額",
    "check_digit": "チェックデジット",
    "canonical": "バーコード (44桁)",
}

# 0-based offsets in the full 44-digit form.
_ISSUER = (2, 8)
_FREE = (8, 29)
_REISSUE = 29
_DEADLINE = (30, 36)
_STAMP = 36
_AMOUNT = (37, 43)
_CHECK = 43


@dataclass(frozen=True, slots=True)
class FreeFieldPart:
    """One named part of the 21-digit 自由使用欄; ``personal`` parts are masked when shown."""

    name: str
    width: int
    label: str = ""
    personal: bool = False


@dataclass(frozen=True, slots=True)
class BarcodeProfile:
    """How one agent lays out the parts of the barcode that the guideline leaves free.

    ``issuer_code_width`` is how many of the 6 issuer digits are the company code (5 for
    the old "9" + 5-digit code, 6 for a 6-digit code with no country digit). The
    ``free_field`` parts must add up to 21 digits. ``with_ai`` / ``with_check_digit`` say
    whether the stored value carries the AI "91" and the check digit.
    """

    name: str = "default"
    issuer_code_width: int = 5
    free_field: tuple[FreeFieldPart, ...] = (
        FreeFieldPart("user_company_code", 5, "利用企業コード"),
        FreeFieldPart("customer_reference", 16, "納付番号", personal=True),
    )
    with_ai: bool = True
    with_check_digit: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.issuer_code_width <= 6:
            raise ValueError(f"issuer_code_width must be 1 to 6, found {self.issuer_code_width}")
        widths = sum(part.width for part in self.free_field)
        if widths != FREE_FIELD_LENGTH or any(part.width < 1 for part in self.free_field):
            raise ValueError(f"free-field parts must be positive and add up to 21 digits, found {widths}")
        names = [part.name for part in self.free_field]
        clashes = set(names) & set(BARCODE_LABELS)
        if len(set(names)) != len(names) or clashes:
            raise ValueError(f"free-field part names must be unique and not one of {sorted(BARCODE_LABELS)}")

    @property
    def length(self) -> int:
        """How many digits a value stored with this profile has."""
        return LENGTH - (0 if self.with_ai else len(AI)) - (0 if self.with_check_digit else 1)


#: The guideline's layout as most agents use it: "9" + 5-digit company code, 5 + 16 free field.
DEFAULT_PROFILE = BarcodeProfile()


@dataclass(frozen=True, slots=True)
class BarcodeResult:
    """A decoded barcode: the fields that could be read, ``valid``, and every error found.

    A field that could not be read is None. ``deadline`` is None both for "999999"
    (then :attr:`no_deadline` is True) and for an impossible date (then there is a DATE
    error); ``deadline_raw`` keeps the six digits. ``check_digit`` is the digit in the
    value, or the computed one when the profile says the value carries none.
    ``canonical`` is the full 44-digit form (AI and check digit included) whenever
    every digit could be read.
    """

    value: str
    profile: BarcodeProfile
    errors: tuple[CodecIssue, ...]
    ai: str | None = None
    issuer_country: str | None = None
    issuer_code: str | None = None
    free_field: str | None = None
    free_fields: dict[str, str] = field(default_factory=dict)
    reissue: int | None = None
    deadline: date | None = None
    deadline_raw: str | None = None
    stamp_flag: int | None = None
    amount: int | None = None
    check_digit: int | None = None
    canonical: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def no_deadline(self) -> bool:
        """True when the barcode says 999999: payable without a deadline."""
        return self.deadline_raw == NO_DEADLINE

    @property
    def fields(self) -> dict[str, FieldValue]:
        """The decoded fields in layout order (the free-field parts under their profile names)."""
        values: dict[str, FieldValue] = {
            "ai": self.ai,
            "issuer_country": self.issuer_country,
            "issuer_code": self.issuer_code,
            "free_field": self.free_field,
        }
        values.update(self.free_fields)
        values.update(
            reissue=self.reissue,
            deadline=self.deadline,
            stamp_flag=self.stamp_flag,
            amount=self.amount,
            check_digit=self.check_digit,
            canonical=self.canonical,
        )
        return values

    @property
    def labels(self) -> dict[str, str]:
        """Japanese field names, the profile's free-field parts included."""
        return {**BARCODE_LABELS, **{part.name: part.label for part in self.profile.free_field}}

    @property
    def personal_fields(self) -> frozenset[str]:
        """Fields to mask when shown: the personal free-field parts, and the whole values holding them."""
        personal = {part.name for part in self.profile.free_field if part.personal}
        return frozenset(personal | {"free_field", "canonical"}) if personal else frozenset()

    def as_dict(self) -> dict[str, Any]:
        return result_dict("barcode", self)


def expand_two_digit_year(yy: int, *, today: date, pivot: int = DEFAULT_PIVOT) -> int:
    """The four-digit year for ``yy`` in the window ``today.year − (99 − pivot)`` … ``today.year + pivot``.

    With the default pivot of 50 and today in 2025, "75" is 2075 and "76" is 1976.
    """
    if not 0 <= pivot <= 99:
        raise ValueError(f"pivot must be 0 to 99 years, found {pivot}")
    latest = today.year + pivot
    return latest - (latest - yy) % 100


def _strip(value: str) -> tuple[str, int]:
    """The digits part of ``value`` and how many characters were removed before it."""
    text = value.lstrip()
    lead = len(value) - len(text)
    if text[:3].upper() == "EAN":
        rest = text[3:].lstrip()
        lead += len(text) - len(rest)
        text = rest
    return text.rstrip(), lead


def decode_barcode(
    value: str,
    *,
    profile: BarcodeProfile = DEFAULT_PROFILE,
    today: date | None = None,
    pivot: int = DEFAULT_PIVOT,
) -> BarcodeResult:
    """Decode a convenience-store barcode; every problem is an error in the result, never an exception."""
    text, lead = _strip(value)
    errors: list[CodecIssue] = []
    shift = 0 if profile.with_ai else len(AI)

    def at(offset: int) -> int | None:
        """Position in ``value`` of an offset in the full 44-digit form (None: not in the value)."""
        index = offset - shift
        return lead + index if 0 <= index < len(text) else None

    digits_only = text.isascii() and text.isdigit()
    bad = [] if digits_only else [(index, char) for index, char in enumerate(text) if not ("0" <= char <= "9")]
    for index, char in bad[:10]:
        errors.append(
            CodecIssue(
                ErrorCode.NOT_DIGIT,
                lead + index,
                "an ASCII digit 0-9",
                char,
                message=f"character {lead + index}: expected an ASCII digit, found {char!r}",
            )
        )
    if len(bad) > 10:
        errors.append(
            CodecIssue(
                ErrorCode.NOT_DIGIT,
                None,
                "ASCII digits only",
                f"{len(bad)} other characters",
                message=f"{len(bad) - 10} more characters are not ASCII digits",
            )
        )
    if len(text) != profile.length:
        hint = ""
        if profile.with_ai and len(text) == profile.length - len(AI):
            hint = '; stored without the AI "91"? use a profile with with_ai=False'
        elif profile.with_check_digit and len(text) == profile.length - 1:
            hint = "; stored without its check digit? use a profile with with_check_digit=False"
        errors.append(
            CodecIssue(
                ErrorCode.LENGTH,
                lead,
                f"{profile.length} digits",
                f"{len(text)} characters",
                message=f"expected {profile.length} digits, found {len(text)} characters{hint}",
            )
        )
        return BarcodeResult(value, profile, tuple(errors))

    full = (AI if not profile.with_ai else "") + text
    result: dict[str, Any] = {}

    ai = full[:2]
    result["ai"] = ai
    if profile.with_ai and ai != AI:
        errors.append(
            CodecIssue(
                ErrorCode.AI, at(0), AI, ai, "ai", f'application identifier: expected "91" (料金代理収納), found {ai!r}'
            )
        )

    issuer = full[_ISSUER[0] : _ISSUER[1]]
    country_width = 6 - profile.issuer_code_width
    result["issuer_country"] = issuer[:country_width] or None
    result["issuer_code"] = issuer[country_width:]

    free = full[_FREE[0] : _FREE[1]]
    result["free_field"] = free
    parts: dict[str, str] = {}
    offset = 0
    for part in profile.free_field:
        parts[part.name] = free[offset : offset + part.width]
        offset += part.width
    result["free_fields"] = parts

    reissue = full[_REISSUE]
    result["reissue"] = int(reissue) if ascii_digits(reissue) else None

    deadline_raw = full[_DEADLINE[0] : _DEADLINE[1]]
    result["deadline_raw"] = deadline_raw
    if ascii_digits(deadline_raw) and deadline_raw != NO_DEADLINE:
        yy, mm, dd = int(deadline_raw[:2]), int(deadline_raw[2:4]), int(deadline_raw[4:])
        year = expand_two_digit_year(yy, today=today or date.today(), pivot=pivot)
        try:
            result["deadline"] = date(year, mm, dd)
        except ValueError:
            errors.append(
                CodecIssue(
                    ErrorCode.DATE,
                    at(_DEADLINE[0]),
                    "a real date YYMMDD, or 999999",
                    deadline_raw,
                    "deadline",
                    f"支払期限 {deadline_raw!r} is not a date (year {year}, month {mm}, day {dd})",
                )
            )

    stamp = full[_STAMP]
    if ascii_digits(stamp):
        result["stamp_flag"] = int(stamp)
        if stamp not in "01":
            errors.append(
                CodecIssue(
                    ErrorCode.VALUE,
                    at(_STAMP),
                    "0 or 1",
                    stamp,
                    "stamp_flag",
                    f"印紙フラグ: expected 0 or 1, found {stamp!r}",
                )
            )

    amount = full[_AMOUNT[0] : _AMOUNT[1]]
    result["amount"] = int(amount) if ascii_digits(amount) else None

    body = full[:_CHECK]
    if ascii_digits(body):
        expected = mod10_w31(body)
        if profile.with_check_digit:
            found = full[_CHECK]
            if ascii_digits(found):
                result["check_digit"] = int(found)
                if int(found) != expected:
                    errors.append(
                        CodecIssue(
                            ErrorCode.CHECK_DIGIT,
                            at(_CHECK),
                            str(expected),
                            found,
                            "check_digit",
                            f"check digit (modulus 10, weights 3/1): expected {expected}, found {found}",
                        )
                    )
        else:
            result["check_digit"] = expected
        result["canonical"] = body + str(result.get("check_digit", expected))
    return BarcodeResult(value, profile, tuple(errors), **result)


def encode_barcode(
    *,
    issuer_code: str,
    free_field: str | dict[str, str],
    amount: int,
    deadline: date | None = None,
    reissue: int = 0,
    stamp_flag: int = 0,
    issuer_country: str = "9",
    profile: BarcodeProfile = DEFAULT_PROFILE,
) -> str:
    """A valid barcode (check digit computed) in the stored form ``profile`` describes.

    ``free_field`` is the whole 21 digits or the profile's parts by name; ``deadline``
    None writes 999999. ValueError for any field that does not fit the layout.
    """
    country = "" if profile.issuer_code_width == 6 else issuer_country
    issuer = country + issuer_code
    if len(country) != 6 - profile.issuer_code_width or len(issuer) != 6 or not ascii_digits(issuer):
        raise ValueError(
            f"issuer: expected {6 - profile.issuer_code_width} + {profile.issuer_code_width} digits, "
            f"found {issuer_country!r} + {issuer_code!r}"
        )
    if isinstance(free_field, dict):
        unknown = set(free_field) - {part.name for part in profile.free_field}
        if unknown:
            raise ValueError(f"unknown free-field parts {sorted(unknown)} for profile {profile.name!r}")
        pieces = []
        for part in profile.free_field:
            piece = free_field.get(part.name, "0" * part.width)
            if len(piece) != part.width:
                raise ValueError(f"{part.name}: expected {part.width} digits, found {piece!r}")
            pieces.append(piece)
        free = "".join(pieces)
    else:
        free = free_field
    if len(free) != FREE_FIELD_LENGTH or not ascii_digits(free):
        raise ValueError(f"free field: expected 21 digits, found {free!r}")
    if not 0 <= reissue <= 9:
        raise ValueError(f"reissue: expected 0 to 9, found {reissue}")
    if stamp_flag not in (0, 1):
        raise ValueError(f"stamp_flag: expected 0 or 1, found {stamp_flag}")
    if not 0 <= amount <= 999_999:
        raise ValueError(f"amount: expected 0 to 999,999 yen, found {amount:,}")
    deadline_text = NO_DEADLINE if deadline is None else deadline.strftime("%y%m%d")
    body = f"{AI}{issuer}{free}{reissue}{deadline_text}{stamp_flag}{amount:06d}"
    full = body + str(mod10_w31(body))
    stored = full if profile.with_ai else full[len(AI) :]
    return stored if profile.with_check_digit else stored[:-1]
