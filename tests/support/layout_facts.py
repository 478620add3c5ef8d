"""A layout as plain data: everything that decides how a file of it is read, validated, built and
described, in a form that can be frozen as JSON and compared.

tests/unit/test_layout_files_equal.py compares the layouts of formats/layouts/*.toml with the facts
frozen from the Python modules they replaced (tests/data/layout-facts/<id>.json): record by record
and field by field (names, Japanese labels, offsets, widths, kinds and every option of a kind,
roles, type bytes), the record rules, the control totals (further totals and the result split
included), the builder defaults, ``canonical``, and which first records the identification accepts.

Regenerate the frozen facts only when a layout is meant to change::

    PYTHONPATH=. .venv/bin/python -m tests.support.layout_facts levy-assessment …
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from formats.fields import Constant, FieldKind, Text
from formats.layout import FileLayout, RecordLayout
from tests.support.paths import DATA

FROZEN = DATA / "layout-facts"

#: Every option a field kind may carry (tests/unit/test_declarative.py compares the same ones).
KIND_ATTRIBUTES = ("width", "optional", "personal", "align", "required", "codes", "fmt", "pivot")


def kind_facts(kind: FieldKind) -> dict[str, Any]:
    facts: dict[str, Any] = {"kind": type(kind).__name__}
    for name in KIND_ATTRIBUTES:
        if hasattr(kind, name):
            value = getattr(kind, name)
            facts[name] = dict(value) if isinstance(value, dict) else value
    if isinstance(kind, Constant):
        facts["value"] = kind.value.decode("latin-1")
    if isinstance(kind, Text):
        facts["charset"] = kind.charset.name
    return facts


def rule_facts(rule: object) -> dict[str, Any]:
    attributes = getattr(rule, "__dict__", None) or {
        name: getattr(rule, name) for name in getattr(type(rule), "__slots__", ())
    }
    return {"rule": type(rule).__name__, **{name: repr(value) for name, value in sorted(attributes.items())}}


def record_facts(key: bytes, role: str, record: RecordLayout) -> dict[str, Any]:
    return {
        "type": key.decode("latin-1"),
        "role": role,
        "name": record.name,
        "label": record.label,
        "length": record.length,
        "fields": [
            {"name": spec.name, "label": spec.label, "offset": spec.offset, **kind_facts(spec.kind)}
            for spec in record.fields
        ],
        "rules": [rule_facts(rule) for rule in record.rules],
    }


def identify_probes(layouts: list[FileLayout]) -> list[str]:
    """First-record prefixes to ask ``identify`` about: each layout's header constants from byte 1
    (``1GWLV01`` …), and each of them with one byte changed or the last byte cut."""
    probes: set[str] = set()
    for layout in layouts:
        prefix = ""
        for spec in layout.layout_for("header").fields:
            if not isinstance(spec.kind, Constant):
                break
            prefix += spec.kind.value.decode("latin-1")
        probes.add(prefix)
        probes.add(prefix[:-1])
        for index in range(len(prefix)):
            for other in ("0", "X"):
                if prefix[index] != other:
                    probes.add(prefix[:index] + other + prefix[index + 1 :])
    return sorted(probe for probe in probes if probe)


def identify_facts(layout: FileLayout, probes: list[str]) -> list[str] | None:
    """The probes whose record (the probe, then spaces) the layout's identification accepts."""
    if layout.identify is None:
        return None
    return [probe for probe in probes if layout.identify(probe.encode("latin-1").ljust(layout.record_length, b" "))]


def layout_facts(layout: FileLayout, probes: list[str]) -> dict[str, Any]:
    totals = layout.totals
    return {
        "id": layout.id,
        "title": layout.title,
        "description": layout.description,
        "record_length": layout.record_length,
        "encoding": layout.encoding,
        "type_offset": layout.type_offset,
        "multi_group": layout.multi_group,
        "totals": {
            "count_field": totals.count_field,
            "amount_field": totals.amount_field,
            "data_amount_field": totals.data_amount_field,
            "split": None if totals.split is None else dataclasses.asdict(totals.split),
            "extra": dict(totals.extra),
        },
        "builder_defaults": dict(layout.builder_defaults),
        "canonical": None if layout.canonical is None else dict(layout.canonical),
        "identify": {"probes": probes, "accepted": identify_facts(layout, probes)},
        "records": [record_facts(key, role, record) for key, (role, record) in layout.records.items()],
    }


def frozen(layout_id: str) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((FROZEN / f"{layout_id}.json").read_text(encoding="utf-8"))
    return facts


def freeze(layout: FileLayout, probes: list[str]) -> None:
    FROZEN.mkdir(exist_ok=True)
    text = json.dumps(layout_facts(layout, probes), ensure_ascii=False, indent=1)
    (FROZEN / f"{layout.id}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    from formats.registry import FORMATS

    every_probe = identify_probes(list(FORMATS.values()))
    for layout_id in sys.argv[1:]:
        freeze(FORMATS[layout_id], every_probe)
        print(f"froze {FROZEN / layout_id}.json")
