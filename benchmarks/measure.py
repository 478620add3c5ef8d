"""What every benchmark script measures the same way: this tree's gateway command as a
subprocess, a subprocess's wall time and its own peak RSS (``os.wait4``), and the baseline
(benchmarks/baseline.py) in a child process of its own so that its peak RSS is comparable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gateway_command(*args: str) -> tuple[list[str], dict[str, str]]:
    """The gateway command of this tree (not whatever the venv's console script points at)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [sys.executable, "-m", "gateway.entrypoints.cli", *args], env


# A child's ru_maxrss (os.wait4, RUSAGE_CHILDREN) is never below the RSS its parent had when it
# forked: Linux keeps the high-water mark of the forked copy across exec. A benchmark script that
# has just generated a file with numpy would lend the child its own hundred-odd MB. So each
# measured command runs under GNU time, a small process, and its %M (the command's own peak RSS,
# KiB) is the figure; without /usr/bin/time it falls back to the child's ru_maxrss, an upper bound.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_measured(command: list[str], **kwargs: object) -> tuple[float, float, int, str, str]:
    """Run a subprocess: (wall seconds, its own peak RSS in MB, exit code, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rss:
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name, *command] if GNU_TIME else command
        started = time.perf_counter()
        process = subprocess.Popen(wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        peak_kib = int(Path(rss.name).read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
        return (
            wall,
            peak_kib / 1024,
            os.waitstatus_to_exitcode(status),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def measure_baseline(path: Path, totals: dict[str, int], format_id: str) -> tuple[float, float]:
    """The baseline in a child process (so its peak RSS is its own): (records/s, peak RSS MB)."""
    code = (
        "import sys, json; from pathlib import Path; from benchmarks.baseline import baseline;"
        "from formats.registry import load_formats;"
        "c, t, s = baseline(Path(sys.argv[1]), load_formats()[sys.argv[2]]);"
        "print(json.dumps([c, t, s]))"
    )
    wall, rss, rc, out, err = run_measured(
        [sys.executable, "-c", code, str(path), format_id], env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    if rc != 0:
        raise SystemExit(f"baseline failed:\n{err}")
    count, total, seconds = json.loads(out)
    assert count == totals["count"] and total == totals["amount"], (count, total, totals)
    return count / seconds, rss
