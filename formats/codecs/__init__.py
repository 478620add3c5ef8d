"""Codecs for the payment channels' own value formats (payment-channels.md §1, §3, §4).

- :mod:`~formats.codecs.barcode` — the 44-digit convenience-store barcode (GS1-128, AI "91");
- :mod:`~formats.codecs.ocr` — 払込取扱票-style OCR lines with their two check digits;
- :mod:`~formats.codecs.elqr` — the eL-QR (地方税統一QRコード) TLV string with its CRC.

Every ``decode_*`` returns a result with ``valid``, ``fields`` and ``errors`` and never
raises for bad input; every ``encode_*`` builds a valid value for tests and samples and
raises ValueError for fields that do not fit.
"""

from collections.abc import Callable

from formats.codecs._common import (
    CodecIssue,
    CodecResult,
    ErrorCode,
    FieldValue,
    Severity,
)
from formats.codecs.barcode import (
    DEFAULT_PROFILE,
    BarcodeProfile,
    BarcodeResult,
    FreeFieldPart,
    decode_barcode,
    encode_barcode,
    expand_two_digit_year,
)
from formats.codecs.elqr import ElqrResult, crc16_ccitt_false, decode_elqr, encode_elqr
from formats.codecs.ocr import OcrResult, decode_ocr, encode_ocr, ocr_check_digits

#: The codecs a layout file names (a ``codec`` record rule, ``[canonical] codecs``), by name.
DECODERS: dict[str, Callable[[str], CodecResult]] = {
    "cvs-barcode": decode_barcode,
    "ocr": decode_ocr,
    "elqr": decode_elqr,
}


def first_error(result: CodecResult) -> CodecIssue:
    """The first *error* of an invalid result (warnings, such as a reserved eL-QR tag, come earlier)."""
    return next(issue for issue in result.errors if issue.severity == Severity.ERROR)


__all__ = [
    "DEFAULT_PROFILE",
    "BarcodeProfile",
    "BarcodeResult",
    "CodecIssue",
    "CodecResult",
    "DECODERS",
    "ElqrResult",
    "ErrorCode",
    "FieldValue",
    "FreeFieldPart",
    "OcrResult",
    "Severity",
    "crc16_ccitt_false",
    "decode_barcode",
    "decode_elqr",
    "decode_ocr",
    "encode_barcode",
    "encode_elqr",
    "encode_ocr",
    "expand_two_digit_year",
    "first_error",
    "ocr_check_digits",
]
