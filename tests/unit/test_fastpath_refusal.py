"""A layout that cannot take the fast path says so and why; `gateway formats` shows it."""

from __future__ import annotations

import io
from dataclasses import replace

import construct
import numpy as np
from typer.testing import CliRunner

from formats.describe import fast_path_column, fast_path_line, layouts_markdown
from formats.fastpath import BlockChecker, fast_path_refusal, validate_fast
from formats.fields import Digits, Text
from formats.layout import FileLayout, RecordLayout, RecordRule
from formats.layouts.zengin import DEBIT_91
from formats.registry import FORMATS
from formats.validate import validate_path, validate_stream
from gateway.entrypoints import cli
from tests.support.samples import debit_file


class _RecordByRecord(RecordRule):
    """A rule with no vector check (a city's own Python rule, say)."""

    def __repr__(self) -> str:
        return "_RecordByRecord()"


def _with_rule(layout: FileLayout, rule: RecordRule) -> FileLayout:
    data_type = layout.type_of("data")
    data = layout.layout_for("data")
    records = dict(layout.records)
    records[data_type] = ("data", RecordLayout(data.name, data.label, data.struct, length=data.length, rules=[rule]))
    return replace(layout, id="zengin-91-custom", records=records)


def test_a_rule_without_a_vector_check_is_refused_with_its_reason(tmp_path):
    layout = _with_rule(DEBIT_91, _RecordByRecord())
    refusal = fast_path_refusal(layout)
    assert refusal is not None
    japanese, english = refusal.split(" / ")
    assert "レコード規則 _RecordByRecord" in japanese and "一括検査できない" in japanese
    assert english == "record rule _RecordByRecord() cannot be checked in bulk"
    assert fast_path_column(layout) == f"no: {refusal}"
    assert fast_path_line(layout) == f"Fast validation path (一括検査): no — {refusal}."
    content = debit_file([(1000, "0"), (2500, "1")])
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    assert validate_fast(path, layout) is None
    assert (
        validate_path(path, layout).as_dict() == validate_stream(io.BytesIO(content), layout, name=str(path)).as_dict()
    )


def test_a_kind_without_a_vector_check_is_refused():
    class Opaque(Digits):
        def byte_sets(self, strict: bool = True):
            return None

        def vector_ok(self, cols: np.ndarray, strict: bool = True):
            return None

    record = RecordLayout(
        "data",
        "データ",
        construct.Struct("record_type" / Text(1, "ascii") * "区分", "code" / Opaque(3) * "コード"),
        length=4,
    )
    refusal = BlockChecker(record, True).refusal
    assert refusal is not None and refusal.startswith("項目 コード (code) の種類 digits3 には一括検査がない / ")
    assert refusal.endswith("field code: no vector check for its kind (Opaque)")


def test_built_in_layouts_say_yes():
    for layout in FORMATS.values():
        assert fast_path_column(layout) == "yes"
    assert layouts_markdown(FORMATS.values()).count("Fast validation path (一括検査): yes.") == len(FORMATS)


def test_gateway_formats_shows_the_column():
    result = CliRunner().invoke(cli.app, ["formats"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "fast path" in result.stdout
    assert "no:" not in result.stdout
