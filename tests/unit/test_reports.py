"""Rejected-record reports: JSON, CSV (UTF-8 with BOM) and HTML per input file, and the terminal text.

Reports are built by validating real golden files (tests/data/) and checked against the
hand-written expected results beside them, not against the code's own output.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from formats.registry import get_format, load_formats
from formats.validate import validate_path
from gateway.reporting.reports import CSV_COLUMNS, FileReport, render_html, render_text, write_reports
from tests.support.paths import DATA

_ALL_FORMATS = load_formats()  # built-in formats and the default layout files

SMALL_KANA = DATA / "zengin-91" / "small_kana.dat"
FULL_NAME = "ﾃｽﾄ ﾐｯｺ"  # record 3's 預金者名 in small_kana.dat: must never appear unmasked
RECEIVED = dt.datetime(2024, 5, 27, 1, 2, 3, tzinfo=dt.UTC)
MY_NUMBER = "314159265352"  # invented; arithmetic in tests/unit/test_checkdigits.py


def _report(path: Path, **metadata: Any) -> FileReport:
    layout = get_format(path.parent.name, _ALL_FORMATS)
    result = validate_path(path, layout)
    values: dict[str, Any] = dict(
        file_id="F-" + path.stem,
        channel="bank",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        received_at=RECEIVED,
        state="archive",
    )
    values.update(metadata)
    return FileReport.from_validation(result, **values)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _golden(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))


class _Checker(HTMLParser):
    """Checks that every non-void element is closed in order; collects tags, text and table rows."""

    VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse_html(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.stack == [], f"unclosed elements: {checker.stack}"
    return checker


def test_csv_has_bom_and_the_rejection(tmp_path: Path) -> None:
    """The CSV starts with the UTF-8 BOM and lists the rejection where the golden file says, masked."""
    paths = write_reports(tmp_path, _report(SMALL_KANA))
    raw = paths["csv"].read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(header) == CSV_COLUMNS
    [row] = _csv_rows(paths["csv"])
    assert row["区分"] == "エラー"
    assert (row["レコード番号"], row["バイト位置"]) == ("3", "294")
    assert (row["項目名"], row["項目(英)"], row["理由コード"]) == ("預金者名", "account_holder", "FIELD_CHARSET")
    assert row["実際の値(マスク済)"] == "ﾃ" + "*" * (len(FULL_NAME) - 1)
    assert row["説明"] == "この項目で使用できない文字があります。"
    assert "offset 294" in row["detail"]


def test_full_name_never_appears(tmp_path: Path) -> None:
    """The unmasked 預金者名 is in no report, nor in the terminal text."""
    report = _report(SMALL_KANA)
    paths = write_reports(tmp_path, report)
    texts = [path.read_bytes().decode("utf-8-sig") for path in paths.values()] + [render_text(report)]
    for text in texts:
        assert FULL_NAME not in text
        assert "ﾐｯｺ" not in text


GOLDEN = [path for path in sorted(DATA.glob("*/*.dat")) if "rejected" in _golden(path)]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_csv_rows_match_the_golden_files(tmp_path: Path, path: Path) -> None:
    """One CSV row per rejection and warning, with the record, offset, field and code the golden file expects."""
    golden = _golden(path)
    paths = write_reports(tmp_path, _report(path))
    rows = _csv_rows(paths["csv"])

    def key(item: dict[str, Any]) -> tuple[str, str, str, str]:
        return tuple("" if item[k] is None else str(item[k]) for k in ("record", "offset", "field", "code"))  # type: ignore[return-value]

    expected = [("エラー", *key(item)) for item in golden["rejected"]]
    expected += [("警告", *key(item)) for item in golden["warnings"]]
    found = [(row["区分"], row["レコード番号"], row["バイト位置"], row["項目(英)"], row["理由コード"]) for row in rows]
    # the validator may add a TOO_MANY_ERRORS note; the golden files are all small
    assert sorted(found) == sorted(expected)


def test_json_round_trips(tmp_path: Path) -> None:
    """The JSON file is UTF-8 (not \\u escapes) and reads back into an equal FileReport."""
    report = _report(
        SMALL_KANA,
        outputs=[
            {
                "destination": "collection-system",
                "path": "outbox/collection-system/F-small_kana.dat",
                "sha256": "0" * 64,
                "records": 2,
            },
        ],
    )
    paths = write_reports(tmp_path, report)
    text = paths["json"].read_text(encoding="utf-8")
    assert "預金者名" in text
    again = FileReport.model_validate_json(text)
    assert again == report
    assert again.received_at == RECEIVED
    data = json.loads(text)
    assert data["rejected"][0].keys() == {
        "code",
        "level",
        "severity",
        "record",
        "offset",
        "field",
        "field_ja",
        "expected",
        "found",
        "message",
        "message_ja",
    }


def test_from_validation_keeps_the_validation_shape() -> None:
    """groups / rejected / warnings are exactly ValidationResult.as_dict()'s."""
    result = validate_path(SMALL_KANA, get_format("zengin-91"))
    report = FileReport.from_validation(
        result, file_id="X", channel="bank", sha256="A" * 64, received_at=RECEIVED, state="archive"
    )
    data = result.as_dict()
    assert report.groups == data["groups"]
    assert report.rejected == data["rejected"]
    assert report.warnings == data["warnings"]
    assert (report.status, report.format, report.size) == ("rejected-records", "zengin-91", SMALL_KANA.stat().st_size)
    assert (report.records, report.accepted, report.rejected_records) == (3, 2, 1)
    assert report.original_name == "small_kana.dat"
    assert report.sha256 == "a" * 64


def test_html_is_well_formed_and_complete(tmp_path: Path) -> None:
    """The page parses, is Japanese, self-contained, and shows status, records, totals and outputs."""
    report = _report(
        SMALL_KANA,
        outputs=[
            {"destination": "collection-system", "path": "outbox/a.dat", "sha256": "1" * 64, "records": 2},
        ],
    )
    paths = write_reports(tmp_path, report)
    text = paths["html"].read_text(encoding="utf-8")
    page = _parse_html(text)
    assert ("html", [("lang", "ja")]) in page.tags
    names = {tag for tag, _ in page.tags}
    assert "script" not in names and "link" not in names and "img" not in names
    assert "http://" not in text and "https://" not in text
    body = "".join(page.text)
    for label in (
        "ファイル名",
        "ファイルID",
        "SHA-256",
        "受付日時",
        "形式",
        "結果",
        "データ件数",
        "受付件数",
        "不備件数",
    ):
        assert label in body
    assert "一部レコード不備" in body
    assert report.sha256 in body
    rejection_rows = [row for row in page.rows if len(row) == len(CSV_COLUMNS) and row[0] == "エラー"]
    assert [(row[1], row[2], row[5]) for row in rejection_rows] == [("3", "294", "FIELD_CHARSET")]
    totals = [row for row in page.rows if row and row[0].startswith("合計金額")]
    assert totals == [["合計金額 (amount)", "18,000", "18,000", "✓"]]
    assert "outbox/a.dat" in body


def test_html_escapes_values(tmp_path: Path) -> None:
    """A value like <script> is shown as text, never as markup."""
    report = _report(SMALL_KANA, original_name='<script>alert("x")</script>.dat', reason="<b>bold</b> & <script>")
    report.rejected[0]["found"] = "<script>alert(1)</script>"
    paths = write_reports(tmp_path, report)
    text = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;" in text
    page = _parse_html(text)
    assert "script" not in {tag for tag, _ in page.tags}
    assert "<script>alert(1)</script>" in "".join(page.text)


def test_modes_and_atomic_replace(tmp_path: Path) -> None:
    """All three files are 0o600; writing again replaces them and leaves no temporary file."""
    target = tmp_path / "reports"
    report = _report(SMALL_KANA)
    first = write_reports(target, report)
    second = write_reports(target, report.model_copy(update={"state": "rejected"}))
    assert first == second
    assert set(first) == {"json", "csv", "html"}
    for path in second.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.name.startswith("F-small_kana.")
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in second.values())
    assert json.loads(second["json"].read_text(encoding="utf-8"))["state"] == "rejected"


def test_quarantined_report_shows_its_reason(tmp_path: Path) -> None:
    """A quarantined file's report says so and why, in every format, with the failing total."""
    reason = "トレーラーの合計金額が明細の合計と一致しないため、ファイル全体を隔離しました。"
    report = _report(
        DATA / "zengin-91" / "trailer_amount_mismatch.dat", status="quarantined", state="quarantine", reason=reason
    )
    paths = write_reports(tmp_path, report)
    page = _parse_html(paths["html"].read_text(encoding="utf-8"))
    body = "".join(page.text)
    assert "隔離の理由" in body and reason in body
    assert "隔離" in [row[1] for row in page.rows if row and row[0] == "結果"][0]
    assert ["合計金額 (amount)", "19,000", "18,000", "✗"] in page.rows
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["reason"] == reason
    text = render_text(report)
    assert reason in text and "隔離" in text
    rows = _csv_rows(paths["csv"])
    assert [(r["レコード番号"], r["理由コード"]) for r in rows] == [("5", "TRAILER_AMOUNT_MISMATCH")]


def test_report_without_validation() -> None:
    """A duplicate (never validated) can still be reported; it has no groups and no rows."""
    report = FileReport(
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
    page = _parse_html(render_html(report))
    body = "".join(page.text)
    assert "重複" in body and "照合するグループがありません。" in body
    assert "（不明）" in body  # format


def test_warnings_table_and_text(tmp_path: Path) -> None:
    """Warnings go to the CSV (区分 警告), the HTML warnings table and the terminal text."""
    report = _report(DATA / "zengin-91" / "unknown_bank_code.dat")
    paths = write_reports(tmp_path, report)
    [row] = _csv_rows(paths["csv"])
    assert (row["区分"], row["理由コード"], row["レコード番号"], row["バイト位置"]) == (
        "警告",
        "UNKNOWN_BANK",
        "3",
        "245",
    )
    page = _parse_html(paths["html"].read_text(encoding="utf-8"))
    assert any(r[0] == "警告" and r[5] == "UNKNOWN_BANK" for r in page.rows if len(r) == len(CSV_COLUMNS))
    assert "正常" in "".join(page.text)
    text = render_text(report)
    assert "[UNKNOWN_BANK] レコード 3  バイト位置 245" in text


def test_render_text() -> None:
    """The terminal text has Japanese labels, English codes, totals and masked values only."""
    text = render_text(_report(SMALL_KANA))
    for part in (
        "ファイル名",
        "small_kana.dat",
        "一部レコード不備 (rejected-records)",
        "合計の照合",
        "合計件数 (count)",
        "✓",
        "[FIELD_CHARSET] レコード 3  バイト位置 294  預金者名 (account_holder)",
        "実際の値: ﾃ******",
        "データ件数 3 / 受付件数 2 / 不備件数 1",
    ):
        assert part in text


def test_text_escapes_control_characters() -> None:
    """A terminal escape sequence in a value is shown, not executed."""
    report = _report(SMALL_KANA, reason="bad\x1b[2Jname\nnext")
    text = render_text(report)
    assert "\x1b" not in text
    assert "bad\\x1b[2Jname\\x0anext" in text


def test_individual_numbers_are_scrubbed(tmp_path: Path) -> None:
    """A valid individual number that reached a message or the reason is replaced in every report."""
    report = _report(SMALL_KANA, reason=f"番号 {MY_NUMBER} を含む")
    rejected = [dict(item, message=f"found {MY_NUMBER}") for item in report.rejected]
    report = FileReport.model_validate({**report.model_dump(), "rejected": rejected})
    paths = write_reports(tmp_path, report)
    for path in paths.values():
        text = path.read_bytes().decode("utf-8-sig")
        assert MY_NUMBER not in text
        assert "[個人番号]" in text
    assert report.sha256 in paths["json"].read_text(encoding="utf-8")


def test_csv_guards_formulas(tmp_path: Path) -> None:
    """A value a spreadsheet would run as a formula is prefixed with an apostrophe."""
    report = _report(SMALL_KANA)
    report.rejected[0]["found"] = '=HYPERLINK("http://example.invalid")'
    paths = write_reports(tmp_path, report)
    [row] = _csv_rows(paths["csv"])
    assert row["実際の値(マスク済)"].startswith("'=")


@pytest.mark.parametrize("file_id", ["../escape", "a/b", ".hidden", ""])
def test_unsafe_file_id_is_refused(tmp_path: Path, file_id: str) -> None:
    """A file_id that is not a plain file name is a ValueError, and nothing is written."""
    report = _report(SMALL_KANA, file_id=file_id)
    with pytest.raises(ValueError):
        write_reports(tmp_path / "r", report)
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_model_refuses_unknown_values() -> None:
    """Unknown status, state or extra keys, and a malformed SHA-256, are refused."""
    base = dict(
        file_id="X",
        channel="bank",
        original_name="a",
        sha256="0" * 64,
        size=1,
        received_at=RECEIVED,
        status="ok",
        state="archive",
    )
    FileReport(**base)
    for change in ({"status": "done"}, {"state": "inbox"}, {"sha256": "xyz"}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            FileReport(**{**base, **change})


def test_no_individual_number_in_any_report_byte(tmp_path: Path) -> None:
    """A file named MN<number>.dat holding X<number> in a filler and the number in full-width digits in
    委託者名: no form of it is in any byte of the JSON, CSV or HTML, nor in the terminal text — also
    for warnings added with model_copy(update=...), which skips validation."""
    from formats.checkdigits import find_my_numbers, is_valid_my_number
    from tests.support.masking import brute_force
    from tests.support.samples import debit_file_holding

    number, other = "123456789018", "400000000017"  # invented: body and check digit
    assert is_valid_my_number(number) and is_valid_my_number(other)
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    path = tmp_path / f"MN{number}.dat"
    path.write_bytes(debit_file_holding(number))
    result = validate_path(path, get_format("zengin-91"))
    assert {issue.found.strip() for issue in result.errors} == {wide, f"X{number}"}  # the data do hold it
    report = FileReport.from_validation(
        result,
        file_id="F-mn",
        channel="bank",
        received_at=RECEIVED,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        state="rejected",
    )
    late = {
        "code": "DOUBLE_PAYMENT",
        "level": "record",
        "severity": "warning",
        "record": 2,
        "message": f"posted before with 番号 {other[:4]} {other[4:8]} {other[8:]}",
    }
    report = report.model_copy(
        update={
            "warnings": [*report.warnings, late],
            "outputs": [{"destination": "x", "path": f"out/ｱ{wide}.dat", "records": 1}],
        }
    )
    paths = write_reports(tmp_path / "reports", report)
    texts = {kind: path.read_bytes().decode("utf-8-sig") for kind, path in paths.items()}
    texts["text"] = render_text(report)
    texts["html-rendered"] = render_html(report)
    for kind, text in texts.items():
        assert not find_my_numbers(text) and not brute_force(text), kind
        for form in (number, wide, other, f"{other[:4]} {other[4:8]}"):
            assert form not in text, (kind, form)
        assert "[個人番号]" in text, kind
    written = json.loads(texts["json"])
    assert written["original_name"] == "MN[個人番号].dat"
    assert {item["found"].strip() for item in written["rejected"]} == {"[個人番号]", "X[個人番号]"}
    assert written["sha256"] == report.sha256  # the digest is kept whole
