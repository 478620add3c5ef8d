"""The ``[console]`` table of the configuration: where the operators' web console listens and
how it guards its sessions."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["LOOPBACK_NAMES", "ConsoleConfig"]

#: The names of this machine's loopback address, always allowed in the Host header by default:
#: a page of another site cannot make a browser send them (DNS rebinding sends the site's own name).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _host_name(value: str) -> str:
    """A Host header name as Starlette's TrustedHostMiddleware compares it: lower case, an IPv6
    address in brackets."""
    name = value.strip().lower()
    try:
        if ipaddress.ip_address(name.strip("[]")).version == 6:
            return f"[{name.strip('[]')}]"
    except ValueError:
        pass
    return name


class ConsoleConfig(BaseModel):
    """Settings of `gateway console` (docs/console.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="address to listen on; keep the loopback address unless a TLS proxy is in front",
    )
    port: int = Field(default=8300, ge=1, le=65535, description="TCP port")
    hosts: tuple[str, ...] | None = Field(
        default=None,
        description="the names the console answers to in the Host header (a request naming another gets 400: "
        "DNS rebinding); by default 127.0.0.1, localhost, [::1] and `host` (unless it is 0.0.0.0 or ::). "
        "A list replaces the default: name every address or DNS name browsers use, e.g. the TLS "
        "proxy's; '*.example.jp' allows the subdomains of example.jp",
    )
    secure_cookies: bool = Field(
        default=True,
        description="mark the session cookie Secure: browsers then send it only over HTTPS or to the loopback "
        "address (http://127.0.0.1 and http://localhost count as secure); set false only for plain "
        "HTTP on another address, which is not recommended",
    )
    session_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="a session ends after this many minutes without a request"
    )
    lockout_attempts: int = Field(default=5, ge=1, le=100, description="failed logins in a row that lock an account")
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60, description="how long a locked account stays locked")
    with_run: bool = Field(
        default=False, description="also serve the console inside `gateway run` (in a thread of its own)"
    )

    @field_validator("hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        names = []
        for given in value:
            name = _host_name(given)
            if not name:
                raise ValueError("a host name cannot be empty")
            if name == "*" or "*" in name[1:] or (name.startswith("*") and not name.startswith("*.")):
                raise ValueError(
                    f"{given!r}: only a leading '*.' is allowed (as in '*.example.jp'), "
                    "not '*' alone: list the names instead"
                )
            ipv6 = name.startswith("[") and _host_name(name[1:-1]) == name  # '[::1]'
            plain = not any(ch.isspace() or ch in ":/\\@?#[]" for ch in name)
            if not (ipv6 or plain):
                raise ValueError(f"{given!r}: a host name only (no port, scheme or path)")
            names.append(name)
        if not names:
            raise ValueError("at least one name (an empty list would refuse every request)")
        return tuple(dict.fromkeys(names))

    def allowed_hosts(self, listen: str | None = None) -> list[str]:
        """The names allowed in the Host header when listening on ``listen`` (``host`` by default):
        ``hosts`` when configured, else the loopback names and the address listened on."""
        if self.hosts is not None:
            return list(self.hosts)
        address = _host_name(listen or self.host)
        names = list(LOOPBACK_NAMES)
        if address not in ("0.0.0.0", "[::]"):
            names.append(address)
        return list(dict.fromkeys(names))
