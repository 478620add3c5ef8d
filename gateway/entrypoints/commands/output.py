"""What the commands print of file names, values, reasons and messages, made safe for a terminal.

Every function first masks the individual numbers in what it prints
(:func:`formats.checkdigits.mask_my_numbers`: full-width, split or touching letters too), so
that no command shows one, whatever field or file name it hid in; ``masked=False`` only for
`gateway decode --unmask`, an operator's explicit request.

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

from formats.checkdigits import mask_my_numbers, mask_my_numbers_in
from formats.masking import safe_json, safe_text

__all__ = ["safe_lines", "shown", "shown_lines", "write_json"]


def shown(value: Any, *, masked: bool = True) -> str:
    """``value`` (None as '') for rich: individual numbers masked, made safe to show, markup escaped."""
    text = "" if value is None else str(value)
    return escape(safe_text(mask_my_numbers(text) if masked else text))


def shown_lines(value: Any) -> str:
    """A text of several lines for rich: each line masked, made safe to show, markup escaped."""
    return "\n".join(shown(line) for line in mask_my_numbers(str(value)).split("\n"))


def safe_lines(text: str) -> str:
    """Plain text masked and made safe to show, line by line (its line feeds kept)."""
    return "\n".join(safe_text(line) for line in mask_my_numbers(text).split("\n"))


def write_json(value: Any, *, masked: bool = True) -> None:
    """``value`` as indented JSON on standard output, every string in it (keys too) masked
    (see the module's text)."""
    sys.stdout.write(safe_json(mask_my_numbers_in(value) if masked else value, indent=2) + "\n")
