"""Sessions of the console: the secret, the signed session cookie, CSRF tokens.

- The **secret** is 32 random bytes generated on first start into ``console-secret``
  next to the ledger (mode 0600, created with ``O_EXCL`` so two starts never write two);
  it is never in the configuration. It signs the cookie and keys the HMAC under which
  session tokens are stored.
- The **cookie** ``gateway_console`` carries a random session token signed with
  itsdangerous; it is ``HttpOnly``, ``SameSite=Strict``, ``Path=/`` and ``Secure`` unless
  the configuration says otherwise (``[console] secure_cookies``). It has no
  ``Max-Age``: the session ends when the browser closes or after ``session_minutes``
  without a request, whichever comes first (the server decides, see users.py).
- Each session has its own **CSRF token**, sent back in the hidden field ``csrf_token``
  of every form; every state-changing request (login and logout included) is refused
  without it. A login replaces the session (and its token): no fixation.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Literal, TypedDict

from itsdangerous import BadSignature, Signer

__all__ = ["COOKIE", "SessionCookie", "load_secret", "same_token"]

COOKIE = "gateway_console"
SECRET_FILE = "console-secret"


class CookieAttributes(TypedDict):
    """The session cookie's attributes, as Starlette's set_cookie and delete_cookie take them."""

    httponly: bool
    samesite: Literal["lax", "strict", "none"]
    secure: bool
    path: str


def load_secret(folder: Path) -> bytes:
    """The console's secret from ``folder/console-secret``, generated (0600) when missing."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise ValueError(f"{path}: the console secret is too short; delete the file to have a new one generated")
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return bytes.fromhex(text) if all(ch in "0123456789abcdef" for ch in text) else text.encode()


class SessionCookie:
    """Signs and reads the session cookie."""

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        self.signer = Signer(secret, salt="gateway-console-session")
        self.secure = secure

    def dump(self, token: str) -> str:
        return self.signer.sign(token).decode("ascii")

    def load(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return self.signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeError):
            return None

    def attributes(self) -> CookieAttributes:
        return CookieAttributes(httponly=True, samesite="strict", secure=self.secure, path="/")


def same_token(expected: str | None, given: object) -> bool:
    """Whether a submitted CSRF token is the session's (constant-time)."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
