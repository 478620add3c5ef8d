"""The layouts moved from Python modules to layout files (formats/layouts/*.toml) are the layouts
they were: each compares, record by record and field by field, with the facts frozen from its
Python module before the module was removed (tests/data/layout-facts/<id>.json, written by
tests/support/layout_facts.py): names, Japanese labels, offsets, widths, kinds and every option
of a kind, roles, type bytes, record rules, control totals, builder defaults, ``canonical`` and
which first records its identification accepts.

The inter-system layouts still in Python (payment-info, reconciliation) are frozen too: their code
lists now come from formats/codelists.toml.
"""

from __future__ import annotations

import pytest

from formats.registry import FORMATS
from tests.support.layout_facts import FROZEN, frozen, layout_facts

FROZEN_IDS = sorted(path.stem for path in FROZEN.glob("*.json"))


def test_the_converted_layouts_are_frozen():
    """Every layout moved to a layout file, and those that use its code lists, has frozen facts."""
    assert set(FROZEN_IDS) >= {
        "collection-intake",
        "refund-orders",
        "levy-assessment",
        "address",
        "payment-info",
        "reconciliation",
    }


@pytest.mark.parametrize("layout_id", FROZEN_IDS)
def test_layout_is_what_it_was(layout_id: str):
    """The built-in layout gives exactly the frozen facts: records, fields, kinds, totals, identification."""
    expected = frozen(layout_id)
    actual = layout_facts(FORMATS[layout_id], expected["identify"]["probes"])
    assert actual.keys() == expected.keys()
    for key in (
        "id",
        "title",
        "description",
        "record_length",
        "encoding",
        "type_offset",
        "multi_group",
        "totals",
        "builder_defaults",
        "canonical",
        "identify",
    ):
        assert actual[key] == expected[key], key
    assert [(r["type"], r["role"]) for r in actual["records"]] == [(r["type"], r["role"]) for r in expected["records"]]
    for mine, theirs in zip(actual["records"], expected["records"], strict=True):
        where = f"record {theirs['name']} (type {theirs['type']!r})"
        assert {k: v for k, v in mine.items() if k != "fields"} == {k: v for k, v in theirs.items() if k != "fields"}, (
            where
        )
        assert [field["name"] for field in mine["fields"]] == [field["name"] for field in theirs["fields"]], where
        for field, expected_field in zip(mine["fields"], theirs["fields"], strict=True):
            assert field == expected_field, f"{where}, field {expected_field['name']}"
    assert actual == expected
