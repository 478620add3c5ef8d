"""What the commands share: the ``--config`` and ``--spool`` options and loading the
settings they name (a configuration error exits 2 with its message), and printing with
every individual number masked: JSON (:func:`print_json`), and values in tables and
messages (:func:`masked_text`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from formats.checkdigits import mask_my_numbers, mask_my_numbers_in

if TYPE_CHECKING:
    from gateway.settings import Settings

__all__ = ["ConfigOption", "SpoolOption", "load", "masked_text", "print_json"]

ConfigOption = Annotated[Optional[Path], typer.Option("--config", "-c", help="Configuration file (TOML); the embedded default when omitted.")]
SpoolOption = Annotated[Optional[Path], typer.Option("--spool", help="Spool root folder, overriding the configuration.")]


def print_json(data: object) -> None:
    """``data`` as indented UTF-8 JSON on stdout, every string in it (keys too) passed through
    formats.checkdigits.mask_my_numbers: no individual number leaves the gateway in a
    command's JSON, whatever field it hid in (a file name, a value found in a filler …)."""
    sys.stdout.write(json.dumps(mask_my_numbers_in(data), ensure_ascii=False, indent=2) + "\n")


def masked_text(value: object) -> str:
    """A value for a rich table or message: individual numbers masked, markup escaped."""
    return escape(mask_my_numbers(str(value)))


def load(config: Path | None, spool: Path | None) -> Settings:
    """The settings (exit 2 with the configuration's error: key, value, what was expected)."""
    from gateway.settings import ConfigError, load_settings

    try:
        return load_settings(config, spool_root=spool)
    except ConfigError as error:
        Console(stderr=True).print(escape(str(error)))
        raise typer.Exit(2) from None
