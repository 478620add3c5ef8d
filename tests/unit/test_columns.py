"""Records in columns (formats/columns.py) and canonical records in columns (gateway/model/batch.py)
give exactly what the record path gives: the same blocks as the Framer, the same values as
``decode_clean``, the same bytes as ``encode``, the same models and the same refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from formats.columns import Columns, encode_records, read_blocks
from formats.fields import FieldBuildError
from formats.framing import Framer
from formats.layouts.zengin import DEBIT_91
from formats.registry import get_format
from gateway.model.batch import CanonicalBatch
from gateway.model.records import Assessment, NumberLinkage, Payment, SourceRef
from tests.support.paths import DATA
from tests.support.samples import debit_file


def _formats() -> list[str]:
    names = []
    for folder in sorted(path for path in DATA.iterdir() if path.is_dir()):
        try:
            get_format(folder.name)
        except Exception:
            continue
        if any(folder.glob("*.dat")):
            names.append(folder.name)
    return names


def _framed(path: Path, length: int) -> list[tuple[int, int, bytes]]:
    with path.open("rb") as stream:
        return [(f.index, f.offset, f.raw) for f in Framer(stream, length) if len(f.raw) == length]


def _blocked(path: Path, layout, separator: str, block_records: int) -> list[tuple[int, int, bytes]]:
    out = []
    for block in read_blocks(path, layout, separator, block_records):
        out += [(int(block.numbers[row]), int(block.offsets[row]), block.raw(row)) for row in range(len(block))]
    return out


@pytest.mark.parametrize("name", _formats())
def test_golden_files_read_in_blocks_decode_as_record_by_record(name):
    """Every golden sample: read_blocks gives the Framer's records (number, offset, bytes), and the
    columns of its valid data records are the values decode_clean gives record by record; encoding
    those columns gives the bytes encode gives record by record."""
    layout = get_format(name)
    data = layout.layout_for("data")
    data_type = layout.type_of("data")
    checked = 0
    for path in sorted((DATA / name).glob("*.dat")):
        framed = _framed(path, layout.record_length)
        for separator in ("crlf", "lf", "none"):
            for block_records in (1, 3, 1000):
                assert _blocked(path, layout, separator, block_records) == framed, (path.name, separator)
        good = [raw for _, _, raw in framed if raw[layout.type_offset : layout.type_offset + 1] == data_type]
        good = [raw for raw in good if not data.check(raw)[1]]
        if not good:
            continue
        records = np.frombuffer(b"".join(good), dtype=np.uint8).reshape(len(good), layout.record_length)
        columns = Columns(data, records)
        expected = [data.decode_clean(raw) for raw in good]
        for name_ in columns:
            assert columns[name_] == [values[name_] for values in expected], (path.name, name_)
        encoded = encode_records(data, {n: columns[n] for n in columns}, len(good), b"\r\n")
        assert encoded == b"".join(data.encode(values) + b"\r\n" for values in expected)
        checked += len(good)
    assert checked > 0


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 9_999_999_999), st.sampled_from(["0", "1", "2", "9"]), st.integers(1, 99_999)),
        min_size=1,
        max_size=12,
    ),
    separator=st.sampled_from([b"\r\n", b"\n", b""]),
    eof=st.booleans(),
    block=st.integers(1, 5),
)
def test_91_files_in_blocks_and_columns(tmp_path_factory, rows, separator, eof, block):
    """Generated 91 files, every separator, with and without the EOF mark: the same records as the
    Framer, the same values as decode_clean."""
    path = tmp_path_factory.mktemp("columns") / "file.dat"
    content = debit_file([(amount, code) for amount, code, _ in rows], separator=separator)
    path.write_bytes(content + (b"\x1a" if eof else b""))
    layout = DEBIT_91
    framed = _framed(path, layout.record_length)
    name = {b"\r\n": "crlf", b"\n": "lf", b"": "none"}[separator]
    assert _blocked(path, layout, name, block) == framed
    data = layout.layout_for("data")
    good = [raw for _, _, raw in framed if raw[:1] == b"2"]
    records = np.frombuffer(b"".join(good), dtype=np.uint8).reshape(len(good), layout.record_length)
    columns = Columns(data, records)
    for field in columns:
        assert columns[field] == [data.decode_clean(raw)[field] for raw in good]


def test_an_irregular_file_is_read_through_the_framer(tmp_path):
    """One LF among CRLFs: not read straight into arrays, but the Framer's records all the same."""
    path = tmp_path / "file.dat"
    path.write_bytes(debit_file([(1000, "0"), (2000, "1"), (3000, "0")]).replace(b"\r\n", b"\n", 2))
    assert _blocked(path, DEBIT_91, "crlf", 2) == _framed(path, DEBIT_91.record_length)


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.integers(0, 10**10 - 1), min_size=1, max_size=8),
    keys=st.lists(st.text(alphabet="0123456789", min_size=1, max_size=20), min_size=8, max_size=8),
)
def test_numbers_and_text_encode_as_encode_does(amounts, keys):
    """Zero-padded numbers in one step and text once per value: encode's bytes, record by record."""
    layout = get_format("collection-intake").layout_for("data")
    rows = len(amounts)
    columns = {
        "record_type": ["2"] * rows,
        "reconciliation_key": keys[:rows],
        "channel_kind": ["01"] * rows,
        "status": ["1"] * rows,
        "principal": amounts,
        "late_fee": [0] * rows,
        "dunning_fee": list(range(rows)),
        "receipt_date": [dt.date(2026, 12, 4)] * rows,
        "source_record": list(range(1, rows + 1)),
    }
    expected = b"".join(
        layout.encode({name: values[row] for name, values in columns.items()}) + b"\r\n" for row in range(rows)
    )
    assert encode_records(layout, columns, rows, b"\r\n") == expected


def test_a_value_that_does_not_fit_is_named_as_encode_names_it():
    layout = get_format("collection-intake").layout_for("data")
    columns = {
        "record_type": ["2", "2"],
        "reconciliation_key": ["1", "2"],
        "channel_kind": ["01", "01"],
        "status": ["1", "1"],
        "principal": [1, 10**12],
        "late_fee": [0, 0],
        "dunning_fee": [0, 0],
        "source_record": [1, 2],
    }
    with pytest.raises(FieldBuildError) as batch_error:
        encode_records(layout, columns, 2, b"\r\n")
    with pytest.raises(FieldBuildError) as record_error:
        layout.encode({name: values[1] for name, values in columns.items()})
    assert str(batch_error.value) == str(record_error.value)
    assert "principal" in str(batch_error.value)


def _payments(**columns) -> CanonicalBatch:
    rows = len(next(iter(columns.values())))
    base = {
        "kind": ["direct-debit"] * rows,
        "status": ["paid"] * rows,
        "reconciliation_key": [f"{row:010d}" for row in range(rows)],
        "principal": [100] * rows,
    }
    base.update(columns)
    return CanonicalBatch(Payment, base, "F1", "zengin-91", list(range(1, rows + 1)), [0] * rows)


def test_a_batch_is_held_to_the_model_as_the_model_holds_one_record():
    """Each model of a checked batch equals the model built record by record; pydantic's coercions
    (a year written as digits) are made in the columns."""
    batch = _payments(fiscal_year=["2026", None, "2025"], tax_item=["01", None, "02"]).checked()
    assert batch.columns["fiscal_year"] == [2026, None, 2025]
    for row in range(3):
        values = {
            name: column[row]
            for name, column in _payments(
                fiscal_year=["2026", None, "2025"], tax_item=["01", None, "02"]
            ).columns.items()
        }
        expected = Payment(**values, source=SourceRef(file_id="F1", channel="zengin-91", record=row + 1, offset=0))
        assert batch.model_at(row) == expected


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({"reconciliation_key": ["0001", ""]}, "reconciliation_key"),  # min_length 1
        ({"principal": [100, -1]}, "principal"),  # ge 0
        ({"status": ["paid", "refunded"]}, "status"),  # a Literal
        ({"fiscal_year": [2026, "twenty"]}, "fiscal_year"),  # no coercion possible
    ],
)
def test_a_record_the_model_refuses_raises_the_models_own_error(columns, field):
    batch = _payments(**columns)
    with pytest.raises(ValidationError) as batch_error:
        batch.checked()
    with pytest.raises(ValidationError) as model_error:
        batch.model_at(1)
    assert batch_error.value.errors() == model_error.value.errors()
    assert batch_error.value.errors()[0]["loc"] == (field,)


def test_an_invalid_individual_number_is_refused_without_its_value():
    """The 個人番号's check digit is pydantic's validator, column or record; the value is never quoted."""
    rows = 2
    batch = CanonicalBatch(
        NumberLinkage,
        {
            "process_kind": ["1"] * rows,
            "integrated_address_number": ["0000000001"] * rows,
            "resident_code": ["0000000001"] * rows,
            "individual_number": ["123456789018", "123456789010"],  # the second fails the check digit
            "legal_basis": ["1"] * rows,
        },
        "F1",
        "micjet-linkage",
        [2, 3],
        [0, 0],
    )
    with pytest.raises(ValidationError) as error:
        batch.checked()
    assert "123456789010" not in str(error.value)


def test_take_and_of():
    """take picks records by index or by mask; of builds the batch of some models."""
    batch = _payments(principal=[1, 2, 3]).checked()
    assert batch.take(np.array([True, False, True])).columns["principal"] == [1, 3]
    assert batch.take(np.array([2, 0])).records == [3, 1]
    models = [batch.model_at(row) for row in range(3)]
    again = CanonicalBatch.of(models)
    assert [again.model_at(row) for row in range(3)] == models
    assessment = Assessment.model_fields
    assert "posting_seq" not in assessment  # a class attribute, not a field


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.text(alphabet='ab1,"\r\nｱ漢 ', max_size=6),
            st.integers(-5, 10**12),
            st.text(alphabet="0123456789", max_size=4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_csv_columns_are_written_as_the_csv_module_writes_them(rows):
    """The follow-up list's rows joined with commas where nothing needs quoting, by the csv module
    where something does: the same bytes either way."""
    from adapters.renderers import DebitFollowupCsvRenderer

    columns = [list(column) for column in zip(*rows, strict=True)]
    assert DebitFollowupCsvRenderer._columns(columns) == DebitFollowupCsvRenderer._rows(rows)
