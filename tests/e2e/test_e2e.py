"""End to end through real `gateway run` processes on a real temporary spool.

Every test starts `gateway run` as a subprocess (the console script, or a small
launcher script when a failure has to be injected), drops invented Zengin 91 result
files into ``<spool>/inbox/zengin-91/``, polls the file system and the ledger until
the files are finished, and always stops its processes (SIGTERM, then SIGKILL). The
helpers are tests/support/gateways.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from formats.layouts.zengin.debit import DATA as DATA_91
from formats.validator import Status
from tests.support.gateways import (
    BOM,
    CHANNEL,
    TERMINAL_FOLDERS,
    Debit,
    Gateways,
    InputFile,
    audit_events,
    clean_input,
    count_events,
    drop,
    gateway_cli,
    inbox_files,
    ledger_deliveries,
    ledger_rows,
    read_collection,
    read_followup,
    result_91,
    settled,
    sha256_of,
    verify_spool,
    wait_until,
    write_config,
)

# ---------------------------------------------------------------------------------------------
# the end-to-end scenario: one gateway, every kind of input
# ---------------------------------------------------------------------------------------------


def make_input(name: str, debits: list[Debit], expect: str, status: str, *, amount_delta: int = 0) -> InputFile:
    return InputFile(name, debits, result_91(debits, amount_delta=amount_delta), expect, status)


CLEAN = clean_input(
    "clean.dat",
    [
        Debit(101, 12_000, "0"),
        Debit(102, 3_400, "1"),
        Debit(103, 560, "0"),
        Debit(104, 78_900, "9"),
        Debit(105, 1, "0"),
    ],
)
BAD_RECORDS = make_input(
    "badrec.dat",
    [Debit(201, 5_000, "0"), Debit(202, 6_000, "0", bad=True), Debit(203, 7_000, "2"), Debit(204, 8_000, "0")],
    "archived",
    "rejected-records",
)
ALL_BAD = make_input(
    "allbad.dat", [Debit(301, 900, "0", bad=True), Debit(302, 800, "1", bad=True)], "rejected", "rejected-records"
)
MISMATCH = make_input(
    "mismatch.dat", [Debit(401, 1_000, "0"), Debit(402, 2_000, "0")], "quarantined", "rejected-file", amount_delta=1
)
AGAIN = InputFile("clean-again.dat", CLEAN.debits, CLEAN.content, "duplicate", "duplicate")
SLOW = clean_input("slow.dat", [Debit(500 + i, 1_000 + i, "0" if i % 4 else "1") for i in range(1, 401)])
SCENARIO = (CLEAN, BAD_RECORDS, ALL_BAD, MISMATCH, AGAIN, SLOW)
QUIET = 0.6  # the slow writer's pauses (0.05 s) stay far below it


@dataclass
class Scenario:
    spool: Path
    rows: dict[str, dict[str, Any]]  # by original name, when all six were finished
    listing: set[str]  # every file under the spool then
    events: list[dict[str, Any]]
    files_json: subprocess.CompletedProcess[str]
    report_text: subprocess.CompletedProcess[str]
    report_json: subprocess.CompletedProcess[str]
    reprocess: subprocess.CompletedProcess[str]
    rows_after: list[dict[str, Any]]
    stop_code: int
    events_after: list[dict[str, Any]]
    verified: dict[str, dict[str, Any]] | None
    verify_error: str | None


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    work = tmp_path_factory.mktemp("e2e")
    spool = work / "spool"
    config = write_config(work / "gateway.toml", quiet_seconds=QUIET, rescan_seconds=0.5)
    pool = Gateways(work)
    try:
        gateway = pool.run(spool, config=config)
        for item in (CLEAN, BAD_RECORDS, ALL_BAD, MISMATCH):
            drop(spool, item.name, item.content)

        # the slow file: written in chunks directly under its final name, over more than the quiet period
        chunks = [SLOW.content[i : i + 1_000] for i in range(0, len(SLOW.content), 1_000)]
        assert len(chunks) * 0.05 > QUIET * 1.5
        with open(spool / "inbox" / CHANNEL / SLOW.name, "wb") as slow:
            for chunk in chunks:
                slow.write(chunk)
                slow.flush()
                time.sleep(0.05)

        wait_until(
            lambda: any(r["original_name"] == CLEAN.name and r["state"] == "archived" for r in ledger_rows(spool)),
            30,
            "clean.dat archived",
            process=gateway,
            spool=spool,
        )
        drop(spool, AGAIN.name, AGAIN.content)
        wait_until(lambda: settled(spool, len(SCENARIO)), 60, "all six files finished", process=gateway, spool=spool)
        rows = {row["original_name"]: row for row in ledger_rows(spool)}
        listing = {str(p.relative_to(spool)) for p in spool.rglob("*") if p.is_file()}
        events = audit_events(spool)
        try:
            verified, verify_error = verify_spool(spool, SCENARIO), None
        except AssertionError as error:
            verified, verify_error = None, str(error)

        files_json = gateway_cli("files", "--json", "--spool", spool, cwd=work)
        bad_id = rows[BAD_RECORDS.name]["id"]
        report_text = gateway_cli("report", bad_id, "--spool", spool, cwd=work)
        report_json = gateway_cli("report", bad_id, "--as", "json", "--spool", spool, cwd=work)
        reprocess = gateway_cli("reprocess", rows[AGAIN.name]["id"], "--force", "--spool", spool, cwd=work)
        rows_after = ledger_rows(spool)
        stop_code = gateway.terminate()
        events_after = audit_events(spool)
    finally:
        pool.stop_all()
    return Scenario(
        spool,
        rows,
        listing,
        events,
        files_json,
        report_text,
        report_json,
        reprocess,
        rows_after,
        stop_code,
        events_after,
        verified,
        verify_error,
    )


def test_every_input_finished_once_and_outputs_exact(scenario: Scenario) -> None:
    """verify_spool: one terminal folder per input, outputs exactly once, ledger and reports agree."""
    assert scenario.verify_error is None, scenario.verify_error


@pytest.mark.parametrize("item", SCENARIO, ids=lambda item: item.name)
def test_input_in_its_terminal_folder(scenario: Scenario, item: InputFile) -> None:
    row = scenario.rows[item.name]
    assert row["state"] == item.expect, (row["state"], row["status"], row["reason"])
    assert row["status"] == item.status
    folder = TERMINAL_FOLDERS[item.expect]
    expected = f"{folder}/{row['id']}__{item.name}"
    placed = sorted(
        p for p in scenario.listing if p.split("/")[0] in TERMINAL_FOLDERS.values() and p.endswith(f"__{item.name}")
    )
    assert placed == [expected]
    assert f"inbox/{CHANNEL}/{item.name}" not in scenario.listing


def test_clean_result_routed(scenario: Scenario) -> None:
    row = scenario.rows[CLEAN.name]
    assert (row["records"], row["accepted"], row["rejected_records"]) == (5, 5, 0)
    output = read_collection(scenario.spool / "outbox" / "collection" / f"{row['id']}.collection.dat")
    assert output.status is Status.OK
    assert len(output.records) == 5 and output.trailer["record_count"] == 5
    assert output.trailer["principal_total"] == sum(d.amount for d in CLEAN.debits)
    assert output.pairs() == CLEAN.routed()  # in file order
    assert [r["status"] for r in output.records] == ["1", "2", "1", "2", "1"]  # 収納 / 振替不能
    assert [r["result_code"] for r in output.records] == [d.code for d in CLEAN.debits]
    assert [r["source_record"] for r in output.records] == [2, 3, 4, 5, 6]
    followup = read_followup(scenario.spool / "outbox" / "followup" / f"{row['id']}.followup.csv")
    assert [(f["顧客番号"], int(f["引落金額"]), f["振替結果コード"]) for f in followup] == [
        (d.key, d.amount, d.code) for d in CLEAN.debits if d.code != "0"
    ]
    for entry, debit in zip(followup, [d for d in CLEAN.debits if d.code != "0"], strict=True):
        assert entry["口座番号(下3桁)"].endswith(debit.account[-3:])
        assert debit.account not in entry["口座番号(下3桁)"]


def test_bad_records_rejected_good_ones_routed(scenario: Scenario) -> None:
    row = scenario.rows[BAD_RECORDS.name]
    assert (row["status"], row["records"], row["accepted"], row["rejected_records"]) == ("rejected-records", 4, 3, 1)
    output = read_collection(scenario.spool / "outbox" / "collection" / f"{row['id']}.collection.dat")
    assert output.status is Status.OK
    assert output.pairs() == BAD_RECORDS.routed()
    assert output.trailer["principal_total"] == 5_000 + 7_000 + 8_000
    followup = read_followup(scenario.spool / "outbox" / "followup" / f"{row['id']}.followup.csv")
    assert [(f["顧客番号"], int(f["引落金額"])) for f in followup] == BAD_RECORDS.failed()
    report = json.loads(Path(row["report_json"]).read_text(encoding="utf-8"))
    assert report["status"] == "rejected-records" and report["state"] == "archive"
    assert [(r["record"], r["field"], r["code"]) for r in report["rejected"]] == [
        (3, "account_holder", "FIELD_CHARSET")
    ]
    assert report["rejected"][0]["offset"] == 2 * 122 + DATA_91.by_name["account_holder"].offset
    assert {o["destination"] for o in report["outputs"]} == {"collection", "followup"}


def test_nothing_acceptable_goes_to_rejected(scenario: Scenario) -> None:
    row = scenario.rows[ALL_BAD.name]
    assert (row["state"], row["records"], row["accepted"], row["rejected_records"]) == ("rejected", 2, 0, 2)
    assert not ledger_deliveries(scenario.spool, row["id"])
    assert not [p for p in scenario.listing if p.startswith("outbox/") and row["id"] in p]
    report = json.loads(Path(row["report_json"]).read_text(encoding="utf-8"))
    assert [r["record"] for r in report["rejected"]] == [2, 3]


def test_totals_mismatch_quarantined_nothing_routed(scenario: Scenario) -> None:
    row = scenario.rows[MISMATCH.name]
    assert row["state"] == "quarantined" and row["status"] == "rejected-file"
    assert not ledger_deliveries(scenario.spool, row["id"])
    assert not [p for p in scenario.listing if p.startswith("outbox/") and row["id"] in p]
    report = json.loads(Path(row["report_json"]).read_text(encoding="utf-8"))
    assert report["state"] == "quarantine" and report["reason"]
    assert any("TRAILER" in r["code"] for r in report["rejected"]), report["rejected"]


def test_same_content_twice_is_a_duplicate(scenario: Scenario) -> None:
    first, again = scenario.rows[CLEAN.name], scenario.rows[AGAIN.name]
    assert again["state"] == "duplicate" and again["duplicate_of"] == first["id"]
    assert again["sha256"] == first["sha256"]
    assert not ledger_deliveries(scenario.spool, again["id"])
    assert not [p for p in scenario.listing if p.startswith("outbox/") and again["id"] in p]
    assert again["reason"] and first["id"] in again["reason"]


def test_slow_writer_taken_only_when_complete(scenario: Scenario) -> None:
    row = scenario.rows[SLOW.name]
    assert row["state"] == "archived" and row["status"] == "ok", (row["state"], row["status"], row["reason"])
    assert row["sha256"] == SLOW.sha256 and row["size"] == len(SLOW.content)
    assert (row["records"], row["accepted"]) == (400, 400)
    output = read_collection(scenario.spool / "outbox" / "collection" / f"{row['id']}.collection.dat")
    assert Counter(output.pairs()) == Counter(SLOW.routed())


def test_reports_private_and_complete(scenario: Scenario) -> None:
    for item in SCENARIO:
        row = scenario.rows[item.name]
        for kind in ("json", "csv", "html"):
            path = scenario.spool / "reports" / f"{row['id']}.{kind}"
            assert row[f"report_{kind}"] == str(path)
            assert path.is_file()
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
        assert (scenario.spool / "reports" / f"{row['id']}.csv").read_bytes().startswith(BOM)
    for output in (scenario.spool / "outbox").rglob("*"):
        if output.is_file():
            assert stat.S_IMODE(output.stat().st_mode) == 0o600, output


def test_ledger_rows_and_deliveries_agree(scenario: Scenario) -> None:
    for item in SCENARIO:
        row = scenario.rows[item.name]
        assert row["sha256"] == item.sha256
        assert row["channel"] == CHANNEL and row["owner"] is None and row["finished_at"]
        deliveries = ledger_deliveries(scenario.spool, row["id"])
        if item.expect != "archived":
            assert deliveries == []
            continue
        assert [d["destination"] for d in deliveries] == ["collection", "followup"]
        for delivery in deliveries:
            path = Path(delivery["path"])
            assert (
                path.name
                == f"{row['id']}.{delivery['destination']}.{'dat' if delivery['destination'] == 'collection' else 'csv'}"
            )
            assert hashlib.sha256(path.read_bytes()).hexdigest() == delivery["sha256"]
            assert delivery["state"] == "committed" and delivery["committed_at"]
        assert deliveries[0]["records"] == len(item.routed())
        assert deliveries[1]["records"] == len(item.failed())


EXPECTED_EVENTS = {
    "clean.dat": {"received", "claimed", "parsed", "routed", "archived"},
    "badrec.dat": {"received", "claimed", "parsed", "routed", "archived"},
    "allbad.dat": {"received", "claimed", "parsed", "rejected"},
    "mismatch.dat": {"received", "claimed", "parsed", "quarantined"},
    "clean-again.dat": {"received", "claimed", "duplicate"},
    "slow.dat": {"received", "claimed", "parsed", "routed", "archived"},
}


def test_audit_log_events(scenario: Scenario) -> None:
    for item in SCENARIO:
        row = scenario.rows[item.name]
        mine = [e for e in scenario.events if e.get("file_id") == row["id"]]
        names = [e["event"] for e in mine]
        assert EXPECTED_EVENTS[item.name] <= set(names), (item.name, names)
        assert "worker-failed" not in names
        for event in mine:
            assert event["channel"] == CHANNEL
            if event["event"] == "routed":
                delivery = next(
                    d for d in ledger_deliveries(scenario.spool, row["id"]) if d["destination"] == event["destination"]
                )
                assert event["output_sha256"] == delivery["sha256"] and event["path"] == delivery["path"]
                assert event["sha256"] == item.sha256, event  # the input's hash, as on every event
            elif event["event"] != "received":  # the hash is taken after the claim
                assert event["sha256"] == item.sha256, event
        assert names.count("routed") == (2 if item.expect == "archived" else 0)
        terminal = {"archived", "rejected", "quarantined", "duplicate"} & set(names)
        assert terminal == {item.expect}, names
    duplicate = next(e for e in scenario.events if e["event"] == "duplicate")
    assert duplicate["duplicate_of"] == scenario.rows[CLEAN.name]["id"]
    for event in scenario.events:
        assert event["level"] and event["timestamp"]


def test_no_account_number_unmasked(scenario: Scenario) -> None:
    accounts = {d.account for item in SCENARIO for d in item.debits}
    assert len(accounts) == sum(len(item.debits) for item in SCENARIO) - len(AGAIN.debits)
    audit = (scenario.spool / "audit.log").read_text(encoding="utf-8")
    texts = {"audit.log": audit}
    texts.update(
        {
            f"reports/{p.name}": p.read_bytes().decode("utf-8", "replace")
            for p in (scenario.spool / "reports").iterdir()
            if p.is_file()
        }
    )
    texts.update(
        {
            f"outbox/followup/{p.name}": p.read_bytes().decode("utf-8", "replace")
            for p in (scenario.spool / "outbox" / "followup").iterdir()
            if p.is_file()
        }
    )
    for where, text in texts.items():
        leaked = sorted(a for a in accounts if a in text)
        assert not leaked, f"{where} shows account numbers unmasked: {leaked}"
    assert "ﾀﾛｳ" not in audit  # nor names


def test_cli_files_json(scenario: Scenario) -> None:
    assert scenario.files_json.returncode == 0, scenario.files_json.stderr
    listed = {entry["id"]: entry for entry in json.loads(scenario.files_json.stdout)}
    for item in SCENARIO:
        row = scenario.rows[item.name]
        assert listed[row["id"]]["original_name"] == item.name
        assert listed[row["id"]]["state"] == row["state"]
        assert listed[row["id"]]["sha256"] == item.sha256
    assert len(listed) == len(SCENARIO)


def test_cli_report(scenario: Scenario) -> None:
    row = scenario.rows[BAD_RECORDS.name]
    assert scenario.report_text.returncode == 0, scenario.report_text.stderr
    text = scenario.report_text.stdout
    assert row["id"] in text and BAD_RECORDS.name in text
    assert "FIELD_CHARSET" in text and "レコード 3" in text
    assert scenario.report_json.returncode == 0, scenario.report_json.stderr
    report = json.loads(scenario.report_json.stdout)
    assert report["file_id"] == row["id"] and report["rejected"][0]["record"] == 3
    assert report == json.loads(Path(row["report_json"]).read_text(encoding="utf-8"))


def test_reprocess_force_on_duplicate(scenario: Scenario) -> None:
    assert scenario.reprocess.returncode == 0, scenario.reprocess.stdout + scenario.reprocess.stderr
    duplicate = scenario.rows[AGAIN.name]
    new = [r for r in scenario.rows_after if r["reprocess_of"] == duplicate["id"]]
    assert len(new) == 1, new
    new_row = new[0]
    assert new_row["id"] not in {r["id"] for r in scenario.rows.values()}
    assert new_row["id"] in scenario.reprocess.stdout
    assert (new_row["state"], new_row["status"], new_row["forced"]) == ("archived", "ok", 1)
    assert new_row["sha256"] == CLEAN.sha256
    assert Path(new_row["final_path"]) == scenario.spool / "archive" / f"{new_row['id']}__{AGAIN.name}"
    assert Path(new_row["final_path"]).is_file()
    output = read_collection(scenario.spool / "outbox" / "collection" / f"{new_row['id']}.collection.dat")
    assert output.status is Status.OK and output.header["source_file_id"] == new_row["id"]
    assert output.pairs() == CLEAN.routed()
    deliveries = ledger_deliveries(scenario.spool, new_row["id"])
    assert [d["destination"] for d in deliveries] == ["collection", "followup"]
    for delivery in deliveries:
        assert Path(delivery["path"]).name.startswith(new_row["id"] + ".")
        assert sha256_of(Path(delivery["path"])) == delivery["sha256"]
    reprocess = [e for e in scenario.events_after if e["event"] == "reprocess"]
    assert [(e["file_id"], e["reprocess_of"], e["forced"]) for e in reprocess] == [
        (new_row["id"], duplicate["id"], True)
    ]


def test_sigterm_stops_cleanly(scenario: Scenario) -> None:
    assert scenario.stop_code == 0
    names = [e["event"] for e in scenario.events_after]
    assert names[-1] == "stopped", names[-5:]
    assert "stopping" in names[-3:]


# ---------------------------------------------------------------------------------------------
# stopping while a file is being processed
# ---------------------------------------------------------------------------------------------


def test_sigterm_while_processing_finishes_the_file(tmp_path: Path, gateways: Gateways) -> None:
    """SIGTERM during a file: the file is finished (archived with its outputs), then exit 0."""
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1, rescan_seconds=0.5)
    big = clean_input("big.dat", [Debit(1_000_000 + i, 100 + i % 9_000, "0" if i % 7 else "3") for i in range(30_000)])
    gateway = gateways.run(spool, config=config)
    drop(spool, big.name, big.content)
    wait_until(lambda: count_events(spool, "claimed") >= 1, 30, "the claim", process=gateway)
    code = gateway.terminate(timeout=120)
    assert code == 0, gateway.output()[-3000:]
    events = audit_events(spool)
    names = [e["event"] for e in events]
    assert names[-1] == "stopped"
    # the handler only sets a flag (logging from a signal handler can deadlock on the log's lock);
    # the "stopping" event, written after the file, says when the signal came
    stopping = next(e for e in events if e["event"] == "stopping")
    archived = next(e for e in events if e["event"] == "archived")
    assert names.index("archived") < names.index("stopping")
    assert stopping["requested_at"] < archived["timestamp"], "the signal should arrive while the file is processed"
    verify_spool(spool, [big])


# ---------------------------------------------------------------------------------------------
# a layout that raises: the file is quarantined, the gateway goes on
# ---------------------------------------------------------------------------------------------

BOOM_LAUNCHER = '''\
"""Start `gateway` with validate_path raising for any file whose name contains "boom"."""
import sys
from pathlib import Path

import gateway.datapath.pipeline

_real = gateway.datapath.pipeline.validate_path


def _validate_path(path, *args, **kwargs):
    if "boom" in Path(path).name:
        raise RuntimeError("injected layout failure: the decoder exploded")
    return _real(path, *args, **kwargs)


gateway.datapath.pipeline.validate_path = _validate_path

from gateway.entrypoints.cli import main  # noqa: E402

sys.argv = ["gateway", *sys.argv[1:]]
main()
'''


def test_failing_layout_quarantines_and_goes_on(tmp_path: Path, gateways: Gateways) -> None:
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.3, rescan_seconds=0.5)
    launcher = tmp_path / "launch_boom.py"
    launcher.write_text(BOOM_LAUNCHER, encoding="utf-8")
    boom = make_input("boom.dat", [Debit(901, 4_000, "0"), Debit(902, 5_000, "1")], "quarantined", "failed")
    good = clean_input("good.dat", [Debit(911, 1_500, "0"), Debit(912, 2_500, "4")])
    gateway = gateways.run(spool, config=config, launcher=launcher)
    drop(spool, boom.name, boom.content, mtime_ns=time.time_ns() - 2_000_000_000)
    drop(spool, good.name, good.content)
    wait_until(lambda: settled(spool, 2), 30, "both files finished", process=gateway, spool=spool)
    assert gateway.alive()
    rows = verify_spool(spool, [boom, good])

    row = rows[boom.name]
    assert row["reason"] and "RuntimeError" in row["reason"] and "the decoder exploded" in row["reason"]
    report = json.loads(Path(row["report_json"]).read_text(encoding="utf-8"))
    assert report["state"] == "quarantine" and report["status"] == "failed"
    assert "RuntimeError: injected layout failure" in report["reason"]
    events = audit_events(spool)
    mine = [e for e in events if e.get("file_id") == row["id"]]
    failed = [e for e in mine if e["event"] == "worker-failed"]
    assert len(failed) == 1 and "the decoder exploded" in failed[0]["error"]
    assert [e["event"] for e in mine][-1] == "quarantined"
    assert (spool / "quarantine" / f"{row['id']}__boom.dat").is_file()

    good_row = rows[good.name]
    assert good_row["state"] == "archived" and good_row["received_at"] > row["received_at"]
    assert (spool / "outbox" / "collection" / f"{good_row['id']}.collection.dat").is_file()
    assert (spool / "outbox" / "followup" / f"{good_row['id']}.followup.csv").is_file()
    assert gateway.terminate() == 0


# ---------------------------------------------------------------------------------------------
# a stop signal that arrives while an audit line is being written
# ---------------------------------------------------------------------------------------------

SIGNAL_IN_AUDIT_WRITE_LAUNCHER = '''\
"""Start `gateway` and deliver SIGTERM to it while it writes the audit line of an "archived" event
(as an operator's `systemctl stop` may at any moment)."""
import os
import signal
import sys

import gateway.reporting.audit

_open_log = gateway.reporting.audit._open_log


class _SignalOnArchived:
    def __init__(self, file):
        self._file = file

    def write(self, text):
        written = self._file.write(text)
        if '"event": "archived"' in text:
            os.kill(os.getpid(), signal.SIGTERM)
        return written

    def __getattr__(self, name):
        return getattr(self._file, name)


gateway.reporting.audit._open_log = lambda path: _SignalOnArchived(_open_log(path))

from gateway.entrypoints.cli import main  # noqa: E402

sys.argv = ["gateway", *sys.argv[1:]]
main()
'''


def test_sigterm_during_an_audit_write_stops_cleanly(tmp_path: Path, gateways: Gateways) -> None:
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1, rescan_seconds=0.5)
    launcher = tmp_path / "launch_signal.py"
    launcher.write_text(SIGNAL_IN_AUDIT_WRITE_LAUNCHER, encoding="utf-8")
    item = clean_input("a.dat", [Debit(1, 100, "0"), Debit(2, 200, "1")])
    drop(spool, item.name, item.content)
    gateway = gateways.run(spool, config=config, launcher=launcher, wait_started=False)
    try:
        code = gateway.wait(6)
    except subprocess.TimeoutExpired:
        gateway.kill()
        raise AssertionError("`gateway run` hung after SIGTERM arrived during an audit write") from None
    assert code == 0
    assert [e["event"] for e in audit_events(spool)][-1] == "stopped"


# ---------------------------------------------------------------------------------------------
# hostile and odd inputs: refused or ignored, never a crash
# ---------------------------------------------------------------------------------------------


def test_odd_inputs_refused_or_ignored(tmp_path: Path, gateways: Gateways) -> None:
    from tests.support.samples import transfer_file

    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.3, rescan_seconds=0.5)
    refused = {
        "empty.dat": b"",
        "garbage.dat": bytes(range(256)) * 20,
        "transfer-21-in-91.dat": transfer_file([5_000, 12_000]),
        "truncated.dat": result_91([Debit(11, 100), Debit(12, 200)])[:-130],
    }
    accepted = [
        clean_input("lf-only.dat", [Debit(21, 300), Debit(22, 400, "1")]),
        clean_input("eof-mark.dat", [Debit(31, 500)]),
        clean_input("名前が日本語.dat", [Debit(41, 600, "8")]),
    ]
    accepted[0].content = accepted[0].content.replace(b"\r\n", b"\n")
    accepted[1].content += b"\x1a"
    ignored = [".hidden.dat", "upload.dat.part", "upload.tmp", "backup.dat~"]
    inbox = spool / "inbox" / CHANNEL
    inbox.mkdir(parents=True)
    for name in ignored:
        (inbox / name).write_bytes(CLEAN.content)
    (inbox / "link.dat").symlink_to(tmp_path / "gateway.toml")
    (inbox / "folder.dat").mkdir()
    gateway = gateways.run(spool, config=config)
    inputs = [InputFile(name, [], content, "quarantined", "rejected-file") for name, content in refused.items()]
    inputs += accepted
    for item in inputs:
        drop(spool, item.name, item.content)

    def done() -> bool:
        rows = ledger_rows(spool)
        return len(rows) == len(inputs) and all(row["state"] in TERMINAL_FOLDERS for row in rows)

    wait_until(done, 30, "the odd inputs finished", process=gateway, spool=spool)
    time.sleep(1.5)  # three more rescans: the ignored names stay ignored
    assert gateway.alive()
    rows = {row["original_name"]: row for row in ledger_rows(spool)}
    assert set(rows) == {item.name for item in inputs}
    for item in inputs:
        row = rows[item.name]
        assert (row["state"], row["status"]) == (item.expect, item.status), (item.name, row["reason"])
        assert Path(row["final_path"]).is_file()
        if item.expect == "archived":
            output = read_collection(spool / "outbox" / "collection" / f"{row['id']}.collection.dat")
            assert output.pairs() == item.routed()
        else:
            assert row["reason"] and not ledger_deliveries(spool, row["id"])
    assert sorted(p.name for p in inbox.iterdir()) == sorted([*ignored, "link.dat", "folder.dat"])
    assert gateway.terminate() == 0


def test_non_utf8_file_name_does_not_crash(tmp_path: Path, gateways: Gateways) -> None:
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.3, rescan_seconds=0.5)
    inbox = spool / "inbox" / CHANNEL
    inbox.mkdir(parents=True)
    odd = clean_input("sjis", [Debit(51, 700)])
    with open(os.path.join(os.fsencode(inbox), "口座振替結果.dat".encode("cp932")), "wb") as stream:
        stream.write(odd.content)
    good = clean_input("good.dat", [Debit(61, 800)])
    drop(spool, good.name, good.content)
    gateway = gateways.run(spool, config=config)
    wait_until(
        lambda: not inbox_files(spool) and all(r["state"] in TERMINAL_FOLDERS for r in ledger_rows(spool)),
        20,
        "both files taken",
        process=gateway,
        spool=spool,
    )
    rows = {row["original_name"]: row for row in ledger_rows(spool)}
    assert rows[good.name]["state"] == "archived"
    assert len(rows) == 2
    assert gateway.terminate() == 0
