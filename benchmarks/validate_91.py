"""Benchmark: `gateway validate` on a large Zengin 91 result file, clean and with 25% of
records carrying a warning, each beside the baseline measured on the same file in the same run.

    PYTHONPATH=. .venv/bin/python benchmarks/validate_91.py [-n 1000000]

The baseline (benchmarks/baseline.py) decodes every field of every data record into a dict
with struct.iter_unpack (numbers to int, text and codes cp932-decoded, dates as digit strings).
For each file (clean; 1 record in 4 naming branch 999 of bank 0001, missing from the
zengin-code master) it prints records/s and peak RSS of:
- validate (in process): formats.validate.validate_path, fast path;
- gateway validate (CLI): `python -m gateway.entrypoints.cli validate FILE --json` as a
  subprocess with PYTHONPATH set to this tree: wall time, and the child's own peak RSS (os.wait4).
And once, on a small sample: the record-by-record Construct path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from benchmarks.generate import write_91_result  # noqa: E402
from formats.layouts.zengin import DEBIT_91  # noqa: E402
from formats.validate import validate_path  # noqa: E402


def gateway_command(*args: str) -> tuple[list[str], dict[str, str]]:
    """The gateway command of this tree (not whatever the venv's console script points at)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [sys.executable, "-m", "gateway.entrypoints.cli", *args], env


def run_measured(command: list[str], **kwargs: object) -> tuple[float, float, int, str, str]:
    """Run a subprocess: (wall seconds, its own peak RSS in MB, exit code, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return (
            wall,
            usage.ru_maxrss / 1024,
            os.waitstatus_to_exitcode(status),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def measure_baseline(path: Path, totals: dict[str, int], label: str) -> tuple[float, float]:
    """The baseline in a child process (so its peak RSS is its own): (records/s, peak RSS MB)."""
    code = (
        "import sys, json; from pathlib import Path; from benchmarks.baseline import baseline;"
        "from formats.registry import load_formats;"
        "c, t, s = baseline(Path(sys.argv[1]), load_formats()[sys.argv[2]]);"
        "print(json.dumps([c, t, s]))"
    )
    wall, rss, rc, out, err = run_measured(
        [sys.executable, "-c", code, str(path), label], env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    if rc != 0:
        raise SystemExit(f"baseline failed:\n{err}")
    count, total, seconds = json.loads(out)
    assert count == totals["count"] and total == totals["amount"], (count, total, totals)
    return count / seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--records", type=int, default=1_000_000)
    parser.add_argument("--slow-sample", type=int, default=20_000, help="records for the Construct-path figure")
    args = parser.parse_args()
    n = args.records

    with tempfile.TemporaryDirectory() as tmp:
        for variant, every in (("clean", 0), ("25% warn", 4)):
            path = Path(tmp) / f"result-91-{every}.dat"
            totals = write_91_result(path, n, unknown_branch_every=every)
            print(
                f"# validate 91, {variant}: {n:,} data records in {totals['groups']} groups, "
                f"{path.stat().st_size / 1e6:.1f} MB, CRLF, {totals['unknown_branch']:,} records with an unknown branch"
            )
            base_rate, base_rss = measure_baseline(path, totals, "zengin-91")

            start = time.perf_counter()
            result = validate_path(path, DEBIT_91)
            fast_s = time.perf_counter() - start
            assert result.records == n, result.records
            assert result.status == "ok", result.status  # warnings do not change a file's status
            print(line(f"validate 91 {variant}, in process", n / fast_s, "records/s", base_rate, "fast path"))

            command, env = gateway_command("validate", str(path), "--json")
            wall, rss, rc, out, _ = run_measured(command, env=env)
            report = json.loads(out)
            count = len(report["warnings"]) + report["not_listed"]["warnings"]
            assert count == totals["unknown_branch"], (count, totals["unknown_branch"])
            warnings = f", {count:,} warnings"
            print(
                line(f"gateway validate 91 {variant} (CLI)", n / wall, "records/s", base_rate, f"exit {rc}{warnings}")
            )
            print(line(f"gateway validate 91 {variant} peak RSS", rss, "MB", base_rss))

        sample = Path(tmp) / "sample.dat"
        sample_totals = write_91_result(sample, args.slow_sample, seed=7)
        base_rate, _ = measure_baseline(sample, sample_totals, "zengin-91")
        start = time.perf_counter()
        slow = validate_path(sample, DEBIT_91, fast=False)
        slow_s = time.perf_counter() - start
        assert slow.status == "ok"
        print(
            line(
                "validate 91 clean, Construct path",
                args.slow_sample / slow_s,
                "records/s",
                base_rate,
                f"on {args.slow_sample:,} records",
            )
        )


if __name__ == "__main__":
    main()
