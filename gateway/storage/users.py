"""The console's local users and sessions, in two tables of their own in the ledger's SQLite file.

``console_users``
    one row per user: name, role (``operator`` reads, ``supervisor`` also acts), the
    argon2id hash of the password (argon2-cffi; the password itself is never stored or
    printed), whether the account is disabled, and the lockout state: failed logins in a
    row and, once they reach the limit, the time until which the account stays locked.
    Kept in the database, a lock survives a restart of the console.
``console_sessions``
    one row per browser session: an HMAC of the session token (the cookie carries the
    token, signed; the database never holds a usable token), the user (none before login),
    the session's CSRF token, a pending flash message and when the session expires (each
    request pushes the expiry forward by the configured idle time).

Times are ISO-8601 UTC text, as in the ledger. Every decision takes its time from the
store's ``clock``, so tests can move time forward.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from formats.checkdigits import find_my_numbers
from gateway.storage.db import create_schema, table_names
from gateway.storage.ledger import Ledger

__all__ = [
    "LoginOutcome",
    "LoginResult",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "Session",
    "User",
    "UserError",
    "UserStore",
    "new_token",
    "utc_now",
]

ROLES = ("operator", "supervisor")
ROLE_JA = {"operator": "担当者", "supervisor": "監督者"}
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (
    name            TEXT PRIMARY KEY,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_login_at   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    token_hmac  TEXT PRIMARY KEY,
    username    TEXT,
    csrf_token  TEXT NOT NULL,
    flash       TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_expires ON console_sessions (expires_at);
"""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def new_token() -> str:
    """A random URL-safe token that no masking filter would ever mistake for an individual number."""
    while True:
        token = secrets.token_urlsafe(32)
        if not find_my_numbers(token):
            return token


class UserError(ValueError):
    """Raised for a user name, role or password the store refuses, or a user that does not exist."""


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_PASSWORD = "bad-password"
    UNKNOWN_USER = "unknown-user"
    DISABLED = "disabled"
    LOCKED = "locked"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    failed_logins: int
    locked_until: str | None
    last_login_at: str | None
    created_at: str

    @property
    def role_ja(self) -> str:
        return ROLE_JA.get(self.role, self.role)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def locked_at(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and dt.datetime.fromisoformat(self.locked_until) > now


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    #: the account has just become locked by this failure
    locked_now: bool = False


@dataclass(frozen=True)
class Session:
    token_hmac: str
    username: str | None
    csrf_token: str
    flash: str | None
    expires_at: str


class UserStore:
    """Users and sessions of the console, over the ledger's connection (one per thread)."""

    def __init__(
        self, ledger: Ledger, *, clock: Callable[[], dt.datetime] = utc_now, hasher: PasswordHasher | None = None
    ) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        if not {"console_users", "console_sessions"} <= table_names(self.db):
            # first use of this ledger by the console (not on every request: a write lock)
            create_schema(self.db, SCHEMA)

    # -- users ------------------------------------------------------------------------------
    @staticmethod
    def check_name(name: str) -> str:
        if not _NAME.fullmatch(name):
            raise UserError(
                f"user name {name!r}: 1 to 64 letters, digits, '.', '_', '@' or '-' expected, "
                "starting with a letter or digit"
            )
        return name

    @staticmethod
    def check_role(role: str) -> str:
        if role not in ROLES:
            raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        return role

    @staticmethod
    def check_password(password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters expected")
        if password != password.strip() or any(ord(ch) < 0x20 for ch in password):
            raise UserError("the password must not begin or end with spaces or hold control characters")
        return password

    def get(self, name: str) -> User | None:
        row = self.db.execute(
            "SELECT name, role, disabled, failed_logins, locked_until, last_login_at, created_at"
            " FROM console_users WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        return User(
            row["name"],
            row["role"],
            bool(row["disabled"]),
            row["failed_logins"],
            row["locked_until"],
            row["last_login_at"],
            row["created_at"],
        )

    def list(self) -> list[User]:
        names = [row[0] for row in self.db.execute("SELECT name FROM console_users ORDER BY name")]
        return [user for user in map(self.get, names) if user is not None]

    def add(self, name: str, role: str, password: str) -> User:
        """A new enabled user; UserError when the name is taken or anything is refused."""
        self.check_name(name)
        self.check_role(role)
        digest = self.hasher.hash(self.check_password(password))
        now = _text(self.clock())
        try:
            with self.ledger.transaction() as db:
                db.execute(
                    "INSERT INTO console_users (name, role, password_hash, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, role, digest, now, now),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} already exists (change the password with `gateway users passwd`)") from None
        user = self.get(name)
        assert user is not None
        return user

    def set_password(self, name: str, password: str) -> None:
        """A new password; clears the lockout and ends the user's sessions."""
        digest = self.hasher.hash(self.check_password(password))
        with self.ledger.transaction() as db:
            cursor = db.execute(
                "UPDATE console_users SET password_hash = ?, failed_logins = 0, locked_until = NULL,"
                " updated_at = ? WHERE name = ?",
                (digest, _text(self.clock()), name),
            )
            if cursor.rowcount != 1:
                raise UserError(f"no user {name!r} (see `gateway users list`)")
            db.execute("DELETE FROM console_sessions WHERE username = ?", (name,))

    def disable(self, name: str) -> None:
        """The user can no longer log in; their sessions end at once."""
        with self.ledger.transaction() as db:
            cursor = db.execute(
                "UPDATE console_users SET disabled = 1, updated_at = ? WHERE name = ?", (_text(self.clock()), name)
            )
            if cursor.rowcount != 1:
                raise UserError(f"no user {name!r} (see `gateway users list`)")
            db.execute("DELETE FROM console_sessions WHERE username = ?", (name,))

    # -- login and lockout -------------------------------------------------------------------
    def authenticate(self, name: str, password: str, *, attempts: int, lock_minutes: int) -> LoginResult:
        """Check a login. ``attempts`` failures in a row lock the account for ``lock_minutes``;
        a locked account refuses even the right password until the time has passed.

        The attempt is counted (and the lock set) *before* the slow password check, in one
        transaction with the lock check: logins sent in parallel get no more guesses than
        ``attempts``. A right password then clears the count."""
        now = self.clock()
        with self.ledger.transaction() as db:
            row = db.execute(
                "SELECT password_hash, failed_logins, locked_until FROM console_users WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                locked_until = dt.datetime.fromisoformat(row["locked_until"]) if row["locked_until"] else None
                if locked_until is not None and locked_until > now:
                    locked = True
                else:
                    locked = False
                    failures = 1 if locked_until is not None else row["failed_logins"] + 1  # a lock ran out: anew
                    lock = _text(now + dt.timedelta(minutes=lock_minutes)) if failures >= attempts else None
                    db.execute(
                        "UPDATE console_users SET failed_logins = ?, locked_until = ?, updated_at = ? WHERE name = ?",
                        (failures, lock, _text(now), name),
                    )
        user = self.get(name)
        if row is None or user is None:
            self._burn(password)  # as slow as a real check: no telling which names exist
            return LoginResult(LoginOutcome.UNKNOWN_USER)
        if locked:
            return LoginResult(LoginOutcome.LOCKED, user)
        try:
            self.hasher.verify(row["password_hash"], password)
            matched = True
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            matched = False
        if user.disabled:
            return LoginResult(LoginOutcome.DISABLED, user)
        if not matched:
            return LoginResult(LoginOutcome.BAD_PASSWORD, user, locked_now=lock is not None)
        with self.ledger.transaction() as db:
            db.execute(
                "UPDATE console_users SET failed_logins = 0, locked_until = NULL, last_login_at = ?,"
                " updated_at = ? WHERE name = ?",
                (_text(now), _text(now), name),
            )
            if self.hasher.check_needs_rehash(row["password_hash"]):
                db.execute(
                    "UPDATE console_users SET password_hash = ? WHERE name = ?", (self.hasher.hash(password), name)
                )
        return LoginResult(LoginOutcome.OK, self.get(name))

    _DUMMY: str | None = None

    def _burn(self, password: str) -> None:
        if UserStore._DUMMY is None:
            UserStore._DUMMY = self.hasher.hash(secrets.token_hex(16))
        try:
            self.hasher.verify(UserStore._DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass

    # -- sessions -----------------------------------------------------------------------------
    @staticmethod
    def token_hmac(secret: bytes, token: str) -> str:
        return hmac.new(secret, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def open_session(self, secret: bytes, *, username: str | None, minutes: int) -> tuple[str, Session]:
        """A new session (before or after login): its token for the cookie, and its row."""
        token = new_token()
        now = self.clock()
        session = Session(
            self.token_hmac(secret, token), username, new_token(), None, _text(now + dt.timedelta(minutes=minutes))
        )
        with self.ledger.transaction() as db:
            db.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (_text(now),))
            db.execute(
                "INSERT INTO console_sessions (token_hmac, username, csrf_token, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (session.token_hmac, username, session.csrf_token, _text(now), session.expires_at),
            )
        return token, session

    def session(self, secret: bytes, token: str, *, minutes: int) -> Session | None:
        """The live session of a token, its expiry pushed forward; None when unknown or expired."""
        now = self.clock()
        key = self.token_hmac(secret, token)
        row = self.db.execute(
            "SELECT token_hmac, username, csrf_token, flash, expires_at FROM console_sessions WHERE token_hmac = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        if dt.datetime.fromisoformat(row["expires_at"]) <= now:
            self.close_session(key)
            return None
        expires = _text(now + dt.timedelta(minutes=minutes))
        with self.ledger.transaction() as db:
            db.execute("UPDATE console_sessions SET expires_at = ? WHERE token_hmac = ?", (expires, key))
        return Session(row["token_hmac"], row["username"], row["csrf_token"], row["flash"], expires)

    def close_session(self, token_hmac: str) -> None:
        with self.ledger.transaction() as db:
            db.execute("DELETE FROM console_sessions WHERE token_hmac = ?", (token_hmac,))

    def set_flash(self, token_hmac: str, message: str | None) -> None:
        with self.ledger.transaction() as db:
            db.execute("UPDATE console_sessions SET flash = ? WHERE token_hmac = ?", (message, token_hmac))
