"""Waking the gateway when something may have arrived: watchdog events plus a periodic rescan.

The watcher does no work itself. Its event handler only sets a `threading.Event`
(an exception in a watchdog handler would kill the observer thread); whoever waits on
that event scans the inboxes with `StableScanner`. Events alone are not reliable
(they fire when writing starts, the kernel queue can overflow, network file systems
send none), so a timer thread also sets the event every ``rescan_seconds``. If the
observer cannot start, or a folder cannot be watched (inotify limits, missing folder),
a warning is logged and the rescan carries on alone: a file may be noticed later,
never lost.

Only events that can make a file newly ready are asked for: created, moved in or renamed,
and closed after writing (so an SFTP ``.part`` → final rename or a finished copy wakes
the gateway at once, while each write of a growing file does not).
"""

from __future__ import annotations

import logging
import threading
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Self

from watchdog.events import FileClosedEvent, FileCreatedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

__all__ = ["WATCHED_EVENTS", "Watcher"]

WATCHED_EVENTS: list[type[FileSystemEvent]] = [FileCreatedEvent, FileMovedEvent, FileClosedEvent]
"""The watchdog event kinds that wake the gateway."""

_log = logging.getLogger(__name__)


class _WakeHandler(FileSystemEventHandler):
    """Sets the wake event for every event delivered; nothing else (it must never raise)."""

    def __init__(self, wake: threading.Event) -> None:
        super().__init__()
        self._wake = wake

    def dispatch(self, event: FileSystemEvent) -> None:
        self._wake.set()


class Watcher:
    """Sets `wake` when a watched folder changes and every `rescan_seconds` regardless.

    `start()` also sets `wake` once, so that files already waiting are scanned at start-up.
    `stop()` stops and joins every thread it started; a stopped watcher cannot be restarted.
    `observer_factory` chooses the watchdog observer (e.g. `PollingObserver` for a network share).
    """

    def __init__(
        self,
        paths: Iterable[Path],
        wake: threading.Event,
        *,
        rescan_seconds: float = 5.0,
        observer_factory: Callable[[], BaseObserver] = Observer,
    ) -> None:
        if rescan_seconds <= 0:
            raise ValueError(f"rescan_seconds must be more than 0, found {rescan_seconds}")
        self._paths = [Path(p) for p in paths]
        self._wake = wake
        self._rescan_seconds = rescan_seconds
        self._observer_factory = observer_factory
        self._stopping = threading.Event()
        self._rescan: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._watched: list[Path] = []
        self._state = "new"

    @property
    def watched(self) -> list[Path]:
        """The folders that events come from (those not listed rely on the rescan alone)."""
        return list(self._watched)

    def start(self) -> None:
        """Start the rescan timer, then the observer; RuntimeError if already started."""
        if self._state != "new":
            raise RuntimeError(f"a watcher can be started once; this one is {self._state}")
        self._state = "running"
        self._rescan = threading.Thread(target=self._rescan_loop, name="spool-rescan", daemon=True)
        self._rescan.start()
        self._observer = self._start_observer()
        self._wake.set()

    def stop(self) -> None:
        """Stop the observer and the rescan timer and join their threads (idempotent)."""
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopped"
        self._stopping.set()
        if self._observer is not None:
            _stop_observer(self._observer)
            self._observer = None
        if self._rescan is not None:
            self._rescan.join()
            self._rescan = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.stop()

    def _rescan_loop(self) -> None:
        while not self._stopping.wait(self._rescan_seconds):
            self._wake.set()

    def _start_observer(self) -> BaseObserver | None:
        observer: BaseObserver | None = None
        try:
            observer = self._observer_factory()
            observer.start()
        except Exception as error:
            _log.warning("file events unavailable (%s); relying on a rescan every %s s", error, self._rescan_seconds)
            if observer is not None:
                _stop_observer(observer)
            return None
        handler = _WakeHandler(self._wake)
        for path in self._paths:
            try:
                observer.schedule(handler, str(path), recursive=False, event_filter=WATCHED_EVENTS)
            except Exception as error:
                _log.warning("cannot watch %s (%s); relying on a rescan every %s s", path, error, self._rescan_seconds)
            else:
                self._watched.append(path)
        return observer


def _stop_observer(observer: BaseObserver) -> None:
    """Stop an observer and its emitter threads, started or not, and join it if it ran."""
    observer.stop()  # also stops and joins its emitters (and inotify's reader thread)
    if observer.is_alive():
        observer.join()
