"""Routing: which destinations each canonical record goes to, from the configured routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gateway.config.settings import RouteCondition, RouteConfig
from gateway.model.batch import CanonicalBatch
from gateway.model.records import Canonical, Payment

__all__ = ["Router"]


def _matches(condition: RouteCondition, record: Canonical) -> bool:
    kind = getattr(type(record), "record", "payment")
    if condition.record is not None and kind not in condition.record:
        return False
    if condition.channel is not None and record.source.channel not in condition.channel:
        return False
    if condition.tax_item is not None and getattr(record, "tax_item", None) not in condition.tax_item:
        return False  # a record without a 科目 never matches a condition on it
    payment_conditions = (condition.kind, condition.status, condition.result_code)
    if kind != "payment":  # conditions on payments never match other records
        return all(allowed is None for allowed in payment_conditions)
    assert isinstance(record, Payment)
    checks = (
        (condition.kind, record.kind),
        (condition.status, record.status),
        (condition.result_code, record.result_code),
    )
    return all(allowed is None or value in allowed for allowed, value in checks)


def _matches_batch(condition: RouteCondition, batch: CanonicalBatch) -> np.ndarray:
    """:func:`_matches` for every record of a batch at once."""
    rows = len(batch)
    kind = batch.kind
    if condition.record is not None and kind not in condition.record:
        return np.zeros(rows, dtype=bool)
    if condition.channel is not None and batch.channel not in condition.channel:
        return np.zeros(rows, dtype=bool)
    matched = np.ones(rows, dtype=bool)
    if condition.tax_item is not None:  # a record without a 科目 never matches a condition on it
        if "tax_item" not in batch.model.model_fields:
            return np.zeros(rows, dtype=bool)
        matched &= _isin(batch.column("tax_item"), condition.tax_item)
    payment_conditions = {"kind": condition.kind, "status": condition.status, "result_code": condition.result_code}
    if kind != "payment":  # conditions on payments never match other records
        return matched if all(allowed is None for allowed in payment_conditions.values()) else matched & False
    for name, allowed in payment_conditions.items():
        if allowed is not None:
            matched &= _isin(batch.column(name), allowed)
    return matched


def _isin(values: list[Any], allowed: Sequence[Any]) -> np.ndarray:
    """Which values are among ``allowed``."""
    wanted = set(allowed)
    distinct = set(values)
    if distinct <= wanted:  # (a column of a few values: decided by them)
        return np.ones(len(values), dtype=bool)
    if distinct.isdisjoint(wanted):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(wanted.__contains__, values), dtype=bool, count=len(values))


class Router:
    """Sends each payment to the destinations of every route whose conditions it meets."""

    def __init__(self, routes: Sequence[RouteConfig]) -> None:
        self.routes = tuple(routes)
        self._by_kind: dict[type, tuple[RouteConfig, ...]] = {}

    def _candidates(self, record: Canonical) -> tuple[RouteConfig, ...]:
        """The routes whose ``when.record`` admits the record's kind, in order (computed once a kind)."""
        return self._candidates_of(type(record))

    def _candidates_of(self, model: type) -> tuple[RouteConfig, ...]:
        if model not in self._by_kind:
            kind = getattr(model, "record", "payment")
            self._by_kind[model] = tuple(
                route for route in self.routes if route.when.record is None or kind in route.when.record
            )
        return self._by_kind[model]

    def destinations(self, record: Canonical) -> list[tuple[str, str]]:
        """(route, destination) for each destination the record goes to (the first route naming it)."""
        found: list[tuple[str, str]] = []
        for route in self._candidates(record):
            if _matches(route.when, record):
                found.extend(
                    (route.name, destination)
                    for destination in route.to
                    if destination not in [seen for _, seen in found]
                )
        return found

    def destinations_batch(self, batch: CanonicalBatch) -> list[tuple[str, str, np.ndarray]]:
        """:meth:`destinations` for every record of a batch, decided with one predicate a route
        condition over the columns: (route, destination, the rows it sends there) for each
        destination some record goes to, the route being the first naming it that the row meets."""
        sent: dict[str, np.ndarray] = {}
        found: list[tuple[str, str, np.ndarray]] = []
        for route in self._candidates_of(batch.model):
            matched = _matches_batch(route.when, batch)
            if not matched.any():
                continue
            for destination in route.to:
                rows = matched & ~sent[destination] if destination in sent else matched
                if rows.any():
                    found.append((route.name, destination, rows))
                    sent[destination] = sent[destination] | rows if destination in sent else rows
        return found
