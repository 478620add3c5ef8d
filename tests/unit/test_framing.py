"""Framing (formats.framing.Framer) and the streaming reader (formats.reader.RecordReader):
bytes into physical records, whatever separator the sender used (docs/validation.md §1)."""

from __future__ import annotations

import io

import pytest

from formats.builder import FileBuilder, Group
from formats.errors import Level, Reason
from formats.framing import CHUNK, Framer
from formats.layouts.zengin import DEBIT_91
from formats.reader import RecordReader
from formats.validate import validate_stream
from tests.support.samples import debit_header, debit_record

CRLF, LF, EOF = b"\r\n", b"\n", b"\x1a"

#: header, 4 data records, trailer, end: 7 records of 120 bytes, invented values.
RECORDS: list[bytes] = list(
    FileBuilder(DEBIT_91, result=True).records(
        [
            Group(
                debit_header(),
                [
                    debit_record(1, 1000, "0"),
                    debit_record(2, 2500, "1"),
                    debit_record(3, 300, "0"),
                    debit_record(4, 47000, "9"),
                ],
            )
        ]
    )
)
N = len(RECORDS)

#: every accepted separator form: (bytes, separator length, sniffed separator)
FORMS: dict[str, tuple[bytes, int, str]] = {
    "none": (b"".join(RECORDS), 0, "none"),
    "crlf-after": (b"".join(r + CRLF for r in RECORDS), 2, "crlf"),
    "crlf-between": (CRLF.join(RECORDS), 2, "crlf"),
    "lf": (b"".join(r + LF for r in RECORDS), 1, "lf"),
    "lf-between": (LF.join(RECORDS), 1, "lf"),
    "eof-after-crlf": (b"".join(r + CRLF for r in RECORDS) + EOF, 2, "crlf"),
    "eof-after-record-crlf": (CRLF.join(RECORDS) + EOF, 2, "crlf"),
    "eof-after-lf": (b"".join(r + LF for r in RECORDS) + EOF, 1, "lf"),
    "eof-after-record-none": (b"".join(RECORDS) + EOF, 0, "none"),
}


def frames(data: bytes, chunk_size: int = CHUNK) -> tuple[list[tuple[int, int, bytes, bytes]], Framer]:
    framer = Framer(io.BytesIO(data), chunk_size=chunk_size)
    out = [(f.index, f.offset, f.raw, f.terminator) for f in framer]
    return out, framer


def crlf_file(records: list[bytes]) -> bytes:
    return b"".join(r + CRLF for r in records)


def test_sample_records_are_what_the_tests_assume():
    """The sample is seven 120-byte records typed 1 2 2 2 2 8 9 (a guard for the other tests)."""
    assert N == 7
    assert all(len(r) == 120 for r in RECORDS)
    assert bytes(r[0] for r in RECORDS) == b"1222289"


@pytest.mark.parametrize("form", list(FORMS))
def test_every_separator_form_gives_the_same_records(form):
    """Each separator form yields the same seven records, numbered 1–7, at offset (n−1)·(120+separator)."""
    data, sep_len, separator = FORMS[form]
    got, framer = frames(data)
    assert [(index, raw) for index, _, raw, _ in got] == list(enumerate(RECORDS, start=1))
    assert [offset for _, offset, _, _ in got] == [i * (120 + sep_len) for i in range(N)]
    assert framer.separator == separator
    assert framer.size == len(data)
    assert framer.empty is False
    assert framer.inconsistent_at is None


@pytest.mark.parametrize(
    ("form", "last_terminator"),
    [
        ("crlf-after", CRLF),
        ("crlf-between", b""),
        ("lf", LF),
        ("eof-after-crlf", CRLF),
        ("eof-after-record-crlf", b""),
        ("none", b""),
    ],
)
def test_terminators_are_recorded_and_the_last_may_lack_one(form, last_terminator):
    """Every record but the last carries the file's separator; the last carries it only if the file has it."""
    data, _, separator = FORMS[form]
    got, _ = frames(data)
    expected = {"crlf": CRLF, "lf": LF, "none": b""}[separator]
    assert [t for *_, t in got[:-1]] == [expected] * (N - 1)
    assert got[-1][3] == last_terminator


@pytest.mark.parametrize("form", list(FORMS))
def test_every_separator_form_reads_the_same_values(form):
    """Through RecordReader every form gives the same roles and decoded values, with no issues."""
    data, sep_len, _ = FORMS[form]
    results = list(RecordReader(io.BytesIO(data), DEBIT_91))
    assert [r.role for r in results] == ["header", "data", "data", "data", "data", "trailer", "end"]
    assert [r.offset for r in results] == [i * (120 + sep_len) for i in range(N)]
    assert all(r.issues == [] for r in results)
    assert [r.values["amount"] for r in results[1:5]] == [1000, 2500, 300, 47000]
    assert results[5].values["total_amount"] == 50800


CHUNK_CASES = [
    pytest.param(form, chunk, id=f"{form}-{chunk}") for form in FORMS for chunk in (1, 7, 119, 120, 121, 122, 250)
]


@pytest.mark.parametrize(("form", "chunk"), CHUNK_CASES)
def test_tiny_chunks_give_the_same_frames(form, chunk):
    """Reading in chunks of a few bytes gives exactly the frames, separator and size of one big read."""
    data, _, _ = FORMS[form]
    reference, ref_framer = frames(data)
    got, framer = frames(data, chunk_size=chunk)
    assert got == reference
    assert (framer.separator, framer.size, framer.empty) == (ref_framer.separator, ref_framer.size, ref_framer.empty)


IRREGULAR = {
    "short-record": crlf_file([*RECORDS[:2], RECORDS[2][:119], *RECORDS[3:]]),
    "mixed-lf-crlf": b"".join(r + (LF if i in (2, 4) else CRLF) for i, r in enumerate(RECORDS)),
    "bare-cr": b"".join(r + (b"\r" if i == 2 else LF) for i, r in enumerate(RECORDS)),
}


@pytest.mark.parametrize("chunk", [1, 7, 121, 250])
@pytest.mark.parametrize("name", list(IRREGULAR))
def test_tiny_chunks_on_irregular_files(name, chunk):
    """Wrong lengths, mixed line endings and bare CRs are framed the same whatever the chunk size."""
    reference, ref_framer = frames(IRREGULAR[name])
    got, framer = frames(IRREGULAR[name], chunk_size=chunk)
    assert got == reference
    assert framer.separator == ref_framer.separator
    ref_at, at = ref_framer.inconsistent_at, framer.inconsistent_at
    assert (at and (at.index, at.offset)) == (ref_at and (ref_at.index, ref_at.offset))


class CountingStream(io.BytesIO):
    """A stream that remembers the size asked of every read()."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        self.asked.append(-1 if size is None else size)
        return super().read(size)


@pytest.mark.parametrize("form", ["none", "crlf-after", "lf"])
def test_framer_reads_in_bounded_chunks(form):
    """The framer never asks for the whole stream: every read() is for chunk_size bytes."""
    data, _, _ = FORMS[form]
    stream = CountingStream(data)
    framer = Framer(stream, chunk_size=250)
    assert len(list(framer)) == N
    assert stream.asked and set(stream.asked) == {250}
    assert len(stream.asked) >= len(data) // 250


@pytest.mark.parametrize(
    ("separator", "delta"),
    [(CRLF, -1), (CRLF, +1), (LF, -1), (LF, +1)],
    ids=["crlf-short", "crlf-long", "lf-short", "lf-long"],
)
def test_wrong_length_record_in_the_middle_is_reported_and_the_rest_read(separator, delta):
    """A 119- or 121-byte record 3 gets RECORD_LENGTH at its offset; records 4–7 follow at shifted offsets."""
    bad = RECORDS[2][:119] if delta < 0 else RECORDS[2] + b" "
    records = [*RECORDS[:2], bad, *RECORDS[3:]]
    data = b"".join(r + separator for r in records)
    stride = 120 + len(separator)
    results = list(RecordReader(io.BytesIO(data), DEBIT_91))

    assert [r.index for r in results] == [1, 2, 3, 4, 5, 6, 7]
    expected_offsets = [0, stride, 2 * stride] + [2 * stride + len(bad) + len(separator) + i * stride for i in range(4)]
    assert [r.offset for r in results] == expected_offsets
    third = results[2]
    assert third.raw == bad
    assert [(i.code, i.level, i.record, i.offset, i.expected, i.found) for i in third.issues] == [
        (Reason.RECORD_LENGTH, Level.RECORD, 3, 2 * stride, "120 bytes", f"{120 + delta} bytes")
    ]
    assert third.values == {} and not third.readable
    assert all(r.issues == [] for r in results[3:])
    assert results[3].values["account_number"] == "0000003"
    assert results[5].values["total_count"] == 4


def test_wrong_length_record_middle_through_validate_stream():
    """validate_stream reports the short record at its offset, keeps counting it and cannot prove the amount."""
    records = [*RECORDS[:2], RECORDS[2][:119], *RECORDS[3:]]
    result = validate_stream(io.BytesIO(crlf_file(records)), DEBIT_91)
    assert [(e.code, e.record, e.offset) for e in result.errors] == [
        (Reason.RECORD_LENGTH, 3, 244),
        (Reason.TRAILER_AMOUNT_UNVERIFIABLE, 6, 609 + 7),  # trailer at 244+121+2·122, 合計金額 at +7
    ]
    assert (result.records, result.rejected_records) == (4, 1)
    assert result.groups[0].computed["count"] == 4
    assert result.groups[0].computed["amount"] is None


def test_short_last_block_in_a_file_without_separator():
    """In a file with no separator a short final block is a record of the wrong length at its offset."""
    data = b"".join(RECORDS)[:-1]
    results = list(RecordReader(io.BytesIO(data), DEBIT_91))
    assert [r.offset for r in results] == [120 * i for i in range(N)]
    assert [i.code for i in results[-1].issues] == [Reason.RECORD_LENGTH]
    assert results[-1].raw == RECORDS[-1][:119]


@pytest.mark.parametrize("data", [b"", EOF], ids=["zero-bytes", "eof-mark-only"])
@pytest.mark.parametrize("chunk", [1, CHUNK])
def test_empty_file(data, chunk):
    """A file of 0 bytes or only 0x1A has no frames, is ``empty`` and has separator none."""
    got, framer = frames(data, chunk_size=chunk)
    assert got == []
    assert framer.empty is True
    assert framer.separator == "none"
    assert framer.size == len(data)


@pytest.mark.parametrize("data", [b"", EOF], ids=["zero-bytes", "eof-mark-only"])
def test_empty_file_is_only_empty_file(data):
    """validate_stream reports exactly one EMPTY_FILE (record null, offset 0) for an empty file."""
    result = validate_stream(io.BytesIO(data), DEBIT_91)
    assert [(e.code, e.level, e.record, e.offset) for e in result.errors] == [(Reason.EMPTY_FILE, Level.FILE, None, 0)]
    assert result.warnings == []
    assert result.status == "rejected-file"
    assert result.separator == "none"


def test_lf_in_a_crlf_file_is_inconsistent_once():
    """Records 3 and 5 ending in LF in a CRLF file give one SEPARATOR_INCONSISTENT, at record 3."""
    terminators = [CRLF, CRLF, LF, CRLF, LF, CRLF, CRLF]
    data = b"".join(r + t for r, t in zip(RECORDS, terminators))
    result = validate_stream(io.BytesIO(data), DEBIT_91)
    inconsistent = [e for e in result.errors if e.code == Reason.SEPARATOR_INCONSISTENT]
    assert [(e.record, e.offset, e.level) for e in inconsistent] == [(3, 244, Level.FILE)]
    assert [e.code for e in result.errors] == [Reason.SEPARATOR_INCONSISTENT]
    assert result.status == "rejected-file"
    # the record itself is still read and counted; it is not a rejected record
    assert (result.records, result.accepted, result.rejected_records) == (4, 4, 0)
    assert result.groups[0].computed["amount"] == 50800


def test_crlf_in_an_lf_file_is_inconsistent_at_that_record():
    """A CRLF after record 2 of an LF file is SEPARATOR_INCONSISTENT at record 2, offset 121."""
    data = b"".join(r + (CRLF if i == 1 else LF) for i, r in enumerate(RECORDS))
    _, framer = frames(data)
    assert framer.separator == "lf"
    result = validate_stream(io.BytesIO(data), DEBIT_91)
    assert [(e.code, e.record, e.offset) for e in result.errors] == [(Reason.SEPARATOR_INCONSISTENT, 2, 121)]


def test_framer_marks_the_first_inconsistent_frame():
    """Framer.inconsistent_at is the first frame whose line ending differs, not a later one."""
    terminators = [CRLF, CRLF, CRLF, LF, CRLF, LF, CRLF]
    _, framer = frames(b"".join(r + t for r, t in zip(RECORDS, terminators)))
    assert framer.inconsistent_at is not None
    assert (framer.inconsistent_at.index, framer.inconsistent_at.offset) == (4, 366)


@pytest.mark.parametrize("separator", [CRLF, LF], ids=["crlf", "lf"])
def test_bare_cr_is_not_a_separator(separator):
    """A lone CR after record 3 joins it to record 4 into one 241-byte record of the wrong length."""
    data = b"".join(r + (b"\r" if i == 2 else separator) for i, r in enumerate(RECORDS))
    stride = 120 + len(separator)
    results = list(RecordReader(io.BytesIO(data), DEBIT_91))
    assert len(results) == N - 1
    joined = results[2]
    assert joined.raw == RECORDS[2] + b"\r" + RECORDS[3]
    assert (joined.index, joined.offset) == (3, 2 * stride)
    assert [(i.code, i.found) for i in joined.issues] == [(Reason.RECORD_LENGTH, "241 bytes")]
    assert [r.offset for r in results[3:]] == [2 * stride + 241 + len(separator) + i * stride for i in range(3)]
    assert [r.role for r in results[3:]] == ["data", "trailer", "end"]


def test_bare_cr_after_the_last_record_belongs_to_it():
    """A CR without LF after the last record of a CRLF-between file makes that record 121 bytes."""
    data = CRLF.join(RECORDS) + b"\r"
    results = list(RecordReader(io.BytesIO(data), DEBIT_91))
    assert len(results) == N
    assert results[-1].raw == RECORDS[-1] + b"\r"
    assert [i.code for i in results[-1].issues] == [Reason.RECORD_LENGTH]
