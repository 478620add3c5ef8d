"""The numpy fast path and the Construct path give the same result on any file."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.builder import FileBuilder, Group
from formats.fastpath import validate_fast
from formats.layouts.zengin import DEBIT_91, TRANSFER_21
from formats.reader import RecordReader
from formats.validate import validate_path, validate_stream
from tests.support.paths import DATA
from tests.support.samples import (
    debit_file,
    debit_header,
    debit_record,
    transfer_file,
    transfer_header,
    transfer_record,
)

DATA_DIR = DATA

BASE_91 = debit_file([(1000, "0"), (2500, "1"), (300, "0"), (47000, "9"), (12, "0")], groups=2)
BASE_91_REQUEST = debit_file([(1000, None), (2500, "0"), (300, None)])
BASE_21 = transfer_file([5000, 12000, 300])


def both(tmp_path: Path, content: bytes, layout, block_records: int = 3):
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    fast = validate_fast(path, layout, block_records=block_records)
    slow = validate_stream(io.BytesIO(content), layout, name=str(path))
    return fast, slow


@pytest.mark.parametrize("separator", [b"\r\n", b"\n", b""])
def test_clean_file_takes_the_fast_path_and_agrees(tmp_path, separator):
    """A clean file is validated in bulk, with the same totals as record by record."""
    content = debit_file([(1000, "0"), (2500, "1")], separator=separator)
    fast, slow = both(tmp_path, content, DEBIT_91)
    assert fast is not None
    assert fast.as_dict() == slow.as_dict()
    assert fast.status == "ok"


def test_irregular_file_falls_back(tmp_path):
    """A file whose size does not fit one separator is left to the record-by-record path."""
    content = BASE_91.replace(b"\r\n", b"\n", 1)
    fast, slow = both(tmp_path, content, DEBIT_91)
    assert fast is None
    assert validate_path(tmp_path / "file.dat", DEBIT_91).as_dict() == slow.as_dict()


def _mutations():
    return st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(BASE_91) - 1),
            st.sampled_from(list(b"0123456789 A\xaf\x82\x1a\x0a\x0d") + [0x31, 0x38, 0x39, 0x32]),
        ),
        min_size=1,
        max_size=4,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=_mutations(), block=st.integers(min_value=1, max_value=7), request=st.booleans())
def test_mutated_91_files_agree(tmp_path, mutations, block, request):
    """Whatever bytes are changed, in a result or a request, a fast-path result equals the Construct path's."""
    content = bytearray(BASE_91_REQUEST if request else BASE_91)
    for position, value in mutations:
        content[position % len(content)] = value
    fast, slow = both(tmp_path, bytes(content), DEBIT_91, block_records=block)
    if fast is not None:
        assert fast.as_dict() == slow.as_dict()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0, max_value=len(BASE_21) - 1),
    value=st.sampled_from(list(b"0123456789 AY\xa6\xaf\x82")),
)
def test_mutated_21_files_agree(tmp_path, position, value):
    """The same holds for 総合振込 files."""
    content = bytearray(BASE_21)
    content[position] = value
    fast, slow = both(tmp_path, bytes(content), TRANSFER_21, block_records=2)
    if fast is not None:
        assert fast.as_dict() == slow.as_dict()


def test_golden_files_agree():
    """Every golden sample gives the same result on both paths."""
    checked = 0
    for path in sorted(DATA_DIR.glob("zengin-*/*.dat")):
        layout = DEBIT_91 if "zengin-91" in str(path) else TRANSFER_21
        fast = validate_fast(path, layout, block_records=2)
        slow = validate_stream(io.BytesIO(path.read_bytes()), layout, name=str(path))
        if fast is not None:
            assert fast.as_dict() == slow.as_dict(), path.name
            checked += 1
    assert checked >= 5 or not any(DATA_DIR.glob("zengin-*/*.dat"))


# -- warnings: listed by the fast path itself, errors still through Construct -----------------

WARNED = dict(unknown_bank={"bank_code": "9899"}, unknown_branch={"branch_code": "999"})


def _warnings_91(groups: int = 3, separator: bytes = b"\r\n") -> bytes:
    """A 91 result file in several groups whose records carry warnings (unknown bank, unknown
    branch, unknown result code, two at once) beside clean records and records with errors."""
    plan = [
        (1000, "0", {}),
        (2500, "0", WARNED["unknown_branch"]),
        (300, "5", {}),  # 振替結果コード 5 is not defined: UNKNOWN_RESULT_CODE
        (47000, "1", WARNED["unknown_bank"]),
        (12, "6", WARNED["unknown_bank"]),  # two warnings on one record
        (800, "0", {}),
        (900, "7", WARNED["unknown_branch"]),  # and code 7: two warnings
        (100, "0", {}),
    ]
    records = [debit_record(i + 1, amount, code, **overrides) for i, (amount, code, overrides) in enumerate(plan)]
    builder = FileBuilder(DEBIT_91, separator=separator, result=True)
    content = bytearray(builder.to_bytes([Group(debit_header(), records) for _ in range(groups)]))
    stride = 120 + len(separator)
    # errors (rows: header 0, data 1–8, trailer 9, next header 10 …): a wrong 預金種目 on an
    # unknown-branch record (row 2), a wrong 新規コード on a clean record (row 18), a bad 口座番号 on the
    # record with two warnings (row 25); a record with an error is not checked by the rules
    content[2 * stride + 42] = ord("7")
    if groups > 1:
        content[18 * stride + 90] = ord("5")
    if groups > 2:
        content[25 * stride + 45] = ord(" ")
    return bytes(content)


@pytest.mark.parametrize("max_listed", [1, 2, 3, 5, 8, 1000])
@pytest.mark.parametrize("block", [1, 3, 4, 64])
def test_warnings_are_listed_as_the_record_path_lists_them(tmp_path, max_listed, block):
    """Unknown bank, branch and result codes, two on a record, mixed with errors in several groups:
    the same result, warnings capped at max_listed and the rest counted as not listed."""
    content = _warnings_91()
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    fast = validate_fast(path, DEBIT_91, block_records=block, max_listed=max_listed)
    slow = validate_stream(io.BytesIO(content), DEBIT_91, name=str(path), max_listed=max_listed)
    assert fast is not None
    assert fast.as_dict() == slow.as_dict()
    assert fast.status == "rejected-records"
    assert len(fast.warnings) == min(max_listed, 18)
    assert fast.dropped_warnings == 18 - len(fast.warnings)  # 7 a group, less the 3 on records with errors
    if max_listed >= 18:
        assert {w.code for w in fast.warnings} == {"UNKNOWN_BANK", "UNKNOWN_BRANCH", "UNKNOWN_RESULT_CODE"}


def test_records_with_only_warnings_do_not_go_through_the_record_path(tmp_path, monkeypatch):
    """Only control records and records with an error are read by the reader (Construct's path)."""
    content = _warnings_91()
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    read: list[int] = []
    original = RecordReader.read_frame

    def counting(self, frame):
        read.append(frame.index)
        return original(self, frame)

    monkeypatch.setattr(RecordReader, "read_frame", counting)
    fast = validate_fast(path, DEBIT_91, block_records=4)
    assert fast is not None and len(fast.warnings) == 18
    # records are numbered from 1: headers 1, 11, 21, trailers 10, 20, 30, end 31; errors 3, 19, 26
    assert sorted(read) == [1, 3, 10, 11, 19, 20, 21, 26, 30, 31]


@pytest.mark.parametrize("separator", [b"\r\n", b"\n", b""])
def test_warnings_with_each_separator(tmp_path, separator):
    content = _warnings_91(groups=2, separator=separator)
    fast, slow = both(tmp_path, content, DEBIT_91, block_records=5)
    assert fast is not None
    assert fast.as_dict() == slow.as_dict()


def test_warnings_in_21_files(tmp_path):
    """総合振込: unknown banks and branches beside errors (a bad 顧客コード) give the same result."""
    records = [
        transfer_record(1, 5000),
        transfer_record(2, 12000, bank_code="0002"),
        transfer_record(3, 300, branch_code="999"),
        transfer_record(4, 700, bank_code="9998"),
        transfer_record(5, 800, customer_codes="00000000010000000A00"),
        transfer_record(6, 900),
    ]
    builder = FileBuilder(TRANSFER_21)
    content = builder.to_bytes([Group(transfer_header(), records), Group(transfer_header(), records[::-1])])
    for max_listed in (1, 3, 1000):
        path = tmp_path / "file.dat"
        path.write_bytes(content)
        fast = validate_fast(path, TRANSFER_21, block_records=3, max_listed=max_listed)
        slow = validate_stream(io.BytesIO(content), TRANSFER_21, name=str(path), max_listed=max_listed)
        assert fast is not None
        assert fast.as_dict() == slow.as_dict()
        assert len(fast.warnings) + fast.dropped_warnings == 6


BASE_91_WARNINGS = _warnings_91(groups=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(BASE_91_WARNINGS) - 1),
            st.sampled_from(list(b"0123456789 A\xaf\x82\x0d")),
        ),
        min_size=1,
        max_size=4,
    ),
    block=st.integers(min_value=1, max_value=7),
    max_listed=st.sampled_from([1, 2, 4, 1000]),
)
def test_mutated_91_files_with_warnings_agree(tmp_path, mutations, block, max_listed):
    """Mutations of a file with warnings (codes made known or unknown, fields broken) agree too."""
    content = bytearray(BASE_91_WARNINGS)
    for position, value in mutations:
        content[position] = value
    path = tmp_path / "file.dat"
    path.write_bytes(bytes(content))
    fast = validate_fast(path, DEBIT_91, block_records=block, max_listed=max_listed)
    slow = validate_stream(io.BytesIO(bytes(content)), DEBIT_91, name=str(path), max_listed=max_listed)
    if fast is not None:
        assert fast.as_dict() == slow.as_dict()


@pytest.mark.parametrize("strict", [True, False])
def test_result_code_warning_matches_check_for_every_byte(strict):
    """KnownCode's vector warnings equal what the record check gives, for each of the 256 bytes."""
    from formats.fastpath import BlockChecker
    from formats.layouts.zengin.debit import DATA

    base = DATA.build(debit_record(1, 1000, "0"))
    offset = DATA.by_name["result_code"].offset
    rows = [base[:offset] + bytes([byte]) + base[offset + 1 :] for byte in range(256)]
    checked = BlockChecker(DATA, strict).check(np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(256, 120))
    assert checked is not None
    passed, counts = checked
    for byte, raw in enumerate(rows):
        _values, issues = DATA.check(raw, strict)
        errors = [issue for issue in issues if issue.severity == "error"]
        assert bool(passed[byte]) == (not errors), byte
        if passed[byte]:
            assert counts[byte] == len(issues), byte


# -- every layout: golden samples and mutated files give the same result on both paths ----------

from formats.registry import load_formats  # noqa: E402
from tests.unit.test_fuzz import _seed  # noqa: E402  (a clean sample of each format, built where tests/data has none)

ALL_FORMATS = load_formats()
BUILT_IN = tuple(ALL_FORMATS)  # every built-in layout (formats/registry.py)
CLEAN = {format_id: _seed(format_id) for format_id in BUILT_IN}


def _compare(tmp_path: Path, content: bytes, layout, *, block: int = 2, max_listed: int = 1000):
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    fast = validate_fast(path, layout, block_records=block, max_listed=max_listed)
    slow = validate_stream(io.BytesIO(content), layout, name=str(path), max_listed=max_listed)
    if fast is not None:
        assert fast.as_dict() == slow.as_dict()
    return fast, slow


@pytest.mark.parametrize("format_id", BUILT_IN)
def test_every_layout_clean_sample_takes_the_fast_path(tmp_path, format_id):
    """A clean sample of each built-in layout is validated in bulk, with the record path's result."""
    fast, slow = _compare(tmp_path, CLEAN[format_id], ALL_FORMATS[format_id], block=3)
    assert fast is not None, format_id
    assert slow.status == "ok" and slow.records >= 2


@pytest.mark.parametrize("format_id", sorted({path.parent.name for path in DATA_DIR.glob("*/*.dat")} & set(BUILT_IN)))
def test_every_layout_golden_samples_agree(format_id):
    """Every golden sample of every layout gives the same result on both paths; the fast path takes
    every one whose shape allows it (one separator throughout, records of the layout's length)."""
    layout = ALL_FORMATS[format_id]
    for path in sorted((DATA_DIR / format_id).glob("*.dat")):
        for block in (1, 3):
            fast = validate_fast(path, layout, block_records=block)
            slow = validate_stream(io.BytesIO(path.read_bytes()), layout, name=str(path))
            if fast is None:
                assert slow.status == "rejected-file", path.name  # only a file of the wrong shape
                continue
            assert fast.as_dict() == slow.as_dict(), (path.name, block)


def _layout_positions(format_id: str) -> tuple[int, int, list[int], list[tuple[int, int]]]:
    """(record length, stride, start of each data record, (start, width) of each trailer total field)."""
    layout = ALL_FORMATS[format_id]
    content = CLEAN[format_id]
    length = layout.record_length
    stride = length + (
        2 if content[length : length + 2] == b"\r\n" else 1 if content[length : length + 1] == b"\n" else 0
    )
    data_type, trailer_type = layout.type_of("data")[0], layout.type_of("trailer")[0]
    starts = range(0, len(content) - length + 1, stride)
    data = [at for at in starts if content[at + layout.type_offset] == data_type]
    trailer = next(at for at in starts if content[at + layout.type_offset] == trailer_type)
    record = layout.layout_for("trailer")
    totals = [layout.totals.count_field, layout.totals.amount_field, *layout.totals.extra]
    fields = [(trailer + record.by_name[name].offset, record.by_name[name].width) for name in totals]
    return length, stride, data, fields


#: Bytes a mutation writes: digits (a wrong amount, check digit, date or code), spaces, a letter,
#: half-width kana (ｯ is not Zengin kana), cp932 lead and trail bytes (a cut or a stray full-width
#: character), a byte no charset has.
MUTATION_BYTES = list(b"0123456789 A\xaf\xb1\x82\x81\x40\xa0\x9f\xfc\x00")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    format_id=st.sampled_from(BUILT_IN),
    data=st.data(),
    block=st.integers(min_value=1, max_value=4),
    max_listed=st.sampled_from([1, 3, 1000]),
)
def test_mutated_files_of_every_layout_agree(tmp_path, format_id, data, block, max_listed):
    """Bytes of data records changed (bad digits, kana, double-byte text, dates, codes, check
    digits), data amounts and further totals changed (so the trailer no longer agrees), trailer
    totals changed: the fast path's result equals the record path's."""
    layout = ALL_FORMATS[format_id]
    length, _stride, data_starts, total_fields = _layout_positions(format_id)
    content = bytearray(CLEAN[format_id])
    for _ in range(data.draw(st.integers(min_value=1, max_value=4), label="mutations")):
        where = data.draw(st.sampled_from(["data", "data", "total"]), label="where")
        if where == "data":
            at = data.draw(st.sampled_from(data_starts), label="record") + data.draw(
                st.integers(0, length - 1), label="byte"
            )
        else:
            start, width = data.draw(st.sampled_from(total_fields), label="total")
            at = start + data.draw(st.integers(0, width - 1), label="digit")
        content[at] = data.draw(st.sampled_from(MUTATION_BYTES), label="value")
    fast, _slow = _compare(tmp_path, bytes(content), layout, block=block, max_listed=max_listed)
    assert fast is not None  # the shape is unchanged: the fast path takes it


@pytest.mark.parametrize("format_id", ["collection-intake", "reconciliation", "payment-info"])
def test_further_totals_are_summed_in_bulk(tmp_path, format_id, monkeypatch):
    """Layouts with further totals (延滞金合計, 督促手数料合計): the data records are not read one by
    one, and a further total that differs from its records is found as on the record path."""
    layout = ALL_FORMATS[format_id]
    assert layout.totals.extra
    read: list[int] = []
    original = RecordReader.read_frame

    def counting(self, frame):
        read.append(frame.index)
        return original(self, frame)

    monkeypatch.setattr(RecordReader, "read_frame", counting)
    path = tmp_path / "clean.dat"
    path.write_bytes(CLEAN[format_id])
    fast = validate_fast(path, layout, block_records=2)
    assert fast is not None and fast.status == "ok"
    assert len(read) == 3  # header, trailer, end: no data record
    _length, _stride, _data, fields = _layout_positions(format_id)
    for start, width in fields[2:]:
        content = bytearray(CLEAN[format_id])
        content[start + width - 1] = ord("9") if content[start + width - 1] != ord("9") else ord("8")
        fast, slow = _compare(tmp_path, bytes(content), layout, block=2)
        assert fast is not None
        assert slow.status == "rejected-file"
        assert [error.code for error in fast.errors] == ["TRAILER_AMOUNT_MISMATCH"]


def test_feed_bulk_takes_the_further_totals():
    """feed_bulk adds each further total's sum; None (a blank value) leaves the total unknown; a
    layout with further totals needs their sums."""
    from formats.validator import FileValidator, GroupSummary

    validator = FileValidator(ALL_FORMATS["payment-info"])
    validator.group = GroupSummary(index=1, header_record=1)
    with pytest.raises(ValueError, match="further total"):
        validator.feed_bulk(1, 100, 0, 0)
    assert validator.feed_bulk(2, 100, 0, 0, extra={"late_fee_total": 30, "dunning_fee_total": 5})
    assert validator.feed_bulk(1, 50, 0, 0, extra={"late_fee_total": 7, "dunning_fee_total": None})
    assert validator.feed_bulk(1, 50, 0, 0, extra={"late_fee_total": 1, "dunning_fee_total": 9})
    assert validator.group.extra == {"late_fee_total": 38, "dunning_fee_total": None}
    assert (validator.records, validator.group.count, validator.group.amount) == (4, 4, 200)
