"""Rejected-record reports, one per input file: JSON for machines, CSV and HTML for people.

A :class:`FileReport` holds what happened to one file: where it came from, its hash,
the validation outcome (the ``groups`` / ``rejected`` / ``warnings`` objects exactly as
:meth:`formats.validator.ValidationResult.as_dict` gives them, personal values already
masked there), the spool folder it ended in and where its records went.

:func:`write_reports` writes ``<file_id>.json``, ``<file_id>.csv`` (UTF-8 with a BOM, so
that Excel opens it as UTF-8) and ``<file_id>.html`` (one self-contained page, inline CSS,
no script) into a folder, each atomically and with mode 0o600 (``spool.atomic.atomic_write``:
a hidden ``.tmp-`` name in the same folder, fsync, rename over the final name). :func:`render_text` is the
same report for a terminal (``gateway report ID``), :func:`render_validation_text` its summary, totals
and issues for a file checked outside the spool (``gateway validate``).

The HTML page and the texts are Jinja2 templates in ``templates/`` rendered from the one
:class:`FileReport`: ``report.html`` (the page), ``report_parts.html`` (its parts as macros: the
reason, the totals, the rejection and warning tables, the outputs — the console's file page
imports them too), ``report.txt`` and ``validation.txt`` (which extends it). The templates
only lay out what the helpers of this module give (:data:`TEMPLATE_HELPERS`: labels, numbers,
every value through :func:`formats.masking.safe_text`); the page is autoescaped with
:func:`html.escape`.

Defence in depth: an individual number (formats/checkdigits.py: 12 digits, ASCII or
full-width, possibly split by single spaces or hyphens, letters or kana around it allowed,
passing the check digit) is replaced by ``[個人番号]`` in every text of the report — the
file name, the channel, ``reason``, every rejection, warning and output, keys included —
when the report is built or read, and again when it is written or rendered (a value set
with ``model_copy(update=...)`` skips validation), and the CSV, HTML and terminal texts
pass through the same mask as a whole; so no report can carry one even if an upstream
mask was missed. CSV cells that a spreadsheet would read as a formula (starting with
``= + - @``, tab or CR) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import chain
from operator import methodcaller
from pathlib import Path, PurePath
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, field_validator

from formats.checkdigits import MaskedTexts, mask_my_numbers, mask_my_numbers_in
from formats.dates import JST
from formats.masking import safe_text
from formats.validator import ValidationResult
from spool.atomic import atomic_write
from spool.states import FOLDER_LABELS_JA

__all__ = [
    "CSV_COLUMNS",
    "FileReport",
    "ReportState",
    "ReportStatus",
    "ISSUE_CELLS",
    "STATUS_JA",
    "TEMPLATE_FOLDER",
    "TEMPLATE_HELPERS",
    "issue_cells",
    "render_csv",
    "render_html",
    "read_report",
    "render_text",
    "render_validation_text",
    "total_rows",
    "write_reports",
]

ReportStatus = Literal["ok", "rejected-records", "rejected-file", "duplicate", "quarantined", "failed", "refused"]
#: The spool folder the input ended in ("work" while a failed file waits to be resumed).
ReportState = Literal["archive", "rejected", "quarantine", "duplicate", "work"]

#: 結果: the status in Japanese, as operators read it.
STATUS_JA: dict[str, str] = {
    "ok": "正常",
    "rejected-records": "一部レコード不備",
    "rejected-file": "ファイル不備",
    "duplicate": "重複",
    "quarantined": "隔離",
    "failed": "処理失敗",
    "refused": "受付不可",
}


#: Trailer totals (GroupSummary.declared / computed keys) in Japanese.
TOTALS_JA: dict[str, str] = {
    "count": "合計件数",
    "amount": "合計金額",
    "transferred_count": "振替済件数",
    "transferred_amount": "振替済金額",
    "failed_count": "振替不能件数",
    "failed_amount": "振替不能金額",
}

KIND_JA: dict[str, str] = {"request": "口座振替依頼", "result": "口座振替結果", "transfer": "総合振込"}

SEVERITY_JA: dict[str, str] = {"error": "エラー", "warning": "警告"}

#: Columns of the CSV, and of the rejection and warning tables of the HTML page.
CSV_COLUMNS: tuple[str, ...] = (
    "区分",
    "レコード番号",
    "バイト位置",
    "項目名",
    "項目(英)",
    "理由コード",
    "期待値",
    "実際の値(マスク済)",
    "説明",
    "detail",
)

#: The cells of a rejection or warning (:func:`issue_cells`), in the order of CSV_COLUMNS, and
#: ``item``: 項目名 and 項目(英) in one cell.
ISSUE_CELLS: tuple[str, ...] = (
    "severity",
    "record",
    "offset",
    "field_ja",
    "field",
    "code",
    "expected",
    "found",
    "message_ja",
    "message",
)
ISSUE_HEADINGS: dict[str, str] = {**dict(zip(ISSUE_CELLS, CSV_COLUMNS, strict=True)), "item": "項目"}
#: The CSS class of a cell of the issue tables.
ISSUE_CLASSES: dict[str, str] = {"record": "num", "offset": "num", "field": "code", "code": "code"}
#: FileReport.rejected and .warnings as the reports title them.
ISSUE_TITLES: dict[str, str] = {"rejected": "エラー", "warnings": "警告"}
#: The columns of a table of totals (:func:`total_rows`).
TOTAL_HEADINGS: tuple[str, ...] = ("項目", "トレーラー記載値", "集計値", "一致")


#: The fields that hold text, masked (file_id and sha256 are the gateway's own: a ledger id
#: ``YYYYMMDD-HHMMSS-<8 hex>`` and a validated digest, which hold no individual number).
_TEXT_FIELDS = (
    "channel",
    "original_name",
    "format",
    "reason",
    "separator",
    "groups",
    "rejected",
    "warnings",
    "not_listed",
    "outputs",
)


class FileReport(BaseModel):
    """What happened to one input file, for the JSON, CSV, HTML and terminal reports."""

    model_config = ConfigDict(extra="forbid")

    file_id: str
    channel: str
    original_name: str
    sha256: str
    size: int
    received_at: dt.datetime
    format: str | None = None
    status: ReportStatus
    state: ReportState
    reason: str | None = None
    separator: str | None = None
    records: int = 0
    accepted: int = 0
    rejected_records: int = 0
    groups: list[dict[str, Any]] = Field(default_factory=list)
    rejected: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    not_listed: dict[str, int] = Field(default_factory=lambda: {"rejected": 0, "warnings": 0})
    outputs: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        value = value.lower()
        if len(value) != 64 or any(ch not in "0123456789abcdef" for ch in value):
            raise ValueError("expected a SHA-256 as 64 hexadecimal characters")
        return value

    @field_validator(*_TEXT_FIELDS)
    @classmethod
    def _no_individual_numbers(cls, value: Any) -> Any:
        return mask_my_numbers_in(value)

    def masked(self, memo: MaskedTexts | None = None) -> FileReport:
        """This report with every text masked again, also values set without validation; each
        distinct text is masked once (``memo``, filled for the renderers that follow)."""
        memo = MaskedTexts() if memo is None else memo
        return self.model_copy(
            update={name: mask_my_numbers_in(getattr(self, name), memo=memo) for name in _TEXT_FIELDS}
        )

    @classmethod
    def from_validation(cls, result: ValidationResult, **metadata: Any) -> FileReport:
        """A report from a validation result plus the file's metadata (file_id, channel, sha256, …).

        ``format``, ``status``, ``size``, the counts, ``groups``, ``rejected`` and
        ``warnings`` come from ``result`` unless ``metadata`` names them (e.g.
        ``status="quarantined"``); ``original_name`` defaults to the base name of
        ``result.file``.
        """
        data = result.as_dict()
        fields: dict[str, Any] = {
            key: data[key]
            for key in (
                "format",
                "status",
                "separator",
                "size",
                "records",
                "accepted",
                "rejected_records",
                "groups",
                "rejected",
                "warnings",
                "not_listed",
            )
        }
        if result.file:
            fields["original_name"] = PurePath(result.file).name
        fields.update(metadata)
        return cls.model_validate(fields)

    @property
    def status_ja(self) -> str:
        return STATUS_JA[self.status]

    @property
    def issues(self) -> list[dict[str, Any]]:
        """Rejections, then warnings: the rows of the CSV."""
        return [*self.rejected, *self.warnings]


# -- shared formatting --------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return safe_text(str(value))


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else _cell(value)


def _when(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        return moment.isoformat(sep=" ", timespec="seconds")
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S (JST)")


def _issue_row(issue: dict[str, Any]) -> list[Any]:
    severity = str(issue.get("severity") or "error")
    return [
        SEVERITY_JA.get(severity, severity),
        issue.get("record"),
        issue.get("offset"),
        issue.get("field_ja"),
        issue.get("field"),
        issue.get("code"),
        issue.get("expected"),
        issue.get("found"),
        issue.get("message_ja"),
        issue.get("message"),
    ]


#: The lists of issues of a report.
_ISSUE_LISTS = ("rejected", "warnings")
#: The keys of an issue's cells after the first (severity, shown through SEVERITY_JA): :func:`_issue_row`.
_ROW_KEYS = ISSUE_CELLS[1:]
#: What a value of a plain issue (:func:`_plain_issues`) is: exactly one of these types.
_PLAIN = frozenset({str, int, bool, type(None)})


#: While a report is written: what :func:`_plain_types` found of each list of issues (by id; the
#: lists are alive, in the reports being written, as long as this is set).
_KNOWN_TYPES: ContextVar[dict[int, frozenset[type] | None] | None] = ContextVar("_KNOWN_TYPES", default=None)


def _plain_types(issues: Any) -> frozenset[type] | None:
    """The types of the values of ``issues`` when it is a list of plain issues: non-empty dicts
    (exactly), each of str keys and values of :data:`_PLAIN` types (no subclass, no float, nothing
    nested), as the validator and the posting give them; None for anything else. Looked at in C
    (map, chain, set). What :func:`_masked_issues`, :func:`_json_issues` and :func:`_cells` of such
    a list take for granted."""
    known = _KNOWN_TYPES.get()
    if known is not None and id(issues) in known:
        return known[id(issues)]
    types = None
    if (
        type(issues) is list
        and set(map(type, issues)) <= {dict}
        and all(issues)
        and set(map(type, chain.from_iterable(issues))) <= {str}
    ):
        found = frozenset(map(type, chain.from_iterable(map(dict.values, issues))))
        types = found if found <= _PLAIN else None
    if known is not None:
        known[id(issues)] = types
    return types


def _plain_issues(issues: Any) -> bool:
    """Whether ``issues`` is a list of plain issues (:func:`_plain_types`)."""
    return _plain_types(issues) is not None


def _masked_issues(issues: list[dict[str, Any]], memo: MaskedTexts) -> list[dict[str, Any]]:
    """``mask_my_numbers_in(issues)`` for :func:`write_reports`: each distinct text of plain issues
    (:func:`_plain_issues`) masked once, an issue none of whose texts changes kept as it is (the
    same dict, not a copy: the masked report is the writer's own), any other masked as a copy."""
    types = _plain_types(issues)
    if types is None:
        return list(mask_my_numbers_in(issues, memo=memo))
    texts = set(chain.from_iterable(issues)).union(chain.from_iterable(map(dict.values, issues)))
    changed = {text for text in texts if type(text) is str and memo[text] != text}
    masked = (
        list(issues)
        if not changed
        else [
            issue
            if changed.isdisjoint(issue) and changed.isdisjoint(issue.values())
            else mask_my_numbers_in(issue, memo=memo)
            for issue in issues
        ]
    )
    known = _KNOWN_TYPES.get()
    if known is not None:  # masked, the same keys and the same types of values
        known[id(masked)] = types
    return masked


#: An int between -_SHORT and _SHORT has at most 11 digits: its text (``str``), which holds no
#: individual number and nothing to escape or quote, is its cell in every report.
_SHORT = 10**11
_GET_RECORD, _GET_OFFSET = methodcaller("get", "record"), methodcaller("get", "offset")


class _Cells(dict[Any, str]):
    """A value of a plain issue (:func:`_plain_issues`) → its cell in a report (``make``), made once
    for each str and None and kept; an int too when ``ints`` (no bool among the values: an int
    would answer for it), else made each time it is looked up."""

    def __init__(self, make: Callable[[Any], str], ints: bool = False) -> None:
        super().__init__()
        self.make = make
        self.ints = ints

    def __missing__(self, value: Any) -> str:
        text = self.make(value)
        if type(value) is str or value is None or self.ints:
            self[value] = text
        return text


def _cells(make: Callable[[Any], str], *lists: list[dict[str, Any]]) -> _Cells:
    """The cells of the values of plain issues (:class:`_Cells`); without a bool among them, the
    record numbers and offsets (short ints, as ``str`` gives them) put in at once."""
    if any(bool in (_plain_types(issues) or {bool}) for issues in lists):
        return _Cells(make)
    cells = _Cells(make, ints=True)
    for issues in lists:
        for get in (_GET_RECORD, _GET_OFFSET):
            numbers = [value for value in map(get, issues) if type(value) is int and -_SHORT < value < _SHORT]
            cells.update(zip(numbers, map(str, numbers), strict=True))
    return cells


def _severity_cells(make: Callable[[Any], str]) -> _Cells:
    """The first cell of a plain issue's row by its ``severity`` value: as :func:`_issue_row`, then ``make``."""

    def severity(value: Any) -> str:
        key = str(value or "error")
        return make(SEVERITY_JA.get(key, key))

    return _Cells(severity)


def issue_cells(issue: dict[str, Any]) -> dict[str, str]:
    """The cells of a rejection or warning as the reports show them (:data:`ISSUE_CELLS` and ``item``),
    each made safe to show."""
    cells = {key: _cell(value) for key, value in zip(ISSUE_CELLS, _issue_row(issue), strict=True)}
    cells["item"] = f"{cells['field_ja']} ({cells['field']})" if issue.get("field") else ""
    return cells


def _group_title(group: dict[str, Any]) -> str:
    kind = str(group.get("kind") or "")
    first, last = group.get("header_record"), group.get("trailer_record")
    span = f"レコード {first}〜{last}" if last is not None else f"レコード {first}〜（トレーラーなし）"
    return f"グループ {group.get('index')}（{KIND_JA.get(kind, kind)}、{span}）"


def total_rows(group: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(項目, トレーラー記載値, 集計値, 一致) for each total of a group."""
    declared = group.get("declared")
    computed = group.get("computed") or {}
    keys = list(computed)
    keys += [key for key in (declared or {}) if key not in computed]
    rows = []
    for key in keys:
        stated = declared.get(key) if declared is not None else None
        counted = computed.get(key)
        label = f"{TOTALS_JA.get(key, key)} ({key})"
        stated_text = (
            "（トレーラーなし）" if declared is None else ("（読取不能）" if stated is None else _number(stated))
        )
        counted_text = "（照合不能）" if counted is None else _number(counted)
        rows.append(
            (label, stated_text, counted_text, stated is not None and counted is not None and stated == counted)
        )
    return rows


def read_report(path: str | Path) -> FileReport:
    """A report written by :func:`write_reports`, from its JSON file."""
    return FileReport.model_validate_json(Path(path).read_text(encoding="utf-8"))


def _counts(report: FileReport) -> str:
    return f"データ件数 {report.records:,} / 受付件数 {report.accepted:,} / 不備件数 {report.rejected_records:,}"


def _summary(report: FileReport) -> list[tuple[str, str]]:
    return [
        ("ファイル名", _cell(report.original_name)),
        ("ファイルID", _cell(report.file_id)),
        ("受付経路", _cell(report.channel)),
        ("SHA-256", report.sha256),
        ("サイズ", f"{report.size:,} バイト"),
        ("受付日時", _when(report.received_at)),
        ("形式", _cell(report.format) or "（不明）"),
        ("結果", f"{report.status_ja} ({report.status})"),
        ("保管先", f"{FOLDER_LABELS_JA.get(report.state, report.state)} ({report.state}/)"),
        ("件数", _counts(report)),
    ]


def _validation_summary(report: FileReport) -> list[tuple[str, str]]:
    """The summary of a file checked outside the spool: what a validation knows (no id, channel,
    receipt or folder), and the separator it found."""
    rows = dict(_summary(report))
    return [
        ("ファイル名", rows["ファイル名"]),
        ("サイズ", rows["サイズ"]),
        ("形式", rows["形式"]),
        ("レコード区切り", _cell(report.separator) or "（不明）"),
        ("結果", rows["結果"]),
        ("件数", rows["件数"]),
    ]


def _reason_heading(report: FileReport) -> str:
    return "隔離の理由" if report.status == "quarantined" else "理由"


# -- CSV ---------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: FileReport) -> str:
    """The CSV text (without the BOM, which :func:`write_reports` adds)."""
    memo = MaskedTexts()
    return _csv_of_masked(report.masked(memo), memo)


def _csv_of_masked(report: FileReport, memo: MaskedTexts) -> str:
    """:func:`render_csv` of a report :meth:`FileReport.masked` has just given.

    Every cell is the text the csv module writes for ``_csv_cell(value)`` (an int as ``str``
    gives it), masked as a whole (``memo``): the same bytes as masking the whole CSV, because
    what the csv module puts around and inside a cell (``,``, ``"``, a doubled ``"``, CR LF)
    is neither a digit nor a separator nor a letter (module docstring of formats/checkdigits.py:
    what lies next to a cell can neither join a number nor make or unmake a digest), and the
    header has no digit."""

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, int):  # bool too: written by the csv module as str() gives it, no formula guard
            text = str(value)
            return memo[text] if len(text) >= 12 else text
        return memo[str(_csv_cell(value))]

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    if not (_plain_issues(report.rejected) and _plain_issues(report.warnings)):
        writer.writerows([[cell(value) for value in _issue_row(issue)] for issue in report.issues])
        return buffer.getvalue()
    # each distinct cell made, masked and quoted once, each row joined in C: what writerows writes
    cells = _cells(lambda value: _csv_quoted(cell(value)), report.rejected, report.warnings)
    severities = _severity_cells(lambda value: _csv_quoted(cell(value)))
    rows = [
        f"{severities[issue.get('severity')]},{','.join(map(cells.__getitem__, map(issue.get, _ROW_KEYS)))}\r\n"
        for issue in report.issues
    ]
    return buffer.getvalue() + "".join(rows)


def _csv_quoted(text: str) -> str:
    """A cell as the csv module writes it (the default dialect, QUOTE_MINIMAL, lineterminator CR LF):
    between double quotes, each doubled, when it holds a comma, a double quote, CR or LF; else as it is."""
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


# -- templates ---------------------------------------------------------------

#: The report templates (package data); the console's environment loads them too.
TEMPLATE_FOLDER = Path(__file__).resolve().parent / "templates"


def _output_line(output: dict[str, Any]) -> str:
    records = output.get("records")
    count = f"{records:,}件" if isinstance(records, int) else "件数不明"
    digest = output.get("sha256")
    tail = f"、SHA-256 {digest}" if digest else ""
    return f"{_cell(output.get('destination'))}: {_cell(output.get('path'))}（{count}{tail}）"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """A text table's lines: columns padded to their widths on a terminal (kanji and kana count two)."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


#: What the report templates call (the globals of every environment that renders them).
TEMPLATE_HELPERS: dict[str, Any] = {
    "summary": _summary,
    "validation_summary": _validation_summary,
    "reason_heading": _reason_heading,
    "group_title": _group_title,
    "total_rows": total_rows,
    "issue_cells": issue_cells,
    "output_line": _output_line,
    "number": _number,
    "cell": _cell,
    "text_table": _table,
    "REPORT_COLUMNS": ISSUE_CELLS,
    "ISSUE_HEADINGS": ISSUE_HEADINGS,
    "ISSUE_CLASSES": ISSUE_CLASSES,
    "ISSUE_TITLES": ISSUE_TITLES,
    "TOTAL_HEADINGS": TOTAL_HEADINGS,
}


@pass_eval_context
def _shown(context: EvalContext, value: Any) -> Any:
    """Every ``{{ … }}`` value: made safe to show (:func:`_cell`), then, in a page, escaped as
    :func:`html.escape` does (quotes as ``&quot;`` and ``&#x27;``); markup (a macro's output) as it is."""
    if hasattr(value, "__html__"):
        return value
    text = _cell(value)
    return Markup(html.escape(text, quote=True)) if context.autoescape else text


_TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATE_FOLDER),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    finalize=_shown,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_TEMPLATES.globals.update(TEMPLATE_HELPERS)


#: The row blocks of the issue tables of the page being rendered (:func:`_render_masked`), and
#: what stands for each in the page until the rest of the page is masked: NUL, which no value
#: can hold (:func:`formats.masking.safe_text` escapes it) and which is neither a digit, a
#: separator nor a letter, around letters that are no hexadecimal digit.
_ROW_BLOCKS: ContextVar[tuple[list[str], MaskedTexts] | None] = ContextVar("_ROW_BLOCKS", default=None)
_ROWS_PLACEHOLDER = "\0ROWS\0"


def _issue_rows_html(issues: list[dict[str, Any]], columns: Any, row_class: Any, data_record: Any) -> Markup:
    """The rows of report_parts.html's ``issue_table`` exactly as its loop writes them in a page
    (each value through :func:`_shown`: :func:`_cell`, then :func:`html.escape`), in one call: a
    report lists up to ``max_listed`` issues, and a template loop costs ten calls a cell. Only the
    page's environment has it; the console's (markupsafe's escape) runs the template's loop.

    While :func:`_render_masked` renders a page, each cell is also masked as a whole
    (:func:`mask_my_numbers`, each distinct text once) and the rows are set aside for it: the
    same bytes as masking the whole page, since a cell stands between ``>`` and ``<`` (what lies
    next to it can neither join a number nor make or unmake a digest) and the markup around the
    cells holds no digit."""
    rendering = _ROW_BLOCKS.get()
    memo = rendering[1] if rendering is not None else None

    def shown(value: Any) -> str:
        if type(value) is int:  # _cell gives str(value), which has nothing to escape
            text = str(value)
            return memo[text] if memo is not None and len(text) >= 12 else text
        text = html.escape(_cell(value), quote=True)
        return memo[text] if memo is not None else text

    # one format per row: the cells in ISSUE_CELLS order, then "item", then the row's class
    slots = {key: index for index, key in enumerate([*ISSUE_CELLS, "item", "class"])}
    row_format = "".join(
        [
            f'<tr class="{{{slots["class"]}}}"',
            f' data-record="{{{slots["record"]}}}"' if data_record else "",
            ">",
            *(
                (f'<td class="{shown(ISSUE_CLASSES[key])}">' if ISSUE_CLASSES.get(key) else "<td>").replace("{", "{{")
                + f"{{{slots[key]}}}</td>"
                for key in columns
            ),
            "</tr>\n",
        ]
    )

    def item(issue: dict[str, Any]) -> str:
        if "item" not in columns:
            return ""
        return shown(f"{_cell(issue.get('field_ja'))} ({_cell(issue.get('field'))})" if issue.get("field") else "")

    # the row's class: row_class, or its severity's
    kinds = {warning: shown(row_class or ("warning" if warning else "error")) for warning in (True, False)}
    if _plain_issues(issues):
        cells, severities = _cells(shown, issues), _severity_cells(shown)
        rows = [
            row_format.format(
                severities[issue.get("severity")],
                *map(cells.__getitem__, map(issue.get, _ROW_KEYS)),
                item(issue),
                kinds[issue.get("severity") == "warning"],
            )
            for issue in issues
        ]
    else:  # issue_cells(issue), each cell shown (_cell is idempotent)
        rows = [
            row_format.format(
                *[shown(value) for value in _issue_row(issue)], item(issue), kinds[issue.get("severity") == "warning"]
            )
            for issue in issues
        ]
    if rendering is None:
        return Markup("".join(rows))
    rendering[0].append("".join(rows))
    return Markup(_ROWS_PLACEHOLDER)


_TEMPLATES.globals["issue_rows_html"] = _issue_rows_html


@contextmanager
def _setting_rows_aside(memo: MaskedTexts) -> Iterator[list[str]]:
    blocks: list[str] = []
    token = _ROW_BLOCKS.set((blocks, memo))
    try:
        yield blocks
    finally:
        _ROW_BLOCKS.reset(token)


def _render(name: str, report: FileReport) -> str:
    memo = MaskedTexts()
    return _render_masked(name, report.masked(memo), memo)


def _render_masked(name: str, report: FileReport, memo: MaskedTexts) -> str:
    """:func:`_render` of a report :meth:`FileReport.masked` has just given: the rendered text
    masked as a whole (:func:`mask_my_numbers`), but for the rows of the issue tables, each of
    whose cells :func:`_issue_rows_html` has masked (the same bytes: see there)."""
    with _setting_rows_aside(memo) as blocks:
        text = _TEMPLATES.get_template(name).render(report=report)
    text = mask_my_numbers(text)
    if not blocks:
        return text
    pieces = text.split(_ROWS_PLACEHOLDER)
    if len(pieces) != len(blocks) + 1:  # cannot happen: no value holds a NUL (safe_text)
        raise RuntimeError("the issue rows of a report page could not be put back")
    out = [pieces[0]]
    for block, piece in zip(blocks, pieces[1:], strict=True):
        out += (block, piece)
    return "".join(out)


def render_html(report: FileReport) -> str:
    """The report as one self-contained HTML page (inline CSS, no script, every value escaped)."""
    return _render("report.html", report)


def render_text(report: FileReport) -> str:
    """The report for a terminal: summary, totals, rejections and warnings (Japanese labels, English codes)."""
    return _render("report.txt", report)


def render_validation_text(report: FileReport) -> str:
    """A validation for a terminal (``gateway validate``): the summary of what a validation knows (file,
    size, format, separator, result, counts), then the totals, rejections and warnings as :func:`render_text`."""
    return _render("validation.txt", report)


# -- files -------------------------------------------------------------------


def write_reports(directory: Path, report: FileReport) -> dict[str, Path]:
    """Write ``<file_id>.json``, ``.csv`` and ``.html`` into ``directory``; returns their paths by kind.

    Raises ValueError when ``file_id`` cannot be used as a file name (a path separator,
    a leading dot, a NUL).
    """
    file_id = report.file_id
    if not file_id or file_id.startswith(".") or any(ch in file_id for ch in "/\\\0") or file_id != file_id.strip():
        raise ValueError(f"file_id {file_id!r} cannot be used as a report file name")
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    memo = MaskedTexts()  # each distinct text masked once, for the report and every cell after
    token = _KNOWN_TYPES.set({})
    try:
        report = _masked_for_writing(report, memo)  # once: the renderers mask only what they make of it
        contents = {
            "json": _json_of_masked(report),
            "csv": _csv_of_masked(report, memo).encode("utf-8-sig"),
            "html": _render_masked("report.html", report, memo).encode("utf-8"),
        }
    finally:
        _KNOWN_TYPES.reset(token)
    paths: dict[str, Path] = {}
    for kind, data in contents.items():
        path = directory / f"{file_id}.{kind}"
        atomic_write(path, data)  # temporary name, fsync, rename, 0o600
        paths[kind] = path
    return paths


def _masked_for_writing(report: FileReport, memo: MaskedTexts) -> FileReport:
    """``report.masked(memo)``, the rejections and warnings by :func:`_masked_issues` (which may keep
    an issue's dict: the report is the writer's own, never given out)."""
    update = {name: _masked_issues(getattr(report, name), memo) for name in _ISSUE_LISTS}
    update |= {
        name: mask_my_numbers_in(getattr(report, name), memo=memo) for name in _TEXT_FIELDS if name not in update
    }
    return report.model_copy(update=update)


# -- JSON --------------------------------------------------------------------

#: Between the members of an issue in :func:`_json_issues`' one call of the C encoder: a NUL, which
#: JSON writes inside a string only as ``\u0000``.
_MEMBERS = json.JSONEncoder(ensure_ascii=False, separators=("\0", ": "), check_circular=False)


def _json_issues(issues: list[dict[str, Any]]) -> list[bytes | memoryview]:
    """``json.dumps(issues, ensure_ascii=False, indent=2)`` as the value of a top-level key (each
    line after the first indented two more), in UTF-8, for a non-empty list of plain issues
    (:func:`_plain_issues`): the same text from one call of the C encoder (``json.dumps`` with an
    indent runs the Python one). The encoder separates members with a NUL; ``}`` NUL ``{`` is
    between two issues (a member's value is a string, a number, true, false or null: it never
    ends with ``}``), any other NUL between two members of an issue."""
    data = _MEMBERS.encode(issues).encode("utf-8")
    data = data.replace(b"}\0{", b"\n    },\n    {\n      ").replace(b"\0", b",\n      ")
    return [b"[\n    {\n      ", memoryview(data)[2:-2], b"\n    }\n  ]"]


def _json_of_masked(report: FileReport) -> bytes:
    """``json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2)`` of a report
    :meth:`FileReport.masked` has just given, in UTF-8, and a newline: the same bytes, the rejections
    and warnings (plain issues, :func:`_plain_issues`, as the validator and the posting give them)
    written by :func:`_json_issues` and not copied by pydantic; anything else as json.dumps writes
    it, each line after the first indented by two more spaces (JSON holds no raw newline in a string)."""
    fast = {key for key in _ISSUE_LISTS if getattr(report, key) and _plain_issues(getattr(report, key))}
    data = report.model_dump(mode="json", exclude=fast)
    parts: list[bytes | memoryview] = [b"{"]
    for key in FileReport.model_fields:
        parts.append(b"\n  " if len(parts) == 1 else b",\n  ")
        parts.append(f"{json.dumps(key)}: ".encode())
        if key in fast:
            parts += _json_issues(getattr(report, key))
        else:
            parts.append(json.dumps(data[key], ensure_ascii=False, indent=2).replace("\n", "\n  ").encode("utf-8"))
    parts.append(b"\n}\n")
    return b"".join(parts)
