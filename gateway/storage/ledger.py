"""The ledger: every file the gateway took, its hash, its state, and every delivery.

SQLite in WAL mode (by default at the spool root). Each process opens its own
connection; decisions that two processes could race on (is this content already
processed? who owns this unfinished file?) are taken inside ``BEGIN IMMEDIATE``
transactions, which SQLite serialises.

A file's states are :class:`spool.states.FileState` (with the diagram).

``delivering`` is written after every output is staged (written and fsynced under a
temporary name) and before any is renamed into place, so a crash never makes the
gateway write an output twice: on recovery the staged temporaries are renamed, and
nothing is regenerated.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.storage.db import connect, create_schema, transaction
from spool.process import pid_alive
from spool.process import start_time as _start_time
from spool.states import ACCEPTED_STATES, TERMINAL_STATES

__all__ = ["Delivery", "FileRow", "Ledger", "PostingConflictError", "PostingMatches", "PostingRow", "process_token"]


SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL,
    original_name    TEXT NOT NULL,
    inbox_path       TEXT NOT NULL,
    work_path        TEXT NOT NULL,
    size             INTEGER,
    sha256           TEXT,
    state            TEXT NOT NULL,
    status           TEXT,
    format           TEXT,
    records          INTEGER,
    accepted         INTEGER,
    rejected_records INTEGER,
    final_path       TEXT,
    report_json      TEXT,
    report_csv       TEXT,
    report_html      TEXT,
    reason           TEXT,
    flags            TEXT,
    duplicate_of     TEXT,
    forced           INTEGER NOT NULL DEFAULT 0,
    reprocess_of     TEXT,
    owner            TEXT,
    received_at      TEXT NOT NULL,
    finished_at      TEXT,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE INDEX IF NOT EXISTS files_state ON files (state);
CREATE INDEX IF NOT EXISTS files_reprocess_of ON files (reprocess_of);
CREATE TABLE IF NOT EXISTS deliveries (
    file_id      TEXT NOT NULL REFERENCES files (id),
    destination  TEXT NOT NULL,
    temp_path    TEXT NOT NULL,
    path         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    records      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    planned_at   TEXT NOT NULL,
    committed_at TEXT,
    PRIMARY KEY (file_id, destination)
);
CREATE TABLE IF NOT EXISTS postings (
    payment_key  TEXT PRIMARY KEY,
    notice_key   TEXT NOT NULL,
    status       TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    file_id      TEXT NOT NULL,
    record       INTEGER NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS postings_notice ON postings (notice_key);
-- decisions of a file being routed, spilled from memory in batches (a large file's postings
-- do not stay in memory), moved into postings with the file's deliveries in one transaction
CREATE TABLE IF NOT EXISTS postings_pending (
    file_id      TEXT NOT NULL,
    payment_key  TEXT NOT NULL,
    notice_key   TEXT NOT NULL,
    status       TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    record       INTEGER NOT NULL,
    PRIMARY KEY (file_id, payment_key)
);
CREATE INDEX IF NOT EXISTS postings_pending_notice ON postings_pending (file_id, notice_key);
-- the batch path's decisions on payment keys that nothing else bore on when they were decided
-- (not in the ledger, not before in the file): written without an index (the batch path keeps
-- a filter of their keys in memory and reads this table only for a key the filter may hold);
-- moved into postings with the file's deliveries, before postings_pending (whose rows are newer)
CREATE TABLE IF NOT EXISTS postings_new (
    file_id      TEXT NOT NULL,
    payment_key  TEXT NOT NULL,
    notice_key   TEXT NOT NULL,
    status       TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    record       INTEGER NOT NULL
);
"""

_IN_CHUNK = 500  # keys a query asks for at once (well under SQLite's bound-parameter limit)
_PENDING_INSERT = (
    "INSERT OR REPLACE INTO postings_pending (file_id, payment_key, notice_key, status, amount, record)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _may_follow(current: str, new: str) -> bool:
    """Whether a posting in state ``current`` (by another file) may become ``new``."""
    return (current, new) in {("preliminary", "confirmed"), ("preliminary", "cancelled"), ("cancelled", "confirmed")}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def process_token(pid: int | None = None) -> str:
    """Who owns an unfinished file: host, pid and the process's start time (pids are reused)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def owner_alive(token: str | None) -> bool:
    if not token:
        return False
    try:
        host, pid_text, started = token.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine's process: never steal its work
    return pid_alive(pid, started)


class PostingConflictError(RuntimeError):
    """Raised when a planned posting collides with one another process made meanwhile."""


@dataclass(frozen=True, slots=True)
class PostingRow:
    payment_key: str
    notice_key: str
    status: str  # preliminary | confirmed | cancelled
    amount: int
    file_id: str
    record: int


@dataclass
class PostingMatches:
    """What the ledger holds for a batch of keys (:meth:`Ledger.posting_matches`): absent keys are not in it."""

    by_key: dict[str, PostingRow] = field(default_factory=dict)
    by_notice: dict[str, list[PostingRow]] = field(default_factory=dict)
    pending_by_key: dict[str, PostingRow] = field(default_factory=dict)
    pending_by_notice: dict[str, list[PostingRow]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    destination: str
    temp_path: str
    path: str
    sha256: str
    records: int
    state: str = "planned"


@dataclass(frozen=True)
class FileRow:
    """One row of the files table."""

    id: str
    channel: str
    original_name: str
    inbox_path: str
    work_path: str
    size: int | None
    sha256: str | None
    state: str
    status: str | None
    format: str | None
    records: int | None
    accepted: int | None
    rejected_records: int | None
    final_path: str | None
    report_json: str | None
    report_csv: str | None
    report_html: str | None
    reason: str | None
    flags: str | None
    duplicate_of: str | None
    forced: int
    reprocess_of: str | None
    owner: str | None
    received_at: str
    finished_at: str | None
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Ledger:
    """The gateway's record of every file and delivery. One instance per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path)
        create_schema(self.db, SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` on this ledger's connection (gateway.storage.db)."""
        return transaction(self.db)

    # -- ids ----------------------------------------------------------------
    @staticmethod
    def new_file_id(now: dt.datetime | None = None) -> str:
        """Time-sortable and readable: 20261126-060102-a1b2c3d4."""
        now = now or dt.datetime.now(dt.UTC)
        return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"

    # -- claiming -----------------------------------------------------------
    def begin_claim(
        self,
        file_id: str,
        channel: str,
        original_name: str,
        inbox_path: Path,
        work_path: Path,
        size: int,
        *,
        forced: bool = False,
        reprocess_of: str | None = None,
    ) -> None:
        now = _now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO files (id, channel, original_name, inbox_path, work_path, size, state, forced,"
                " reprocess_of, owner, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'claiming', ?, ?, ?, ?, ?)",
                (
                    file_id,
                    channel,
                    original_name,
                    str(inbox_path),
                    str(work_path),
                    size,
                    int(forced),
                    reprocess_of,
                    process_token(),
                    now,
                    now,
                ),
            )

    def abandon(self, file_id: str) -> None:
        """The claim lost a race (another process took the file): forget the row."""
        with self.transaction() as db:
            db.execute("DELETE FROM files WHERE id = ? AND state = 'claiming'", (file_id,))

    def claimed(self, file_id: str, sha256: str, size: int) -> None:
        self._update(file_id, state="claimed", sha256=sha256, size=size)

    # -- processing ---------------------------------------------------------
    def start_processing(self, file_id: str) -> str | None:
        """Mark the file as being processed, unless the same content was already accepted.

        Returns the id of the earlier file with the same SHA-256 (a duplicate), or None.
        A forced reprocess skips the check.
        """
        with self.transaction() as db:
            row = db.execute("SELECT sha256, forced FROM files WHERE id = ?", (file_id,)).fetchone()
            if row is None:
                raise KeyError(file_id)
            if not row["forced"]:
                placeholders = ",".join("?" * len(ACCEPTED_STATES))
                earlier = db.execute(
                    f"SELECT id FROM files WHERE sha256 = ? AND id != ? AND state IN ({placeholders})"
                    " ORDER BY received_at LIMIT 1",
                    (row["sha256"], file_id, *ACCEPTED_STATES),
                ).fetchone()
                if earlier is not None:
                    db.execute(
                        "UPDATE files SET duplicate_of = ?, updated_at = ? WHERE id = ?",
                        (earlier["id"], _now(), file_id),
                    )
                    return str(earlier["id"])
            db.execute("UPDATE files SET state = 'processing', updated_at = ? WHERE id = ?", (_now(), file_id))
        return None

    def plan_deliveries(
        self, file_id: str, deliveries: Sequence[Delivery], postings: Sequence[Any] = (), **counts: Any
    ) -> None:
        """Record the staged outputs and the postings they carry (those spilled to
        ``postings_pending`` and ``postings``, the rest) and move to ``delivering``, in one
        transaction. Raises PostingConflictError when another file posted one of the same
        payment keys since this file's routing read the ledger."""
        now = _now()
        with self.transaction() as db:
            db.executemany(
                _PENDING_INSERT,
                [(file_id, p.payment_key, p.notice_key, p.status, p.amount, p.record) for p in postings],
            )
            forced = db.execute("SELECT forced FROM files WHERE id = ?", (file_id,)).fetchone()["forced"]
            if not forced:
                for clash in db.execute(
                    "SELECT n.payment_key, n.status AS new, p.status AS current, p.file_id FROM postings_pending n"
                    " JOIN postings p ON p.payment_key = n.payment_key WHERE n.file_id = ? AND p.file_id != ?",
                    (file_id, file_id),
                ):
                    if not _may_follow(clash["current"], clash["new"]):
                        raise PostingConflictError(
                            f"payment {clash['payment_key']} became {clash['current']} by file "
                            f"{clash['file_id']} meanwhile"
                        )
            # postings_new: keys in no posting when they were decided; one there now was posted by
            # another file meanwhile (the file is routed again, and decides it knowing that one)
            try:
                db.execute(
                    "INSERT INTO postings (payment_key, notice_key, status, amount, file_id, record, updated_at)"
                    " SELECT payment_key, notice_key, status, amount, file_id, record, ? FROM postings_new"
                    " WHERE file_id = ?",
                    (now, file_id),
                )
            except sqlite3.IntegrityError:
                raise PostingConflictError(
                    "a payment this file posts for the first time was posted by another file meanwhile"
                ) from None
            db.execute("DELETE FROM postings_new WHERE file_id = ?", (file_id,))
            # postings_pending: the newer row of a key decided again
            db.execute(
                "INSERT INTO postings (payment_key, notice_key, status, amount, file_id, record, updated_at)"
                " SELECT payment_key, notice_key, status, amount, file_id, record, ? FROM postings_pending"
                " WHERE file_id = ? ORDER BY rowid ON CONFLICT (payment_key) DO UPDATE SET status = excluded.status,"
                " amount = excluded.amount, file_id = excluded.file_id, record = excluded.record,"
                " updated_at = excluded.updated_at",
                (now, file_id),
            )
            db.execute("DELETE FROM postings_pending WHERE file_id = ?", (file_id,))
            db.execute("DELETE FROM deliveries WHERE file_id = ?", (file_id,))
            for delivery in deliveries:
                db.execute(
                    "INSERT INTO deliveries (file_id, destination, temp_path, path, sha256, records, state, planned_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'planned', ?)",
                    (
                        file_id,
                        delivery.destination,
                        delivery.temp_path,
                        delivery.path,
                        delivery.sha256,
                        delivery.records,
                        now,
                    ),
                )
            self._set(db, file_id, state="delivering", **counts)

    def posting(self, payment_key: str) -> Any:
        row = self.db.execute(
            "SELECT payment_key, notice_key, status, amount, file_id, record FROM postings WHERE payment_key = ?",
            (payment_key,),
        ).fetchone()
        return None if row is None else PostingRow(**dict(row))

    def postings_by_key(self, payment_keys: Sequence[str]) -> dict[str, Any]:
        """The postings of many payment keys at once (absent keys are not in the result)."""
        found: dict[str, Any] = {}
        for start in range(0, len(payment_keys), _IN_CHUNK):
            chunk = list(payment_keys[start : start + _IN_CHUNK])
            rows = self.db.execute(
                "SELECT payment_key, notice_key, status, amount, file_id, record FROM postings WHERE payment_key IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            found.update((row["payment_key"], PostingRow(**dict(row))) for row in rows)
        return found

    def postings_by_notice(self, notice_keys: Sequence[str]) -> dict[str, list[Any]]:
        """The postings of many notices at once, each notice's in the order they were made."""
        found: dict[str, list[Any]] = {}
        unique = list(dict.fromkeys(notice_keys))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            rows = self.db.execute(
                "SELECT payment_key, notice_key, status, amount, file_id, record FROM postings WHERE notice_key IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY updated_at",
                chunk,
            ).fetchall()
            for row in rows:
                found.setdefault(row["notice_key"], []).append(PostingRow(**dict(row)))
        return found

    def spill_postings(self, file_id: str, postings: Sequence[Any]) -> None:
        """Keep decisions of a file being routed in the ledger instead of memory (not posted yet)."""
        self.spill_posting_rows(
            file_id, ((p.payment_key, p.notice_key, p.status, p.amount, p.record) for p in postings)
        )

    def spill_posting_rows(self, file_id: str, rows: Iterable[tuple[str, str, str, int, int]]) -> None:
        """:meth:`spill_postings` of rows given as (payment key, notice key, status, amount, record)."""
        with self.transaction() as db:
            db.executemany(_PENDING_INSERT, ((file_id, *row) for row in rows))

    def spill_new_postings(self, file_id: str, rows: Iterable[tuple[str, str, str, int, int]]) -> None:
        """:meth:`spill_posting_rows` for decisions on keys nothing else bore on (``postings_new``: no index)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO postings_new (file_id, payment_key, notice_key, status, amount, record)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((file_id, *row) for row in rows),
            )

    def posting_matches(
        self,
        file_id: str,
        payment_keys: Sequence[str],
        notice_keys: Sequence[str],
        spilled_keys: Sequence[str] = (),
        spilled_notices: Sequence[str] = (),
    ) -> PostingMatches:
        """What the ledger holds for a batch of payment keys and notices, in one set-based query
        each (the keys are joined to the postings as one JSON array; ``CROSS JOIN`` keeps the
        array the outer loop, so each key is one index look-up), and what this file decided
        for ``spilled_keys`` and ``spilled_notices`` while being routed (``postings_pending``,
        and ``postings_new`` read in one pass; a key's row in ``postings_pending`` is the newer)."""
        columns = "p.payment_key, p.notice_key, p.status, p.amount, p.file_id, p.record"
        found = PostingMatches()
        keys = json.dumps(list(payment_keys))
        for row in self.db.execute(
            f"SELECT {columns} FROM json_each(?) k CROSS JOIN postings p ON p.payment_key = k.value", (keys,)
        ):
            found.by_key[row["payment_key"]] = PostingRow(*row)
        for row in self.db.execute(
            f"SELECT {columns} FROM json_each(?) k CROSS JOIN postings p ON p.notice_key = k.value"
            " ORDER BY p.notice_key, p.updated_at",
            (json.dumps(list(dict.fromkeys(notice_keys))),),
        ):
            found.by_notice.setdefault(row["notice_key"], []).append(PostingRow(*row))
        if not spilled_keys and not spilled_notices:
            return found
        keys, notices = json.dumps(list(spilled_keys)), json.dumps(list(dict.fromkeys(spilled_notices)))
        newer: dict[str, PostingRow] = {}
        for row in self.db.execute(
            f"SELECT {columns} FROM postings_pending p WHERE p.file_id = ?1 AND (p.payment_key IN"
            " (SELECT value FROM json_each(?2)) OR p.notice_key IN (SELECT value FROM json_each(?3)))",
            (file_id, keys, notices),
        ):
            newer[row["payment_key"]] = PostingRow(*row)
        first: dict[str, PostingRow] = {}
        for row in self.db.execute(
            f"SELECT {columns} FROM postings_new p WHERE p.file_id = ?1 AND (p.payment_key IN"
            " (SELECT value FROM json_each(?2)) OR p.notice_key IN (SELECT value FROM json_each(?3))) ORDER BY p.rowid",
            (file_id, keys, notices),
        ):
            first.setdefault(row["payment_key"], PostingRow(*row))
        wanted = set(spilled_keys)
        for row in [*first.values(), *newer.values()]:
            if row.payment_key in newer and newer[row.payment_key] is not row:
                continue  # the older decision on a key decided again
            if row.payment_key in wanted:
                found.pending_by_key[row.payment_key] = row
            if row.status == "confirmed":
                found.pending_by_notice.setdefault(row.notice_key, []).append(row)
        return found

    def discard_pending_postings(self, file_id: str) -> None:
        """Forget the spilled decisions of a file whose routing starts again (or failed)."""
        with self.transaction() as db:
            db.execute("DELETE FROM postings_pending WHERE file_id = ?", (file_id,))
            db.execute("DELETE FROM postings_new WHERE file_id = ?", (file_id,))

    def pending_posting(self, file_id: str, payment_key: str) -> Any:
        row = self.db.execute(
            "SELECT payment_key, notice_key, status, amount, file_id, record FROM postings_pending"
            " WHERE file_id = ? AND payment_key = ?",
            (file_id, payment_key),
        ).fetchone()
        return None if row is None else PostingRow(**dict(row))

    def pending_postings_for_notice(self, file_id: str, notice_key: str) -> list[Any]:
        rows = self.db.execute(
            "SELECT payment_key, notice_key, status, amount, file_id, record FROM postings_pending"
            " WHERE file_id = ? AND notice_key = ? AND status = 'confirmed'",
            (file_id, notice_key),
        ).fetchall()
        return [PostingRow(**dict(row)) for row in rows]

    def postings_for_notice(self, notice_key: str) -> list[Any]:
        rows = self.db.execute(
            "SELECT payment_key, notice_key, status, amount, file_id, record FROM postings"
            " WHERE notice_key = ? ORDER BY updated_at",
            (notice_key,),
        ).fetchall()
        return [PostingRow(**dict(row)) for row in rows]

    def planned_temps(self) -> frozenset[str]:
        """Temporary paths of staged outputs not yet renamed into place (never to be removed)."""
        rows = self.db.execute("SELECT temp_path FROM deliveries WHERE state = 'planned'").fetchall()
        return frozenset(row[0] for row in rows)

    def delivered(self, file_id: str) -> None:
        now = _now()
        with self.transaction() as db:
            db.execute("UPDATE deliveries SET state = 'committed', committed_at = ? WHERE file_id = ?", (now, file_id))
            self._set(db, file_id, state="delivered")

    def deliveries(self, file_id: str) -> list[Delivery]:
        rows = self.db.execute(
            "SELECT destination, temp_path, path, sha256, records, state FROM deliveries WHERE file_id = ?"
            " ORDER BY destination",
            (file_id,),
        ).fetchall()
        return [Delivery(**dict(row)) for row in rows]

    def finish(self, file_id: str, state: str, **fields: Any) -> None:
        if state not in TERMINAL_STATES:
            raise ValueError(f"{state!r} is not a terminal state ({', '.join(TERMINAL_STATES)})")
        self._update(file_id, state=state, finished_at=_now(), owner=None, **fields)

    def update(self, file_id: str, **fields: Any) -> None:
        self._update(file_id, **fields)

    # -- ownership and recovery --------------------------------------------
    def take_over(self, file_id: str) -> bool:
        """Become the owner of an unfinished file whose owner is gone. True if taken."""
        with self.transaction() as db:
            row = db.execute("SELECT owner, state FROM files WHERE id = ?", (file_id,)).fetchone()
            if row is None or row["state"] in TERMINAL_STATES:
                return False
            if row["owner"] == process_token():
                return True
            if owner_alive(row["owner"]):
                return False
            db.execute("UPDATE files SET owner = ?, updated_at = ? WHERE id = ?", (process_token(), _now(), file_id))
            return True

    def unfinished(self) -> list[FileRow]:
        placeholders = ",".join("?" * len(TERMINAL_STATES))
        rows = self.db.execute(
            f"SELECT * FROM files WHERE state NOT IN ({placeholders}) ORDER BY received_at", TERMINAL_STATES
        ).fetchall()
        return [FileRow(**dict(row)) for row in rows]

    # -- reading ------------------------------------------------------------
    def get(self, file_id: str) -> FileRow | None:
        row = self.db.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        return None if row is None else FileRow(**dict(row))

    def find(self, prefix: str) -> FileRow | None:
        """A file by its id or a unique prefix of it."""
        rows = self.db.execute(
            "SELECT * FROM files WHERE id LIKE ? ORDER BY received_at LIMIT 2", (prefix.replace("%", "") + "%",)
        ).fetchall()
        return FileRow(**dict(rows[0])) if len(rows) == 1 else None

    def reprocesses_of(self, file_id: str) -> list[FileRow]:
        """The files that reprocessed or replaced this one (``reprocess_of``), oldest first."""
        rows = self.db.execute("SELECT * FROM files WHERE reprocess_of = ? ORDER BY received_at", (file_id,)).fetchall()
        return [FileRow(**dict(row)) for row in rows]

    @staticmethod
    def _files_where(
        state: str | None, channel: str | None, received: tuple[dt.datetime, dt.datetime] | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if received is not None:
            clauses.append("received_at >= ? AND received_at < ?")
            params += [moment.astimezone(dt.UTC).isoformat(timespec="milliseconds") for moment in received]
        if state:
            clauses.append("state = ?")
            params.append(state)
        if channel:
            clauses.append("channel = ?")
            params.append(channel)
        return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params

    def recent(
        self,
        limit: int = 50,
        *,
        state: str | None = None,
        channel: str | None = None,
        received: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> list[FileRow]:
        """The newest files, optionally of one state, one channel, received in [start, end)."""
        where, params = self._files_where(state, channel, received)
        rows = self.db.execute(
            f"SELECT * FROM files {where} ORDER BY received_at DESC, id DESC LIMIT ?", (*params, limit)
        ).fetchall()
        return [FileRow(**dict(row)) for row in rows]

    def counts(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        received: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> dict[tuple[str, str], int]:
        """How many files of each (channel, state), with the same filters as :meth:`recent` (all of them)."""
        where, params = self._files_where(state, channel, received)
        return {
            (row[0], row[1]): row[2]
            for row in self.db.execute(
                f"SELECT channel, state, COUNT(*) FROM files {where} GROUP BY channel, state", params
            )
        }

    # -- helpers ------------------------------------------------------------
    def _update(self, file_id: str, **fields: Any) -> None:
        with self.transaction() as db:
            self._set(db, file_id, **fields)

    @staticmethod
    def _set(db: sqlite3.Connection, file_id: str, **fields: Any) -> None:
        if not fields:
            return
        fields["updated_at"] = _now()
        columns = ", ".join(f"{name} = ?" for name in fields)
        cursor = db.execute(f"UPDATE files SET {columns} WHERE id = ?", (*fields.values(), file_id))
        if cursor.rowcount != 1:
            raise KeyError(f"no file {file_id} in the ledger")
