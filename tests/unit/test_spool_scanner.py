"""Stable-file detection (spool.scanner.StableScanner), driven by a fake clock: no sleeping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spool.scanner import Arrival, StableScanner


class FakeClock:
    """A list-backed clock: returns the last value of `times`; tests append to move time on."""

    def __init__(self) -> None:
        self.times = [100.0]

    def __call__(self) -> float:
        return self.times[-1]

    def advance(self, seconds: float) -> None:
        self.times.append(self.times[-1] + seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox" / "bank"
    folder.mkdir(parents=True)
    return folder


def names(arrivals: list[Arrival]) -> list[str]:
    return [a.path.name for a in arrivals]


def test_a_file_is_ready_only_after_the_quiet_period(inbox: Path, clock: FakeClock) -> None:
    """A new file is returned only once its size and mtime have not changed for quiet_seconds."""
    scanner = StableScanner({"bank": inbox}, quiet_seconds=2.0, clock=clock)
    (inbox / "RESULT.dat").write_bytes(b"x" * 120)
    assert scanner.scan() == []
    clock.advance(1.9)
    assert scanner.scan() == []
    assert scanner.due_in() == pytest.approx(0.1)
    clock.advance(0.1)
    [arrival] = scanner.scan()
    info = (inbox / "RESULT.dat").stat()
    assert arrival == Arrival("bank", inbox / "RESULT.dat", 120, info.st_mtime_ns)
    assert scanner.due_in() is None


def test_a_growing_file_restarts_the_timer(inbox: Path, clock: FakeClock) -> None:
    """Each append by a slow writer restarts the quiet period; the file is ready 2 s after the last one."""
    scanner = StableScanner({"bank": inbox}, quiet_seconds=2.0, clock=clock)
    path = inbox / "slow.dat"
    path.write_bytes(b"r" * 120)
    assert scanner.scan() == []
    for _ in range(3):
        clock.advance(1.5)
        with path.open("ab") as f:
            f.write(b"r" * 120)
        assert scanner.scan() == []
    clock.advance(1.5)
    assert scanner.scan() == []
    clock.advance(0.5)
    assert [(a.path.name, a.size) for a in scanner.scan()] == [("slow.dat", 480)]


def test_a_changed_mtime_alone_restarts_the_timer(inbox: Path, clock: FakeClock) -> None:
    """A file rewritten to the same size (only its mtime changes) is not ready until quiet again."""
    scanner = StableScanner({"bank": inbox}, quiet_seconds=2.0, clock=clock)
    path = inbox / "same-size.dat"
    path.write_bytes(b"a" * 10)
    scanner.scan()
    clock.advance(1.5)
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    clock.advance(1.0)
    assert scanner.scan() == []
    clock.advance(2.0)
    assert names(scanner.scan()) == ["same-size.dat"]


def test_ignored_names_symlinks_and_folders_are_never_returned(inbox: Path, clock: FakeClock, tmp_path: Path) -> None:
    """Hidden, .part, .tmp and ~ names, a symlink to a real file and a folder are never returned."""
    real = tmp_path / "elsewhere.dat"
    real.write_bytes(b"secret")
    for name in [".hidden", "x.part", "x.tmp", "x~", ".tmp-out.dat.123.abc"]:
        (inbox / name).write_bytes(b"data")
    (inbox / "link.dat").symlink_to(real)
    (inbox / "dangling.dat").symlink_to(tmp_path / "nowhere")
    (inbox / "folder.dat").mkdir()
    (inbox / "real.dat").write_bytes(b"data")
    scanner = StableScanner({"bank": inbox}, quiet_seconds=1.0, clock=clock)
    for _ in range(3):
        scanner.scan()
        clock.advance(5.0)
    assert names(scanner.scan()) == ["real.dat"]


def test_a_done_marker_channel_waits_for_the_marker_only(inbox: Path, clock: FakeClock) -> None:
    """With a '.done' marker, a file is never ready without its marker, and is ready at once with it."""
    scanner = StableScanner({"bank": inbox}, quiet_seconds=2.0, done_markers={"bank": ".done"}, clock=clock)
    (inbox / "DEBIT.dat").write_bytes(b"d" * 120)
    assert scanner.scan() == []
    clock.advance(60.0)
    assert scanner.scan() == []
    assert scanner.due_in() is None
    (inbox / "DEBIT.dat.done").write_bytes(b"")
    [arrival] = scanner.scan()
    assert arrival.path == inbox / "DEBIT.dat"
    assert scanner.marker_for(arrival) == inbox / "DEBIT.dat.done"


def test_a_marker_makes_a_brand_new_file_ready_and_is_never_returned_itself(inbox: Path, clock: FakeClock) -> None:
    """A file seen for the first time together with its marker is ready at once; the marker itself is never returned."""
    scanner = StableScanner({"bank": inbox}, quiet_seconds=2.0, done_markers={"bank": ".done"}, clock=clock)
    (inbox / "A.dat").write_bytes(b"a")
    (inbox / "A.dat.done").write_bytes(b"")
    (inbox / "orphan.done").write_bytes(b"")
    assert names(scanner.scan()) == ["A.dat"]
    clock.advance(10.0)
    assert names(scanner.scan()) == ["A.dat"]


def test_channels_without_a_marker_keep_the_quiet_period(tmp_path: Path, clock: FakeClock) -> None:
    """Markers apply per channel: another channel still uses the quiet period and treats '.done' as an ordinary name."""
    bank, cvs = tmp_path / "bank", tmp_path / "cvs"
    bank.mkdir()
    cvs.mkdir()
    scanner = StableScanner(
        {"bank": bank, "cvs": cvs}, quiet_seconds=2.0, done_markers={"bank": ".done", "cvs": None}, clock=clock
    )
    (cvs / "SOKUHO.csv").write_bytes(b"c")
    (cvs / "SOKUHO.csv.done").write_bytes(b"")
    assert scanner.scan() == []
    clock.advance(2.0)
    ready = scanner.scan()
    assert sorted(names(ready)) == ["SOKUHO.csv", "SOKUHO.csv.done"]
    assert {a.channel for a in ready} == {"cvs"} and scanner.marker_for(ready[0]) is None


def test_a_vanished_file_is_forgotten(inbox: Path, clock: FakeClock) -> None:
    """A file that disappears loses its timer: put back unchanged later, it must wait a full quiet period again."""
    scanner = StableScanner({"bank": inbox}, quiet_seconds=2.0, clock=clock)
    path = inbox / "back.dat"
    path.write_bytes(b"b" * 10)
    stamp = path.stat().st_mtime_ns
    scanner.scan()
    clock.advance(1.0)
    path.unlink()
    assert scanner.scan() == []
    assert scanner.due_in() is None
    path.write_bytes(b"b" * 10)
    os.utime(path, ns=(stamp, stamp))
    clock.advance(1.5)
    assert scanner.scan() == []
    clock.advance(2.0)
    assert names(scanner.scan()) == ["back.dat"]


def test_arrivals_come_oldest_first(tmp_path: Path, clock: FakeClock) -> None:
    """Ready files are sorted by (mtime_ns, name) across channels, so older files are claimed first."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    stamps = {a / "new.dat": 3_000, b / "old.dat": 1_000, a / "tie-2.dat": 2_000, b / "tie-1.dat": 2_000}
    for path, seconds in stamps.items():
        path.write_bytes(b"x")
        os.utime(path, ns=(seconds * 10**9, seconds * 10**9))
    scanner = StableScanner({"a": a, "b": b}, quiet_seconds=0, clock=clock)
    assert names(scanner.scan()) == ["old.dat", "tie-1.dat", "tie-2.dat", "new.dat"]


def test_a_missing_inbox_is_skipped_with_one_warning(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An inbox folder that cannot be listed is skipped (others still scanned) and warned about once."""
    good = tmp_path / "good"
    good.mkdir()
    (good / "f.dat").write_bytes(b"f")
    scanner = StableScanner({"gone": tmp_path / "missing", "good": good}, quiet_seconds=0, clock=clock)
    with caplog.at_level("WARNING", logger="spool.scanner"):
        assert names(scanner.scan()) == ["f.dat"]
        assert names(scanner.scan()) == ["f.dat"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"cannot read inbox {tmp_path / 'missing'} of channel gone (No such file or directory); "
        "skipping it until it can be read"
    ]


def test_bad_settings_are_refused(inbox: Path) -> None:
    """A marker for an unknown channel, an empty marker suffix or a negative quiet period raise ValueError."""
    with pytest.raises(ValueError, match="unknown channel 'cvs'"):
        StableScanner({"bank": inbox}, done_markers={"cvs": ".done"})
    with pytest.raises(ValueError, match="bad done-marker suffix"):
        StableScanner({"bank": inbox}, done_markers={"bank": ""})
    with pytest.raises(ValueError, match="quiet_seconds"):
        StableScanner({"bank": inbox}, quiet_seconds=-1)
