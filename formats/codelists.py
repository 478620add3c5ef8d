"""Code lists shared by several layouts: formats/codelists.toml, read once.

A layout file names a list instead of writing its codes (``codes = "tax-items"``,
formats/declarative.py); a layout in Python takes it from :data:`CODE_LISTS`. A list is
here when more than one layout uses it (科目, 納付チャネル区分), so the layouts that share
it cannot drift apart.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from formats.layout import LayoutError

__all__ = ["CODE_LISTS", "CODE_LISTS_FILE", "load_code_lists"]

#: The gateway's code lists (shipped with the package).
CODE_LISTS_FILE = Path(__file__).with_name("codelists.toml")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def load_code_lists(path: Path) -> dict[str, Mapping[str, str]]:
    """The code lists of a file, by name: each a table code → meaning, ASCII codes of one width."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LayoutError(f"{path}: cannot be read as TOML: {error}") from None
    lists: dict[str, Mapping[str, str]] = {}
    for name, codes in data.items():
        if not _NAME.match(name):
            raise LayoutError(f"{path}: code list name {name!r}: lower-case letters, digits and '-' expected")
        if not isinstance(codes, dict) or not codes:
            raise LayoutError(f"{path}: [{name}]: a table of codes (code = meaning) expected")
        for code, meaning in codes.items():
            if not code or not code.isascii() or not isinstance(meaning, str):
                raise LayoutError(f"{path}: [{name}]: code {code!r}: an ASCII code and its meaning as text expected")
        if len({len(code) for code in codes}) != 1:
            raise LayoutError(
                f"{path}: [{name}]: codes of different widths ({', '.join(codes)}); a list's codes all fill one field"
            )
        lists[name] = MappingProxyType(dict(codes))
    return lists


#: The shared code lists by name (``tax-items`` 科目, ``channel-kinds`` 納付チャネル区分).
CODE_LISTS: Mapping[str, Mapping[str, str]] = MappingProxyType(load_code_lists(CODE_LISTS_FILE))
