"""Layouts described field by field, as Markdown: docs/layouts.md is this module's output
(`gateway formats --markdown`), and a test keeps the two the same."""

from __future__ import annotations

from collections.abc import Iterable

from formats.fields import Code, Constant, Date, Digits, DoubleByteText, FieldKind, Filler, Numeric, Text
from formats.layout import FileLayout, RecordLayout

__all__ = ["fast_path_column", "fast_path_line", "kind_notes", "layouts_markdown", "record_markdown"]

INTRO = """# Layouts

Every built-in layout, field by field, generated from the code in `formats/`
(`gateway formats --markdown > docs/layouts.md`; tests/unit/test_describe.py keeps this
page and the code the same). Positions are 1-based bytes. How a file is checked
against these layouts is in [validation.md](validation.md).

Kinds: **N** numeric (digits, right-aligned, zero-filled, read as a number);
**digits** a code of digits kept as text (leading zeros matter); **C** single-byte
text in a named charset, left-aligned, space-padded; **全角** double-byte cp932 text;
**code** one of the listed values; **const** a fixed value; **date**; **filler**
spaces. *personal* marks values masked in reports and logs (name: first character;
account: last 3 digits; mynumber: never shown).
"""


def kind_notes(kind: FieldKind) -> tuple[str, str]:
    """(kind column, notes column) for one field kind."""
    notes: list[str] = []
    if isinstance(kind, Constant):
        label = "const"
        notes.append(f"always {kind.value.decode('ascii')!r}")
    elif isinstance(kind, Numeric):
        label = f"N{kind.width}"
    elif isinstance(kind, Digits):
        label = f"digits{kind.width}"
        if kind.align == "left":
            notes.append("left-aligned, space-padded (zero-filled also accepted)")
    elif isinstance(kind, Text):
        label = f"C{kind.width}"
        notes.append(f"charset {kind.charset.name}")
        if kind.required:
            notes.append("required")
    elif isinstance(kind, DoubleByteText):
        label = f"全角{kind.width}"
    elif isinstance(kind, Code):
        label = f"code{kind.width}"
        notes.append(", ".join(f"{code} {meaning}" for code, meaning in kind.codes.items()))
    elif isinstance(kind, Date):
        label = f"date {kind.fmt}"
        if kind.fmt == "YYMMDD":
            notes.append(f"YY < {kind.pivot} → 20YY")
    elif isinstance(kind, Filler):
        label = f"filler{kind.width}"
    else:  # pragma: no cover - every kind is listed above
        label = type(kind).__name__
    if kind.optional and not isinstance(kind, (Text, Filler)):
        notes.append("may be blank")
    if kind.personal:
        notes.append(f"personal: {kind.personal}")
    return label, "; ".join(notes)


def fast_path_line(layout: FileLayout) -> str:
    """Whether the layout's files take the fast validation path (docs/validation.md, 7), and if not why."""
    from formats.fastpath import fast_path_refusal

    refusal = fast_path_refusal(layout)
    if refusal is None:
        return "Fast validation path (一括検査): yes."
    return f"Fast validation path (一括検査): no — {refusal}."


def fast_path_column(layout: FileLayout) -> str:
    """The `gateway formats` column: "yes", or "no: " and the reason (Japanese, then English)."""
    from formats.fastpath import fast_path_refusal

    refusal = fast_path_refusal(layout)
    return "yes" if refusal is None else f"no: {refusal}"


def record_markdown(record: RecordLayout, record_type: bytes, role: str) -> str:
    lines = [
        f"### {record.label} — {role} (type `{record_type.decode()}`, {record.length} bytes)",
        "",
        "| Pos | Bytes | 項目 | name | kind | notes |",
        "|---|---|---|---|---|---|",
    ]
    for spec in record.fields:
        first, last = spec.offset + 1, spec.offset + spec.width
        position = str(first) if first == last else f"{first}–{last}"
        label, notes = kind_notes(spec.kind)
        lines.append(f"| {position} | {spec.width} | {spec.label} | `{spec.name}` | {label} | {notes} |")
    return "\n".join(lines)


def layouts_markdown(layouts: Iterable[FileLayout]) -> str:
    parts = [INTRO]
    for layout in layouts:
        parts.append(
            f"## `{layout.id}` — {layout.title}\n\n{layout.description}\n\n"
            f"Record length {layout.record_length}, encoding {layout.encoding}, record type at byte "
            f"{layout.type_offset + 1}; control totals: `{layout.totals.count_field}` and "
            f"`{layout.totals.amount_field}` against the data records' `{layout.totals.data_amount_field}`"
            + (" with the 振替済/振替不能 split by result code" if layout.totals.split else "")
            + "".join(f", `{total}` against `{data}`" for total, data in layout.totals.extra.items())
            + ".\n\n"
            + fast_path_line(layout)
        )
        for key, (role, record) in layout.records.items():
            parts.append(record_markdown(record, key, role))
            if record.rules:
                parts.append(
                    "Record rules: "
                    + ", ".join(
                        f"`{type(rule).__name__}` ({(type(rule).__doc__ or '').strip().splitlines()[0]})"
                        for rule in record.rules
                    )
                )
    return "\n\n".join(parts) + "\n"
