"""Individual-number protection: 個人番号 flow only where the law allows, by mechanism.

The city's assessment promises that individual numbers are linked only for the work
番号法 第9条 別表第一 allows, "guaranteed by the mechanism" (seed, Ⅲ). Here that is two
locks:

1. **At start** (:func:`check_flows`): a configuration whose route could carry a record
   with an individual-number field (``NumberLinkage.individual_number``) to a
   destination whose output holds it does not load unless the route declares a
   ``legal_basis`` this gateway knows (:data:`LEGAL_BASES`) *and* the destination is
   marked ``individual_numbers = true``. The error names the route, the destination
   and the field.
2. **At run time** (:class:`FlowGuard`, defence in depth): before a record is rendered
   for a destination, a record that holds an individual number is stopped unless that
   route→destination pair was cleared at start; the whole file is then refused
   (quarantined with a report naming the field — never its value).

Individual numbers are also kept out of every log and report: the audit log's masking
processor, the reports, the console and the command line replace every individual
number (formats.checkdigits.find_my_numbers: ASCII or full-width digits, split or not,
in any text) with 「[個人番号]」, and models carrying one never show it in ``repr`` or
validation errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from adapters.specs import renderer_class
from gateway.model.batch import CanonicalBatch
from gateway.model.records import RECORD_KINDS, individual_numbers_in

__all__ = ["LEGAL_BASES", "FlowGuard", "IndividualNumberFlowError", "check_flows", "route_record_kinds"]

#: Legal bases a route may declare for carrying individual numbers (番号法 第9条第1項 別表第一).
LEGAL_BASES: dict[str, str] = {
    "bangohou-9-1-table1-16": "番号法 第9条第1項 別表第一 16の項 (地方税の賦課徴収に関する事務)",
    "bangohou-9-1-table1-101": "番号法 第9条第1項 別表第一 101の項 (評価書 Ⅰ-4 に記載の根拠)",
}

_PAYMENT_CONDITIONS = ("kind", "status", "result_code")


# What is read of the configuration (gateway/config/settings.py: RouteConfig, DestinationConfig,
# Settings), as Protocols: settings.py imports this module, so this one does not import it.
class _Condition(Protocol):
    @property
    def record(self) -> Sequence[str] | None: ...


class _Route(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def legal_basis(self) -> str | None: ...
    @property
    def when(self) -> _Condition: ...
    @property
    def to(self) -> Sequence[str]: ...


class _Destination(Protocol):
    @property
    def render(self) -> str: ...
    @property
    def individual_numbers(self) -> bool: ...


class _Settings(Protocol):
    @property
    def routes(self) -> Sequence[_Route]: ...
    @property
    def destinations(self) -> Mapping[str, _Destination]: ...


class IndividualNumberFlowError(RuntimeError):
    """Raised when a record holding an individual number is about to reach a destination
    that has no cleared legal basis for it. The message names fields, never values."""


def route_record_kinds(route: _Route) -> list[str]:
    """The record kinds a route can carry: its ``when.record``, else payments when it has a
    payment condition, else every kind."""
    when = route.when
    if when.record:
        return list(when.record)
    if any(getattr(when, name) for name in _PAYMENT_CONDITIONS):
        return ["payment"]
    return list(RECORD_KINDS)


def _carried(kind: str, render: str) -> list[str]:
    """Individual-number fields of a record kind that a renderer writes out."""
    renderer = renderer_class(render)
    if kind not in renderer.accepts:
        return []
    fields = getattr(RECORD_KINDS[kind], "individual_number_fields", ())
    return [name for name in fields if name in renderer.writes_individual_numbers]


def check_flows(settings: _Settings) -> set[tuple[str, str]]:
    """Refuse a configuration that would send individual numbers without a basis; return the
    (route, destination) pairs cleared to carry them. Raises ValueError naming route and field."""
    cleared: set[tuple[str, str]] = set()
    for index, route in enumerate(settings.routes):
        for target in route.to:
            destination = settings.destinations[target]
            for kind in route_record_kinds(route):
                for name in _carried(kind, destination.render):
                    where = (
                        f"routes[{index}] ({route.name!r}) → destination {target!r}: would carry 個人番号 "
                        f"({kind}.{name})"
                    )
                    if route.legal_basis not in LEGAL_BASES:
                        raise ValueError(
                            f"{where} without a legal basis that allows it: legal_basis = "
                            f"{route.legal_basis!r}; expected one of {', '.join(LEGAL_BASES)} "
                            "(番号法 第9条 別表第一), and a purpose"
                        )
                    if not route.purpose:
                        raise ValueError(f"{where}: the route must declare its purpose")
                    if not destination.individual_numbers:
                        raise ValueError(f"{where}, but destinations.{target}.individual_numbers is not true")
                    cleared.add((route.name, target))
    return cleared


class FlowGuard:
    """The run-time lock: only cleared route→destination pairs may receive a record holding
    an individual number."""

    def __init__(self, cleared: Iterable[tuple[str, str]]) -> None:
        self.cleared = frozenset(cleared)

    def check_batch(self, batch: CanonicalBatch, rows: np.ndarray, route: str, destination: str) -> None:
        """:meth:`check` for the records ``rows`` (a boolean per record) of a batch: the first record
        holding an individual number stops the file, with the message :meth:`check` gives for it."""
        if (route, destination) in self.cleared:
            return
        for name in getattr(batch.model, "individual_number_fields", ()):
            values = batch.column(name)
            for row in np.flatnonzero(rows).tolist():
                if values[row]:
                    self.check(batch.model_at(row), route, destination)

    def check(self, record: BaseModel, route: str, destination: str) -> None:
        held = individual_numbers_in(record)
        if held and (route, destination) not in self.cleared:
            source = getattr(record, "source", None)
            where = f"record {source.record}" if source is not None else "a record"
            raise IndividualNumberFlowError(
                f"{where}: {type(record).__name__}.{', '.join(held)} (個人番号) may not go to destination "
                f"{destination!r} by route {route!r}: no cleared legal basis; the file was stopped"
            )
