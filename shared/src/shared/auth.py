"""Bearer credentials for API clients: each token belongs to one client with scopes.

A portal client belongs to one local authority and sees only its cases.
Tokens are configured per service (``<PREFIX>API_CLIENTS``, JSON) and compared
in constant time; production refuses the development placeholders.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden, Unauthorized


class ApiClient(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: str = "portal"
    la_code: str | None = None
    scopes: frozenset[str] = frozenset()


DEVELOPMENT_CLIENTS: dict[str, ApiClient] = {
    "dev-only-southend-portal": ApiClient(
        name="Southend-on-Sea portal (development)", la_code="E06000033",
        scopes=frozenset({"cases:read", "cases:write", "certificates:read"}),
    ),
    "dev-only-ops": ApiClient(name="Operations (development)", kind="ops",
                              scopes=frozenset({"ops:read", "ops:write"})),
}

_bearer = HTTPBearer(auto_error=False, description="Per-client bearer token")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def authenticate(clients: Mapping[str, ApiClient], token: str) -> ApiClient | None:
    found: ApiClient | None = None
    presented = _digest(token)
    for known, client in clients.items():  # compare every entry: no early exit
        if hmac.compare_digest(presented, _digest(known)):
            found = client
    return found


def require_scope(scope: str) -> Callable[..., ApiClient]:
    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiClient:
        if credentials is None:
            raise Unauthorized("send an Authorization: Bearer <token> header")
        client = authenticate(request.app.state.runtime.settings.api_clients, credentials.credentials)
        if client is None:
            raise Unauthorized("unknown bearer token")
        if scope not in client.scopes:
            raise Forbidden(f"this client lacks the scope {scope!r}")
        return client

    return dependency


def require_any_scope(*scopes: str) -> Callable[..., ApiClient]:
    """Any one of ``scopes`` will do (an LA portal reading its own cases, or operations reading all)."""
    checks = [require_scope(scope) for scope in scopes]

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiClient:
        refusal: Forbidden | None = None
        for check in checks:
            try:
                return check(request, credentials)
            except Forbidden as exc:
                refusal = exc
        assert refusal is not None
        raise Forbidden(f"this client lacks every one of the scopes {', '.join(map(repr, scopes))}") from refusal

    return dependency


AUTH_RESPONSES = {**Unauthorized.response(), **Forbidden.response()}


_ops_read = require_scope("ops:read")


def ops_only_in_production(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Production: ``/metrics`` and the OpenAPI document need an ops bearer token (scope ``ops:read``)."""
    if request.app.state.runtime.settings.environment == "production":
        _ops_read(request, credentials)
