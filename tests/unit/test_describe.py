"""docs/layouts.md stays true: it is exactly what the layouts in the code describe."""

from formats.describe import layouts_markdown
from formats.registry import FORMATS
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "layouts.md"


def test_layouts_doc_matches_the_code():
    """The field-by-field layout document equals `gateway formats --markdown` (regenerate it when a layout changes)."""
    assert DOC.read_text(encoding="utf-8") == layouts_markdown(FORMATS.values())


def test_layouts_doc_lists_every_field():
    """Each field of each record layout has a row naming its Japanese and English name."""
    text = DOC.read_text(encoding="utf-8")
    for layout in FORMATS.values():
        for _, (_, record) in layout.records.items():
            for spec in record.fields:
                assert f"| {spec.label} | `{spec.name}` |" in text
