"""Benchmark: `gateway validate` on a large Zengin 91 result file, beside a plain
`struct.iter_unpack` parse of the same file in the same run.

    .venv/bin/python benchmarks/validate_91.py [-n 1000000]

Prints records per second and peak RSS for:
- baseline: struct.iter_unpack over the file, summing the amounts of data records;
- validate (in process): formats.validate.validate_path, fast path;
- validate (slow path, on a sample): the record-by-record Construct path;
- gateway validate (CLI): the real command as a subprocess, wall time and its peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import write_91_result
from formats.layouts.zengin import DEBIT_91
from formats.validate import validate_path

# one 120-byte record plus CRLF, sliced as the 91 data layout's fields
RECORD = struct.Struct("1s4s15s3s15s4s1s7s30s10s1s20s1s8s2s")


def baseline(path: Path) -> tuple[int, int, float]:
    start = time.perf_counter()
    count = total = 0
    with path.open("rb") as stream:
        while chunk := stream.read(RECORD.size * 8192):
            for fields in RECORD.iter_unpack(chunk):
                if fields[0] == b"2":
                    count += 1
                    total += int(fields[9])
    return count, total, time.perf_counter() - start


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--records", type=int, default=1_000_000)
    parser.add_argument("--slow-sample", type=int, default=20_000, help="records for the slow-path figure")
    args = parser.parse_args()
    gateway = Path(sys.executable).with_name("gateway")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result-91.dat"
        totals = write_91_result(path, args.records)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {args.records:,} data records in {totals['groups']} groups, {size_mb:.1f} MB, CRLF")

        count, total, base_s = baseline(path)
        assert count == totals["count"] and total == totals["amount"]
        base_rate = count / base_s
        print(f"baseline struct.iter_unpack : {base_rate:12,.0f} records/s  ({base_s:.2f} s)")

        start = time.perf_counter()
        result = validate_path(path, DEBIT_91)
        fast_s = time.perf_counter() - start
        assert result.status == "ok" and result.records == args.records, result.status
        fast_rate = args.records / fast_s
        print(
            f"validate, fast path         : {fast_rate:12,.0f} records/s  ({fast_s:.2f} s)"
            f"  ratio to baseline {fast_rate / base_rate:.2f}"
        )

        sample = Path(tmp) / "sample.dat"
        write_91_result(sample, args.slow_sample, seed=7)
        start = time.perf_counter()
        slow = validate_path(sample, DEBIT_91, fast=False)
        slow_s = time.perf_counter() - start
        assert slow.status == "ok"
        slow_rate = args.slow_sample / slow_s
        print(
            f"validate, Construct path    : {slow_rate:12,.0f} records/s  (on {args.slow_sample:,} records)"
            f"  ratio to baseline {slow_rate / base_rate:.2f}"
        )
        print(f"peak RSS of this process    : {peak_rss_mb():8.1f} MB")

        if gateway.exists():
            start = time.perf_counter()
            proc = subprocess.run([str(gateway), "validate", str(path), "--json"], capture_output=True)
            cli_s = time.perf_counter() - start
            cli_rss = peak_rss_mb(resource.RUSAGE_CHILDREN)
            cli_rate = args.records / cli_s
            print(
                f"gateway validate (CLI)      : {cli_rate:12,.0f} records/s  ({cli_s:.2f} s wall, exit {proc.returncode})"
                f"  ratio to baseline {cli_rate / base_rate:.2f}"
            )
            print(f"peak RSS of gateway validate: {cli_rss:8.1f} MB")
        else:
            print(f"(no {gateway}: run `make test` first to measure the CLI)")


if __name__ == "__main__":
    main()
