"""The one way to open the ledger's SQLite file, and to write to it.

Every store of this package (the ledger, the transfer journal, the console's users, the
erasures of retention) opens the file with :func:`connect`: autocommit (transactions are
explicit), rows as :class:`sqlite3.Row`, a busy timeout of :data:`BUSY_TIMEOUT` seconds,
the write-ahead log and ``synchronous=FULL``. A new file is made readable by its owner only.

Writes happen inside :func:`transaction`, a ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK``
on any exception): SQLite serialises them, so a decision read and written inside one holds
even when another process decides at the same moment.

SQLite's busy handler waits for a lock in most cases, not all: two processes opening a new
ledger at once can get "database is locked" at once from the switch to the write-ahead log.
:func:`retry_locked` tries such a statement again until :data:`BUSY_TIMEOUT` has passed
since the first try (so a statement the busy handler already waited for is not retried
beyond it).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

__all__ = [
    "BUSY_TIMEOUT",
    "columns",
    "connect",
    "create_schema",
    "read_only",
    "retry_locked",
    "table_names",
    "transaction",
]

#: Seconds a statement waits for another connection's lock before "database is locked".
BUSY_TIMEOUT = 30.0
_RETRY_PAUSE = 0.05

T = TypeVar("T")


def retry_locked(action: Callable[[], T], *, seconds: float = BUSY_TIMEOUT) -> T:
    """``action()``, tried again while SQLite answers "database is locked", for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(_RETRY_PAUSE)


def connect(path: Path, *, threads: bool = False) -> sqlite3.Connection:
    """A connection to the ledger file (created, with its folder, when missing).

    ``threads``: the connection may be used from several threads (its owner serialises
    the use with a lock of its own)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = not path.exists()
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=not threads)
    db.row_factory = sqlite3.Row
    if fresh:
        os.chmod(path, 0o600)
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    retry_locked(lambda: db.execute("PRAGMA journal_mode=WAL"))  # the busy handler does not cover it
    db.execute("PRAGMA synchronous=FULL")
    return db


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that cannot change the ledger (for a dry run), closed on leaving."""
    db = sqlite3.connect(
        f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None
    )
    db.row_factory = sqlite3.Row
    with closing(db):
        yield db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; ``ROLLBACK`` and re-raise on any exception."""
    retry_locked(lambda: db.execute("BEGIN IMMEDIATE"))
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def create_schema(db: sqlite3.Connection, schema: str) -> None:
    """Run each statement of ``schema`` (``;``-separated, idempotent ``IF NOT EXISTS``) in one transaction."""
    with transaction(db):
        for statement in schema.split(";"):
            if statement.strip():
                db.execute(statement)


def table_names(db: sqlite3.Connection) -> set[str]:
    """The tables the file holds."""
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    """The columns of ``table`` (empty when there is no such table)."""
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
