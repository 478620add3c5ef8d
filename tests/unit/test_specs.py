"""The record specs (adapters/specs.py) and the router, tested directly: which canonical record
each format's records become, which renderer each destination name makes, which formats are
purpose-limited, and which destinations a record reaches."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.specs import RENDERERS, SPECS, make_renderer, normaliser_for, purpose_limited_formats, spec_for
from formats.registry import load_formats
from gateway.config.settings import RouteConfig, load_settings
from gateway.datapath.routing import Router
from gateway.model.normalise import DebitResultNormaliser, GroupContext, InterSystemNormaliser, MappedNormaliser
from gateway.model.records import (
    AddressChange,
    Assessment,
    NumberLinkage,
    PublicFundAccount,
    RefundOrder,
    RevenuePosting,
)

FORMATS = load_formats()
RECEIVED = dt.date(2026, 5, 28)


@pytest.mark.parametrize(
    ("format_id", "model"),
    [
        ("levy-assessment", Assessment),
        ("reconciliation", RevenuePosting),
        ("payment-info", RevenuePosting),
        ("address", AddressChange),
        ("public-fund-account", PublicFundAccount),
        ("micjet-linkage", NumberLinkage),
        ("refund-orders", RefundOrder),
    ],
)
def test_inter_system_formats_read_their_canonical_record(format_id: str, model: type) -> None:
    normaliser = normaliser_for(FORMATS[format_id], RECEIVED)
    assert isinstance(normaliser, InterSystemNormaliser) and normaliser.model is model
    assert SPECS[format_id].purpose_limited


def test_the_91_result_reads_payments_dated_from_the_arrival() -> None:
    normaliser = normaliser_for(FORMATS["zengin-91"], RECEIVED)
    assert isinstance(normaliser, DebitResultNormaliser)
    assert not SPECS["zengin-91"].purpose_limited


def test_formats_the_gateway_only_writes_read_nothing() -> None:
    for format_id in ("zengin-21", "collection-intake"):
        assert normaliser_for(FORMATS[format_id], RECEIVED) is None


def test_a_layout_files_canonical_table_makes_its_spec() -> None:
    """The agents' layout files (cvs, mpn, ocr, eltax) map their records to payments by [canonical]."""
    for format_id in ("cvs", "mpn", "ocr", "eltax"):
        spec = spec_for(FORMATS[format_id])
        assert spec.format == format_id and spec.render is None and not spec.purpose_limited
        assert isinstance(normaliser_for(FORMATS[format_id], RECEIVED), MappedNormaliser)


def test_purpose_limited_formats_are_the_inter_system_ones() -> None:
    assert purpose_limited_formats() == {
        "levy-assessment",
        "reconciliation",
        "payment-info",
        "address",
        "micjet-linkage",
        "public-fund-account",
        "refund-orders",
    }


def test_every_renderer_name_makes_its_renderer() -> None:
    options = {
        "requester_code": "0000054321",
        "requester_name": "ﾃｽﾄｼ",
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "1",
        "account_number": "0000002",
        "department": "01",
        "tax_items": "01,02",
    }
    assert list(RENDERERS) == [
        "collection-intake",
        "debit-followup-csv",
        "number-linkage",
        "zengin-21-refunds",
        "levy-assessment",
        "payment-info",
        "address",
        "public-fund-account",
    ]
    for name, renderer in RENDERERS.items():
        made = make_renderer(name, options if getattr(renderer, "takes_options", False) else None)
        assert isinstance(made, renderer) and made.records == 0
    with pytest.raises(KeyError, match="unknown renderer 'fax'.*collection-intake"):
        make_renderer("fax")


def test_the_router_sends_a_record_to_each_destination_once() -> None:
    """Routes are tried in order; a destination named by two matching routes gets the record once, by the first."""
    settings = load_settings()
    routes = [
        RouteConfig.model_validate(
            {"name": "paid", "when": {"status": ["paid"]}, "to": ["collection"], "purpose": "収納消込"}
        ),
        RouteConfig.model_validate({"name": "all", "to": ["collection", "followup"], "purpose": "督促"}),
        RouteConfig.model_validate(
            {
                "name": "linkage",
                "when": {"record": ["number-linkage"]},
                "to": ["collection-linkage"],
                "purpose": "番号連携",
            }
        ),
    ]
    router = Router(routes)
    normaliser = normaliser_for(FORMATS["zengin-91"], RECEIVED)
    assert normaliser is not None and settings.routes
    header = {"consignor_code": "0000012345", "debit_date": "0527"}
    values = dict(
        bank_code="0001",
        branch_code="001",
        account_type="1",
        account_number="0000001",
        account_holder="ﾃｽﾄ ﾀﾛｳ",
        amount=1000,
        new_code="0",
        customer_number="1".zfill(20),
        result_code="0",
    )
    source = {"file_id": "f", "channel": "zengin-91", "record": 2, "offset": 122}
    paid = normaliser.normalise(values, GroupContext(header, "result"), source)
    failed = normaliser.normalise({**values, "result_code": "1"}, GroupContext(header, "result"), source)
    assert router.destinations(paid) == [("paid", "collection"), ("all", "followup")]
    assert router.destinations(failed) == [("all", "collection"), ("all", "followup")]
