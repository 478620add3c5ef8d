"""The ``[console]`` table of the configuration: where the operators' web console listens and
how it guards its sessions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConsoleConfig"]


class ConsoleConfig(BaseModel):
    """Settings of `gateway console` (docs/console.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", min_length=1,
                      description="address to listen on; keep the loopback address unless a TLS proxy is in front")
    port: int = Field(default=8300, ge=1, le=65535, description="TCP port")
    secure_cookies: bool = Field(
        default=True,
        description="mark the session cookie Secure: browsers then send it only over HTTPS or to the loopback "
                    "address (http://127.0.0.1 and http://localhost count as secure); set false only for plain "
                    "HTTP on another address, which is not recommended")
    session_minutes: int = Field(default=30, ge=1, le=24 * 60,
                                 description="a session ends after this many minutes without a request")
    lockout_attempts: int = Field(default=5, ge=1, le=100,
                                  description="failed logins in a row that lock an account")
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60, description="how long a locked account stays locked")
    with_run: bool = Field(default=False,
                           description="also serve the console inside `gateway run` (in a thread of its own)")
