"""HTTP hygiene on every service: security headers, no-store on the API, HSTS over TLS, WWW-Authenticate on 401,
a complete Allow on 405, and no docs (nor open /metrics or OpenAPI) in production.

The apps are driven over ASGI without their lifespan: these answers need no database or broker.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from certificates.main import create_app as create_certificates
from certificates.settings import CertificatesSettings
from intake.main import create_app as create_intake
from intake.settings import IntakeSettings
from shared.auth import ApiClient

OPS_TOKEN = secrets.token_urlsafe(32)
OPS_CLIENT = ApiClient(name="Operations", kind="ops", scopes=frozenset({"ops:read", "ops:write"}))


def client(app: object, *, base_url: str = "http://service") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)  # type: ignore[arg-type]


@pytest.fixture
def intake(tmp_path: Path) -> httpx.AsyncClient:
    return client(create_intake(IntakeSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/intake.sqlite",
                                               environment="test")))


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_every_response_carries_the_security_headers_and_the_api_is_never_cached(intake):
    async with intake:
        health = await intake.get("/healthz")
        api = await intake.get("/v1/cases")
        missing = await intake.get("/no-such-page")

    for response in (health, api, missing):
        assert_security_headers(response)
    assert api.headers["cache-control"] == "no-store"
    assert "cache-control" not in health.headers
    assert "strict-transport-security" not in api.headers  # plain http, no TLS proxy declared


async def test_hsts_is_sent_over_tls_or_when_the_setting_declares_a_tls_proxy(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/intake.sqlite"
    async with client(create_intake(IntakeSettings(database_url=url, environment="test")),
                      base_url="https://service") as over_tls:
        tls = await over_tls.get("/healthz")
    async with client(create_intake(IntakeSettings(database_url=url, environment="test", behind_tls=True))) as proxied:
        behind = await proxied.get("/healthz")

    assert tls.headers["strict-transport-security"].startswith("max-age=31536000")
    assert behind.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_a_401_names_the_bearer_scheme_in_www_authenticate(intake):
    async with intake:
        none = await intake.get("/v1/cases")
        unknown = await intake.get("/v1/cases", headers={"Authorization": "Bearer not-a-token"})

    assert none.status_code == unknown.status_code == 401
    assert none.headers["www-authenticate"].startswith("Bearer ")
    assert unknown.headers["www-authenticate"].startswith("Bearer ")


async def test_a_405_allows_every_method_served_at_the_path(tmp_path):
    app = create_certificates(CertificatesSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/certificates.sqlite", environment="test",
        signing_key_path=tmp_path / "key.pem", signing_cert_path=tmp_path / "cert.pem"))
    async with client(app) as certificates:
        response = await certificates.delete("/v1/verify")  # GET serves the page, POST checks a certificate

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert_security_headers(response)


async def test_production_serves_no_docs_and_only_operations_read_metrics_and_the_openapi_document(tmp_path):
    app = create_intake(IntakeSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/intake.sqlite",
                                       environment="production", api_clients={OPS_TOKEN: OPS_CLIENT}))
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    async with client(app) as intake:
        docs, redoc = await intake.get("/docs"), await intake.get("/redoc")
        anonymous_openapi, anonymous_metrics = await intake.get("/openapi.json"), await intake.get("/metrics")
        openapi = await intake.get("/openapi.json", headers=ops)

    assert docs.status_code == redoc.status_code == 404
    assert anonymous_openapi.status_code == anonymous_metrics.status_code == 401
    assert openapi.status_code == 200
    assert openapi.json()["info"]["title"]


async def test_outside_production_the_docs_are_served(intake):
    async with intake:
        docs, openapi = await intake.get("/docs"), await intake.get("/openapi.json")

    assert docs.status_code == openapi.status_code == 200
