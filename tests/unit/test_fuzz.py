"""Fuzzing every layout family: mutated copies of a clean sample of each format (byte flips,
truncation, inserted bytes, duplicated or removed records, other line endings, 0x1A, NUL,
very long lines, the empty file) must each give a validation result, never a traceback, a
report that renders as HTML, text and CSV, and a bounded memory peak.

Reproducible: hypothesis runs derandomised with a fixed number of examples per family.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.builder import FileBuilder, Group
from formats.registry import get_format, load_formats
from formats.validate import validate_path
from formats.validator import ValidationResult
from gateway.reporting.reports import FileReport, render_csv, render_html, render_text
from tests.support.paths import DATA

ALL_FORMATS = load_formats()
FORMAT_IDS = sorted(ALL_FORMATS)
RECEIVED = dt.datetime(2026, 12, 4, 9, 0, 0, tzinfo=dt.UTC)
MAX_EXAMPLES = 50
PEAK_BOUND = 64 * 1024 * 1024  # measured: at most 12.6 MiB (eltax), most families under 4 MiB


def _built_seed(format_id: str) -> bytes:
    """Seeds for the two formats without golden samples, built as the integration tests build them."""
    if format_id == "refund-orders":
        records = [
            dict(
                refund_id=f"0000000001{i:02d}",
                resident_code=f"{i:015d}",
                bank_code="0001",
                branch_code="001",
                account_type="1",
                account_number=f"{i:07d}",
                payee_kana=name,
                amount=amount,
                reason="01",
            )
            for i, (name, amount) in enumerate([("テスト　タロウ", 12000), ("サンプル　ハナコ", 3400)], start=1)
        ]
        header = dict(created_on=dt.date(2026, 6, 1), transfer_date=dt.date(2026, 6, 10))
        return FileBuilder(get_format("refund-orders", ALL_FORMATS)).to_bytes([Group(header, records)])
    if format_id == "collection-intake":
        from adapters.renderers import CollectionIntakeRenderer, OutputMeta
        from gateway.model.records import Payment

        renderer = CollectionIntakeRenderer()
        content = renderer.begin(OutputMeta("F1", "ocr", "ocr", dt.date(2024, 6, 1)))
        for n, principal in enumerate((5000, 1200), start=2):
            source = {"file_id": "F1", "channel": "ocr", "record": n, "offset": 0}
            content += renderer.add(
                Payment(
                    kind="ocr",
                    status="paid",
                    reconciliation_key=f"K{n}",
                    principal=principal,
                    late_fee=100,
                    dunning_fee=0,
                    source=source,
                )
            )
        return content + renderer.end()
    raise LookupError(format_id)


def _seed(format_id: str) -> bytes:
    """A clean golden sample (expected status ok), or a built one where tests/data has none."""
    for path in sorted((DATA / format_id).glob("*.dat")):
        expected = path.with_name(path.name + ".json")
        if expected.exists() and json.loads(expected.read_text(encoding="utf-8")).get("status") == "ok":
            return path.read_bytes()
    return _built_seed(format_id)


def _records(content: bytes, length: int) -> list[bytes]:
    if b"\n" in content:
        return content.splitlines(keepends=True)
    return [content[i : i + length] for i in range(0, len(content), length)] or [b""]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, length: int) -> bytes:
    """The seed with one to four mutations."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["flip", "truncate", "insert", "duplicate", "remove", "endings", "eof", "nul", "long", "empty"]
            )
        )
        n = len(data)
        if kind == "flip" and n:
            for _ in range(draw(st.integers(1, 8))):
                i = draw(st.integers(0, n - 1))
                data[i] = draw(st.integers(0, 255))
        elif kind == "truncate":
            data = data[: draw(st.integers(0, n))]
        elif kind == "insert":
            at = draw(st.integers(0, n))
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind in ("duplicate", "remove"):
            records = _records(bytes(data), length)
            i = draw(st.integers(0, len(records) - 1))
            if kind == "duplicate":
                records[i:i] = [records[i]] * draw(st.integers(1, 50))
            else:
                del records[i]
            data = bytearray(b"".join(records))
        elif kind == "endings":
            body = bytes(data).replace(b"\r\n", b"\n")
            ending = draw(st.sampled_from([b"", b"\n", b"\r", b"\r\n", b"\n\r", b"\r\r\n"]))
            data = bytearray(body.replace(b"\n", ending))
        elif kind == "eof":
            at = draw(st.sampled_from([n, n, draw(st.integers(0, n))]))
            data[at:at] = b"\x1a" * draw(st.integers(1, 3))
        elif kind == "nul":
            at = draw(st.integers(0, n))
            count = draw(st.integers(1, 2 * length))
            data[at : at + draw(st.integers(0, count))] = b"\x00" * count
        elif kind == "long":
            at = draw(st.integers(0, n))
            data[at:at] = draw(st.sampled_from([b"A", b"0", b" ", b"\x82\xa0", b"\xff"])) * draw(
                st.integers(length, 100_000)
            )
        elif kind == "empty":
            data = bytearray()
    return bytes(data)


def _check(path: Path, content: bytes, format_id: str) -> int:
    """Validate and report one input; the tracemalloc peak in bytes."""
    path.write_bytes(content)
    layout = get_format(format_id, ALL_FORMATS)
    tracemalloc.start()
    try:
        result = validate_path(path, layout)
        assert isinstance(result, ValidationResult)
        json.dumps(result.as_dict(), ensure_ascii=False)
        report = FileReport.from_validation(
            result,
            file_id="F-fuzz",
            channel="bank",
            original_name=path.name,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            received_at=RECEIVED,
            state="archive",
        )
        for render in (render_html, render_text, render_csv):
            assert isinstance(render(report), str)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak


def test_every_family_has_a_clean_seed(tmp_path: Path):
    """Each seed validates as ok, so mutations start from a real, accepted file."""
    assert len(FORMAT_IDS) >= 14
    path = tmp_path / "seed.dat"
    for format_id in FORMAT_IDS:
        path.write_bytes(_seed(format_id))
        assert validate_path(path, get_format(format_id, ALL_FORMATS)).status == "ok", format_id


@pytest.mark.parametrize("format_id", FORMAT_IDS)
def test_fuzz_family(format_id: str, tmp_path: Path):
    """Mutated samples of one family: no traceback, a JSON-able result, a rendered report, bounded memory."""
    layout = get_format(format_id, ALL_FORMATS)
    seed = _seed(format_id)
    path = tmp_path / "input.dat"
    peaks: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(content=mutated(seed, layout.record_length))
    def run(content: bytes) -> None:
        peak = _check(path, content, format_id)
        peaks.append(peak)
        assert peak < PEAK_BOUND, f"{format_id}: peak {peak} bytes for {len(content)} bytes of input"

    run()
    _check(path, seed, format_id)
    _check(path, b"", format_id)
    print(f"{format_id}: max peak {max(peaks) / 2**20:.1f} MiB over {len(peaks)} inputs")
