"""The built-in file formats by identifier, and identification from content.

The built-in formats are the layouts in Python (formats/layouts/zengin/, micjet.py,
payment_info.py) and those described in layout files (formats/layouts/<id>.toml, named in
:data:`BUILT_IN_FILES`): all of them are known everywhere, identified from content, and
never replaced by a city's layout file. The other files of formats/layouts/ are the
channels' default layouts, which a city's file of the same id may replace (:func:`load_formats`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from formats.declarative import load_layout_dir, load_layout_file
from formats.layout import FileLayout, LayoutError
from formats.layouts.micjet import MICJET_LINKAGE, PUBLIC_FUND_ACCOUNT
from formats.layouts.payment_info import PAYMENT_INFO, RECONCILIATION
from formats.layouts.zengin import DEBIT_91, TRANSFER_21

__all__ = [
    "BUILT_IN_FILES",
    "DEFAULT_LAYOUTS",
    "FORMATS",
    "UnknownFormatError",
    "get_format",
    "identify",
    "load_formats",
]

#: The layout files: the built-in layouts described in files and the channels' default layouts
#: (a city adapts copies of the latter).
DEFAULT_LAYOUTS = Path(__file__).parent / "layouts"

#: The built-in formats described in layout files: formats/layouts/<id>.toml.
BUILT_IN_FILES = ("collection-intake", "refund-orders", "levy-assessment", "address")


def _built_in(layout_id: str) -> FileLayout:
    path = DEFAULT_LAYOUTS / f"{layout_id}.toml"
    layout = load_layout_file(path)
    if layout.id != layout_id:  # pragma: no cover - the files are named after their ids
        raise LayoutError(f"{path}: id {layout.id!r}, the file name says {layout_id!r}")
    return layout


_FILES = {layout_id: _built_in(layout_id) for layout_id in BUILT_IN_FILES}

FORMATS: dict[str, FileLayout] = {
    layout.id: layout
    for layout in (
        DEBIT_91,
        TRANSFER_21,
        _FILES["collection-intake"],
        _FILES["refund-orders"],
        _FILES["levy-assessment"],
        RECONCILIATION,
        PAYMENT_INFO,
        _FILES["address"],
        MICJET_LINKAGE,
        PUBLIC_FUND_ACCOUNT,
    )
}


def load_formats(layouts_dir: Path | None = None) -> dict[str, FileLayout]:
    """Every format: the built-in ones, the default layout files, and a city's own layout files
    (``layouts_dir``; a file there may replace a default layout of the same id, never a built-in one)."""
    formats = {**FORMATS, **load_layout_dir(DEFAULT_LAYOUTS, reserved=FORMATS, exclude=BUILT_IN_FILES)}
    if layouts_dir is not None:
        formats.update(load_layout_dir(layouts_dir, reserved=FORMATS))
    return formats


class UnknownFormatError(LookupError):
    """Raised when a format identifier is not known, or content matches no format (or several)."""


def get_format(format_id: str, formats: Mapping[str, FileLayout] = FORMATS) -> FileLayout:
    try:
        return formats[format_id]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {format_id!r}: expected one of {', '.join(sorted(formats))}"
        ) from None


def identify(head: bytes, formats: Mapping[str, FileLayout] = FORMATS) -> FileLayout:
    """The one format whose identification test accepts the first record of ``head``."""
    first = head.lstrip(b"\r\n")[:512]
    matches = [layout for layout in formats.values() if layout.identify and layout.identify(first)]
    if len(matches) == 1:
        return matches[0]
    found = first[:4].decode("latin-1") if first else "an empty file"
    if not matches:
        raise UnknownFormatError(
            f"no known format starts like this file (first bytes {found!r}); "
            f"name one with --format ({', '.join(sorted(formats))})"
        )
    raise UnknownFormatError(
        f"the content matches several formats ({', '.join(m.id for m in matches)}); name one with --format"
    )
