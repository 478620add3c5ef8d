"""What the command line imports before it does anything: a command imports what it uses when it
runs (gateway/entrypoints/cli.py), so `gateway pull --help` and the other help pages load none of
the layouts, numpy, construct, jinja2, the SFTP transport or the settings' models.

Each check runs the command in a fresh interpreter and reads its ``sys.modules`` at exit: a real
list of modules, not a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: never needed to parse a command line or print its help
HEAVY = (
    "numpy",
    "construct",
    "jinja2",
    "paramiko",
    "holidays",
    "croniter",
    "starlette",
    "structlog",
    "watchdog",
    "formats.registry",
    "formats.declarative",
    "formats.layout",
    "formats.codecs",
    "adapters.sftp",
    "adapters.schedule",
    "adapters.specs",
    "gateway.config.settings",
    "gateway.datapath",
    "gateway.reporting.reports",
    "gateway.storage.ledger",
    "rich.progress",  # (rich.table is typer's: its help pages are tables)
)

#: run the command line as `python -m gateway.entrypoints.cli`, then print the modules it loaded
_PROBE = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["gateway", *sys.argv[1:]]
runpy.run_module("gateway.entrypoints.cli", run_name="__main__", alter_sys=True)
"""


def loaded_by(*args: str) -> set[str]:
    """The modules a fresh `gateway ARGS` had loaded when it exited."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    marker = done.stdout.rindex("MODULES ")
    return set(json.loads(done.stdout[marker + len("MODULES ") :]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("command", [["pull", "--help"], ["push", "--help"], ["--help"], ["validate", "--help"]])
def test_help_imports_nothing_heavy(command: list[str]) -> None:
    """A help page is typer's and rich's work alone: no layouts, no transport, no settings."""
    modules = loaded_by(*command)
    assert "gateway.entrypoints.commands.sftp" in modules  # the probe did run the command line
    assert heavy_in(modules) == []


def test_the_probe_sees_what_a_command_imports() -> None:
    """The same probe on `gateway formats` (which reads every layout) does see them: the check above
    is not blind."""
    modules = loaded_by("formats")
    assert {"formats.registry", "formats.layout", "numpy"} <= modules
