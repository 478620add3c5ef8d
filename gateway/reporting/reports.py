"""Rejected-record reports, one per input file: JSON for machines, CSV and HTML for people.

A :class:`FileReport` holds what happened to one file: where it came from, its hash,
the validation outcome (the ``groups`` / ``rejected`` / ``warnings`` objects exactly as
:meth:`formats.validator.ValidationResult.as_dict` gives them, personal values already
masked there), the spool folder it ended in and where its records went.

:func:`write_reports` writes ``<file_id>.json``, ``<file_id>.csv`` (UTF-8 with a BOM, so
that Excel opens it as UTF-8) and ``<file_id>.html`` (one self-contained page, inline CSS,
no script) into a folder, each atomically and with mode 0o600 (``spool.atomic.atomic_write``:
a hidden ``.tmp-`` name in the same folder, fsync, rename over the final name). :func:`render_text` is the
same report for a terminal (``gateway report ID``).

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
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from formats.checkdigits import mask_my_numbers, mask_my_numbers_in
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
    "STATUS_JA",
    "render_csv",
    "render_html",
    "read_report",
    "render_text",
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
    "区分", "レコード番号", "バイト位置", "項目名", "項目(英)", "理由コード",
    "期待値", "実際の値(マスク済)", "説明", "detail",
)


#: The fields that hold text, masked (file_id and sha256 are the gateway's own: a ledger id
#: ``YYYYMMDD-HHMMSS-<8 hex>`` and a validated digest, which hold no individual number).
_TEXT_FIELDS = ("channel", "original_name", "format", "reason", "separator", "groups", "rejected", "warnings",
                "not_listed", "outputs")


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

    def masked(self) -> FileReport:
        """This report with every text masked again, also values set without validation."""
        return self.model_copy(update={name: mask_my_numbers_in(getattr(self, name)) for name in _TEXT_FIELDS})

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
            for key in ("format", "status", "separator", "size", "records", "accepted", "rejected_records",
                        "groups", "rejected", "warnings", "not_listed")
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
        SEVERITY_JA.get(severity, severity), issue.get("record"), issue.get("offset"), issue.get("field_ja"),
        issue.get("field"), issue.get("code"), issue.get("expected"), issue.get("found"),
        issue.get("message_ja"), issue.get("message"),
    ]


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
        stated_text = "（トレーラーなし）" if declared is None else ("（読取不能）" if stated is None else _number(stated))
        counted_text = "（照合不能）" if counted is None else _number(counted)
        rows.append((label, stated_text, counted_text, stated is not None and counted is not None and stated == counted))
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
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for issue in report.masked().issues:
        writer.writerow([_csv_cell(value) for value in _issue_row(issue)])
    return mask_my_numbers(buffer.getvalue())


# -- HTML --------------------------------------------------------------------

_CSS = """
body{font-family:"Hiragino Kaku Gothic ProN","Yu Gothic","Meiryo",sans-serif;margin:2em;color:#222;line-height:1.5}
h1{font-size:1.5em;border-bottom:2px solid #444;padding-bottom:.2em}
h2{font-size:1.2em;margin-top:1.6em;border-left:6px solid #666;padding-left:.4em}
h3{font-size:1em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.code,.mono{font-family:Consolas,"Courier New",monospace}
.status{font-weight:bold;padding:.1em .5em;border-radius:.3em}
.status-ok{background:#dfd}
.status-rejected-records,.status-duplicate{background:#ffd}
.status-rejected-file,.status-quarantined,.status-failed{background:#fdd}
.ok{color:#070;font-weight:bold}
.ng{color:#b00;font-weight:bold}
.reason{border:2px solid #b00;background:#fee;padding:.5em 1em}
tr.warning td:first-child{color:#850}
tr.error td:first-child{color:#b00}
@media print{body{margin:0}th{background:#ddd}}
"""


def _e(value: Any) -> str:
    return html.escape(_cell(value), quote=True)


def _issue_table(issues: Iterable[dict[str, Any]], empty: str) -> str:
    rows = []
    for issue in issues:
        cells = _issue_row(issue)
        klass = "warning" if issue.get("severity") == "warning" else "error"
        rendered = []
        for index, value in enumerate(cells):
            css = ' class="num"' if index in (1, 2) else ' class="code"' if index in (4, 5) else ""
            rendered.append(f"<td{css}>{_e(value)}</td>")
        rows.append(f'<tr class="{klass}">{"".join(rendered)}</tr>')
    if not rows:
        return f"<p>{html.escape(empty)}</p>"
    head = "".join(f"<th>{html.escape(column)}</th>" for column in CSV_COLUMNS)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"


def render_html(report: FileReport) -> str:
    """The report as one self-contained HTML page (inline CSS, no script, every value escaped)."""
    report = report.masked()
    parts: list[str] = []
    add = parts.append
    name = report.original_name
    add("<!DOCTYPE html>")
    add('<html lang="ja">')
    add("<head>")
    add('<meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>取込結果報告書 {_e(name)}（{_e(report.status_ja)}）</title>")
    add(f"<style>{_CSS}</style>")
    add("</head>")
    add("<body>")
    add(f"<h1>取込結果報告書：{_e(name)}</h1>")

    add('<section id="summary">')
    add("<h2>概要</h2>")
    add("<table><tbody>")
    for label, value in _summary(report):
        if label == "結果":
            value_html = (f'<span class="status status-{_e(report.status)}">{_e(report.status_ja)}</span> '
                          f'<span class="mono">({_e(report.status)})</span>')
        elif label in ("SHA-256", "ファイルID"):
            value_html = f'<span class="mono">{_e(value)}</span>'
        else:
            value_html = _e(value)
        add(f"<tr><th>{_e(label)}</th><td>{value_html}</td></tr>")
    add("</tbody></table>")
    add("</section>")

    if report.reason:
        add('<section id="reason">')
        add(f"<h2>{_reason_heading(report)}</h2>")
        add(f'<p class="reason">{_e(report.reason)}</p>')
        add("</section>")

    add('<section id="totals">')
    add("<h2>合計の照合</h2>")
    if not report.groups:
        add("<p>照合するグループがありません。</p>")
    for group in report.groups:
        add(f"<h3>{_e(_group_title(group))}</h3>")
        add("<table><thead><tr><th>項目</th><th>トレーラー記載値</th><th>集計値</th><th>一致</th></tr></thead><tbody>")
        for label, stated, counted, match in total_rows(group):
            mark = '<span class="ok">✓</span>' if match else '<span class="ng">✗</span>'
            add(f'<tr><td>{_e(label)}</td><td class="num">{_e(stated)}</td>'
                f'<td class="num">{_e(counted)}</td><td>{mark}</td></tr>')
        add("</tbody></table>")
    add("</section>")

    for title, issues, key in (("エラー", report.rejected, "rejected"), ("警告", report.warnings, "warnings")):
        add(f'<section id="{key}">')
        add(f"<h2>{title}（{len(issues):,}件）</h2>")
        add(_issue_table(issues, f"{title}はありません。"))
        if report.not_listed.get(key):
            add(f"<p>ほかに {report.not_listed[key]:,} 件の{title}があります（件数のみ集計）。</p>")
        add("</section>")

    add('<section id="outputs">')
    add("<h2>出力先</h2>")
    if report.outputs:
        add("<ul>")
        for output in report.outputs:
            add(f"<li>{_e(_output_line(output))}</li>")
        add("</ul>")
    else:
        add("<p>出力はありません。</p>")
    add("</section>")
    add("</body>")
    add("</html>")
    return mask_my_numbers("\n".join(parts) + "\n")


def _output_line(output: dict[str, Any]) -> str:
    records = output.get("records")
    count = f"{records:,}件" if isinstance(records, int) else "件数不明"
    digest = output.get("sha256")
    tail = f"、SHA-256 {digest}" if digest else ""
    return f"{_cell(output.get('destination'))}: {_cell(output.get('path'))}（{count}{tail}）"


# -- terminal text -----------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def render_text(report: FileReport) -> str:
    """The report for a terminal: summary, totals, rejections and warnings (Japanese labels, English codes)."""
    report = report.masked()
    lines = [f"取込結果報告書  {_cell(report.file_id)}", ""]
    summary = [[label, value] for label, value in _summary(report)]
    lines += _table(summary, indent="")
    if report.reason:
        lines += ["", f"{_reason_heading(report)}:", f"  {_cell(report.reason)}"]

    lines += ["", "合計の照合"]
    if not report.groups:
        lines.append("  照合するグループがありません。")
    for group in report.groups:
        lines.append(f"  {_cell(_group_title(group))}")
        rows = [["項目", "トレーラー記載値", "集計値", "一致"]]
        rows += [[label, stated, counted, "✓" if match else "✗"] for label, stated, counted, match in total_rows(group)]
        lines += _table(rows, indent="    ")

    for title, issues, key in (("エラー", report.rejected, "rejected"), ("警告", report.warnings, "warnings")):
        lines += ["", f"{title}（{len(issues):,}件）"]
        if not issues:
            lines.append(f"  {title}はありません。")
        for issue in issues:
            where = [f"レコード {_cell(issue.get('record')) or '—'}", f"バイト位置 {_cell(issue.get('offset')) or '—'}"]
            if issue.get("field"):
                where.append(f"{_cell(issue.get('field_ja'))} ({_cell(issue.get('field'))})")
            lines.append(f"  [{_cell(issue.get('code'))}] " + "  ".join(where))
            if issue.get("expected") is not None:
                lines.append(f"      期待値: {_cell(issue.get('expected'))}")
            if issue.get("found") is not None:
                lines.append(f"      実際の値: {_cell(issue.get('found'))}")
            lines.append(f"      説明: {_cell(issue.get('message_ja'))}")
        hidden = report.not_listed.get(key, 0)
        if hidden:
            lines.append(f"  ほかに {hidden:,} 件（件数のみ集計）")

    if report.outputs:
        lines += ["", "出力先"]
        lines += [f"  {_output_line(output)}" for output in report.outputs]
    return mask_my_numbers("\n".join(lines) + "\n")


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
    report = report.masked()
    contents = {
        "json": json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8") + b"\n",
        "csv": render_csv(report).encode("utf-8-sig"),
        "html": render_html(report).encode("utf-8"),
    }
    paths: dict[str, Path] = {}
    for kind, data in contents.items():
        path = directory / f"{file_id}.{kind}"
        atomic_write(path, data)  # temporary name, fsync, rename, 0o600
        paths[kind] = path
    return paths
