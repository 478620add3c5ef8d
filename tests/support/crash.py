"""Killing a gateway: random invented debits, and a launcher that SIGKILLs `gateway` right after
one chosen step of the pipeline's crash-recovery contract (gateway/datapath/pipeline.py)."""

from __future__ import annotations

import random

from tests.support.gateways import Debit, InputFile, result_91

RESULT_CODES = "0000000129"  # mostly 振替済


def random_debits(rng: random.Random, base: int, count: int, *, bad_share: float = 0.0) -> list[Debit]:
    debits = [Debit(base + i, rng.randint(1, 500_000), rng.choice(RESULT_CODES)) for i in range(count)]
    if bad_share:
        for index in rng.sample(range(count), max(1, int(count * bad_share))):
            debits[index] = Debit(debits[index].customer, debits[index].amount, debits[index].code, bad=True)
    return debits


CRASH_LAUNCHER = '''\
"""Start `gateway`, and SIGKILL it right after the step named by GATEWAY_CRASH_AT, for the
file whose name starts with GATEWAY_CRASH_FILE (the first file to get there if empty)."""
import os
import signal
import sys
from pathlib import Path

import gateway.datapath.pipeline as pipeline
import spool.atomic
import spool.intake
from adapters.local import LocalFolder, StagedFile
from gateway.storage.ledger import Ledger

POINT = os.environ["GATEWAY_CRASH_AT"]
TARGET = os.environ.get("GATEWAY_CRASH_FILE", "")
current = {"name": None}


def crash():
    os.kill(os.getpid(), signal.SIGKILL)


def after(owner, name, when=lambda result, *args, **kwargs: True, static=False):
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        if (current["name"] or "").startswith(TARGET) and when(result, *args, **kwargs):
            crash()
        return result

    setattr(owner, name, staticmethod(wrapper) if static else wrapper)


_process = pipeline.Pipeline.process


def _tracking_process(self, file_id):
    row = self.ledger.get(file_id)
    current["name"] = row.original_name if row else None
    return _process(self, file_id)


pipeline.Pipeline.process = _tracking_process

_claim = pipeline.Pipeline.claim


def _tracking_claim(self, arrival, **kwargs):
    current["name"] = arrival.path.name
    return _claim(self, arrival, **kwargs)


pipeline.Pipeline.claim = _tracking_claim


def moved_into(folder):
    return lambda result, src, directory, name: Path(directory).name == folder


POINTS = {
    "claim-moved": lambda: after(spool.intake, "move_into", moved_into("work")),
    "claimed": lambda: after(Ledger, "claimed"),
    "processing": lambda: after(Ledger, "start_processing", lambda result, *a, **k: result is None),
    "duplicate-found": lambda: after(Ledger, "start_processing", lambda result, *a, **k: result is not None),
    "one-staged": lambda: after(StagedFile, "finish"),
    "planned": lambda: after(Ledger, "plan_deliveries"),
    "one-committed": lambda: after(LocalFolder, "commit", static=True),
    "delivered": lambda: after(Ledger, "delivered"),
    "reports-written": lambda: after(pipeline, "write_reports"),
    "final-recorded": lambda: after(Ledger, "update", lambda result, self, file_id, **fields: "final_path" in fields),
    "archive-moved": lambda: after(pipeline, "move_into", moved_into("archive")),
    "rejected-moved": lambda: after(pipeline, "move_into", moved_into("rejected")),
    "quarantine-moved": lambda: after(pipeline, "move_into", moved_into("quarantine")),
    "duplicate-moved": lambda: after(pipeline, "move_into", moved_into("duplicate")),
    "report-temp-written": lambda: after(spool.atomic, "write_temp",
                                         lambda result, directory, *a, **k: Path(directory).name == "reports"),
}
POINTS[POINT]()

from gateway.entrypoints.cli import main  # noqa: E402

sys.argv = ["gateway", *sys.argv[1:]]
main()
'''


def crash_batch() -> list[InputFile]:
    """a: clean (first), b: bad records, c: totals mismatch, d: identical to a, e: nothing acceptable."""
    rng = random.Random(91)
    a = random_debits(rng, 10_000_000, 3_000)
    b = random_debits(rng, 20_000_000, 1_000, bad_share=0.02)
    c = random_debits(rng, 30_000_000, 500)
    e = [Debit(40_000_000 + i, 100 + i, "0", bad=True) for i in range(5)]
    return [
        InputFile("a-clean.dat", a, result_91(a), "archived", "ok"),
        InputFile("b-badrec.dat", b, result_91(b), "archived", "rejected-records"),
        InputFile("c-mismatch.dat", c, result_91(c, amount_delta=1), "quarantined", "rejected-file"),
        InputFile("d-copy.dat", a, result_91(a), "duplicate", "duplicate"),
        InputFile("e-allbad.dat", e, result_91(e), "rejected", "rejected-records"),
    ]
