"""The operators' web console (`gateway console`): server-rendered pages on Starlette and Jinja2.

:func:`create_app` builds the application for one configuration; ``ConsoleConfig`` is the
``[console]`` table. The web modules are imported only when the console is used, so the
rest of the gateway does not load Starlette.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.config.console import ConsoleConfig

if TYPE_CHECKING:
    from gateway.entrypoints.console.app import create_app

__all__ = ["ConsoleConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from gateway.entrypoints.console.app import create_app

        return create_app
    raise AttributeError(name)
