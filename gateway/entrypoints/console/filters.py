"""The last thing every response passes through: individual numbers masked, security headers set.

:class:`ResponseFilter` is a pure ASGI middleware. It holds back each response's body and,
when it is text (HTML, CSV, CSS, JSON …), replaces every individual number by
``[個人番号]`` before the body leaves the process (formats/checkdigits.py
mask_my_numbers: 12 digits, ASCII or full-width, possibly split by single spaces or
hyphens, letters or kana around them allowed, passing the check digit; longer digit runs
and SHA-256 digests are kept) — defence in depth behind the masking the reports and the
audit log already do, so that a value that slipped past them still never reaches a browser.
It also sets the headers every page should carry (no framing, no sniffing, a strict
Content-Security-Policy, no caching of pages that hold personal data).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from formats.checkdigits import MY_NUMBER_MASK, mask_my_numbers

__all__ = ["MY_NUMBER_MASK", "ResponseFilter", "mask_body"]


_TEXTUAL = ("text/", "application/json", "application/javascript", "application/xml", "application/xhtml+xml")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def mask_body(body: bytes) -> bytes:
    """``body`` (UTF-8 text) with every valid individual number masked; other bytes kept as they are."""
    text = body.decode("utf-8", "surrogateescape")
    masked = mask_my_numbers(text, MY_NUMBER_MASK)
    return body if masked == text else masked.encode("utf-8", "surrogateescape")


class ResponseFilter:
    """Masks individual numbers in every textual response body; adds the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def filtered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(raw=list(start["headers"]))
            content_type = headers.get("content-type", "").lower()
            if content_type.startswith(_TEXTUAL):
                body = mask_body(body)
            if "content-length" in headers or body:
                headers["content-length"] = str(len(body))
            for name, value in SECURITY_HEADERS.items():
                headers.setdefault(name, value)
            if not scope.get("path", "").startswith("/static/"):
                headers["cache-control"] = "no-store"
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, filtered)
