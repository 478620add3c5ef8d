"""Golden files: hand-written samples under tests/data/<format>/ beside their expected
results (<case>.dat.json), written by hand from docs/validation.md and the layouts.

One parametrised test walks the folders. Nothing here writes or regenerates a golden file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from formats.reader import RecordReader
from formats.registry import get_format as _get_format
from formats.registry import load_formats
from formats.validate import validate_path, validate_stream
from tests.support.paths import DATA

DATA_DIR = DATA
CASES = sorted(DATA_DIR.glob("*/*.dat"))
KEYS = ("record", "offset", "field", "code", "level")
ALL_FORMATS = load_formats()  # built-in formats and the default layout files (formats/layouts/)


def get_format(format_id: str):
    return _get_format(format_id, ALL_FORMATS)


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))


PARSED_CASES = [path for path in CASES if "parsed" in _expected(path)]


def _brief(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: item[key] for key in KEYS} for item in items]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def test_there_are_enough_golden_cases():
    """At least 30 hand-written samples exist, covering both Zengin formats, 16 of them with parsed records."""
    assert len(CASES) >= 30
    assert len(PARSED_CASES) >= 10
    assert {path.parent.name for path in CASES} >= {"zengin-91", "zengin-21"}


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "construct"])
def test_golden(path: Path, fast: bool):
    """The validation result equals the hand-written expectation, on both paths."""
    expected = _expected(path)
    layout = get_format(expected["format"])
    if fast:
        result = validate_path(path, layout).as_dict()
    else:
        result = validate_stream(io.BytesIO(path.read_bytes()), layout, name=str(path)).as_dict()

    assert result["format"] == expected["format"]
    assert result["status"] == expected["status"]
    for key in ("separator", "records", "accepted", "rejected_records", "groups"):
        if key in expected:
            assert result[key] == expected[key], key
    if "rejected" in expected:
        assert _brief(result["rejected"]) == expected["rejected"]
    for item in expected.get("rejected_include", []):
        assert item in _brief(result["rejected"]), item
    if "warnings" in expected:
        assert _brief(result["warnings"]) == expected["warnings"]


@pytest.mark.parametrize("path", PARSED_CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_parse(path: Path):
    """Where the expectation lists parsed records (the clean cases), every record's fields match it."""
    expected = _expected(path)
    layout = get_format(expected["format"])
    with path.open("rb") as stream:
        parsed = [
            {
                "record": r.index,
                "offset": r.offset,
                "type": r.role,
                "fields": {k: _jsonable(v) for k, v in r.values.items()},
            }
            for r in RecordReader(stream, layout)
        ]
    assert parsed == expected["parsed"]


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_round_trip(path: Path):
    """parse ∘ build: every clean record builds back to the exact bytes it came from."""
    expected = _expected(path)
    layout = get_format(expected["format"])
    with path.open("rb") as stream:
        results = [r for r in RecordReader(stream, layout, strict=True) if r.ok and r.layout is not None]
    for result in results:
        assert result.layout is not None
        assert result.layout.build(result.values) == result.raw


@pytest.mark.parametrize(
    "path", [p for p in CASES if _expected(p)["status"] == "ok"], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_clean_golden_files_are_identified_as_their_format(path: Path):
    """Every clean sample is identified from its content as exactly its own format, among all formats."""
    from formats.registry import identify

    assert identify(path.read_bytes()[:1024], ALL_FORMATS).id == _expected(path)["format"]
