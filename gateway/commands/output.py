"""What the commands print of file names, values, reasons and messages, made safe for a terminal.

- :func:`shown`: one value for a rich line or table cell: :func:`formats.masking.safe_text`
  (ESC, U+202E, NUL and the other controls and invisible characters as escapes such as
  ``\\x1b``, ``\\u202e``, ``\\x00``), then rich markup escaped (a ``[bold]`` in a value stays text);
- :func:`shown_lines`: the same for a text of several lines (an error message), line by line;
- :func:`safe_lines`: plain text (no rich markup) made safe line by line, for ``sys.stdout.write``;
- :func:`write_json`: one JSON document on standard output, Japanese readable, every character
  ``safe_text`` would escape written as a JSON escape (:func:`formats.masking.safe_json`).
"""

from __future__ import annotations

import sys
from typing import Any

from rich.markup import escape

from formats.masking import safe_json, safe_text

__all__ = ["safe_lines", "shown", "shown_lines", "write_json"]


def shown(value: Any) -> str:
    """``value`` (None as '') for rich: made safe to show, markup escaped."""
    return escape(safe_text("" if value is None else str(value)))


def shown_lines(value: Any) -> str:
    """A text of several lines for rich: each line made safe to show, markup escaped."""
    return "\n".join(shown(line) for line in str(value).split("\n"))


def safe_lines(text: str) -> str:
    """Plain text made safe to show, line by line (its line feeds kept)."""
    return "\n".join(safe_text(line) for line in text.split("\n"))


def write_json(value: Any) -> None:
    """``value`` as indented JSON on standard output (see the module's text)."""
    sys.stdout.write(safe_json(value, indent=2) + "\n")
