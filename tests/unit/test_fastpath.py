"""The numpy fast path and the Construct path give the same result on any file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.fastpath import validate_fast
from formats.layouts.zengin import DEBIT_91, TRANSFER_21
from formats.validate import validate_path, validate_stream
from tests.support.paths import DATA
from tests.support.samples import debit_file, transfer_file

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
