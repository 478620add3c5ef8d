"""Masking personal values before they reach a report, a log or a screen.

Which fields are personal is declared on the field kind (``personal=...``):

- ``"name"``: names are shown partially (first character, then one ＊ per remaining one);
- ``"account"``: account and customer numbers keep only their last 3 characters;
- ``"mynumber"``: individual numbers (個人番号) are never shown, not even in part;
- ``"other"``: any other personal value is hidden entirely.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Personal", "mask", "mask_bytes"]

Personal = Literal["name", "account", "mynumber", "other"]


def mask(value: str, personal: Personal | None) -> str:
    """Mask a decoded value according to what kind of personal data it is."""
    if personal is None:
        return value
    stripped = value.strip()
    if not stripped:
        return value
    if personal == "name":
        return stripped[0] + "*" * (len(stripped) - 1)
    if personal == "account":
        keep = stripped[-3:] if len(stripped) > 3 else ""
        return "*" * (len(stripped) - len(keep)) + keep
    return "*" * len(stripped)


def mask_bytes(raw: bytes, personal: Personal | None) -> str:
    """Show raw field bytes to an operator: decoded when possible, hex escapes otherwise, then masked."""
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        text = "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in raw)
    if personal is not None:
        return mask(text, personal)
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
