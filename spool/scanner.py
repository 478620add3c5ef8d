"""Deciding which inbox files are ready to be claimed.

A file dropped into an inbox may still be growing (a person copying it, an SFTP upload,
a bank's batch writing it). It is *ready* when either

- its size and mtime have stayed the same for ``quiet_seconds`` across scans (the first
  sighting starts the timer, any change restarts it), or
- its channel has a done-marker suffix (say ``.done``) and ``<name>.done`` exists beside it
  (then the quiet period does not apply; without the marker the file is never ready).

Never returned: hidden names (``.*``, which covers the spool's own ``.tmp-*`` files),
names ending in ``.part``, ``.tmp`` or ``~``, the done markers themselves, symlinks
(never followed), folders and anything else that is not a regular file.

The scanner only looks: it keeps no state on disk and moves nothing. Time comes from an
injectable clock (monotonic by default), so tests need not sleep.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IGNORED_SUFFIXES", "Arrival", "StableScanner"]

IGNORED_SUFFIXES = (".part", ".tmp", "~")
"""Names ending so are files still being written by convention; they are never returned."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A file in an inbox that is ready to be claimed, as it was when last seen."""

    channel: str
    path: Path
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Sighting:
    size: int
    mtime_ns: int
    since: float


class StableScanner:
    """Lists the inbox files that are ready, oldest first, remembering what it saw between scans."""

    def __init__(
        self,
        inboxes: Mapping[str, Path],
        *,
        quiet_seconds: float = 2.0,
        done_markers: Mapping[str, str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if quiet_seconds < 0:
            raise ValueError(f"quiet_seconds must be 0 or more, found {quiet_seconds}")
        markers = dict(done_markers or {})
        for channel, suffix in markers.items():
            if channel not in inboxes:
                raise ValueError(f"done marker given for unknown channel {channel!r}")
            if suffix is not None and (not suffix or "/" in suffix):
                raise ValueError(f"bad done-marker suffix {suffix!r} for channel {channel!r}: expected e.g. '.done'")
        self._inboxes = {channel: Path(path) for channel, path in inboxes.items()}
        self._markers: dict[str, str | None] = {c: markers.get(c) for c in self._inboxes}
        self._quiet = quiet_seconds
        self._clock = clock
        self._seen: dict[Path, _Sighting] = {}
        self._deadlines: list[float] = []  # when the files still in their quiet period could be ready
        self._unreadable: set[str] = set()

    @property
    def quiet_seconds(self) -> float:
        return self._quiet

    def marker_for(self, arrival: Arrival) -> Path | None:
        """The done marker beside `arrival` for a channel that uses one (to remove after the claim), else None."""
        suffix = self._markers.get(arrival.channel)
        return None if suffix is None else arrival.path.with_name(arrival.path.name + suffix)

    def due_in(self) -> float | None:
        """Clock seconds until the earliest file now waiting out its quiet period could be ready
        (0 when one already could), or None when none waits: a good timeout for the next wait."""
        if not self._deadlines:
            return None
        return max(0.0, min(self._deadlines) - self._clock())

    def scan(self) -> list[Arrival]:
        """One pass over every inbox; the ready files sorted by (mtime_ns, name)."""
        now = self._clock()
        seen: dict[Path, _Sighting] = {}
        deadlines: list[float] = []
        ready: list[Arrival] = []
        for channel, inbox in self._inboxes.items():
            suffix = self._markers[channel]
            listing = self._list(channel, inbox)
            names = {entry.name for entry in listing}
            for entry in listing:
                name = entry.name
                if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                    continue
                if suffix is not None and name.endswith(suffix):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # vanished since the listing
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                path = Path(entry.path)
                sighting = seen[path] = self._observe(path, info.st_size, info.st_mtime_ns, now)
                if suffix is not None:
                    if name + suffix not in names:
                        continue
                elif now - sighting.since < self._quiet:
                    deadlines.append(sighting.since + self._quiet)
                    continue
                ready.append(Arrival(channel, path, info.st_size, info.st_mtime_ns))
        self._seen = seen  # files no longer there are forgotten
        self._deadlines = deadlines
        ready.sort(key=lambda a: (a.mtime_ns, a.path.name, a.channel))
        return ready

    def _observe(self, path: Path, size: int, mtime_ns: int, now: float) -> _Sighting:
        before = self._seen.get(path)
        if before is None or before.size != size or before.mtime_ns != mtime_ns:
            return _Sighting(size, mtime_ns, now)
        return before

    def _list(self, channel: str, inbox: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(inbox) as entries:
                listing = list(entries)
        except OSError as error:
            if channel not in self._unreadable:
                self._unreadable.add(channel)
                _log.warning(
                    "cannot read inbox %s of channel %s (%s); skipping it until it can be read",
                    inbox,
                    channel,
                    error.strerror or error,
                )
            return []
        if channel in self._unreadable:
            self._unreadable.discard(channel)
            _log.info("inbox %s of channel %s can be read again", inbox, channel)
        return listing
