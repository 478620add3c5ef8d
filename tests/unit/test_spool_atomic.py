"""Durable file operations (spool.atomic): temporary name, fsync, rename; moves that never replace."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spool import atomic
from spool.atomic import atomic_write, commit, move_into, remove_stale_temps, sha256_file, write_temp


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sha256_file_streams_a_file_larger_than_one_chunk(tmp_path: Path) -> None:
    """sha256_file() gives the same hex digest as hashlib for content spanning several chunks."""
    data = os.urandom(1024 * 1024 * 2 + 17)
    path = tmp_path / "big.dat"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_atomic_write_creates_a_private_file_and_returns_its_hash(tmp_path: Path) -> None:
    """atomic_write() writes the bytes with mode 0o600 even under a permissive umask and returns their SHA-256."""
    old = os.umask(0)
    try:
        digest = atomic_write(tmp_path / "out.dat", [b"abc", b"", b"def"])
    finally:
        os.umask(old)
    assert (tmp_path / "out.dat").read_bytes() == b"abcdef"
    assert digest == hashlib.sha256(b"abcdef").hexdigest()
    assert mode(tmp_path / "out.dat") == 0o600


def test_atomic_write_replaces_an_existing_file_and_leaves_no_temp(tmp_path: Path) -> None:
    """A second atomic_write() to the same name replaces the first (a retry never doubles) and no temp remains."""
    target = tmp_path / "RESULT_0527.dat"
    atomic_write(target, b"first attempt, longer content")
    atomic_write(target, b"retry")
    assert target.read_bytes() == b"retry"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RESULT_0527.dat"]


def test_write_temp_uses_a_hidden_name_and_commit_publishes_it(tmp_path: Path) -> None:
    """write_temp() writes under '.tmp-<name>.<pid>.<random>' and commit() renames it to the final name."""
    temp, digest = write_temp(tmp_path, "out.dat", iter([b"x" * 10]))
    assert temp.parent == tmp_path and temp.name.startswith(".tmp-out.dat.") and str(os.getpid()) in temp.name
    assert mode(temp) == 0o600 and not (tmp_path / "out.dat").exists()
    commit(temp, tmp_path / "out.dat")
    assert not temp.exists() and (tmp_path / "out.dat").read_bytes() == b"x" * 10
    assert digest == hashlib.sha256(b"x" * 10).hexdigest()


def test_write_temp_cleans_up_when_the_iterable_raises(tmp_path: Path) -> None:
    """When the chunks' iterable fails midway, write_temp() removes its partial temp and re-raises."""

    def chunks() -> Iterator[bytes]:
        yield b"part of a record"
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        write_temp(tmp_path, "out.dat", chunks())
    assert list(tmp_path.iterdir()) == []


def test_write_temp_refuses_a_name_that_is_not_plain(tmp_path: Path) -> None:
    """A final name with a separator (or '..') is refused before anything is written."""
    for bad in ["../escape", "a/b", "..", ""]:
        with pytest.raises(ValueError, match="plain file name"):
            write_temp(tmp_path, bad, [b"x"])
    assert list(tmp_path.iterdir()) == []


def test_write_temp_keeps_a_long_final_name_within_the_name_limit(tmp_path: Path) -> None:
    """A final name near 255 bytes still gets a temporary name the file system accepts."""
    name = "収" * 80 + ".dat"  # 244 bytes in UTF-8
    digest = atomic_write(tmp_path / name, b"data")
    assert (tmp_path / name).read_bytes() == b"data" and digest == hashlib.sha256(b"data").hexdigest()


def test_move_into_moves_and_refuses_to_overwrite(tmp_path: Path) -> None:
    """move_into() renames a file into a folder, and raises FileExistsError rather than replace a target."""
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir()
    work.mkdir()
    (inbox / "a.dat").write_bytes(b"new")
    (work / "taken.dat").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        move_into(inbox / "a.dat", work, "taken.dat")
    assert (work / "taken.dat").read_bytes() == b"old" and (inbox / "a.dat").read_bytes() == b"new"
    assert move_into(inbox / "a.dat", work, "claimed.dat") == work / "claimed.dat"
    assert (work / "claimed.dat").read_bytes() == b"new" and not (inbox / "a.dat").exists()


def test_move_into_raises_file_not_found_for_a_missing_source(tmp_path: Path) -> None:
    """move_into() raises FileNotFoundError for a gone source (claimed elsewhere) or a missing folder."""
    with pytest.raises(FileNotFoundError, match="claimed by another process"):
        move_into(tmp_path / "gone.dat", tmp_path, "x.dat")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "here.dat").write_bytes(b"h")
    with pytest.raises(FileNotFoundError, match="target folder missing"):
        move_into(tmp_path / "here.dat", tmp_path / "work", "x.dat")
    assert (tmp_path / "here.dat").exists()


@pytest.mark.parametrize("rename", ["move_into", "link_fallback"])
def test_racing_claims_of_one_file_have_exactly_one_winner(tmp_path: Path, rename: str) -> None:
    """Two threads moving the same source into different names: one succeeds, the other gets FileNotFoundError."""
    move = atomic._link_then_unlink if rename == "link_fallback" else None
    work = tmp_path / "work"
    work.mkdir()
    for round_ in range(30):
        src = tmp_path / f"in-{round_}.dat"
        src.write_bytes(b"payload")
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(name: str) -> None:
            barrier.wait()
            try:
                if move is None:
                    move_into(src, work, name)
                else:
                    move(src, work / name)
                outcomes[name] = "won"
            except FileNotFoundError:
                outcomes[name] = "lost"

        threads = [threading.Thread(target=claim, args=(f"{round_}-{who}",)) for who in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes.values()) == ["lost", "won"], outcomes
        assert not src.exists()
        assert [p.name for p in work.iterdir() if p.name.startswith(f"{round_}-")] == [
            n for n, o in outcomes.items() if o == "won"
        ]


def test_link_fallback_also_refuses_to_overwrite(tmp_path: Path) -> None:
    """The hard-link fallback (for file systems without renameat2) never replaces an existing target either."""
    (tmp_path / "src").write_bytes(b"new")
    (tmp_path / "dst").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        atomic._link_then_unlink(tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == b"old" and (tmp_path / "src").exists()


def test_remove_stale_temps_deletes_only_temporary_files(tmp_path: Path) -> None:
    """remove_stale_temps() deletes '.tmp-*' files, and with older_than keeps the recent ones."""
    old_temp, _ = write_temp(tmp_path, "a.dat", [b"1"])
    new_temp, _ = write_temp(tmp_path, "b.dat", [b"2"])
    an_hour_ago = time.time() - 3600
    os.utime(old_temp, (an_hour_ago, an_hour_ago))
    (tmp_path / "keep.dat").write_bytes(b"k")
    (tmp_path / ".hidden").write_bytes(b"h")
    (tmp_path / ".tmp-dir").mkdir()

    assert remove_stale_temps(tmp_path, older_than=600) == [old_temp]
    assert remove_stale_temps(tmp_path) == [new_temp]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", ".tmp-dir", "keep.dat"]


def test_remove_stale_temps_by_dead_writer_prefix_and_keep_set(tmp_path: Path) -> None:
    """With dead_writers only temporaries whose writer's pid is gone go (names without a pid stay),
    a prefix limits it to one family of names, a kept path is never removed, a missing folder gives []."""
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead = finished.pid  # a writer that has exited
    mine = write_temp(tmp_path, "a.dat", [b"live writer"])[0]
    orphan = tmp_path / f".tmp-a.dat.{dead}.0123456789ab"
    kept = tmp_path / f".tmp-b.dat.{dead}.0123456789ab"
    other = tmp_path / f".tmp-c.dat.{dead}.0123456789ab"
    no_pid = tmp_path / ".tmp-sftp-bank-0123456789ab.part"
    for path in (orphan, kept, other, no_pid):
        path.write_bytes(b"x")

    assert remove_stale_temps(tmp_path, prefix="a.", dead_writers=True) == [orphan]
    assert remove_stale_temps(tmp_path, dead_writers=True, keep={str(kept)}) == [other]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, kept.name, no_pid.name])
    assert remove_stale_temps(tmp_path / "missing") == []


def test_temp_writer_hashes_counts_and_discards(tmp_path: Path) -> None:
    """TempWriter (under write_temp, staged outputs and SFTP downloads) hashes and counts what it writes;
    finish() leaves the fsynced file under its temporary name, discard() removes it (also once finished)."""
    writer = atomic.TempWriter(atomic.temp_path(tmp_path, "out.dat"), buffering=1 << 20)
    for chunk in (b"abc", b"", b"def"):
        writer.write(chunk)
    assert writer.finish() == hashlib.sha256(b"abcdef").hexdigest() and writer.size == 6
    assert writer.temp.read_bytes() == b"abcdef" and mode(writer.temp) == 0o600
    writer.discard()
    unfinished = atomic.TempWriter(atomic.temp_path(tmp_path, "out.dat"))
    unfinished.write(b"half")
    unfinished.discard()
    assert list(tmp_path.iterdir()) == []
