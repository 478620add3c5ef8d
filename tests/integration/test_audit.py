"""The audit log: masking of personal data, the JSON-lines file and its permissions.

The individual numbers are invented from the public check-digit rule (see
tests/unit/test_checkdigits.py for the arithmetic of 314159265352).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from formats.checkdigits import is_valid_my_number
from gateway.reporting import audit
from gateway.reporting.audit import MY_NUMBER_MASK, MaskingProcessor

MY_NUMBER = "314159265352"
OTHER_NUMBER = "271828182840"
NOT_A_MY_NUMBER = "314159265353"  # wrong check digit
SHA256 = hashlib.sha256(b"an invented bank file").hexdigest()
RAW = b"2\x30\x30\x30\x31\xd0\xbd\xde\xce  invented record bytes"


@pytest.fixture(autouse=True)
def _quiet_audit():
    """Each test starts and ends with no file and no console output."""
    audit.configure(None, console=False)
    yield
    audit.configure(None, console=False)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_numbers_are_invented_and_valid() -> None:
    """The sample numbers pass (or, for the control, fail) the check as intended."""
    assert is_valid_my_number(MY_NUMBER) and is_valid_my_number(OTHER_NUMBER)
    assert not is_valid_my_number(NOT_A_MY_NUMBER)


def test_masks_individual_numbers_everywhere() -> None:
    """An individual number in the message, a nested dict, a list or a tuple is masked."""
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        audit.get_logger(file_id="F1").info(
            f"record holds {MY_NUMBER}",
            detail={"note": f"番号:{MY_NUMBER}", "deeper": {"items": [f"x {OTHER_NUMBER} y", (MY_NUMBER,)]}},
            control=NOT_A_MY_NUMBER,
        )
    [event] = logs
    text = repr(event)
    assert MY_NUMBER not in text and OTHER_NUMBER not in text
    assert event["event"] == f"record holds {MY_NUMBER_MASK}"
    assert event["detail"]["note"] == f"番号:{MY_NUMBER_MASK}"
    assert event["detail"]["deeper"]["items"] == [f"x {MY_NUMBER_MASK} y", (MY_NUMBER_MASK,)]
    assert event["control"] == NOT_A_MY_NUMBER  # fails the check: not an individual number
    assert event["file_id"] == "F1"


def test_masks_exception_text() -> None:
    """An exception whose message holds an individual number is logged masked."""
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        try:
            raise ValueError(f"bad value {MY_NUMBER}")
        except ValueError:
            audit.get_logger().exception("parse failed")
    [event] = logs
    assert "exc_info" not in event
    assert "ValueError: bad value " + MY_NUMBER_MASK in event["exception"]
    assert MY_NUMBER not in repr(event)


def test_masks_exception_object_value() -> None:
    """An exception passed as a value is rendered to masked text."""
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        audit.get_logger().warning("retry", error=OSError(f"no {MY_NUMBER}"))
    assert logs[0]["error"] == f"OSError: no {MY_NUMBER_MASK}"


def test_personal_keys() -> None:
    """Account and customer numbers keep their last 3 characters; individual numbers nothing."""
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        audit.get_logger().info(
            "record",
            account_number="1234567",
            customer_number="00000000000000000042",
            account=7654321,
            individual_number=MY_NUMBER,
            my_number="not even valid",
            nested={"account_number": "0001234"},
        )
    [event] = logs
    assert event["account_number"] == "****567"
    assert event["customer_number"] == "*" * 17 + "042"
    assert event["account"] == "****321"
    assert event["individual_number"] == "*" * 12
    assert event["my_number"] == "*" * len("not even valid".strip())
    assert event["nested"] == {"account_number": "****234"}


def test_raw_bytes_never_appear() -> None:
    """Raw record keys are dropped and bytes anywhere become a length."""
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        audit.get_logger().info(
            "parsed", raw=RAW, raw_bytes=RAW, data="x", content="y", payload=RAW, nested={"raw": RAW, "bytes": [RAW]}
        )
    [event] = logs
    for key in ("raw", "raw_bytes", "data", "content"):
        assert key not in event
    assert event["payload"] == f"<{len(RAW)} bytes>"
    assert event["nested"] == {"bytes": [f"<{len(RAW)} bytes>"]}
    assert "invented record bytes" not in repr(event)


def test_sha256_passes_unchanged() -> None:
    """The digits of a SHA-256 hex digest are never an individual number: the digest is kept whole."""
    digest = ("ab" + MY_NUMBER + "cd").ljust(64, "e")  # a valid number inside hex letters
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        audit.get_logger().info("hashed", sha256=SHA256, other=digest, message=f"sha256={SHA256}")
    [event] = logs
    assert event["sha256"] == SHA256
    assert event["other"] == digest
    assert event["message"] == f"sha256={SHA256}"


def test_log_file_json_lines_and_mode(tmp_path: Path) -> None:
    """The file and its new folders are private; each line is JSON with UTC time, level, masked values."""
    path = tmp_path / "logs" / "audit" / "audit.jsonl"
    audit.configure(path, console=False)
    log = audit.get_logger(channel="bank")
    log.info("claimed", sha256=SHA256, account_number="1234567", raw=RAW, note=f"番号 {MY_NUMBER}")
    try:
        raise RuntimeError(f"individual number {MY_NUMBER} in an error")
    except RuntimeError:
        log.exception("failed")
    audit.configure(None, console=False)  # closes the file

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    text = path.read_text(encoding="utf-8")
    assert MY_NUMBER not in text and "1234567" not in text and "invented record bytes" not in text
    first, second = _read_lines(path)
    assert first["event"] == "claimed" and first["level"] == "info" and first["channel"] == "bank"
    assert first["sha256"] == SHA256
    assert first["account_number"] == "****567"
    assert first["note"] == f"番号 {MY_NUMBER_MASK}"  # UTF-8, not \\u escapes
    assert "番号" in text
    stamp = dt.datetime.fromisoformat(first["timestamp"].replace("Z", "+00:00"))
    assert stamp.utcoffset() == dt.timedelta(0)
    assert second["level"] == "error"
    assert f"individual number {MY_NUMBER_MASK}" in second["exception"]


def test_configure_again_appends_and_switches(tmp_path: Path) -> None:
    """Reconfiguring switches files; the same file is appended to, not truncated."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    bound = audit.get_logger().bind(step="one")
    audit.configure(first, console=False)
    audit.get_logger().info("one")
    audit.configure(second, console=False)
    bound.info("two")  # bound before: follows the new configuration
    audit.configure(first, console=False)
    audit.get_logger().info("three")
    audit.configure(None, console=False)
    assert [line["event"] for line in _read_lines(first)] == ["one", "three"]
    assert [line["event"] for line in _read_lines(second)] == ["two"]


def test_console_copy_is_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With console on, stderr gets a readable, masked line too."""
    audit.configure(tmp_path / "audit.jsonl", console=True)
    audit.get_logger().info(f"claimed {MY_NUMBER}", account_number="7654321")
    err = capsys.readouterr().err
    assert "claimed" in err and MY_NUMBER_MASK in err and "****321" in err
    assert MY_NUMBER not in err and "7654321" not in err


def test_console_default_off_when_not_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    """console=None adds no console output when stderr is not a terminal (as under pytest)."""
    audit.configure(None)
    audit.get_logger().info("quiet")
    assert capsys.readouterr().err == ""


def test_existing_parent_folder_is_left_alone(tmp_path: Path) -> None:
    """Only folders the gateway creates are made private; existing ones keep their mode."""
    tmp_path.chmod(0o755)
    audit.configure(tmp_path / "audit.jsonl", console=False)
    audit.configure(None, console=False)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "audit.jsonl").stat().st_mode) == 0o600


def test_level_filter(tmp_path: Path) -> None:
    """Debug events are filtered out at the default level."""
    path = tmp_path / "audit.jsonl"
    audit.configure(path, console=False)
    audit.get_logger().debug("noise")
    audit.get_logger().warning("kept")
    audit.configure(None, console=False)
    assert [line["event"] for line in _read_lines(path)] == ["kept"]


def test_the_log_follows_a_rotation_by_another_process(tmp_path):
    """When `gateway purge` replaces audit.log, a running gateway's next event goes to the new file."""
    import json
    import os

    from gateway.reporting import audit as module

    path = tmp_path / "audit.log"
    module.configure(path, console=False)
    try:
        module.get_logger().info("before")
        os.replace(path, tmp_path / "old.log")  # what a rotation does: a new file under the same name
        path.write_text("", encoding="utf-8")
        module.get_logger().info("after")
    finally:
        module.configure(None, console=False)
    assert [json.loads(line)["event"] for line in path.read_text(encoding="utf-8").splitlines()] == ["after"]


# -- individual numbers in any form ------------------------------------------------------------

WIDE = "400000000017".translate(
    str.maketrans("0123456789", "０１２３４５６７８９")
)  # invented: body 40000000001, check digit 7


def test_masks_numbers_in_any_form_in_keys_values_and_exceptions() -> None:
    """Full-width, mixed, touching letters, inside a file name, split by spaces or hyphens: masked in the
    message, values, keys, nested items and exception text; a 20-digit run and a digest are kept."""
    assert is_valid_my_number("400000000017")
    with capture_logs(processors=[MaskingProcessor()]) as logs:
        try:
            raise OSError(f"cannot open MN{MY_NUMBER}.dat")
        except OSError:
            audit.get_logger().exception(
                f"claimed ｱ{WIDE}",
                name=f"MN{MY_NUMBER}.dat",
                filler=f"X{OTHER_NUMBER}",
                split="4000 0000 0017",
                dashed="４０００－００００－００１７",
                mixed="４０００00000017",
                nested={f"key_{MY_NUMBER}": ["番号 4000-0000-0017"]},
                customer="00000000400000000017",
                sha256=SHA256,
            )
    [event] = logs
    text = repr({key: value for key, value in event.items() if key != "customer"})
    for form in (MY_NUMBER, OTHER_NUMBER, WIDE, "400000000017", "4000 0000 0017", "4000-0000-0017"):
        assert form not in text, form
    assert event["event"] == f"claimed ｱ{MY_NUMBER_MASK}"
    assert event["name"] == f"MN{MY_NUMBER_MASK}.dat"
    assert event["filler"] == f"X{MY_NUMBER_MASK}"
    assert event["split"] == event["dashed"] == event["mixed"] == MY_NUMBER_MASK
    assert event["nested"] == {f"key_{MY_NUMBER_MASK}": [f"番号 {MY_NUMBER_MASK}"]}
    assert f"OSError: cannot open MN{MY_NUMBER_MASK}.dat" in event["exception"]
    assert event["customer"] == "00000000400000000017"  # a longer run is not an individual number
    assert event["sha256"] == SHA256


def test_audit_log_of_a_file_named_and_filled_with_a_number(tmp_path: Path) -> None:
    """The real pipeline on MN<number>.dat whose header holds the number (full-width in 委託者名, X<number>
    in the filler): no line of the audit log holds it in any form, nor any report."""
    from formats.checkdigits import find_my_numbers
    from gateway.config.settings import load_settings
    from gateway.datapath.pipeline import Pipeline
    from gateway.storage.ledger import Ledger
    from spool.scanner import Arrival
    from tests.support.masking import brute_force
    from tests.support.samples import debit_file_holding

    settings = load_settings(spool_root=tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    audit.configure(settings.audit_path(), console=False)
    with Ledger(settings.ledger_path()) as ledger:
        pipeline = Pipeline(settings, ledger)
        pipeline.spool.ensure()
        path = pipeline.spool.inbox("zengin-91") / f"MN{MY_NUMBER}.dat"
        path.write_bytes(debit_file_holding(MY_NUMBER))
        stat_ = path.stat()
        file_id = pipeline.claim(Arrival("zengin-91", path, stat_.st_size, stat_.st_mtime_ns))
        assert file_id is not None
        pipeline.process(file_id)
        row = ledger.get(file_id)
    audit.configure(None, console=False)
    log = settings.audit_path().read_text(encoding="utf-8")
    lines = _read_lines(settings.audit_path())
    assert any(line.get("original_name") == f"MN{MY_NUMBER_MASK}.dat" for line in lines)
    wide = MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for text in (
        log,
        *(Path(p).read_text(encoding="utf-8-sig") for p in (row.report_json, row.report_csv, row.report_html)),
    ):
        assert not find_my_numbers(text) and not brute_force(text)
        assert MY_NUMBER not in text and wide not in text
