"""The watcher (spool.watcher.Watcher): watchdog events and the periodic rescan both set the wake event."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from watchdog.observers.api import BaseObserver

from spool.watcher import Watcher


def test_creating_a_file_sets_the_event(tmp_path: Path) -> None:
    """A file created in a watched folder sets the event within a couple of seconds (the rescan is far off)."""
    wake = threading.Event()
    with Watcher([tmp_path], wake, rescan_seconds=60) as watcher:
        assert watcher.watched == [tmp_path]
        assert wake.wait(1)  # the start-up wake: files already waiting get scanned
        wake.clear()
        (tmp_path / "RESULT.dat").write_bytes(b"x" * 120)
        assert wake.wait(2)


def test_the_rescan_wakes_without_any_event(tmp_path: Path) -> None:
    """With nothing happening in the watched folder, the rescan still sets the event every rescan_seconds."""
    wake = threading.Event()
    with Watcher([tmp_path], wake, rescan_seconds=0.1):
        wake.wait(1)
        for _ in range(3):
            wake.clear()
            assert wake.wait(1)


def test_an_observer_that_cannot_start_leaves_the_rescan(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """When the observer fails to start, a warning is logged and the rescan alone still sets the event."""

    def no_events() -> BaseObserver:
        raise OSError(24, "inotify instance limit reached")

    wake = threading.Event()
    with caplog.at_level("WARNING", logger="spool.watcher"):
        with Watcher([tmp_path], wake, rescan_seconds=0.1, observer_factory=no_events) as watcher:
            assert watcher.watched == []
            wake.wait(1)
            wake.clear()
            assert wake.wait(1)
    assert "file events unavailable" in caplog.text and "inotify instance limit reached" in caplog.text


def test_a_folder_that_cannot_be_watched_is_left_to_the_rescan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder the observer cannot watch is warned about; the other folders are still watched and the rescan runs."""
    missing = tmp_path / "missing"
    wake = threading.Event()
    with caplog.at_level("WARNING", logger="spool.watcher"):
        with Watcher([missing, tmp_path], wake, rescan_seconds=0.1) as watcher:
            assert watcher.watched == [tmp_path]
            wake.wait(1)
            wake.clear()
            assert wake.wait(1)
    assert f"cannot watch {missing}" in caplog.text


def test_stop_leaves_no_threads_behind(tmp_path: Path) -> None:
    """stop() joins the observer, its emitters and the rescan timer, and may be called again."""
    folders = [tmp_path / "bank", tmp_path / "cvs"]
    for folder in folders:
        folder.mkdir()
    before = threading.active_count()
    watcher = Watcher(folders, threading.Event(), rescan_seconds=30)
    watcher.start()
    assert watcher.watched == folders and threading.active_count() > before
    started = time.monotonic()
    watcher.stop()
    watcher.stop()
    assert threading.active_count() == before
    assert time.monotonic() - started < 3
    with pytest.raises(RuntimeError, match="started once"):
        watcher.start()


def test_a_watcher_never_started_can_be_stopped(tmp_path: Path) -> None:
    """stop() on a watcher that was never started does nothing and starts nothing."""
    before = threading.active_count()
    Watcher([tmp_path], threading.Event()).stop()
    assert threading.active_count() == before
