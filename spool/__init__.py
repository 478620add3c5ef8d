"""Where files wait: the spool's folders, durable writes and moves, stable-file detection and the watcher.

Pure file-system mechanics: no ledger, no parsing. See the module docstrings of
`spool.layout`, `spool.atomic`, `spool.scanner` and `spool.watcher`.
"""

from spool.atomic import atomic_write, commit, fsync_dir, move_into, remove_stale_temps, sha256_file, write_temp
from spool.layout import SpoolLayout
from spool.scanner import Arrival, StableScanner
from spool.watcher import Watcher

__all__ = [
    "Arrival",
    "SpoolLayout",
    "StableScanner",
    "Watcher",
    "atomic_write",
    "commit",
    "fsync_dir",
    "move_into",
    "remove_stale_temps",
    "sha256_file",
    "write_temp",
]
