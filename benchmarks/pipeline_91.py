"""Benchmark: the whole pipeline on a large Zengin 91 result file, beside the baseline
(benchmarks/baseline.py: every field of every data record into a dict with
struct.iter_unpack) measured on the same file in the same run.

    PYTHONPATH=. .venv/bin/python benchmarks/pipeline_91.py [-n 1000000]

The file (invented data, benchmarks/generate.py: 2 groups, unique customer numbers, 2 in 10
debits failed) is pushed through `gateway ingest FILE --channel zengin-91 --spool TMP` (this
tree's gateway, as a subprocess): copy into the inbox, claim, hash, validate, normalise,
route, stage and deliver the outputs, write the reports, archive. Prints records per second
(wall time of the command, start-up included), the child's own peak RSS (GNU time, benchmarks/measure.py), each
beside the baseline's, and the time of each step from the audit log's timestamps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baseline import line
from benchmarks.generate import write_91_result
from benchmarks.measure import gateway_command, measure_baseline, run_measured
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
    n = args.records

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result-91.dat"
        totals = write_91_result(path, n, group_size=(n + 1) // 2)
        failed = totals["count"] - totals["ok_count"]
        print(
            f"# ingest 91: {n:,} data records in {totals['groups']} groups, {path.stat().st_size / 1e6:.1f} MB, CRLF, "
            f"{failed:,} failed debits ({failed / n:.1%})"
        )
        base_rate, base_rss = measure_baseline(path, totals, "zengin-91")

        spool = Path(tmp) / "spool"
        command, env = gateway_command("ingest", str(path), "--channel", "zengin-91", "--spool", str(spool))
        wall, rss, rc, out, err = run_measured(command, env=env, cwd=tmp)
        if rc != 0:
            sys.exit(f"gateway ingest exited {rc}:\n{out}\n{err}")
        records, principal = check_output(spool, totals)
        print(line("gateway ingest 91 (drop → archived)", n / wall, "records/s", base_rate, f"{wall:.1f} s wall"))
        print(line("gateway ingest 91 peak RSS", rss, "MB", base_rss))
        print(f"  routed to collection: {records:,} payments, 本税 total {principal:,} yen")
        for step, seconds in step_times(spool / "audit.log"):
            print(f"  {step:<22}: {seconds:8.2f} s")


if __name__ == "__main__":
    main()
