"""The transfer journal: what was pulled from and pushed to each SFTP endpoint, each run, each alert.

Kept in the same SQLite file as the ledger (``settings.ledger_path()``), with a
connection of its own, in four tables of its own:

``remote_files``
    one row per remote file pulled, keyed by ``(endpoint, path, size, mtime)``: a file
    already there is not pulled again, while the same name with another size or mtime
    (the bank replaced it) is. ``state`` is ``pulled`` once the file is complete in the
    inbox, then ``deleted`` or ``moved`` once the remote file was disposed of as the
    endpoint's ``after_pull`` asks (a disposal that failed is tried again next run).
``remote_pushes``
    one row per file pushed, keyed by ``(endpoint, sha256)``: the same content is never
    uploaded twice to one endpoint.
``endpoint_runs``
    one row per pull or push run: when it started and finished, whether it succeeded,
    the error, how many files it moved (``gateway endpoints`` shows the last of each).
``alerts``
    what operators must look at (``gateway alerts``): an expected file that had not
    arrived by its cut-off, an endpoint that failed past its retries, a host key refused.
    At most one alert per kind, endpoint, channel and day.

Times are stored as ISO-8601 UTC text with milliseconds, like the ledger's. The
connection may be shared between threads (the scheduler's and the service's): every
method holds the store's lock.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.storage.db import connect, create_schema, transaction

__all__ = ["Alert", "PushRecord", "RemoteFile", "RunRecord", "TransferStore", "utc_text"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS remote_files (
    endpoint   TEXT NOT NULL,
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    mtime      INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    local_path TEXT NOT NULL,
    channel    TEXT,
    pulled_at  TEXT NOT NULL,
    state      TEXT NOT NULL,
    PRIMARY KEY (endpoint, path, size, mtime)
);
CREATE INDEX IF NOT EXISTS remote_files_channel ON remote_files (channel, pulled_at);
CREATE TABLE IF NOT EXISTS remote_pushes (
    endpoint    TEXT NOT NULL,
    local_path  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    remote_path TEXT NOT NULL,
    pushed_at   TEXT NOT NULL,
    PRIMARY KEY (endpoint, sha256)
);
CREATE TABLE IF NOT EXISTS endpoint_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint    TEXT NOT NULL,
    direction   TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    ok          INTEGER,
    error       TEXT,
    files       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS endpoint_runs_endpoint ON endpoint_runs (endpoint, started_at);
CREATE TABLE IF NOT EXISTS alerts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT NOT NULL,
    endpoint  TEXT NOT NULL DEFAULT '',
    channel   TEXT NOT NULL DEFAULT '',
    date      TEXT NOT NULL,
    message   TEXT NOT NULL,
    raised_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_once ON alerts (kind, endpoint, channel, date);
"""


def utc_text(moment: dt.datetime | None = None) -> str:
    """A moment as the ledger writes it: ISO-8601 in UTC with milliseconds (now when None)."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError(f"a time zone-aware datetime expected, found {moment!r}")
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class RemoteFile:
    """One pulled remote file (a row of ``remote_files``)."""

    endpoint: str
    path: str
    size: int
    mtime: int
    sha256: str
    local_path: str
    channel: str | None
    pulled_at: str
    state: str  # pulled | deleted | moved


@dataclass(frozen=True)
class PushRecord:
    """One pushed file (a row of ``remote_pushes``)."""

    endpoint: str
    local_path: str
    sha256: str
    remote_path: str
    pushed_at: str


@dataclass(frozen=True)
class RunRecord:
    """One pull or push run (a row of ``endpoint_runs``); ``ok`` is None while it runs."""

    id: int
    endpoint: str
    direction: str
    started_at: str
    finished_at: str | None
    ok: bool | None
    error: str | None
    files: int


@dataclass(frozen=True)
class Alert:
    """Something an operator must look at (a row of ``alerts``)."""

    id: int
    kind: str  # expected-file | run-failed | host-key
    endpoint: str
    channel: str
    date: str
    message: str
    raised_at: str


class TransferStore:
    """The transfer tables in the ledger's SQLite file, on a connection of their own."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        self.path = path
        self._lock = threading.RLock()
        self.db = connect(path, threads=True)
        create_schema(self.db, SCHEMA)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> TransferStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (gateway.storage.db), holding the store's lock."""
        with self._lock, transaction(self.db) as db:
            yield db

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    # -- pulls --------------------------------------------------------------------
    def remote_file(self, endpoint: str, path: str, size: int, mtime: int) -> RemoteFile | None:
        """The record of this remote file (same path, size and mtime) if it was pulled, else None."""
        rows = self._all(
            "SELECT * FROM remote_files WHERE endpoint = ? AND path = ? AND size = ? AND mtime = ?",
            (endpoint, path, size, mtime),
        )
        return RemoteFile(**dict(rows[0])) if rows else None

    def record_pull(
        self,
        endpoint: str,
        path: str,
        size: int,
        mtime: int,
        sha256: str,
        local_path: Path | str,
        *,
        channel: str | None = None,
        pulled_at: dt.datetime | None = None,
    ) -> None:
        """Record a remote file as pulled (complete in the inbox)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO remote_files (endpoint, path, size, mtime, sha256, local_path, channel,"
                " pulled_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pulled')",
                (endpoint, path, size, mtime, sha256, str(local_path), channel, utc_text(pulled_at)),
            )

    def set_remote_state(self, endpoint: str, path: str, size: int, mtime: int, state: str) -> None:
        """Mark a pulled remote file as ``deleted`` or ``moved`` on the server."""
        with self.transaction() as db:
            db.execute(
                "UPDATE remote_files SET state = ? WHERE endpoint = ? AND path = ? AND size = ? AND mtime = ?",
                (state, endpoint, path, size, mtime),
            )

    def pulled(self, endpoint: str | None = None, limit: int = 100) -> list[RemoteFile]:
        """The most recent pulls (of one endpoint, or of all)."""
        where, params = ("WHERE endpoint = ?", (endpoint,)) if endpoint else ("", ())
        rows = self._all(f"SELECT * FROM remote_files {where} ORDER BY pulled_at DESC LIMIT ?", (*params, limit))
        return [RemoteFile(**dict(row)) for row in rows]

    # -- pushes -------------------------------------------------------------------
    def pushed(self, endpoint: str, sha256: str) -> PushRecord | None:
        """The earlier push of this content to this endpoint, or None."""
        rows = self._all("SELECT * FROM remote_pushes WHERE endpoint = ? AND sha256 = ?", (endpoint, sha256))
        return PushRecord(**dict(rows[0])) if rows else None

    def record_push(
        self,
        endpoint: str,
        local_path: Path | str,
        sha256: str,
        remote_path: str,
        *,
        pushed_at: dt.datetime | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO remote_pushes (endpoint, local_path, sha256, remote_path, pushed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (endpoint, str(local_path), sha256, remote_path, utc_text(pushed_at)),
            )

    def pushes(self, endpoint: str | None = None, limit: int = 100) -> list[PushRecord]:
        where, params = ("WHERE endpoint = ?", (endpoint,)) if endpoint else ("", ())
        rows = self._all(f"SELECT * FROM remote_pushes {where} ORDER BY pushed_at DESC LIMIT ?", (*params, limit))
        return [PushRecord(**dict(row)) for row in rows]

    # -- runs ---------------------------------------------------------------------
    def start_run(self, endpoint: str, direction: str, *, at: dt.datetime | None = None) -> int:
        """A new run row; its id, for :meth:`finish_run`."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO endpoint_runs (endpoint, direction, started_at) VALUES (?, ?, ?)",
                (endpoint, direction, utc_text(at)),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self, run_id: int, *, ok: bool, error: str | None = None, files: int = 0, at: dt.datetime | None = None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE endpoint_runs SET finished_at = ?, ok = ?, error = ?, files = ? WHERE id = ?",
                (utc_text(at), int(ok), error, files, run_id),
            )

    def _run(self, sql: str, params: tuple[Any, ...]) -> RunRecord | None:
        rows = self._all(sql, params)
        if not rows:
            return None
        row = dict(rows[0])
        row["ok"] = None if row["ok"] is None else bool(row["ok"])
        return RunRecord(**row)

    def last_run(self, endpoint: str) -> RunRecord | None:
        return self._run(
            "SELECT * FROM endpoint_runs WHERE endpoint = ? ORDER BY started_at DESC, id DESC LIMIT 1", (endpoint,)
        )

    def last_success(self, endpoint: str) -> RunRecord | None:
        return self._run(
            "SELECT * FROM endpoint_runs WHERE endpoint = ? AND ok = 1 ORDER BY finished_at DESC, id DESC LIMIT 1",
            (endpoint,),
        )

    def last_error(self, endpoint: str) -> RunRecord | None:
        return self._run(
            "SELECT * FROM endpoint_runs WHERE endpoint = ? AND ok = 0 ORDER BY finished_at DESC, id DESC LIMIT 1",
            (endpoint,),
        )

    # -- arrivals -----------------------------------------------------------------
    def file_arrived(self, channel: str, pattern: str, since: dt.datetime, until: dt.datetime) -> bool:
        """Whether a file whose name matches ``pattern`` reached ``channel`` between the two moments:
        pulled by an endpoint (``remote_files``) or taken from the inbox (the ledger's ``files``)."""
        bounds = (utc_text(since), utc_text(until))
        for row in self._all(
            "SELECT path FROM remote_files WHERE channel = ? AND pulled_at BETWEEN ? AND ?", (channel, *bounds)
        ):
            if fnmatch.fnmatchcase(posixpath.basename(row["path"]), pattern):
                return True
        if self._all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'"):
            for row in self._all(
                "SELECT original_name FROM files WHERE channel = ? AND received_at BETWEEN ? AND ?", (channel, *bounds)
            ):
                if fnmatch.fnmatchcase(row["original_name"], pattern):
                    return True
        return False

    # -- alerts -------------------------------------------------------------------
    def raise_alert(
        self,
        kind: str,
        *,
        date: dt.date,
        message: str,
        endpoint: str = "",
        channel: str = "",
        at: dt.datetime | None = None,
    ) -> bool:
        """Record an alert; False (and nothing written) when the same kind, endpoint, channel
        and day already has one."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO alerts (kind, endpoint, channel, date, message, raised_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (kind, endpoint, channel, date.isoformat(), message, utc_text(at)),
            )
            return cursor.rowcount == 1

    def alerts(self, *, limit: int = 50, since: dt.date | None = None, endpoint: str | None = None) -> list[Alert]:
        """The most recent alerts first."""
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("date >= ?")
            params.append(since.isoformat())
        if endpoint:
            clauses.append("endpoint = ?")
            params.append(endpoint)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._all(f"SELECT * FROM alerts {where} ORDER BY raised_at DESC, id DESC LIMIT ?", (*params, limit))
        return [Alert(**dict(row)) for row in rows]
