"""`gateway console [--config PATH] [--spool DIR] [--host H] [--port N]`: the operators' web console.

Serves the console (gateway/entrypoints/console/, docs/console.md) with uvicorn until Ctrl-C, on
``[console] host`` and ``port`` (127.0.0.1:8300 by default: only this machine). Users are
managed with `gateway users`.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer
from rich.console import Console

from formats.masking import safe_text
from gateway.entrypoints.commands.options import ConfigOption, SpoolOption, load
from gateway.entrypoints.commands.output import shown

__all__ = ["console_command", "register"]

errors = Console(stderr=True)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def console_command(
    config: ConfigOption = None,
    spool: SpoolOption = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default [console] host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port (default [console] port, 8300).")
    ] = None,
) -> None:
    """Serve the operators' web console (files, reports, quarantine, endpoints, audit log) until Ctrl-C."""
    import uvicorn

    from gateway.entrypoints.console.app import create_app

    settings = load(config, spool)
    host = host or settings.console.host
    port = port or settings.console.port
    settings.spool.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    app = create_app(settings, listen=host)
    if not _loopback(host):
        errors.print(
            f"[yellow]warning:[/yellow] listening on {shown(host)}, not only on this machine. "
            "Put a TLS proxy in front: "
            + (
                "browsers send the session cookie (Secure) only over HTTPS."
                if settings.console.secure_cookies
                else "secure_cookies = false sends the session cookie over plain HTTP."
            )
            + f" Host names answered ([console] hosts): {shown(', '.join(settings.console.allowed_hosts(host)))}."
        )
    address = f"[{host}]" if ":" in host else host
    typer.echo(f"gateway console: http://{safe_text(address)}:{port}/ (Ctrl-C to stop; users: `gateway users list`)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, proxy_headers=False)


def register(app: typer.Typer) -> None:
    """Add `console` to the `gateway` command line."""
    app.command("console")(console_command)
