"""Benchmark: `gateway validate` on a large Zengin 91 result file, clean and with 25% of
records carrying a warning, each beside the baseline measured on the same file in the same run.

    PYTHONPATH=. .venv/bin/python benchmarks/validate_91.py [-n 1000000]

The baseline (benchmarks/baseline.py) decodes every field of every data record into a dict
with struct.iter_unpack (numbers to int, text and codes cp932-decoded, dates as digit strings).
For each file (clean; 1 record in 4 naming branch 999 of bank 0001, missing from the
zengin-code master) it prints records/s and peak RSS of:
- validate (in process): formats.validate.validate_path, fast path;
- gateway validate (CLI): `python -m gateway.entrypoints.cli validate FILE --json` as a
  subprocess with PYTHONPATH set to this tree: wall time, and the child's own peak RSS (GNU time, benchmarks/measure.py).
And once, on a small sample: the record-by-record Construct path.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from benchmarks.generate import write_91_result  # noqa: E402
from benchmarks.measure import gateway_command, measure_baseline, run_measured  # noqa: E402
from formats.layouts.zengin import DEBIT_91  # noqa: E402
from formats.validate import validate_path  # noqa: E402


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
