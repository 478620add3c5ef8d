"""What every command that works on a spool shares: the ``--config`` and ``--spool`` options
and loading the settings they name (a configuration error exits 2 with its message)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from gateway.config.settings import Settings

__all__ = ["ConfigOption", "SpoolOption", "load"]

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration file (TOML); the embedded default when omitted.")
]
SpoolOption = Annotated[Path | None, typer.Option("--spool", help="Spool root folder, overriding the configuration.")]


def load(config: Path | None, spool: Path | None) -> Settings:
    """The settings (exit 2 with the configuration's error: key, value, what was expected)."""
    from gateway.config.settings import ConfigError, load_settings

    try:
        return load_settings(config, spool_root=spool)
    except ConfigError as error:
        from gateway.entrypoints.commands.output import shown_lines

        Console(stderr=True).print(shown_lines(error))
        raise typer.Exit(2) from None
