"""The `gateway` command: formats, validate (JSON and exit codes), inspect (masking)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from formats.builder import FileBuilder, Group
from formats.checkdigits import find_my_numbers, is_valid_my_number
from formats.layouts.zengin import TRANSFER_21
from gateway.entrypoints import cli
from tests.support.paths import DATA, ROOT
from tests.support.samples import debit_file, debit_file_holding, transfer_file, transfer_header, transfer_record

GATEWAY = ROOT / ".venv" / "bin" / "gateway"
KEYS = ("record", "offset", "field", "code", "level")
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch):
    """Rich tables wide enough that no value is wrapped or cut with an ellipsis."""
    monkeypatch.setattr(cli, "console", Console(width=400))
    monkeypatch.setattr(cli, "errors", Console(width=400, stderr=True))


def gateway(*args: str | Path):
    return runner.invoke(cli.app, [str(a) for a in args])


def validate_json(path: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = gateway("validate", path, "--json", *options)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)


def expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))


def brief(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: item[key] for key in KEYS} for item in items]


def write(tmp_path: Path, content: bytes, name: str = "file.dat") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


CLEAN_91 = debit_file([(1000, "0"), (2500, "1"), (300, "0")])  # 3 records, 3,800 yen
CLEAN_21 = transfer_file([5000, 12000])


# ------------------------------------------------------------------ formats


def test_formats_lists_both_zengin_formats():
    """`gateway formats` exits 0 and names zengin-91 and zengin-21."""
    result = gateway("formats")
    assert result.exit_code == 0
    assert "zengin-91" in result.stdout
    assert "zengin-21" in result.stdout
    assert "全銀 総合振込 (種別21)" in result.stdout


# ------------------------------------------------------------------ validate --json

GOLDEN = [
    ("zengin-91/request_single_crlf.dat", 0),
    ("zengin-91/result_crlf_between.dat", 0),
    ("zengin-91/small_kana.dat", 1),
    ("zengin-91/bad_account_type.dat", 1),
    ("zengin-91/trailer_amount_mismatch.dat", 2),
    ("zengin-91/missing_end.dat", 2),
    ("zengin-21/transfer_single_crlf.dat", 0),
    ("zengin-21/transfer_amount_mismatch.dat", 2),
]


@pytest.mark.parametrize(("name", "code"), GOLDEN, ids=[name for name, _ in GOLDEN])
def test_validate_json_matches_the_golden_expectation(name, code):
    """validate --json on a golden file gives its expected status, counts, groups, rejections and exit code."""
    path = DATA / name
    want = expected(path)
    exit_code, got = validate_json(path)
    assert exit_code == code
    assert {"ok": 0, "rejected-records": 1, "rejected-file": 2}[got["status"]] == code
    assert got["format"] == want["format"]
    assert got["status"] == want["status"]
    for key in ("separator", "records", "accepted", "rejected_records", "groups"):
        assert got[key] == want[key], key
    assert brief(got["rejected"]) == want["rejected"]
    assert brief(got["warnings"]) == want["warnings"]


def test_validate_json_prints_one_object_with_the_documented_keys():
    """The JSON is one object with format, status, records, groups (declared and computed) and rejected items."""
    exit_code, got = validate_json(DATA / "zengin-91" / "small_kana.dat")
    assert exit_code == 1
    assert {
        "file",
        "format",
        "status",
        "separator",
        "records",
        "accepted",
        "rejected_records",
        "groups",
        "rejected",
        "warnings",
    } <= set(got)
    [group] = got["groups"]
    assert {"index", "header_record", "trailer_record", "kind", "declared", "computed"} <= set(group)
    [item] = got["rejected"]
    assert {"record", "offset", "field", "code", "level", "message"} <= set(item)
    assert (item["record"], item["offset"], item["field"], item["code"], item["level"]) == (
        3,
        294,
        "account_holder",
        "FIELD_CHARSET",
        "field",
    )
    assert item["field_ja"] == "預金者名"
    assert "record 3, offset 294" in item["message"]


def test_clean_built_file_exits_0(tmp_path):
    """A clean file built with the test helpers is ok, exit 0, with its exact totals."""
    exit_code, got = validate_json(write(tmp_path, CLEAN_91))
    assert exit_code == 0
    assert got["status"] == "ok"
    assert got["rejected"] == [] and got["warnings"] == []
    assert (
        got["groups"][0]["declared"]
        == got["groups"][0]["computed"]
        == {
            "count": 3,
            "amount": 3800,
            "transferred_count": 2,
            "transferred_amount": 1300,
            "failed_count": 1,
            "failed_amount": 2500,
        }
    )


def test_small_kana_name_exits_1(tmp_path):
    """A built file with ｯ (0xAF) in record 3's 預金者名 has only a record rejection: exit 1."""
    content = bytearray(CLEAN_91)
    content[2 * 122 + 50] = 0xAF
    exit_code, got = validate_json(write(tmp_path, bytes(content)))
    assert exit_code == 1
    assert got["status"] == "rejected-records"
    assert (got["records"], got["accepted"], got["rejected_records"]) == (3, 2, 1)
    assert brief(got["rejected"]) == [
        {"record": 3, "offset": 294, "field": "account_holder", "code": "FIELD_CHARSET", "level": "field"}
    ]


def test_trailer_amount_mismatch_exits_2(tmp_path):
    """A built file whose 合計金額 is raised by 1 yen is refused: exit 2, mismatch at the trailer field."""
    content = bytearray(CLEAN_91)
    trailer = 4 * 122
    assert content[trailer + 7 : trailer + 19] == b"000000003800"
    content[trailer + 7 : trailer + 19] = b"000000003801"
    exit_code, got = validate_json(write(tmp_path, bytes(content)))
    assert exit_code == 2
    assert got["status"] == "rejected-file"
    assert brief(got["rejected"]) == [
        {
            "record": 5,
            "offset": trailer + 7,
            "field": "total_amount",
            "code": "TRAILER_AMOUNT_MISMATCH",
            "level": "file",
        }
    ]
    assert got["groups"][0]["declared"]["amount"] == 3801
    assert got["groups"][0]["computed"]["amount"] == 3800


def test_empty_file_with_format_exits_2_with_empty_file():
    """An empty file validated as zengin-91 gives one EMPTY_FILE rejection and exit 2."""
    exit_code, got = validate_json(DATA / "zengin-91" / "empty.dat", "--format", "zengin-91")
    assert exit_code == 2
    assert got["status"] == "rejected-file"
    assert brief(got["rejected"]) == [
        {"record": None, "offset": 0, "field": None, "code": "EMPTY_FILE", "level": "file"}
    ]


def test_empty_file_without_format_exits_2():
    """An empty file cannot be identified from its content: exit 2, a JSON refusal and a message naming the formats."""
    result = gateway("validate", DATA / "zengin-91" / "empty.dat", "--json")
    assert result.exit_code == 2
    got = json.loads(result.stdout)
    assert got["status"] == "rejected-file"
    assert got["rejected"][0]["code"] == "UNKNOWN_FORMAT"
    assert "zengin-21" in got["rejected"][0]["message"] and "zengin-91" in got["rejected"][0]["message"]


# ------------------------------------------------------------------ identification


@pytest.mark.parametrize(
    ("content", "format_id", "count"),
    [
        (CLEAN_91, "zengin-91", 3),
        (CLEAN_21, "zengin-21", 2),
        (debit_file([(10, "0")], separator=b""), "zengin-91", 1),
    ],
    ids=["91-crlf", "21-crlf", "91-none"],
)
def test_format_is_identified_from_the_content(tmp_path, content, format_id, count):
    """Without --format the format is taken from the first record's 種別コード."""
    exit_code, got = validate_json(write(tmp_path, content))
    assert exit_code == 0
    assert got["format"] == format_id
    assert got["records"] == count


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is not a bank file\r\n",
        CLEAN_91.replace(b"191", b"199", 1),  # a Zengin header of an unknown 種別コード
    ],
    ids=["text", "unknown-type-code"],
)
def test_unidentifiable_file_exits_2_naming_the_formats(tmp_path, content):
    """A file no format recognises gives exit 2 and a JSON refusal whose message names zengin-21 and zengin-91."""
    result = gateway("validate", write(tmp_path, content), "--json")
    assert result.exit_code == 2
    got = json.loads(result.stdout)
    assert (got["status"], got["format"], got["rejected"][0]["code"]) == ("rejected-file", None, "UNKNOWN_FORMAT")
    message = got["rejected"][0]["message"]
    assert "no known format" in message
    assert "zengin-21" in message and "zengin-91" in message
    plain = gateway("validate", write(tmp_path, content))
    assert plain.exit_code == 2 and "no known format" in " ".join(plain.stderr.split())


def test_format_option_overrides_identification(tmp_path):
    """--format zengin-91 on a 21 file reads it as 91: its header's 種別コード is a FIELD_CONSTANT error."""
    exit_code, got = validate_json(write(tmp_path, CLEAN_21), "--format", "zengin-91")
    assert exit_code == 2
    assert got["format"] == "zengin-91"
    assert {"record": 1, "offset": 1, "field": "type_code", "code": "FIELD_CONSTANT", "level": "field"} in brief(
        got["rejected"]
    )


def test_unknown_format_option_exits_2():
    """--format with an unknown identifier exits 2 and lists the known ones."""
    result = gateway("validate", DATA / "zengin-91" / "request_single_crlf.dat", "--format", "zengin-99")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "'zengin-99'" in message and "zengin-21, zengin-91" in message


# ------------------------------------------------------------------ warnings, modes, paths


def test_unknown_bank_code_is_a_warning_and_exits_0():
    """Bank 9998 (not in zengin-code) is an UNKNOWN_BANK warning at record 3 offset 245; the file is ok."""
    exit_code, got = validate_json(DATA / "zengin-91" / "unknown_bank_code.dat")
    assert exit_code == 0
    assert got["status"] == "ok"
    assert got["rejected"] == []
    [warning] = got["warnings"]
    assert brief([warning]) == [
        {"record": 3, "offset": 245, "field": "bank_code", "code": "UNKNOWN_BANK", "level": "field"}
    ]
    assert warning["severity"] == "warning"


NO_FAST_CASES = [
    "zengin-91/result_single_crlf.dat",
    "zengin-91/result_no_separator.dat",
    "zengin-91/result_eof_mark.dat",
    "zengin-91/result_crlf_between.dat",
    "zengin-91/result_lf.dat",
    "zengin-91/mixed_lf_crlf.dat",
    "zengin-91/truncated_record.dat",
    "zengin-91/unknown_bank_code.dat",
    "zengin-91/small_kana.dat",
    "zengin-91/trailer_amount_mismatch.dat",
    "zengin-21/transfer_multi_group_no_separator.dat",
]


@pytest.mark.parametrize("name", NO_FAST_CASES)
def test_no_fast_gives_the_same_json(name):
    """validate --no-fast prints exactly the JSON (and exit code) of the fast path."""
    fast_code, fast = validate_json(DATA / name)
    slow_code, slow = validate_json(DATA / name, "--no-fast")
    assert slow == fast
    assert slow_code == fast_code


def test_permissive_accepts_a_slash_in_a_name(tmp_path):
    """A 預金者名 with "/" is a FIELD_CHARSET rejection in strict mode and accepted with --permissive."""
    name = "ﾃｽﾄ ﾀﾛｳ".encode("cp932")
    assert CLEAN_91.count(name) == 3
    path = write(tmp_path, CLEAN_91.replace(name, "ﾃｽﾄ/ﾀﾛｳ".encode("cp932"), 1))
    strict_code, strict = validate_json(path)
    assert strict_code == 1
    assert brief(strict["rejected"]) == [
        {"record": 2, "offset": 172, "field": "account_holder", "code": "FIELD_CHARSET", "level": "field"}
    ]
    permissive_code, permissive = validate_json(path, "--permissive")
    assert permissive_code == 0
    assert permissive["status"] == "ok"
    assert permissive["rejected"] == []


def test_missing_file_exits_2(tmp_path):
    """A path that does not exist exits 2 with "no such file"."""
    result = gateway("validate", tmp_path / "absent.dat", "--json")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_validate_without_json_prints_a_summary():
    """Without --json validate prints the status and totals as text, with the same exit code."""
    result = gateway("validate", DATA / "zengin-91" / "trailer_amount_mismatch.dat")
    assert result.exit_code == 2
    assert "ファイル不備 (rejected-file)" in result.stdout
    assert "TRAILER_AMOUNT_MISMATCH" in result.stdout
    assert "19,000" in result.stdout and "18,000" in result.stdout


@pytest.mark.parametrize("name", ["truncated_record.dat", "non_digit_amount.dat"])
def test_summary_of_a_file_with_an_unprovable_amount(name):
    """Without --json, a file whose total cannot be proven prints its summary (computed shown as （照合不能）) and exits 2."""
    result = gateway("validate", DATA / "zengin-91" / name)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2
    assert "ファイル不備 (rejected-file)" in result.stdout
    assert "TRAILER_AMOUNT_UNVERIFIABLE" in result.stdout


@pytest.mark.parametrize("text", ["ABC[bold]", "ABC[/]"])
def test_summary_shows_found_bytes_verbatim(tmp_path, text):
    """Without --json a bad 引落銀行名 holding square brackets is shown exactly as found, not as rich markup."""
    content = bytearray(CLEAN_91)
    content[122 + 5 : 122 + 20] = text.encode("ascii").ljust(15)
    result = gateway("validate", write(tmp_path, bytes(content)))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert text in result.stdout


# ------------------------------------------------------------------ inspect


def test_inspect_masks_personal_values(tmp_path):
    """inspect shows account numbers by their last 3 digits and names by their first character only."""
    # invented distinctive values in record 2: account 8642097, customer number 7531864290
    record = bytearray(CLEAN_91[122:242])
    record[43:50] = b"8642097"
    record[50:80] = "ｻﾝﾌﾟﾙ ﾊﾅｺ".encode("cp932").ljust(30)
    record[91:111] = b"7531864290".ljust(20)
    content = CLEAN_91[:122] + bytes(record) + CLEAN_91[242:]
    result = gateway("inspect", write(tmp_path, content))
    assert result.exit_code == 0
    out = result.stdout
    assert "口座番号=****097" in out
    assert "預金者名=ｻ********" in out
    assert "顧客番号=*******290" in out
    assert "預金者名=ﾃ******" in out  # ﾃｽﾄ ﾀﾛｳ in records 3 and 4
    for secret in ("8642097", "8642", "ｻﾝﾌﾟﾙ", "ﾊﾅｺ", "ﾃｽﾄ ﾀﾛｳ", "ﾀﾛｳ", "7531864290", "75318"):
        assert secret not in out, secret
    # records, offsets and roles are shown
    assert "trailer" in out and "end" in out
    assert "合計金額=3800" in out


def test_inspect_golden_file_hides_account_numbers():
    """On a golden result file no data record's account number appears unmasked."""
    result = gateway("inspect", DATA / "zengin-91" / "result_single_crlf.dat")
    assert result.exit_code == 0
    # 委託者コード (the city's own code, not personal) is shown whole and happens to contain 2345678
    assert "委託者コード=1234567890" in result.stdout
    out = result.stdout.replace("委託者コード=1234567890", "")
    for account, masked in (
        ("1234567", "****567"),
        ("2345678", "****678"),
        ("3456789", "****789"),
        ("4567890", "****890"),
    ):
        assert account not in out
        assert f"口座番号={masked}" in out
    assert "ﾚｲ ｼﾞﾛｳ" not in out and "預金者名=ﾚ******" in out


def test_inspect_shows_edi_text_with_brackets(tmp_path):
    """inspect of a valid 21 file whose EDI情報 ends with "[/]" shows the masked value and exits 0."""
    record = transfer_record(1, 100, edi_flag="Y", customer_codes="ABCDEFGHIJKLMNOPQ[/]")
    path = write(tmp_path, FileBuilder(TRANSFER_21).to_bytes([Group(transfer_header(), [record])]))
    exit_code, got = validate_json(path)
    assert (exit_code, got["status"]) == (0, "ok")
    result = gateway("inspect", path)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0
    assert "*****************[/]" in result.stdout


# ------------------------------------------------------------------ the installed command


def test_installed_gateway_command(tmp_path):
    """The real `gateway` executable validates a file: JSON on stdout and exit code 1 for a rejected record."""
    content = bytearray(CLEAN_91)
    content[2 * 122 + 50] = 0xAF  # small kana ｯ in record 3's name
    path = write(tmp_path, bytes(content))
    completed = subprocess.run(
        [str(GATEWAY), "validate", str(path), "--json"], capture_output=True, timeout=60, cwd=tmp_path
    )
    assert completed.returncode == 1, completed.stderr
    got = json.loads(completed.stdout.decode("utf-8"))
    assert got["format"] == "zengin-91"
    assert got["status"] == "rejected-records"
    assert brief(got["rejected"]) == [
        {"record": 3, "offset": 294, "field": "account_holder", "code": "FIELD_CHARSET", "level": "field"}
    ]


# ------------------------------------------------------------------ control characters in what is shown

RAW_CONTROLS = ("\x1b", "\u202e", "\x00")
NASTY_NAME = "pay\x1b[2Jrtl\u202eexe.tad"


@pytest.fixture
def nasty_spool(tmp_path, monkeypatch):
    """A spool whose ledger holds a file named with ESC and U+202E (then a NUL added in the ledger, as no
    file system allows one), whose 預金者名 starts with ESC, whose report's message holds U+202E and NUL;
    and an alert whose message holds all three."""
    import datetime as dt

    from gateway.config.settings import load_settings
    from gateway.datapath.pipeline import Pipeline
    from gateway.reporting import audit
    from gateway.storage.ledger import Ledger
    from gateway.storage.transfers import TransferStore
    from spool.scanner import Arrival

    monkeypatch.setattr("gateway.entrypoints.commands.sftp.console", Console(width=400))
    spool = tmp_path / "spool"
    settings = load_settings(spool_root=spool)
    spool.mkdir()
    audit.configure(settings.audit_path(), console=False)
    content = bytearray(CLEAN_91)
    content[122 * 2 + 50] = 0x1B
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        path = pipeline.spool.inbox("zengin-91") / NASTY_NAME
        path.write_bytes(bytes(content))
        stat = path.stat()
        file_id = pipeline.claim(Arrival("zengin-91", path, stat.st_size, stat.st_mtime_ns))
        assert file_id is not None
        pipeline.process(file_id)
        ledger.db.execute("UPDATE files SET original_name = ? WHERE id = ?", (NASTY_NAME + "\x00", file_id))
        ledger.db.commit()
        row = ledger.get(file_id)
    report = Path(row.report_json)
    data = json.loads(report.read_text(encoding="utf-8"))
    data["rejected"][0]["message_ja"] = "値\u202eに\x00制御文字"
    report.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    csv_path = Path(row.report_csv)  # as a report written before values were escaped would hold them
    csv_path.write_text(
        csv_path.read_text(encoding="utf-8-sig") + 'エラー,9,9,名,f,C,"a\x1b\u202e\x00\nb",x,y,z\r\n',
        encoding="utf-8-sig",
    )
    with TransferStore(settings.ledger_path()) as store:
        store.raise_alert(
            "expected-file",
            date=dt.date(2026, 5, 27),
            message="KFURI\x1b[8m\u202e\x00.DAT missing",
            endpoint="bank",
            channel="zengin-91",
        )
    yield spool, file_id
    audit.configure(None)


def _no_raw_controls(text: str) -> None:
    assert [ch for ch in RAW_CONTROLS if ch in text] == [], repr(text)


def test_files_shows_control_characters_as_escapes(nasty_spool):
    """`gateway files` (table and --json) writes no raw ESC, U+202E or NUL: escapes; the JSON is the same value."""
    spool, file_id = nasty_spool
    table = gateway("files", "--spool", spool)
    assert table.exit_code == 0, table.output
    _no_raw_controls(table.output)
    assert "pay\\x1b[2Jrtl\\u202eexe.tad\\x00" in table.stdout
    listed = gateway("files", "--spool", spool, "--json")
    assert listed.exit_code == 0, listed.output
    _no_raw_controls(listed.stdout)
    assert "pay\\u001b[2Jrtl\\u202eexe.tad\\u0000" in listed.stdout
    rows = json.loads(listed.stdout)
    assert [(row["id"], row["original_name"]) for row in rows] == [(file_id, NASTY_NAME + "\x00")]


@pytest.mark.parametrize("kind", ["text", "json", "csv", "html"])
def test_report_shows_control_characters_as_escapes(nasty_spool, kind):
    """`gateway report --as KIND` writes no raw ESC, U+202E or NUL; JSON stays the same value, CSV the same cells."""
    spool, file_id = nasty_spool
    result = gateway("report", file_id, "--spool", spool, "--as", kind)
    assert result.exit_code == 0, result.output
    _no_raw_controls(result.stdout)
    if kind == "json":
        assert json.loads(result.stdout)["rejected"][0]["message_ja"] == "値\u202eに\x00制御文字"
        assert "値\\u202eに\\u0000制御文字" in result.stdout  # Japanese readable, controls escaped
    elif kind == "csv":
        assert "エラー,9,9,名,f,C,a\\x1b\\u202e\\x00\\x0ab,x,y,z" in result.stdout.splitlines()
        assert "\\x1b******" in result.stdout
    elif kind == "text":
        assert "値\\u202eに\\x00制御文字" in result.stdout and "pay\\x1b[2Jrtl\\u202eexe.tad" in result.stdout
    else:  # the page on disk (written before the message was planted): escaped by the report's own rule
        assert "\\x1b******" in result.stdout


def test_alerts_show_control_characters_as_escapes(nasty_spool):
    """`gateway alerts` (table and --json) writes the alert's message with escapes."""
    spool, _ = nasty_spool
    table = gateway("alerts", "--spool", spool)
    assert table.exit_code == 0, table.output
    _no_raw_controls(table.stdout)
    assert "KFURI\\x1b[8m\\u202e\\x00.DAT missing" in table.stdout
    listed = gateway("alerts", "--spool", spool, "--json")
    _no_raw_controls(listed.stdout)
    assert json.loads(listed.stdout)[0]["message"] == "KFURI\x1b[8m\u202e\x00.DAT missing"


def test_validate_shows_a_control_character_found_as_an_escape(tmp_path):
    """`gateway validate` (text and --json) shows a 預金者名 starting with ESC as \\x1b, not raw (a personal
    value is masked after its first character, which was left raw before)."""
    content = bytearray(CLEAN_91)
    content[122 * 2 + 50] = 0x1B
    path = write(tmp_path, bytes(content), "rtl\u202eexe.tad")
    text = gateway("validate", path)
    assert text.exit_code == 1
    _no_raw_controls(text.stdout)
    assert "\\x1b" in text.stdout and "rtl\\u202eexe.tad" in text.stdout
    code, got = validate_json(path)
    assert code == 1 and got["rejected"][0]["found"].startswith("\\x1b")
    raw = gateway("validate", path, "--json").stdout
    _no_raw_controls(raw)
    assert "rtl\\u202eexe.tad" in raw


# ------------------------------------------------------------------ individual numbers never printed

MY_NUMBER = "123456789018"  # invented: 12345678901 and its check digit
WIDE_NUMBER = MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _holds_no_number(text: str) -> bool:
    from tests.support.masking import brute_force

    return not find_my_numbers(text) and not brute_force(text) and MY_NUMBER not in text and WIDE_NUMBER not in text


def test_validate_json_masks_a_number_in_non_personal_fields_and_the_name(tmp_path):
    """A full-width number in 委託者名, X<number> in a filler and MN<number>.dat as the file name: validate
    --json reports both field errors, but no individual number reaches stdout (the JSON stays valid)."""
    assert is_valid_my_number(MY_NUMBER)
    path = write(tmp_path, debit_file_holding(MY_NUMBER), name=f"MN{MY_NUMBER}.dat")
    result = gateway("validate", path, "--json")
    assert result.exit_code == 2
    assert _holds_no_number(result.stdout)
    got = json.loads(result.stdout)
    assert {item["field"]: item["found"].strip() for item in got["rejected"]} == {
        "consignor_name": "[個人番号]",
        "filler": "X[個人番号]",
    }
    assert got["file"].endswith("MN[個人番号].dat")
    plain = gateway("validate", path)  # the tables too
    assert plain.exit_code == 2 and "X[個人番号]" in plain.stdout and _holds_no_number(plain.stdout)
    shown = gateway("inspect", path)
    assert shown.exit_code == 0 and "[個人番号]" in shown.stdout and _holds_no_number(shown.stdout)


def test_installed_validate_json_masks_a_full_width_number(tmp_path):
    """The same through the real executable: nothing in stdout, whatever its digits."""
    path = write(tmp_path, debit_file_holding(MY_NUMBER))
    completed = subprocess.run(
        [str(GATEWAY), "validate", str(path), "--json"], capture_output=True, timeout=60, cwd=tmp_path
    )
    assert completed.returncode == 2, completed.stderr
    out = completed.stdout.decode("utf-8")
    assert _holds_no_number(out) and "[個人番号]" in out


def test_files_and_report_commands_mask_what_the_ledger_and_an_old_report_hold(tmp_path):
    """gateway files (--json and the table) and gateway report (every --as) mask a number that the
    ledger or a report written before this fix still holds, in any form."""
    from gateway.storage.ledger import Ledger

    spool = tmp_path / "spool"
    source = write(tmp_path, debit_file_holding(MY_NUMBER), name="kfuri.dat")
    ingested = gateway("ingest", source, "--channel", "zengin-91", "--spool", spool)
    assert ingested.exit_code == 2, ingested.stdout  # the header's field errors refuse the file
    [row] = json.loads(gateway("files", "--json", "--spool", spool).stdout)
    with Ledger(spool / "ledger.sqlite3") as ledger:  # as an older gateway recorded it
        ledger.update(row["id"], original_name=f"MN{MY_NUMBER}.dat")
    report = Path(row["report_json"])
    planted = json.loads(report.read_text(encoding="utf-8"))
    planted["original_name"] = f"MN{MY_NUMBER}.dat"
    planted["rejected"][0]["found"] = WIDE_NUMBER
    report.write_text(json.dumps(planted, ensure_ascii=False), encoding="utf-8")
    split = f"{MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}"
    for other in (Path(row["report_csv"]), Path(row["report_html"])):
        other.write_text(other.read_text(encoding="utf-8-sig") + f"\n番号 {split}\n", encoding="utf-8")

    listed = gateway("files", "--json", "--spool", spool)
    assert listed.exit_code == 0 and "MN[個人番号].dat" in listed.stdout and _holds_no_number(listed.stdout)
    table = gateway("files", "--spool", spool)
    assert table.exit_code == 0 and _holds_no_number(table.stdout)
    for kind in ("text", "json", "csv", "html"):
        shown = gateway("report", row["id"], "--as", kind, "--spool", spool)
        assert shown.exit_code == 0, (kind, shown.stdout)
        assert "[個人番号]" in shown.stdout and _holds_no_number(shown.stdout) and split not in shown.stdout, kind
        if kind == "json":
            assert json.loads(shown.stdout)["original_name"] == "MN[個人番号].dat"
