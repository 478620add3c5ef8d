"""The report page and the terminal texts, byte for byte, against tests/data/reports/.

The pages (``.html``) and texts (``.txt``) there were rendered by the renderers that built them
from Python strings, before the templates (gateway/reporting/templates/) replaced them; the
templates must keep giving the same bytes. A template edit that changes what a report shows
fails here: if the change is meant, review it and write the files again with
``PYTHONPATH=. .venv/bin/python -m tests.unit.test_report_golden`` (the diff is the change).
``validation-*.txt`` are `gateway validate`'s text (validation.txt), new with the templates.

The cases cover what a report can hold: a rejection with a masked value, outputs, posting flags
added after validation, a quarantined, failed, refused and duplicate file, two groups, totals
without a trailer or unreadable, control characters, markup and individual numbers in values.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from formats.registry import get_format, load_formats
from formats.validate import validate_path
from gateway.reporting import reports
from gateway.reporting.reports import FileReport, render_html, render_text
from tests.support.samples import debit_file_holding

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN = DATA / "reports"
RECEIVED = dt.datetime(2024, 5, 27, 1, 2, 3, tzinfo=dt.UTC)
NUMBER = "123456789018"  # invented: 12345678901 and its check digit
OTHER = "400000000017"  # invented too
WIDE = NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
_FORMATS = load_formats()


def _validated(relative: str, **metadata: Any) -> FileReport:
    path = DATA / relative
    result = validate_path(path, get_format(path.parent.name, _FORMATS))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    values: dict[str, Any] = dict(
        file_id=f"20240527-100203-{digest[:8]}",
        channel=path.parent.name,
        sha256=digest,
        received_at=RECEIVED,
        state={"ok": "archive", "rejected-records": "archive"}.get(str(result.status), "quarantine"),
    )
    values.update(metadata)
    return FileReport.from_validation(result, **values)


def small_kana_outputs() -> FileReport:
    report = _validated("zengin-91/small_kana.dat")
    return report.model_copy(
        update={
            "outputs": [
                {
                    "destination": "collection",
                    "path": f"outbox/collection/{report.file_id}.dat",
                    "sha256": report.sha256,
                    "records": 2,
                },
                {"destination": "followup", "path": "outbox/followup/a&b<c>\"d'.csv", "records": 1234567},
                {"destination": "odd", "path": None, "records": None},
            ]
        }
    )


def mismatch_quarantined() -> FileReport:
    return _validated(
        "zengin-91/trailer_amount_mismatch.dat",
        status="quarantined",
        state="quarantine",
        reason="トレーラーの合計金額が一致しません <b>&amp;</b> \"x\" 'y'",
    )


def unknown_bank_flags() -> FileReport:
    """A warning from validation, then two flags the posting adds (as the pipeline does, skipping validation)."""
    report = _validated("zengin-91/unknown_bank_code.dat")
    flags = [
        {
            "code": "DOUBLE_PAYMENT",
            "level": "record",
            "severity": "warning",
            "record": 2,
            "message": f"posted before with 番号 {OTHER[:4]} {OTHER[4:8]} {OTHER[8:]}",
            "message_ja": "二重納付の可能性があります。",
        },
        {
            "code": "LATE",
            "level": "record",
            "severity": "warning",
            "record": None,
            "offset": None,
            "field": "paid_on",
            "field_ja": "領収日",
            "expected": True,
            "found": False,
            "message_ja": "値\u202eに\x00制御文字\x1b[31m",
        },
    ]
    return report.model_copy(update={"warnings": [*report.warnings, *flags]})


def two_groups() -> FileReport:
    return _validated("zengin-21/transfer_multi_group_no_separator.dat")


def truncated_failed() -> FileReport:
    return _validated(
        "zengin-91/truncated_record.dat",
        status="failed",
        state="work",
        reason="internal\nerror\ttab",
        received_at=dt.datetime(2024, 5, 27, 10, 2, 3),
    )


def numbers_refused(tmp_path: Path) -> FileReport:
    """A file named MN<number>.dat holding the number in 委託者名 and a filler, refused, its values spoilt."""
    path = tmp_path / f"MN{NUMBER}.dat"
    path.write_bytes(debit_file_holding(NUMBER))
    result = validate_path(path, get_format("zengin-91", _FORMATS))
    report = FileReport.from_validation(
        result,
        file_id="20240527-100203-0000mn00",
        channel=f"b\x07ank{WIDE}",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        received_at=RECEIVED,
        status="refused",
        state="quarantine",
        reason=f"個人番号 {NUMBER} を含むため受付不可\x1b[8m",
    )
    spoilt = [
        dict(item, found=f"<script>{NUMBER}</script>", message=f"found '{NUMBER}' & \"x\"") for item in report.rejected
    ]
    return report.model_copy(
        update={
            "rejected": spoilt,
            "not_listed": {"rejected": 12345, "warnings": 7},
            "original_name": f"pay\x1b[2Jrtl\u202eMN{NUMBER}.dat\x00",
        }
    )


def duplicate() -> FileReport:
    return FileReport(
        file_id="D1",
        channel="bank",
        original_name="a.dat",
        sha256="f" * 64,
        size=10,
        received_at=RECEIVED,
        status="duplicate",
        state="duplicate",
        reason="同じ内容のファイルを 2024-05-26 に処理済みです。",
    )


def odd_groups() -> FileReport:
    groups = [
        {
            "index": 1,
            "kind": "result",
            "header_record": 1,
            "trailer_record": None,
            "declared": None,
            "computed": {"count": 3, "amount": None},
        },
        {
            "index": 2,
            "kind": "weird",
            "header_record": 5,
            "trailer_record": 9,
            "declared": {"count": 3, "amount": None, "extra": 7, "transferred_count": True},
            "computed": {"count": 3, "amount": 100, "transferred_count": 1},
        },
        {"index": None, "kind": None, "header_record": None, "trailer_record": 0, "declared": {}, "computed": {}},
    ]
    return FileReport(
        file_id="G1",
        channel="bank",
        original_name="g.dat",
        sha256="a" * 64,
        size=99999999,
        received_at=RECEIVED,
        status="rejected-file",
        state="rejected",
        groups=groups,
        records=1000000,
        accepted=999999,
        rejected_records=1,
    )


CASES: dict[str, Callable[..., FileReport]] = {
    "small_kana-outputs": small_kana_outputs,
    "trailer_amount_mismatch-quarantined": mismatch_quarantined,
    "unknown_bank_code-flags": unknown_bank_flags,
    "transfer_multi_group": two_groups,
    "truncated_record-failed": truncated_failed,
    "individual_numbers-refused": numbers_refused,
    "duplicate": duplicate,
    "odd_groups": odd_groups,
}

#: `gateway validate`'s text: a report as the command builds it (gateway/entrypoints/cli.py).
VALIDATIONS = [
    "zengin-91/small_kana.dat",
    "zengin-91/truncated_record.dat",
    "zengin-91/unknown_bank_code.dat",
    "zengin-21/transfer_multi_group_no_separator.dat",
]


def _report(name: str, tmp_path: Path) -> FileReport:
    make = CASES[name]
    return make(tmp_path) if make is numbers_refused else make()


def _validation(relative: str) -> FileReport:
    path = DATA / relative
    result = validate_path(path, get_format(path.parent.name, _FORMATS))
    return FileReport.from_validation(
        result, original_name=relative, file_id="-", channel="-", sha256="0" * 64, received_at=RECEIVED, state="work"
    )


def _renderings(tmp_path: Path) -> dict[str, str]:
    """Every golden file's name and what the code renders for it now."""
    out: dict[str, str] = {}
    for name in CASES:
        report = _report(name, tmp_path)
        out[f"{name}.html"] = render_html(report)
        out[f"{name}.txt"] = render_text(report)
    if hasattr(reports, "render_validation_text"):  # not before the templates
        for relative in VALIDATIONS:
            out[f"validation-{Path(relative).stem}.txt"] = reports.render_validation_text(_validation(relative))
    return out


def _same(name: str, rendered: str) -> None:
    expected = (GOLDEN / name).read_bytes().decode("utf-8")
    if rendered != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), rendered.splitlines(True), f"tests/data/reports/{name}", "rendered now"
            )
        )
        pytest.fail(f"{name} differs from its golden file:\n{diff}")


@pytest.mark.parametrize("kind", ["html", "txt"])
@pytest.mark.parametrize("name", CASES)
def test_report_renders_as_its_golden_file(tmp_path: Path, name: str, kind: str) -> None:
    """The page and the terminal text of each case are the bytes kept in tests/data/reports/."""
    report = _report(name, tmp_path)
    _same(f"{name}.{kind}", render_html(report) if kind == "html" else render_text(report))


@pytest.mark.parametrize("relative", VALIDATIONS)
def test_validation_text_renders_as_its_golden_file(relative: str) -> None:
    """`gateway validate`'s text of each case is the bytes kept in tests/data/reports/."""
    _same(f"validation-{Path(relative).stem}.txt", reports.render_validation_text(_validation(relative)))


def test_every_golden_file_is_checked() -> None:
    """No golden file is left over from a case that no longer exists."""
    names = {f"{name}.{kind}" for name in CASES for kind in ("html", "txt")}
    names |= {f"validation-{Path(relative).stem}.txt" for relative in VALIDATIONS}
    assert {path.name for path in GOLDEN.iterdir() if path.suffix in (".html", ".txt")} == names


if __name__ == "__main__":  # write the golden files again (a deliberate change of the reports)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        GOLDEN.mkdir(exist_ok=True)
        for file_name, text in _renderings(Path(folder)).items():
            (GOLDEN / file_name).write_bytes(text.encode("utf-8"))
            print("wrote", GOLDEN / file_name)
