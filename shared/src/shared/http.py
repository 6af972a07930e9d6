"""HTTP hygiene every service shares: security headers on every response, ``Allow`` on 405, the docs in production.

Headers (set unless a route already set its own):

- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and ``Content-Security-Policy:
  frame-ancestors 'none'`` (nothing of ours is ever framed), ``Referrer-Policy: no-referrer`` (a verification
  link carries a certificate number);
- ``Cache-Control: no-store`` on every ``/v1`` response: they carry personal data (cases, certificates,
  messages), and no shared or browser cache should keep them;
- ``Strict-Transport-Security`` when the request came over TLS (``scope["scheme"] == "https"``, which uvicorn
  sets from ``X-Forwarded-Proto`` only for a proxy listed in ``--forwarded-allow-ips``), or always when the
  setting ``behind_tls`` says a TLS-terminating proxy is in front.

A pure ASGI middleware rather than ``BaseHTTPMiddleware``: it only edits the response start, so streaming
responses and background tasks are untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000; includeSubDomains"
#: Paths whose responses may carry personal data: never stored by any cache.
NO_STORE_PREFIXES = ("/v1/",)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, behind_tls: bool = False) -> None:
        self.app = app
        self.behind_tls = behind_tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self.behind_tls or scope.get("scheme") == "https"
        no_store = str(scope.get("path", "")).startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if no_store:
                    headers["Cache-Control"] = "no-store"
                if tls:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The methods a 405's ``Allow`` may name.
METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route serves at this path (Starlette's own 405 names only the first route's).

    Asked of each route through ``matches``, so routers included in routers answer for their own routes.
    """
    return [method for method in METHODS
            if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)]
