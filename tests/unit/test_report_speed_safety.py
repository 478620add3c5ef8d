"""The fast paths of the reports and of the masking give what the plain ones give, and skip nothing.

- formats.checkdigits' quick test (``_may_hold_number``) never skips a text the finder's regular
  expression would change, nor one the brute-force oracle (tests/support/masking.py) finds a
  number in;
- ``mask_my_numbers_in`` with its memo gives what masking each string on its own gives;
- write_reports' JSON, CSV and page are byte for byte what the plain way gives: ``json.dumps``
  with an indent, ``csv.writer`` row by row, the page rendered with every cell only escaped —
  each of the masked report, the CSV and the page then masked as a whole — for random reports
  with invented individual numbers in every form, values set without validation, markup,
  quotes, formula starts and control characters.

Every number here is invented (11 digits and the check digit the public rule gives them).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from formats import checkdigits
from formats.checkdigits import MY_NUMBER_SEPARATORS, find_my_numbers, mask_my_numbers, mask_my_numbers_in
from gateway.reporting import reports
from gateway.reporting.reports import CSV_COLUMNS, FileReport, write_reports
from tests.support.masking import brute_force
from tests.unit.test_masking_property import NOISE, forms

RECEIVED = dt.datetime(2024, 5, 27, 1, 2, 3, tzinfo=dt.UTC)
#: Characters that matter to the quick test and to the reports: digits of both widths, every
#: separator, kana (whose UTF-8 lead bytes are those of the full-width digits), kanji, markup,
#: quotes, a comma, controls. (A lone surrogate, which the quick test is given too, cannot be
#: written to a report's JSON, today as before.)
CHARS = NOISE + "".join(sorted(MY_NUMBER_SEPARATORS)) + "ｱﾃｰカナ漢字<>&\"',\r\n\x00\x1b\u202e=+-@"


@st.composite
def texts(draw: st.DrawFn, extra: str = "") -> str:
    """Random text, often with an invented number in a random form in it."""
    pieces = draw(st.lists(st.text(CHARS + extra, max_size=16) | forms().map(lambda case: case[1]), max_size=5))
    return "".join(pieces)


# -- the quick test ---------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts("\udc80\U0001f600"))
@example("4000 0000 0017")
@example("ｱ４０００ー００００ー００１７")
@example("record 40002, offset 4879842: found ﾃ*****")
@example("0000--0000 0000-0000")
def test_quick_test_never_skips_a_number(text: str) -> None:
    """When the quick test says no number can be in a text, the regular expression finds none
    and masking leaves it as it is; and every number the brute force finds is let through."""
    if not checkdigits._may_hold_number(text):
        assert checkdigits._find_candidates(text) == []
        assert brute_force(text) == []
    elif len(text) >= 12:
        assert find_my_numbers(text) == checkdigits._find_candidates(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts(), max_size=6), st.lists(st.integers() | st.none() | st.booleans(), max_size=3))
def test_mask_in_with_a_memo_masks_each_string_as_alone(strings: list[str], scalars: list[Any]) -> None:
    """The memo changes nothing: keys, values, nested lists and tuples as mask_my_numbers gives each."""
    value = {"a": strings, "b": tuple(strings), **{text: text for text in strings}, "c": scalars}
    expected = {
        "a": [mask_my_numbers(text) for text in strings],
        "b": tuple(mask_my_numbers(text) for text in strings),
        **{mask_my_numbers(text): mask_my_numbers(text) for text in strings},
        "c": scalars,
    }
    assert mask_my_numbers_in(value) == expected


# -- the reports against the plain way ---------------------------------------------------------------


def _plain_json(masked: FileReport) -> bytes:
    return json.dumps(masked.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def _plain_csv(masked: FileReport) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for issue in masked.issues:
        writer.writerow([reports._csv_cell(value) for value in reports._issue_row(issue)])
    return mask_my_numbers(buffer.getvalue()).encode("utf-8-sig")


def _plain_rows(issues: list[dict[str, Any]], columns: Any, row_class: Any, data_record: Any) -> Any:
    """The issue rows as the page wrote them: each cell only escaped (the page is masked as a whole)."""
    from markupsafe import Markup

    def shown(value: Any) -> str:
        return html.escape(reports._cell(value), quote=True)

    parts = []
    for issue in issues:
        cells = reports.issue_cells(issue)
        kind = row_class or ("warning" if issue.get("severity") == "warning" else "error")
        parts.append(f'<tr class="{shown(kind)}"')
        if data_record:
            parts.append(f' data-record="{shown(cells["record"])}"')
        parts.append(">")
        for key in columns:
            opening = f'<td class="{shown(reports.ISSUE_CLASSES[key])}">' if reports.ISSUE_CLASSES.get(key) else "<td>"
            parts.append(f"{opening}{shown(cells[key])}</td>")
        parts.append("</tr>\n")
    return Markup("".join(parts))


def _plain_html(masked: FileReport) -> bytes:
    environment = reports._TEMPLATES.overlay()
    environment.globals = {**reports._TEMPLATES.globals, "issue_rows_html": _plain_rows}
    return mask_my_numbers(environment.get_template("report.html").render(report=masked)).encode("utf-8")


_VALUES = (
    texts()
    | st.none()
    | st.booleans()
    | st.sampled_from([400000000017, -123456789018, 99999999999, -99999999999, 7, 0, 1])
    | st.integers()
    | st.sampled_from(["=1+2", "-x", "@a", "\tq", "", "warning", "error"])
)
_KEYS = ("code", "level", "severity", "record", "offset", "field", "field_ja", "expected", "found", "message")


@st.composite
def issues(draw: st.DrawFn, nested: bool) -> dict[str, Any]:
    issue = {key: draw(_VALUES) for key in draw(st.lists(st.sampled_from(_KEYS), unique=True, min_size=1))}
    if draw(st.booleans()):
        issue["severity"] = draw(st.sampled_from(["warning", "error", None, "odd"]))
    if draw(st.booleans()):
        issue["message_ja"] = draw(st.sampled_from(["この項目で使用できない文字があります。", "二重納付"]))
    if nested and draw(st.booleans()):  # what only a value set without validation would hold
        issue[draw(texts())] = draw(st.lists(texts() | st.integers(), max_size=2) | st.floats(allow_nan=False))
    return issue


@st.composite
def file_reports(draw: st.DrawFn) -> FileReport:
    report = FileReport(
        file_id="R1",
        channel=draw(texts()),
        original_name=draw(texts()) or "x",
        sha256="0123456789abcdef" * 4,
        size=draw(st.integers(0, 10**13)),
        received_at=RECEIVED,
        status=draw(st.sampled_from(["ok", "rejected-records", "quarantined", "refused"])),
        state="archive",
        reason=draw(st.none() | texts()),
        records=draw(st.integers(0, 10**13)),
    )
    nested = draw(st.booleans())
    return report.model_copy(  # set without validation: unmasked
        update={
            "rejected": draw(st.lists(issues(nested), max_size=6)),
            "warnings": draw(st.lists(issues(False), max_size=6)),
            "original_name": draw(texts()) or "y",
        }
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(file_reports())
def test_written_reports_are_the_plain_way_byte_for_byte(tmp_path: Path, report: FileReport) -> None:
    """JSON, CSV and page: the bytes of json.dumps with an indent, csv.writer row by row and the page
    with its cells only escaped, each masked as a whole; and the CSV and the page hold no number
    (the JSON writes an int as it is, a valid number too, today as before: only its texts are masked)."""
    masked = report.masked()
    paths = write_reports(tmp_path, report)
    assert paths["json"].read_bytes() == _plain_json(masked)
    assert paths["csv"].read_bytes() == _plain_csv(masked)
    assert paths["html"].read_bytes() == _plain_html(masked)
    assert reports.render_html(report).encode("utf-8") == _plain_html(masked)
    for kind in ("csv", "html"):
        text = paths[kind].read_bytes().decode("utf-8-sig")
        assert find_my_numbers(text) == [] and brute_force(text) == []
    for text in _strings(json.loads(paths["json"].read_bytes())):
        assert find_my_numbers(text) == [] and brute_force(text) == []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [*_strings(key), *_strings(item)]]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


@settings(max_examples=300, deadline=None)
@given(st.lists(texts() | st.sampled_from(["", " ", '"', ",", "a\rb", "a\nb", "\x00"]), min_size=1, max_size=10))
def test_csv_quoting_is_the_csv_modules(cells: list[str]) -> None:
    """A row joined from cells quoted by _csv_quoted is what csv.writer writes for it."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    if len(cells) > 1 or cells[0]:  # csv quotes a row of one empty cell; a report's rows have ten
        assert ",".join(map(reports._csv_quoted, cells)) + "\r\n" == buffer.getvalue()
