"""Routing: which destinations each canonical record goes to, from the configured routes."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.models import Payment
from gateway.settings import RouteCondition, RouteConfig

__all__ = ["Router"]


def _matches(condition: RouteCondition, payment: Payment) -> bool:
    checks = (
        (condition.kind, payment.kind),
        (condition.status, payment.status),
        (condition.channel, payment.source.channel),
        (condition.result_code, payment.result_code),
    )
    return all(allowed is None or value in allowed for allowed, value in checks)


class Router:
    """Sends each payment to the destinations of every route whose conditions it meets."""

    def __init__(self, routes: Sequence[RouteConfig]) -> None:
        self.routes = tuple(routes)

    def destinations(self, payment: Payment) -> list[str]:
        targets: list[str] = []
        for route in self.routes:
            if _matches(route.when, payment):
                targets.extend(target for target in route.to if target not in targets)
        return targets

    def routes_for(self, payment: Payment) -> list[str]:
        return [route.name for route in self.routes if _matches(route.when, payment)]
