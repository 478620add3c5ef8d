"""One record spec per format: how its records become canonical records, and how canonical
records are written back in it — like a beangulp importer, in one table.

A format's *layout* (its bytes) is the registry's (``formats.registry``); its spec says

- ``reads``: the canonical record its data records become and how (a normaliser factory),
  or None when the gateway takes no records from it (e.g. 全銀 21 refunds, which it writes);
- ``render`` and ``renderer``: the renderer a destination names (``render = "…"`` in the
  configuration) to write canonical records in this format;
- ``purpose_limited``: an inter-system format, whose channel refuses a whole file carrying
  record kinds or fields it does not expect (目的外の入手), unless configured otherwise.

A city's own layout file (``[canonical]`` table) gets its spec from that table: a payment
(:class:`~gateway.model.normalise.MappedNormaliser`) or an inter-system record. Nothing else
dispatches on format or renderer names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from adapters.renderers import (
    AddressRenderer,
    CollectionIntakeRenderer,
    DebitFollowupCsvRenderer,
    LevyAssessmentRenderer,
    NumberLinkageRenderer,
    PaymentInfoRenderer,
    PublicFundAccountRenderer,
    RefundTransferRenderer,
    Renderer,
    RendererClass,
)
from formats.layout import FileLayout
from gateway.model.normalise import (
    MAPPABLE_RECORDS,
    DebitResultNormaliser,
    InterSystemNormaliser,
    MappedNormaliser,
    Normaliser,
    canonical_mapping,
    record_mapping,
)
from gateway.model.records import (
    AddressChange,
    Assessment,
    NumberLinkage,
    PublicFundAccount,
    RefundOrder,
    RevenuePosting,
)

__all__ = [
    "RENDERERS",
    "SPECS",
    "RecordSpec",
    "make_renderer",
    "normaliser_for",
    "purpose_limited_formats",
    "spec_for",
    "renderer_class",
]

#: ``reads(layout, the day the file arrived)`` → the normaliser of one file
Reads = Callable[[FileLayout, dt.date], Normaliser]


@dataclass(frozen=True)
class RecordSpec:
    """What the gateway does with one format's records (see the module's text)."""

    format: str
    reads: Reads | None = None
    render: str | None = None
    renderer: RendererClass | None = None
    purpose_limited: bool = False


def _inter_system(model: type, from_header: Mapping[str, str] = {}, renames: Mapping[str, str] = {}) -> Reads:
    """Field for field: the inter-system layouts name their fields after the canonical model."""
    return lambda layout, received_on: InterSystemNormaliser(model, from_header, renames)


SPECS: dict[str, RecordSpec] = {
    spec.format: spec
    for spec in (
        RecordSpec("zengin-91", reads=lambda layout, received_on: DebitResultNormaliser(received_on)),
        RecordSpec("collection-intake", render="collection-intake", renderer=CollectionIntakeRenderer),
        RecordSpec("debit-followup-csv", render="debit-followup-csv", renderer=DebitFollowupCsvRenderer),
        # the 利用事務 (legal basis) the linkage was made for is the header's
        RecordSpec(
            "micjet-linkage",
            reads=_inter_system(NumberLinkage, {"legal_basis": "legal_basis"}, {"individual_number": "my_number"}),
            render="number-linkage",
            renderer=NumberLinkageRenderer,
            purpose_limited=True,
        ),
        RecordSpec("zengin-21", render="zengin-21-refunds", renderer=RefundTransferRenderer),
        RecordSpec(
            "levy-assessment",
            reads=_inter_system(Assessment, {"source_system": "source_system"}),
            render="levy-assessment",
            renderer=LevyAssessmentRenderer,
            purpose_limited=True,
        ),
        RecordSpec("reconciliation", reads=_inter_system(RevenuePosting), purpose_limited=True),
        RecordSpec(
            "payment-info",
            reads=_inter_system(RevenuePosting),
            render="payment-info",
            renderer=PaymentInfoRenderer,
            purpose_limited=True,
        ),
        RecordSpec(
            "address",
            reads=_inter_system(AddressChange),
            render="address",
            renderer=AddressRenderer,
            purpose_limited=True,
        ),
        RecordSpec(
            "public-fund-account",
            reads=_inter_system(
                PublicFundAccount, {"inquiry_date": "inquiry_date", "municipality_code": "municipality_code"}
            ),
            render="public-fund-account",
            renderer=PublicFundAccountRenderer,
            purpose_limited=True,
        ),
        RecordSpec(
            "refund-orders", reads=_inter_system(RefundOrder, {"transfer_date": "transfer_date"}), purpose_limited=True
        ),
    )
}

#: The renderers a destination may name, by name.
RENDERERS: dict[str, RendererClass] = {
    spec.render: spec.renderer for spec in SPECS.values() if spec.render is not None and spec.renderer is not None
}


def spec_for(layout: FileLayout) -> RecordSpec:
    """The spec of a format: from the table, or from a layout file's ``[canonical]`` table."""
    if layout.id in SPECS:
        return SPECS[layout.id]
    canonical = layout.canonical
    if canonical is not None and "record" in canonical:
        mapping = record_mapping(layout)
        return RecordSpec(
            layout.id, reads=_inter_system(MAPPABLE_RECORDS[mapping.record], mapping.header, mapping.fields)
        )
    if canonical is not None:
        payments = canonical_mapping(layout)
        return RecordSpec(layout.id, reads=lambda layout, received_on: MappedNormaliser(payments))
    return RecordSpec(layout.id)


def normaliser_for(layout: FileLayout, received_on: dt.date) -> Normaliser | None:
    """The normaliser of a format's records, or None when the gateway takes no records from it."""
    reads = spec_for(layout).reads
    return None if reads is None else reads(layout, received_on)


def purpose_limited_formats() -> frozenset[str]:
    """The formats whose channels are purpose-limited unless configured otherwise."""
    return frozenset(name for name, spec in SPECS.items() if spec.purpose_limited)


def renderer_class(name: str) -> RendererClass:
    """The renderer a destination names; KeyError naming the known ones."""
    try:
        return RENDERERS[name]
    except KeyError:
        raise KeyError(f"unknown renderer {name!r}: expected one of {', '.join(RENDERERS)}") from None


def make_renderer(name: str, options: dict[str, str] | None = None) -> Renderer:
    """A new renderer for one output, given the destination's options when it takes them."""
    renderer = renderer_class(name)
    return renderer(options or {}) if getattr(renderer, "takes_options", False) else renderer()
