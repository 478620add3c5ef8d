"""Benchmark: the whole pipeline on a large Zengin 91 result file, beside a plain
`struct.iter_unpack` parse of the same file in the same run.

    .venv/bin/python benchmarks/pipeline_91.py [-n 1000000]

The file (invented data, benchmarks/generate.py) is pushed through
`gateway ingest FILE --channel zengin-91 --spool TMP` as a subprocess: copy into the
inbox, claim, hash, validate, normalise, route, stage and deliver both outputs, write the
reports, archive. Prints records per second (wall time of the command), the child's peak
RSS (resource.getrusage(RUSAGE_CHILDREN)), the ratio to the baseline, and the time of each
step from the audit log's timestamps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import write_91_result
from benchmarks.validate_91 import baseline
from formats.registry import get_format

STEPS = ("received", "claimed", "parsed", "staged", "archived")
COLLECTION_TRAILER = get_format("collection-intake").layout_for("trailer")


def _when(event: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))


def step_times(audit_log: Path) -> list[tuple[str, float]]:
    """Seconds between the pipeline's audit events for the one file ingested."""
    events = [json.loads(line) for line in audit_log.read_text(encoding="utf-8").splitlines() if line.strip()]
    first = {}
    for event in events:
        first.setdefault(event["event"], event)
    times = []
    previous = None
    for step in STEPS:
        if step in first:
            if previous is not None:
                times.append((f"{previous} → {step}", (_when(first[step]) - _when(first[previous])).total_seconds()))
            previous = step
    return times


def check_output(spool: Path, totals: dict[str, int]) -> tuple[int, int]:
    """The archived file's collection output: (records, principal total) from its trailer, checked."""
    with closing(sqlite3.connect(spool / "ledger.sqlite3")) as db:
        state, status, accepted = db.execute("SELECT state, status, accepted FROM files").fetchone()
        path, records = db.execute("SELECT path, records FROM deliveries WHERE destination = 'collection'").fetchone()
    assert (state, status, accepted) == ("archived", "ok", totals["count"]), (state, status, accepted)
    with open(path, "rb") as output:
        output.seek(-2 * 130, 2)
        trailer = COLLECTION_TRAILER.decode_clean(output.read(128))
    assert trailer["record_count"] == records == totals["count"], (trailer, records)
    assert trailer["principal_total"] == totals["amount"], (trailer, totals)
    return records, trailer["principal_total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--records", type=int, default=1_000_000)
    args = parser.parse_args()
    gateway = Path(sys.executable).with_name("gateway")
    if not gateway.exists():
        sys.exit(f"no {gateway}: run `make test` (or `make dev`) first")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result-91.dat"
        totals = write_91_result(path, args.records)
        size_mb = path.stat().st_size / 1e6
        print(
            f"file: {args.records:,} data records in {totals['groups']} groups, {size_mb:.1f} MB, CRLF "
            f"({totals['count'] - totals['ok_count']:,} failed debits)"
        )

        count, total, base_s = baseline(path)
        assert count == totals["count"] and total == totals["amount"]
        base_rate = count / base_s
        print(f"baseline struct.iter_unpack : {base_rate:12,.0f} records/s  ({base_s:.2f} s)")

        spool = Path(tmp) / "spool"
        start = time.perf_counter()
        proc = subprocess.run(
            [str(gateway), "ingest", str(path), "--channel", "zengin-91", "--spool", str(spool)],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        wall = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            sys.exit(f"gateway ingest exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        records, principal = check_output(spool, totals)
        rate = args.records / wall
        print(
            f"gateway ingest (pipeline)   : {rate:12,.0f} records/s  ({wall:.2f} s wall, exit {proc.returncode})"
            f"  ratio to baseline {rate / base_rate:.3f} (1/{base_rate / rate:.0f})"
        )
        print(f"peak RSS of gateway ingest  : {rss:8.1f} MB")
        print(f"routed                      : {records:,} payments, 本税 total {principal:,} yen")
        for step, seconds in step_times(spool / "audit.log"):
            print(f"  {step:<22}: {seconds:8.2f} s")


if __name__ == "__main__":
    main()
