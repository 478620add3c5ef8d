"""Benchmark: `gateway ingest` of a convenience-store 確報 file (format ``cvs``) and of a
収納消込結果 file (format ``reconciliation``), each beside the baseline for its layout
(benchmarks/baseline.py: every field of every data record into a dict with
struct.iter_unpack) measured on the same file in the same run.

    PYTHONPATH=. .venv/bin/python benchmarks/ingest_other.py [-n 200000]

Files: benchmarks/generate_other.py (invented data, every record a distinct payment; the
reconciliation file's 科目 spread over the four departments of config/gateway.toml). Each is
pushed through `gateway ingest FILE --channel <channel> --spool TMP` (this tree's gateway, a
subprocess): records/s over the command's wall time (start-up included), its own peak RSS
(GNU time, benchmarks/measure.py), and the time of each step from the audit log.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import line  # noqa: E402
from benchmarks.generate_other import write_cvs, write_reconciliation  # noqa: E402
from benchmarks.measure import gateway_command, measure_baseline, run_measured  # noqa: E402
from benchmarks.pipeline_91 import step_times  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--records", type=int, default=200_000)
    args = parser.parse_args()
    n = args.records

    with tempfile.TemporaryDirectory() as tmp:
        for format_id, label, write in (
            ("cvs", "cvs 確報", write_cvs),
            ("reconciliation", "reconciliation", write_reconciliation),
        ):
            path = Path(tmp) / f"{format_id}.dat"
            totals = write(path, n)
            print(f"# ingest {label}: {n:,} data records, {path.stat().st_size / 1e6:.1f} MB, CRLF")
            base_rate, base_rss = measure_baseline(path, totals, format_id)

            spool = Path(tmp) / f"spool-{format_id}"
            command, env = gateway_command("ingest", str(path), "--channel", format_id, "--spool", str(spool))
            wall, rss, rc, out, err = run_measured(command, env=env, cwd=tmp)
            if rc != 0:
                sys.exit(f"gateway ingest exited {rc}:\n{out}\n{err}")
            with closing(sqlite3.connect(spool / "ledger.sqlite3")) as db:
                state, status, accepted = db.execute("SELECT state, status, accepted FROM files").fetchone()
                routed = db.execute("SELECT destination, records FROM deliveries ORDER BY destination").fetchall()
            assert (state, status, accepted) == ("archived", "ok", n), (state, status, accepted)
            print(
                line(
                    f"gateway ingest {label} (drop → archived)", n / wall, "records/s", base_rate, f"{wall:.1f} s wall"
                )
            )
            print(line(f"gateway ingest {label} peak RSS", rss, "MB", base_rss))
            print("  routed: " + ", ".join(f"{destination} {records:,}" for destination, records in routed))
            for step, seconds in step_times(spool / "audit.log"):
                print(f"  {step:<22}: {seconds:8.2f} s")


if __name__ == "__main__":
    main()
