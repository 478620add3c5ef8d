"""The vector checks the fast path relies on accept exactly what the record path accepts.

A row a vector check passes must be one the Construct path accepts with no error (and, for the
rules that warn, with the same number of warnings); a row it cannot decide it refuses, and the
record path reads it. Field kinds (DoubleByteText, 和暦 dates), the codec rule's numpy codecs, and
every built-in layout's data record, byte by byte, are compared here with the record path.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from formats.checkdigits import mod10_w31
from formats.codecs import (
    crc16_ccitt_false,
    decode_barcode,
    decode_elqr,
    decode_ocr,
    encode_barcode,
    encode_elqr,
    encode_ocr,
)
from formats.declarative import VECTOR_CODECS, _crc16_ccitt_false
from formats.errors import FieldError
from formats.fastpath import BlockChecker, fast_path_refusal
from formats.fields import Date, DoubleByteText, cp932_pairs
from formats.registry import load_formats

ALL_FORMATS = load_formats()
BUILT_IN = tuple(ALL_FORMATS)  # every built-in layout (formats/registry.py)


def _accepts(kind, raw: bytes) -> bool:
    try:
        kind.decode(raw)
    except FieldError:
        return False
    return True


def _block(rows: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), len(rows[0]))


def test_every_built_in_layout_can_take_the_fast_path():
    for format_id in BUILT_IN:
        assert fast_path_refusal(ALL_FORMATS[format_id]) is None, format_id
        assert fast_path_refusal(ALL_FORMATS[format_id], strict=False) is None, format_id


def test_cp932_pair_table_is_the_codec():
    table = cp932_pairs()
    for lead, trail in [(0x82, 0xA0), (0x81, 0x40), (0x88, 0x9F), (0x87, 0x40), (0xFA, 0x40), (0xEF, 0x40)]:
        raw = bytes((lead, trail))
        try:
            one = len(raw.decode("cp932")) == 1
        except UnicodeDecodeError:
            one = False
        assert table[lead * 256 + trail] == one, raw
    assert not table[0x20 * 256 + 0x20] and not table[0x41 * 256 + 0x42]


@pytest.mark.parametrize("optional", [False, True])
def test_double_byte_every_pair(optional):
    """All 65,536 two-byte fields: the vector check equals decode."""
    kind = DoubleByteText(2, optional=optional)
    rows = [bytes((lead, trail)) for lead in range(256) for trail in range(256)]
    ok = kind.vector_ok(_block(rows))
    expected = np.array([_accepts(kind, raw) for raw in rows])
    assert (ok == expected).all()


@pytest.mark.parametrize("width", [1, 3, 4, 5, 7])
@pytest.mark.parametrize("optional", [False, True])
def test_double_byte_random_rows(width, optional):
    """Rows of full-width characters, half-width spaces, cut characters and single-byte text."""
    rng = np.random.default_rng(width * 2 + optional)
    pieces = [b"\x81\x40", b"\x82\xa0", b"\x88\x9f", b"\x87\x40", b" ", b"  ", b"A", b"\xb1", b"\x82", b"\x81"]
    pieces += [b"\xef\x40", b"\xfc\xfc", b"\x82\x20", b"\x20\x82", b"\x00", b"\x7f"]
    rows = set()
    for _ in range(3000):
        raw = b"".join(pieces[i] for i in rng.integers(0, len(pieces), size=width))[:width]
        rows.add(raw.ljust(width, b" "))
    rows.update(bytes(combo) for combo in itertools.product([0x20, 0x82, 0xA0, 0x41], repeat=width) if width <= 5)
    ordered = sorted(rows)
    kind = DoubleByteText(width, optional=optional)
    ok = kind.vector_ok(_block(ordered))
    for raw, passed in zip(ordered, ok, strict=True):
        assert bool(passed) == _accepts(kind, raw), raw


def test_wareki_dates():
    """GYYMMDD: every era code, years around each era's ends (and leap years), months 00–13, the
    days around each era's first and last day and each month's end; blank and zeros when optional."""
    years = [0, 1, 2, 3, 14, 15, 16, 30, 31, 32, 44, 45, 46, 63, 64, 65, 99]
    rows = [
        f"{era}{yy:02d}{mm:02d}{dd:02d}".encode()
        for era in range(10)
        for yy in years
        for mm in range(14)
        for dd in (0, 1, 7, 8, 23, 24, 25, 28, 29, 30, 31, 32)
    ]
    rows += [b"       ", b"0000000", b"4 10101", b"40101 1", b"A010101", b"\x82\xa00101 "]
    for optional in (False, True):
        kind = Date("GYYMMDD", optional=optional)
        ok = kind.vector_ok(_block(rows))
        assert ok is not None
        for raw, passed in zip(rows, ok, strict=True):
            assert bool(passed) == _accepts(kind, raw), raw


def test_crc16_is_the_codecs():
    import binascii

    rng = np.random.default_rng(3)
    data = rng.integers(0x30, 0x3A, size=(50, 250)).astype(np.int64)
    crcs = _crc16_ccitt_false(data)
    for row, crc in zip(data, crcs, strict=True):
        assert crc == binascii.crc_hqx(bytes(row.astype(np.uint8)), 0xFFFF)


def _barcodes() -> list[str]:
    today = dt.date.today()
    return [
        encode_barcode(issuer_code="12345", free_field="0" * 21, amount=1000),
        encode_barcode(issuer_code="99999", free_field="123456789012345678901", amount=999_999, deadline=today),
        encode_barcode(issuer_code="00001", free_field="1" * 21, amount=0, deadline=dt.date(2000, 2, 29)),
        encode_barcode(issuer_code="54321", free_field="2" * 21, amount=5, deadline=dt.date(2028, 2, 29)),
    ]


def _elqrs() -> list[str]:
    return [
        encode_elqr(
            amount=amount,
            tax_item_code="001",
            case_key=f"{seed:020d}",
            confirmation_number="123456",
            common_tax_institution_code="99999",
            levy_year=2024,
            tax_year=2024,
            period_code="01",
            due_date=dt.date(2024, 5, 31),
            payment_deadline=dt.date(2024, 2, 29),
        )
        for seed, amount in ((1, 12000), (987654321, 99_999_999_999))
    ]


def _ocr_lines() -> list[str]:
    return [encode_ocr("1234567890" * 4 + "12"), encode_ocr("0" * 42), encode_ocr("9876543210" * 3 + "1234567")]


def _variants(values: list[str], pairs: int, seed: int) -> list[str]:
    """Each value, each single digit changed (to 0, 9, one more, five more), and random two-digit changes."""
    out = set(values)
    rng = np.random.default_rng(seed)
    for value in values:
        for position in range(len(value)):
            found = int(value[position])
            for digit in {0, 9, (found + 1) % 10, (found + 5) % 10}:
                out.add(value[:position] + str(digit) + value[position + 1 :])
        for _ in range(pairs):
            chars = list(value)
            for position in rng.integers(0, len(value), size=2):
                chars[position] = str(rng.integers(0, 10))
            out.add("".join(chars))
    return sorted(out)


def _seal_barcode(value: str) -> str:
    return value[:43] + str(mod10_w31(value[:43]))


def _seal_ocr(value: str) -> str:
    return encode_ocr(value[2:])


def _seal_elqr(value: str) -> str:
    """Check digits and CRC made right again, so that the other checks are what a change breaks."""
    text = value[:29] + encode_ocr(value[31:68]) + encode_ocr(value[70:112]) + value[112:250]
    return text + f"{crc16_ccitt_false(text.encode('ascii')):05d}"


@pytest.mark.parametrize(
    ("codec", "values", "decode", "seal"),
    [
        ("cvs-barcode", _barcodes, decode_barcode, _seal_barcode),
        ("ocr", _ocr_lines, decode_ocr, _seal_ocr),
        ("elqr", _elqrs, decode_elqr, _seal_elqr),
    ],
)
def test_vector_codecs_agree_with_the_codecs(codec, values, decode, seal):
    """True exactly where the codec finds the value valid (for the written layout; the eL-QR's
    numpy test may refuse a valid value laid out otherwise, never accept an invalid one). The
    changed values are tried as they are (a check digit catches the change) and with their check
    digits (and CRC) made right again (the change itself must be caught)."""
    for width, same in itertools.groupby(sorted(values(), key=len), key=len):
        rows = _variants(list(same), 100, width)
        rows = sorted({*rows, *(seal(row) for row in rows)})
        rows += ["9" * width, "0" * width, "1" * (width - 1) + "0"]
        digits = np.array([[int(char) for char in row] for row in rows], dtype=np.int64)
        ok = VECTOR_CODECS[codec](digits)
        for row, passed in zip(rows, ok, strict=True):
            assert bool(passed) == decode(row).valid, row


def test_vector_codecs_refuse_other_lengths():
    for codec in VECTOR_CODECS:
        assert not VECTOR_CODECS[codec](np.zeros((2, 43), dtype=np.int64)).any()


def _data_records(format_id: str) -> list[bytes]:
    from tests.unit.test_fuzz import _seed

    layout = ALL_FORMATS[format_id]
    content = _seed(format_id)
    length = layout.record_length
    raw = content.replace(b"\r\n", b"").replace(b"\n", b"").rstrip(b"\x1a")
    records = [raw[i : i + length] for i in range(0, len(raw), length)]
    data_type = layout.type_of("data")
    return [record for record in records if record[layout.type_offset : layout.type_offset + 1] == data_type]


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("format_id", BUILT_IN)
def test_block_checker_agrees_with_the_record_check(format_id, strict):
    """Each byte of a clean data record changed (to a space, a 9, a cp932 lead byte, the next byte
    value: a digit, letter or kana): a row the block check passes has no error on the record path, and the number
    of warnings it counts is the number the record path lists; a row with no error that it does
    not pass is allowed (the record path reads it), but not for a clean record."""
    layout = ALL_FORMATS[format_id].layout_for("data")
    base = _data_records(format_id)[0]
    rows = [base]
    for position in range(len(base)):
        for value in {0x20, 0x39, 0x82, (base[position] + 1) % 256}:
            if value != base[position]:
                rows.append(base[:position] + bytes((value,)) + base[position + 1 :])
    checked = BlockChecker(layout, strict).check(_block(rows))
    assert checked is not None
    passed, counts = checked
    assert passed[0], "the clean record passes"
    for raw, ok, count in zip(rows, passed, counts, strict=True):
        _values, issues = layout.check(raw, strict)
        errors = [issue for issue in issues if issue.severity == "error"]
        if ok:
            assert not errors, (raw, errors)
            assert count == len(issues), raw
