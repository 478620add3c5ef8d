"""Crash recovery through real `gateway run` processes killed with SIGKILL.

Two kinds of test:

- **random kills** (seeded ``random.Random(2024)``): a batch of six invented 91 result
  files (clean ones of different sizes and amounts, one with bad records, one whose
  trailer does not match, one identical to a clean one) is dropped; `gateway run` is
  started and killed with SIGKILL 0–1.5 s after it logged "started" (once or twice),
  then started again and left to finish. Every input must end in exactly one terminal
  folder and every payment must be posted exactly once (tests/support/gateways.py:verify_spool);
- **crash points**: a launcher kills the gateway (SIGKILL to itself) right after one
  chosen step of the pipeline's crash-recovery contract (gateway/datapath/pipeline.py), so that
  each step's recovery is exercised deterministically.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.crash import CRASH_LAUNCHER, crash_batch, random_debits
from tests.support.gateways import (
    TERMINAL_FOLDERS,
    Gateways,
    InputFile,
    audit_events,
    drop,
    files_in,
    inbox_files,
    ledger_rows,
    result_91,
    settled,
    verify_spool,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

TRIALS = 20
_MASTER = random.Random(2024)
SEEDS = [_MASTER.getrandbits(64) for _ in range(TRIALS)]


def make_batch(rng: random.Random) -> list[InputFile]:
    """Six files, every record with its own customer number (so a double posting shows)."""
    size = lambda: rng.randint(1_500, 5_000)  # noqa: E731
    batch = []
    for index in range(3):
        debits = random_debits(rng, (index + 1) * 10_000_000, size())
        batch.append(InputFile(f"clean-{index}.dat", debits, result_91(debits), "archived", "ok"))
    debits = random_debits(rng, 40_000_000, size(), bad_share=0.01)
    batch.append(InputFile("badrec.dat", debits, result_91(debits), "archived", "rejected-records"))
    debits = random_debits(rng, 50_000_000, rng.randint(300, 1_500))
    batch.append(
        InputFile(
            "mismatch.dat",
            debits,
            result_91(debits, amount_delta=rng.choice([-7, 1, 1000])),
            "quarantined",
            "rejected-file",
        )
    )
    original = rng.choice(batch[:3])
    original.expect = "archived|duplicate"
    batch.append(InputFile("copy-of-" + original.name, original.debits, original.content, "archived|duplicate", "ok"))
    rng.shuffle(batch)
    return batch


@dataclass
class KillMoment:
    trial: int
    delay: float
    moment: str


MOMENTS: list[KillMoment] = []
RELAXED: list[str] = []


def moment_of(spool: Path, expected_files: int) -> str:
    """Where a killed gateway was: the states of its unfinished files, or between/before/after files."""
    rows = ledger_rows(spool)
    unfinished = sorted(row["state"] for row in rows if row["state"] not in TERMINAL_FOLDERS)
    if unfinished:
        staged = any((spool / "outbox").rglob(".tmp-*"))
        return "+".join(unfinished) + (" (outputs staged)" if staged else "")
    if settled(spool, expected_files):
        return "all done"
    return "before any claim" if not rows else "between files"


@pytest.mark.parametrize("trial", range(TRIALS))
def test_random_kill_then_restart(tmp_path: Path, gateways: Gateways, trial: int) -> None:
    rng = random.Random(SEEDS[trial])
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1, rescan_seconds=0.5)
    batch = make_batch(rng)
    for item in batch:
        drop(spool, item.name, item.content)

    for _ in range(rng.choice((1, 1, 2))):
        gateway = gateways.run(spool, config=config)
        delay = rng.uniform(0.0, 1.5)
        time.sleep(delay)
        assert gateway.alive(), gateway.output()[-3000:]
        gateway.kill()
        MOMENTS.append(KillMoment(trial, delay, moment_of(spool, len(batch))))

    gateway = gateways.run(spool, config=config)
    wait_until(
        lambda: settled(spool, len(batch)), 90, "every input finished after the restart", process=gateway, spool=spool
    )
    assert gateway.terminate() == 0
    relaxed: list[str] = []
    verify_spool(spool, batch, relaxed=relaxed)
    RELAXED.extend(f"trial {trial}: {note}" for note in relaxed)
    # nothing was reported as failed by the worker
    assert not [e for e in audit_events(spool) if e["event"] in ("worker-failed", "quarantine-failed")]


def test_kills_landed_mid_processing() -> None:
    """The random trials are only worth something if some kills hit a file being processed."""
    if len(MOMENTS) < 10:
        pytest.skip(f"only {len(MOMENTS)} random kills ran (select all the trials)")
    counts = Counter(moment.moment for moment in MOMENTS)
    print("\nkill moments:", dict(counts.most_common()))
    if RELAXED:
        print("known-bug metadata losses seen:", RELAXED)
    mid = sum(n for moment, n in counts.items() if moment not in ("before any claim", "all done", "between files"))
    assert mid >= 3, f"only {mid} of {len(MOMENTS)} kills hit an unfinished file: {dict(counts)}"


# ---------------------------------------------------------------------------------------------
# deterministic crash points
# ---------------------------------------------------------------------------------------------

CRASH_POINTS = [
    ("claim-moved", "a"),
    ("claimed", "a"),
    ("processing", "a"),
    ("one-staged", "a"),
    ("planned", "a"),
    ("one-committed", "a"),
    ("delivered", "a"),
    ("reports-written", "a"),
    ("final-recorded", "a"),
    ("archive-moved", "a"),
    ("processing", "c"),
    ("reports-written", "c"),
    ("final-recorded", "c"),
    ("quarantine-moved", "c"),
    ("duplicate-found", "d"),
    ("final-recorded", "d"),
    ("duplicate-moved", "d"),
    ("rejected-moved", "e"),
    ("report-temp-written", "a"),
]


@pytest.mark.parametrize(
    ("point", "target"),
    CRASH_POINTS,
    ids=[f"{p.values[0]}-{p.values[1]}" if hasattr(p, "values") else f"{p[0]}-{p[1]}" for p in CRASH_POINTS],
)
def test_crash_point_then_restart(tmp_path: Path, gateways: Gateways, point: str, target: str) -> None:
    spool = tmp_path / "spool"
    config = write_config(tmp_path / "gateway.toml", quiet_seconds=0.1, rescan_seconds=0.5)
    launcher = tmp_path / "launch_crash.py"
    launcher.write_text(CRASH_LAUNCHER, encoding="utf-8")
    batch = crash_batch()
    start = time.time_ns() - 10_000_000_000
    for index, item in enumerate(batch):  # processed in this order (mtime)
        drop(spool, item.name, item.content, mtime_ns=start + index * 1_000_000_000)

    crashing = gateways.run(
        spool, config=config, launcher=launcher, env={"GATEWAY_CRASH_AT": point, "GATEWAY_CRASH_FILE": target}
    )
    code = crashing.wait(60)
    assert code == -9, f"the crash point {point} was not reached (exit {code}):\n{crashing.output()[-3000:]}"
    before = ledger_rows(spool)

    gateway = gateways.run(spool, config=config)
    wait_until(
        lambda: settled(spool, len(batch)), 60, "every input finished after the restart", process=gateway, spool=spool
    )
    assert gateway.terminate() == 0
    rows = verify_spool(spool, batch)
    assert not [e for e in audit_events(spool) if e["event"] in ("worker-failed", "quarantine-failed")]
    # the file that crashed kept its id (recovered, not taken again as a new file)
    crashed = [row for row in before if row["original_name"].startswith(target)]
    assert len(crashed) == 1, crashed
    assert rows[crashed[0]["original_name"]]["id"] == crashed[0]["id"]
    assert not files_in(spool / "work") and not inbox_files(spool)
