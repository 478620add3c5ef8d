"""Routing: which destinations each canonical record goes to, from the configured routes."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config.settings import RouteCondition, RouteConfig
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


class Router:
    """Sends each payment to the destinations of every route whose conditions it meets."""

    def __init__(self, routes: Sequence[RouteConfig]) -> None:
        self.routes = tuple(routes)
        self._by_kind: dict[type, tuple[RouteConfig, ...]] = {}

    def _candidates(self, record: Canonical) -> tuple[RouteConfig, ...]:
        """The routes whose ``when.record`` admits the record's kind, in order (computed once a kind)."""
        model = type(record)
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
