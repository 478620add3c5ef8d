"""The spool's folders: where each file waits at each step, and nothing else.

```
<root>/inbox/<channel>/       files arriving, one folder per channel
<root>/work/                  files claimed and being processed
<root>/archive/               files processed
<root>/rejected/              files refused by an operator's rule
<root>/quarantine/            files refused as a whole (grammar, totals, encoding, empty)
<root>/duplicate/             content already processed once
<root>/reports/               rejected-record reports
<root>/outbox/<destination>/  files waiting to be delivered, one folder per destination
```

Every folder is private to the gateway's user (mode 0o700): the files hold personal data.
Channel and destination names become folder names, so they are restricted to
``^[a-z0-9][a-z0-9._-]*$`` (no separators, no hidden names, no ``..``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from spool.states import FileState

__all__ = ["NAME_PATTERN", "SpoolLayout"]

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
"""What a channel or destination name must look like (matched in full)."""

_FOLDER_MODE = 0o700


def _checked_names(kind: str, names: Iterable[str]) -> tuple[str, ...]:
    """Names in their first-seen order without repeats; ValueError naming the first bad one."""
    out: dict[str, None] = {}
    for name in names:
        if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
            raise ValueError(
                f"bad {kind} name {name!r}: expected lower-case letters, digits, '.', '_' or '-', "
                f"starting with a letter or digit (pattern {NAME_PATTERN.pattern})"
            )
        out[name] = None
    return tuple(out)


class SpoolLayout:
    """The folder paths of one spool; `ensure()` creates them, nothing else touches the disk."""

    def __init__(self, root: Path, channels: Iterable[str], destinations: Iterable[str]) -> None:
        self._root = Path(root)
        self._channels = _checked_names("channel", channels)
        self._destinations = _checked_names("destination", destinations)

    def __repr__(self) -> str:
        return (
            f"SpoolLayout({str(self._root)!r}, channels={list(self._channels)}, "
            f"destinations={list(self._destinations)})"
        )

    @property
    def root(self) -> Path:
        return self._root

    @property
    def channels(self) -> tuple[str, ...]:
        return self._channels

    @property
    def destinations(self) -> tuple[str, ...]:
        return self._destinations

    def inbox(self, channel: str) -> Path:
        """root/inbox/<channel>; ValueError for a channel this spool does not have."""
        if channel not in self._channels:
            raise ValueError(f"unknown channel {channel!r}: this spool has {', '.join(self._channels) or 'none'}")
        return self._root / "inbox" / channel

    def inboxes(self) -> dict[str, Path]:
        """Every channel's inbox, by channel (the shape `StableScanner` takes)."""
        return {channel: self.inbox(channel) for channel in self._channels}

    def outbox(self, destination: str) -> Path:
        """root/outbox/<destination>; ValueError for a destination this spool does not have."""
        if destination not in self._destinations:
            raise ValueError(
                f"unknown destination {destination!r}: this spool has {', '.join(self._destinations) or 'none'}"
            )
        return self._root / "outbox" / destination

    @property
    def work(self) -> Path:
        return self._root / "work"

    @property
    def archive(self) -> Path:
        return self._root / "archive"

    @property
    def rejected(self) -> Path:
        return self._root / "rejected"

    @property
    def quarantine(self) -> Path:
        return self._root / "quarantine"

    @property
    def duplicate(self) -> Path:
        return self._root / "duplicate"

    def finished(self, state: FileState) -> Path:
        """The folder of a finished file's input (archive/, rejected/, quarantine/ or duplicate/)."""
        if not state.terminal:
            raise ValueError(f"{state} is not a finished state: its input is in work/")
        return self._root / state.folder

    @property
    def reports(self) -> Path:
        return self._root / "reports"

    def folders(self) -> list[Path]:
        """Every folder of the spool, parents before children."""
        return [
            self._root,
            self._root / "inbox",
            *(self.inbox(c) for c in self._channels),
            self.work,
            self.archive,
            self.rejected,
            self.quarantine,
            self.duplicate,
            self.reports,
            self._root / "outbox",
            *(self.outbox(d) for d in self._destinations),
        ]

    def ensure(self) -> None:
        """Create every folder with mode 0o700 and set existing ones to 0o700 (whatever the umask).

        Raises FileExistsError when one of the paths exists and is not a folder."""
        for folder in self.folders():
            folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
            os.chmod(folder, _FOLDER_MODE)

    def channel_of(self, path: Path) -> str | None:
        """The channel whose inbox holds `path` directly, or None (also for the inbox folder
        itself and for anything deeper inside it, which the scanner never picks up)."""
        parent = Path(os.path.abspath(path)).parent
        inbox_root = Path(os.path.abspath(self._root / "inbox"))
        if parent.parent != inbox_root:
            return None
        return parent.name if parent.name in self._channels else None
