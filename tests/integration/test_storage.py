"""The storage package: the one writer of SQL, and its connection / transaction / retry helper."""

from __future__ import annotations

import ast
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from gateway.storage import db

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "gateway" / "storage"
EXECUTE = {"execute", "executemany", "executescript"}


# -- the rule: only gateway/storage writes SQL ------------------------------------------------


def _sql_uses(source: str, filename: str = "<source>") -> list[str]:
    """Where a module imports sqlite3 or calls .execute/.executemany/.executescript."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "sqlite3"
            ]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] == "sqlite3":
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTE:
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"__import__", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "sqlite3"
        ):
            found.append(f"line {node.lineno}: {node.func.id}('sqlite3')")
    return sorted(found, key=lambda use: int(use.split()[1].rstrip(":")))


def test_only_the_storage_package_writes_sql():
    modules = [path for folder in ("gateway", "adapters") for path in sorted((ROOT / folder).rglob("*.py"))]
    assert any(path.is_relative_to(STORAGE) for path in modules)  # the walk sees the tree
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in modules
        if not path.is_relative_to(STORAGE) and (uses := _sql_uses(path.read_text(encoding="utf-8"), str(path)))
    }
    assert offenders == {}, "SQL outside gateway/storage: make it a method of a store in gateway/storage"


def test_the_rule_sees_what_it_forbids():
    sample = (
        "import sqlite3\nfrom sqlite3 import Row\n"
        "def f(db, rows):\n    db.execute('SELECT 1')\n    db.executemany('x', rows)\n"
        "    db.cursor().executescript('x')\n    __import__('sqlite3')\n"
    )
    assert [use.split(":")[0] for use in _sql_uses(sample)] == [f"line {n}" for n in (1, 2, 4, 5, 6, 7)]
    assert _sql_uses("from gateway.storage.ledger import Ledger\nLedger(path).get('x')\n") == []


# -- the helper -------------------------------------------------------------------------------


@pytest.fixture
def ledger_file(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with closing(db.connect(path)) as first:
        db.create_schema(first, "CREATE TABLE IF NOT EXISTS t (who TEXT NOT NULL)")
    return path


def _hold_write_lock(path: Path, held: threading.Event, seconds: float) -> threading.Thread:
    """Another connection (another thread) holding a write transaction for ``seconds``."""

    def run() -> None:
        with closing(db.connect(path)) as other, db.transaction(other):
            other.execute("INSERT INTO t (who) VALUES ('first')")
            held.set()
            time.sleep(seconds)

    thread = threading.Thread(target=run)
    thread.start()
    assert held.wait(10)
    return thread


def test_connect_opens_the_ledger_the_one_way(ledger_file):
    with closing(db.connect(ledger_file)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == int(db.BUSY_TIMEOUT * 1000)
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.isolation_level is None
        assert isinstance(conn.execute("SELECT 1 AS one").fetchone(), sqlite3.Row)
    assert ledger_file.stat().st_mode & 0o777 == 0o600
    with closing(sqlite3.connect(ledger_file)) as plain:
        assert db.table_names(plain) == {"t"}


def test_a_transaction_waits_for_another_connections_write_lock(ledger_file):
    held = threading.Event()
    thread = _hold_write_lock(ledger_file, held, 0.5)
    with closing(db.connect(ledger_file)) as conn:
        started = time.monotonic()
        with db.transaction(conn):
            conn.execute("INSERT INTO t (who) VALUES ('second')")
        waited = time.monotonic() - started
        thread.join()
        assert waited >= 0.2
        assert [row[0] for row in conn.execute("SELECT who FROM t ORDER BY rowid")] == ["first", "second"]


def test_a_transaction_retries_a_lock_the_busy_handler_does_not_wait_for(ledger_file):
    """SQLite may answer "database is locked" at once (no busy handler: here busy_timeout=0, as
    for a journal-mode change): the helper tries again until the lock is released."""
    held = threading.Event()
    thread = _hold_write_lock(ledger_file, held, 0.5)
    with closing(db.connect(ledger_file)) as conn:
        conn.execute("PRAGMA busy_timeout=0")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            conn.execute("BEGIN IMMEDIATE")  # without the helper: refused at once
        with db.transaction(conn):
            conn.execute("INSERT INTO t (who) VALUES ('second')")
        thread.join()
        assert [row[0] for row in conn.execute("SELECT who FROM t ORDER BY rowid")] == ["first", "second"]


def test_a_transaction_rolls_back_on_an_exception(ledger_file):
    with closing(db.connect(ledger_file)) as conn:
        with pytest.raises(RuntimeError), db.transaction(conn):
            conn.execute("INSERT INTO t (who) VALUES ('lost')")
            raise RuntimeError("boom")
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
        assert not conn.in_transaction


def test_the_retry_gives_up_after_its_time_and_never_retries_other_errors():
    calls = []

    def locked() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.retry_locked(locked, seconds=0.2)
    assert 0.2 <= time.monotonic() - started < 5 and len(calls) > 1

    def broken() -> None:
        calls.append(2)
        raise sqlite3.OperationalError("no such table: nowhere")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        db.retry_locked(broken)
    assert calls.count(2) == 1


def test_read_only_cannot_change_the_ledger(ledger_file):
    with db.read_only(ledger_file) as conn:
        assert db.table_names(conn) == {"t"}
        assert db.columns(conn, "t") == {"who"}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("INSERT INTO t (who) VALUES ('nope')")
