"""Whether a process still runs on this machine: by its pid, and optionally by its start time (pids are reused)."""

from __future__ import annotations

import os

__all__ = ["pid_alive", "start_time"]


def start_time(pid: int) -> str:
    """The process's start time (clock ticks after boot, from ``/proc/<pid>/stat``), or ``"?"``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "?"


def pid_alive(pid: int, started: str | None = None) -> bool:
    """True while process ``pid`` exists on this machine; with ``started`` (its :func:`start_time`),
    only while it is still that very process. A process this user may not signal (another
    user's) counts as alive, its start time not compared: it is never taken for dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started is None or start_time(pid) == started
