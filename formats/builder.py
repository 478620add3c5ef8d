"""Writing files: groups of records with their trailers computed, in the layout's framing.

The builder computes every control total itself (合計件数, 合計金額, and for a 91
request zeros in the 振替済/振替不能 fields), so a file it writes always reconciles.
Values typed by people (names in hiragana or full-width) are normalised into the
field's charset first (formats.kana) and cut by bytes without splitting ｶﾞ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from formats import kana
from formats.fields import Text
from formats.layout import FileLayout, RecordLayout

__all__ = ["FileBuilder", "Group", "normalise_text"]

_KANA_CHARSETS = {"zengin-name": False, "zengin-name-wo": True, "zengin-bank-name": False}


@dataclass
class Group:
    """One header…trailer group to write: the header's values and the data records' values."""

    header: Mapping[str, Any]
    records: Sequence[Mapping[str, Any]] = field(default_factory=list)


def normalise_text(layout: RecordLayout, values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise values of kana-charset text fields (hiragana, full-width → half-width kana),
    cut by bytes to the field width. Raises kana.KanaError naming the character."""
    out = dict(values)
    for spec in layout.fields:
        value = out.get(spec.name)
        if isinstance(spec.kind, Text) and isinstance(value, str) and spec.kind.charset.name in _KANA_CHARSETS:
            allow_wo = _KANA_CHARSETS[spec.kind.charset.name]
            out[spec.name] = kana.fit(value, spec.width, allow_wo=allow_wo).decode("cp932")
    return out


class FileBuilder:
    """Build files of one layout. ``separator`` defaults to CRLF after every record."""

    def __init__(
        self, layout: FileLayout, *, separator: bytes = b"\r\n", normalise: bool = True, result: bool = False
    ) -> None:
        if separator not in (b"\r\n", b"\n", b""):
            raise ValueError(f"separator must be CRLF, LF or none, got {separator!r}")
        self.layout = layout
        self.separator = separator
        self.normalise = normalise
        #: a 91 result file (as a bank writes it): 振替済/振替不能 totals from the result codes
        self.result = result

    def records(self, groups: Iterable[Group]) -> Iterable[bytes]:
        """Yield each record's bytes (without separator) in file order."""
        layout = self.layout
        header = layout.layout_for("header")
        data = layout.layout_for("data")
        trailer = layout.layout_for("trailer")
        totals = layout.totals
        has_end = any(role == "end" for role, _ in layout.records.values())
        for group in groups:
            yield self._build(header, group.header)
            count = amount = success_count = success_amount = 0
            extra = dict.fromkeys(totals.extra, 0)
            split = totals.split
            for values in group.records:
                yield self._build(data, values)
                value = int(values[totals.data_amount_field])
                count += 1
                amount += value
                for total, data_field in totals.extra.items():
                    extra[total] += int(values.get(data_field) or 0)
                if split is None:
                    continue
                code = values.get(split.code_field)
                code = None if code is None else str(code)
                if code == split.success_code:
                    success_count += 1
                    success_amount += value
                elif code is not None and not self.result:
                    raise ValueError(
                        f"record {count} of a request carries result code {code!r}: a request has no results "
                        f"(leave {split.code_field} empty or {split.success_code!r}, or build with result=True)"
                    )
            trailer_values: dict[str, Any] = {totals.count_field: count, totals.amount_field: amount, **extra}
            if split is not None:
                done = self.result
                trailer_values[split.transferred_count] = success_count if done else 0
                trailer_values[split.transferred_amount] = success_amount if done else 0
                trailer_values[split.failed_count] = count - success_count if done else 0
                trailer_values[split.failed_amount] = amount - success_amount if done else 0
            yield trailer.build(trailer_values)
        if has_end:
            yield layout.layout_for("end").build({})

    def write(self, stream: BinaryIO, groups: Iterable[Group]) -> int:
        """Write the file to ``stream``; returns the number of bytes written."""
        written = 0
        for record in self.records(groups):
            written += stream.write(record + self.separator)
        return written

    def to_bytes(self, groups: Iterable[Group]) -> bytes:
        return b"".join(record + self.separator for record in self.records(groups))

    def _build(self, record: RecordLayout, values: Mapping[str, Any]) -> bytes:
        return record.build(normalise_text(record, values) if self.normalise else values)
