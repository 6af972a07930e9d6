"""Bearer credentials for API clients: each token belongs to one client with scopes.

A portal client belongs to one local authority and sees only its cases.
Tokens are configured per service (``<PREFIX>API_CLIENTS``, JSON) and compared
in constant time; production refuses the development placeholders.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
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


def _check(request: Request, credentials: HTTPAuthorizationCredentials | None, scope: str) -> ApiClient:
    if credentials is None:
        raise Unauthorized("send an Authorization: Bearer <token> header")
    client = authenticate(request.app.state.runtime.settings.api_clients, credentials.credentials)
    if client is None:
        raise Unauthorized("unknown bearer token")
    if scope not in client.scopes:
        raise Forbidden(f"this client lacks the scope {scope!r}")
    return client


# The dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in its
# thread pool, a hand-off to another thread and back on every request for a few microseconds of hashing.

def require_scope(scope: str) -> Callable[..., Awaitable[ApiClient]]:
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiClient:
        return _check(request, credentials, scope)

    return dependency


def require_any_scope(*scopes: str) -> Callable[..., Awaitable[ApiClient]]:
    """Any one of ``scopes`` will do (an LA portal reading its own cases, or operations reading all)."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiClient:
        refusal: Forbidden | None = None
        for scope in scopes:
            try:
                return _check(request, credentials, scope)
            except Forbidden as exc:
                refusal = exc
        assert refusal is not None
        raise Forbidden(f"this client lacks every one of the scopes {', '.join(map(repr, scopes))}") from refusal

    return dependency


AUTH_RESPONSES = {**Unauthorized.response(), **Forbidden.response()}


async def ops_only_in_production(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Production: ``/metrics`` and the OpenAPI document need an ops bearer token (scope ``ops:read``)."""
    if request.app.state.runtime.settings.environment == "production":
        _check(request, credentials, "ops:read")
