"""The erasures of retention in the ledger: every SQL statement a purge runs.

gateway.datapath.retention decides what is due and removes the files; this module reads
what may be due and clears or marks the rows, each clearing in one transaction that checks
the decision again (another purge may have been first).

Where the marks are kept: ``deliveries.erased_at`` (a column added with ``ALTER TABLE``
when missing) and a table :data:`ERASURES_TABLE` (``file_id``, ``erased_at``,
``reports_erased_at``) for files. Files get a table of their own, not an ``erased_at``
column, because :class:`gateway.storage.ledger.FileRow` is built from ``SELECT *``: a column it
does not declare would make every ``Ledger.get``/``recent``/``unfinished`` call fail.

A writable store's connection uses ``PRAGMA secure_delete`` (cleared text is overwritten,
not left in free pages), and :meth:`Erasures.checkpoint` moves the write-ahead log into the
database and truncates it, so the cleared text does not linger in the SQLite files.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.storage.db import columns, read_only, table_names, transaction
from gateway.storage.ledger import Ledger
from spool.states import TERMINAL_STATES

__all__ = ["CLEARED_COLUMNS", "ERASED_NAME", "ERASURES_TABLE", "Erasures"]

#: What an erased file's ``original_name`` (and its name-bearing paths) become.
ERASED_NAME = "(消去済)"

#: The ledger table that records each file's erasure.
ERASURES_TABLE = "erasures"

#: The columns of ``files`` an erasure clears: the first three become :data:`ERASED_NAME`, the rest NULL.
CLEARED_COLUMNS = (
    "original_name",
    "inbox_path",
    "work_path",
    "final_path",
    "report_json",
    "report_csv",
    "report_html",
    "reason",
    "flags",
)

_ERASURES_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {ERASURES_TABLE} (
    file_id           TEXT PRIMARY KEY REFERENCES files (id),
    reports_erased_at TEXT,
    erased_at         TEXT
)"""

_TERMINAL = ",".join("?" * len(TERMINAL_STATES))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Erasures:
    """A purge's reads and writes of the ledger, on one connection (read-only for a dry run).

    Rows are returned as plain dicts of column name to value."""

    def __init__(self, db: sqlite3.Connection, *, writable: bool) -> None:
        self.db = db
        self.writable = writable
        self.has_erasures = ERASURES_TABLE in table_names(db)
        self.has_delivery_mark = "erased_at" in columns(db, "deliveries")

    @classmethod
    @contextmanager
    def open(cls, path: Path, *, dry_run: bool = False) -> Iterator[Erasures]:
        """The store of the ledger at ``path`` (which exists): read-only for a dry run; else the
        ledger's own connection, with ``secure_delete`` on and the erasure marks added."""
        if dry_run:
            with read_only(path) as db:
                yield cls(db, writable=False)
            return
        with Ledger(path) as ledger:
            ledger.db.execute("PRAGMA secure_delete = ON")  # cleared text is overwritten, not left free
            cls._ensure_schema(ledger.db)
            yield cls(ledger.db, writable=True)

    @staticmethod
    def _ensure_schema(db: sqlite3.Connection) -> None:
        """Add the erasure marks to the ledger, idempotently (one transaction: two processes may race)."""
        with transaction(db):
            db.execute(_ERASURES_SCHEMA)
            if "erased_at" not in columns(db, "deliveries"):
                db.execute("ALTER TABLE deliveries ADD COLUMN erased_at TEXT")

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database and truncate it (the earlier page images,
        with the cleared text, leave it)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- files -------------------------------------------------------------------
    def finished_files(self) -> list[dict[str, Any]]:
        """Every file in a terminal state whose input is not erased yet (``files`` rows), the
        earliest finished first."""
        if self.has_erasures:
            sql = (
                f"SELECT f.* FROM files f LEFT JOIN {ERASURES_TABLE} e ON e.file_id = f.id"
                f" WHERE f.state IN ({_TERMINAL}) AND e.erased_at IS NULL ORDER BY f.finished_at, f.id"
            )
        else:
            sql = f"SELECT f.* FROM files f WHERE f.state IN ({_TERMINAL}) ORDER BY f.finished_at, f.id"
        return [dict(row) for row in self.db.execute(sql, TERMINAL_STATES).fetchall()]

    def clear_file(self, file_id: str, stamp: str) -> bool:
        """Clear the file's personal data (:data:`CLEARED_COLUMNS`) and mark it erased at ``stamp``,
        in one transaction; False (nothing changed) when the row is no longer in a terminal
        state or another purge erased it first."""
        with transaction(self.db) as db:
            current = db.execute(
                f"SELECT f.state, e.erased_at FROM files f LEFT JOIN {ERASURES_TABLE} e ON e.file_id = f.id"
                " WHERE f.id = ?",
                (file_id,),
            ).fetchone()
            if current is None or current["state"] not in TERMINAL_STATES or current["erased_at"]:
                return False
            db.execute(
                "UPDATE files SET original_name = ?, inbox_path = ?, work_path = ?, final_path = NULL,"
                " report_json = NULL, report_csv = NULL, report_html = NULL, reason = NULL, flags = NULL,"
                " updated_at = ? WHERE id = ?",
                (ERASED_NAME, ERASED_NAME, ERASED_NAME, _now(), file_id),
            )
            db.execute(
                f"INSERT INTO {ERASURES_TABLE} (file_id, reports_erased_at, erased_at) VALUES (?, ?, ?)"
                " ON CONFLICT (file_id) DO UPDATE SET erased_at = excluded.erased_at,"
                " reports_erased_at = COALESCE(reports_erased_at, excluded.reports_erased_at)",
                (file_id, stamp, stamp),
            )
        return True

    def clear_reports(self, file_id: str, stamp: str) -> bool:
        """Clear the file's report paths and mark its reports erased at ``stamp``, in one
        transaction; False (nothing changed) when the row is no longer in a terminal state or
        has no report path left (another purge was first)."""
        with transaction(self.db) as db:
            current = db.execute(
                "SELECT state, report_json, report_csv, report_html FROM files WHERE id = ?", (file_id,)
            ).fetchone()
            if (
                current is None
                or current["state"] not in TERMINAL_STATES
                or not any(current[name] for name in ("report_json", "report_csv", "report_html"))
            ):
                return False
            db.execute(
                "UPDATE files SET report_json = NULL, report_csv = NULL, report_html = NULL,"
                " updated_at = ? WHERE id = ?",
                (_now(), file_id),
            )
            db.execute(
                f"INSERT INTO {ERASURES_TABLE} (file_id, reports_erased_at) VALUES (?, ?)"
                " ON CONFLICT (file_id) DO UPDATE SET reports_erased_at = excluded.reports_erased_at",
                (file_id, stamp),
            )
        return True

    # -- outputs -----------------------------------------------------------------
    def committed_outputs(self) -> list[dict[str, Any]]:
        """The committed deliveries of files in a terminal state not erased yet (``file_id``,
        ``destination``, ``path``, ``sha256``, ``committed_at``), the earliest committed first."""
        unmarked = " AND d.erased_at IS NULL" if self.has_delivery_mark else ""
        rows = self.db.execute(
            "SELECT d.file_id, d.destination, d.path, d.sha256, d.committed_at FROM deliveries d"
            f" JOIN files f ON f.id = d.file_id WHERE d.state = 'committed' AND f.state IN ({_TERMINAL}){unmarked}"
            " ORDER BY d.committed_at, d.file_id, d.destination",
            TERMINAL_STATES,
        ).fetchall()
        return [dict(row) for row in rows]

    def not_pushed(self, endpoints: Sequence[str], sha256: str) -> list[str]:
        """The endpoints among ``endpoints`` with no record of pushing this content
        (``remote_pushes`` of gateway.storage.transfers; all of them when that table is missing)."""
        if "remote_pushes" not in table_names(self.db):
            return list(endpoints)
        return [
            name
            for name in endpoints
            if self.db.execute(
                "SELECT 1 FROM remote_pushes WHERE endpoint = ? AND sha256 = ?", (name, sha256)
            ).fetchone()
            is None
        ]

    def mark_output_erased(self, file_id: str, destination: str, stamp: str) -> bool:
        """Mark the delivery erased at ``stamp``; False when another purge marked it first."""
        with transaction(self.db) as db:
            cursor = db.execute(
                "UPDATE deliveries SET erased_at = ? WHERE file_id = ? AND destination = ? AND erased_at IS NULL",
                (stamp, file_id, destination),
            )
            return cursor.rowcount == 1
