"""`gateway decode barcode|ocr|elqr`: JSON, exit codes, tables and masking, on a small typer app."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from gateway.entrypoints.commands import decode
from gateway.entrypoints.commands.decode import register
from tests.unit.test_codecs_barcode import PUBLIC
from tests.unit.test_codecs_elqr import SAMPLE
from tests.unit.test_codecs_ocr import UPPER

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A console wide enough that no value is wrapped or cut."""
    monkeypatch.setattr(decode, "console", Console(width=400))


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A stand-in for the gateway's own app."""

    register(app)
    return app


def run(*args: str) -> Any:
    return runner.invoke(make_app(), list(args))


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run(*args, "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(("kind", "value"), [("barcode", PUBLIC), ("ocr", UPPER), ("elqr", SAMPLE)])
def test_valid_value_exits_zero(kind: str, value: str) -> None:
    """A valid value prints valid true, its fields and no errors, and exits 0."""
    code, payload = run_json("decode", kind, value)
    assert code == 0
    assert payload["kind"] == kind and payload["valid"] is True and payload["errors"] == []
    assert payload["fields"]


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("barcode", PUBLIC[:-1] + "5", "CHECK_DIGIT"),
        ("barcode", PUBLIC[:-1], "LENGTH"),
        ("ocr", "9" + UPPER[1:], "CHECK_DIGIT"),
        ("elqr", SAMPLE[:-5] + "00000", "CRC"),
    ],
)
def test_invalid_value_exits_one_with_the_reason(kind: str, value: str, reason: str) -> None:
    """An invalid value prints valid false and the reason, and exits 1."""
    code, payload = run_json("decode", kind, value)
    assert code == 1
    assert payload["valid"] is False
    assert reason in [error["code"] for error in payload["errors"]]
    error = payload["errors"][0]
    assert set(error) >= {"code", "position", "expected", "found", "message"}


def test_barcode_json_fields() -> None:
    """The barcode's JSON fields carry numbers as numbers and dates as ISO text."""
    _, payload = run_json("decode", "barcode", "EAN " + PUBLIC)
    fields = payload["fields"]
    assert fields["amount"] == 29500 and fields["deadline"] == "2004-01-31" and fields["issuer_code"] == "12345"


def test_personal_values_are_masked_unless_asked() -> None:
    """納付番号 and the echoed value are masked by default and shown with --unmask."""
    _, masked = run_json("decode", "barcode", PUBLIC)
    assert masked["fields"]["customer_reference"] == "*" * 13 + "875"
    assert PUBLIC not in json.dumps(masked)
    _, plain = run_json("decode", "barcode", PUBLIC, "--unmask")
    assert plain["fields"]["customer_reference"] == "0000000004520875"
    assert plain["value"] == PUBLIC


def test_elqr_masks_case_key_and_confirmation_number() -> None:
    """案件特定キー, 確認番号 and eL番号 are masked; the amount is not."""
    _, payload = run_json("decode", "elqr", SAMPLE)
    fields = payload["fields"]
    assert fields["confirmation_number"] == "***456"
    assert fields["case_key"].endswith("001") and set(fields["case_key"][:-3]) == {"*"}
    assert fields["el_number"].endswith("012") and fields["amount"] == 12300


def test_barcode_stored_without_ai() -> None:
    """--without-ai reads a barcode stored without "91"."""
    code, payload = run_json("decode", "barcode", PUBLIC[2:], "--without-ai")
    assert code == 0 and payload["fields"]["ai"] == "91"


def test_barcode_stored_without_check_digit() -> None:
    """--without-check-digit reads a barcode stored without its check digit."""
    code, payload = run_json("decode", "barcode", PUBLIC[:-1], "--without-check-digit")
    assert code == 0 and payload["fields"]["check_digit"] == 4


def test_table_output() -> None:
    """Without --json the fields and errors are tables with Japanese names."""
    result = run("decode", "barcode", PUBLIC[:-1] + "5")
    assert result.exit_code == 1
    assert "not valid" in result.stdout
    assert "支払金額" in result.stdout and "29500" in result.stdout
    assert "CHECK_DIGIT" in result.stdout and "expected 4, found 5" in result.stdout


def test_table_output_valid_elqr() -> None:
    """A valid eL-QR prints its fields and no error table."""
    result = run("decode", "elqr", SAMPLE)
    assert result.exit_code == 0
    assert "valid" in result.stdout and "納期限" in result.stdout and "2025-04-30" in result.stdout
    assert "errors" not in result.stdout
