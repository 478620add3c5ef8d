"""`[console] with_run = true`: a real `gateway run` serves the console beside its worker,
processes files meanwhile, and stops both cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.gateways import Debit, count_events, drop, ledger_rows, result_91, wait_until, write_config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def test_gateway_run_serves_the_console_and_stops_it(tmp_path: Path, gateways):
    port = _free_port()
    config = write_config(tmp_path / "gateway.toml")
    config.write_text(
        config.read_text(encoding="utf-8") + f"\n[console]\nwith_run = true\nport = {port}\n", encoding="utf-8"
    )
    spool = tmp_path / "spool"
    process = gateways.run(spool, config=config)
    base = f"http://127.0.0.1:{port}"
    status, page = wait_until(
        lambda: (lambda got: got if got[0] == 200 else None)(_get(f"{base}/login")),
        60,
        "the console to answer",
        process=process,
    )
    assert 'id="login-form"' in page
    assert _get(f"{base}/")[0] == 200 and "ログイン" in _get(f"{base}/")[1]  # anonymous: sent to the login page
    drop(spool, "result.dat", result_91([Debit(1, 1000, "0"), Debit(2, 2000, "1")]))
    wait_until(
        lambda: any(row["state"] == "archived" for row in ledger_rows(spool)),
        60,
        "the file to be processed",
        process=process,
    )
    assert count_events(spool, "console-started") == 1
    process.proc.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert _get(f"{base}/login")[0] == 0, "the console stopped with the gateway"
