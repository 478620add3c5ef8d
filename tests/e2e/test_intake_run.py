"""The inbox defects that stopped the service, through real `gateway run` processes (issue 17, part 1).

Each test failed on the old code: `gateway run` exited (a long name, another user's file) or
retried a file for ever (removed from work/). Now each such file ends in one final state
with a report and an alert, the gateway goes on with the next file, and a restart starts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.support.crash import CRASH_LAUNCHER, crash_batch
from tests.support.gateways import (
    Debit,
    Gateways,
    audit_events,
    count_events,
    drop,
    files_in,
    gateway_cli,
    ledger_rows,
    result_91,
    settled,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

#: drops the capabilities that let root read and chmod any file, then runs `gateway`: the
#: gateway then meets other users' files as a gateway running under its own account does
UNPRIVILEGED_LAUNCHER = """\
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
    if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after the exec
        raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")
gateway = os.path.join(os.path.dirname(sys.executable), "gateway")
os.execv(gateway, [gateway, *sys.argv[1:]])
"""


def debits(base: int, count: int = 20) -> list[Debit]:
    return [Debit(base + i, 1000 + i, "0") for i in range(count)]


def by_name(spool: Path) -> dict[str, dict]:
    return {row["original_name"]: row for row in ledger_rows(spool)}


def still_serving(spool: Path, gateway, name: str, base: int) -> None:
    """The gateway is alive and takes the next file."""
    drop(spool, name, result_91(debits(base)))
    wait_until(
        lambda: by_name(spool).get(name, {}).get("state") == "archived",
        30,
        f"{name} archived",
        process=gateway,
        spool=spool,
    )


def test_long_names_do_not_stop_the_gateway(tmp_path: Path, gateways: Gateways) -> None:
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1)
    kanji = "口" * 77 + ".dat"  # 235 bytes: the work name <id>__<name> would pass 255
    longest = "r" * 251 + ".dat"  # 255 bytes, as the SFTP puller accepts
    drop(spool, kanji, result_91(debits(10_000_000)))
    staged = tmp_path / "staged.dat"  # drop() writes a ".part" name first: too long for this one
    staged.write_bytes(result_91(debits(20_000_000)))
    os.rename(staged, spool / "inbox" / "zengin-91" / longest)
    gateway = gateways.run(spool, config=config)
    wait_until(lambda: settled(spool, 2), 30, "both long names finished", process=gateway, spool=spool)
    rows = by_name(spool)
    for name in (kanji, longest):
        assert (rows[name]["state"], rows[name]["status"]) == ("archived", "ok")
        assert len(Path(rows[name]["final_path"]).name.encode()) <= 255
    still_serving(spool, gateway, "next.dat", 30_000_000)
    assert gateway.terminate() == 0
    restarted = gateways.run(spool, config=config)  # a restart starts (recover() does not die)
    still_serving(spool, restarted, "after-restart.dat", 40_000_000)
    assert restarted.terminate() == 0


def test_ingest_of_a_long_name_is_archived(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    source = tmp_path / ("振" * 80 + ".dat")
    source.write_bytes(result_91(debits(50_000_000)))
    done = gateway_cli("ingest", source, "--channel", "zengin-91", "--spool", spool, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " archived  ok" in done.stdout


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="files of another user need root to make")


@needs_root
def test_other_users_files_do_not_stop_the_gateway(tmp_path: Path, gateways: Gateways) -> None:
    """`sudo cp` into the inbox (another owner, readable) and an unreadable file of another user."""
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1)
    launcher = tmp_path / "unprivileged.py"
    launcher.write_text(UNPRIVILEGED_LAUNCHER, encoding="utf-8")
    gateway = gateways.run(spool, config=config, launcher=launcher)
    base = time.time_ns() - 5_000_000_000
    for index, (name, mode) in enumerate((("by-sudo.dat", 0o644), ("unreadable.dat", 0o600))):
        path = drop(spool, name, result_91(debits(60_000_000 + index * 1000)), mtime_ns=base + index)
        path.chmod(mode)
        os.chown(path, 4242, 4242)
    wait_until(lambda: settled(spool, 2), 30, "both files finished", process=gateway, spool=spool)
    rows = by_name(spool)
    assert (rows["by-sudo.dat"]["state"], rows["by-sudo.dat"]["status"]) == ("archived", "ok")
    archived = os.stat(rows["by-sudo.dat"]["final_path"])
    assert (archived.st_uid, archived.st_mode & 0o777) == (0, 0o600)
    unreadable = rows["unreadable.dat"]
    assert (unreadable["state"], unreadable["status"]) == ("quarantined", "refused")
    assert "読めない" in unreadable["reason"] and Path(unreadable["report_html"]).is_file()
    assert Path(unreadable["final_path"]).parent == spool / "quarantine"
    assert any(event["event"] == "file-refused" for event in audit_events(spool))
    still_serving(spool, gateway, "next.dat", 70_000_000)
    assert gateway.terminate() == 0
    restarted = gateways.run(spool, config=config, launcher=launcher)
    still_serving(spool, restarted, "after-restart.dat", 80_000_000)
    assert restarted.terminate() == 0
    alerts = gateway_cli("alerts", "--json", "--spool", spool, cwd=tmp_path)
    assert "file-refused" in alerts.stdout and "unreadable.dat" in alerts.stdout, alerts.stdout


def test_file_removed_from_work_ends_instead_of_being_retried(tmp_path: Path, gateways: Gateways) -> None:
    """A gateway dies right after claiming a file; an operator removes it from work/ by hand."""
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1)
    launcher = tmp_path / "launch_crash.py"
    launcher.write_text(CRASH_LAUNCHER, encoding="utf-8")
    item = crash_batch()[0]
    drop(spool, item.name, item.content)
    crashing = gateways.run(
        spool,
        config=config,
        launcher=launcher,
        env={"GATEWAY_CRASH_AT": "claimed", "GATEWAY_CRASH_FILE": item.name[:1]},
    )
    assert crashing.wait(60) == -9
    [work] = files_in(spool / "work")
    work.unlink()

    gateway = gateways.run(spool, config=config)
    wait_until(lambda: settled(spool, 1), 20, "the row to reach a final state", process=gateway, spool=spool)
    [row] = ledger_rows(spool)
    assert (row["state"], row["status"]) == ("quarantined", "failed") and "失われて" in row["reason"]
    assert Path(row["report_json"]).is_file()
    time.sleep(1.0)  # two rescans: nothing tries the file again
    assert count_events(spool, "worker-failed") == 0 and count_events(spool, "input-missing") == 1
    assert not list((spool / "outbox").rglob("*.dat"))
    assert gateway.terminate() == 0
