"""What the request path's speed-ups must not change: HTTP metrics per route and status, fresh defaults per row,
one typed envelope class per event type, and the access log left off when uvicorn was told so."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from prometheus_client import REGISTRY

from intake.case.models import Case
from shared.events.cases import CaseWithdrawnV1
from shared.events.envelope import Envelope
from shared.logging import configure_logging
from shared.metrics import HttpMetrics


def _count(route: str, status: str) -> float:
    return REGISTRY.get_sample_value("http_requests_total", {"service": "unit-http", "method": "GET",
                                                             "route": route, "status": status}) or 0.0


async def test_http_metrics_name_the_route_template_and_the_status() -> None:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(404)
        if thing_id == "broken":
            raise RuntimeError("boom")
        return {"id": thing_id}

    app.add_middleware(HttpMetrics, service="unit-http")
    before = {(r, s): _count(r, s) for r, s in [("/things/{thing_id}", "200"), ("/things/{thing_id}", "404"),
                                                 ("/things/{thing_id}", "500"), ("unmatched", "404")]}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/things/1")).status_code == 200
        assert (await client.get("/things/missing")).status_code == 404
        assert (await client.get("/things/broken")).status_code == 500
        assert (await client.get("/nowhere")).status_code == 404
    for (route, status), count in before.items():
        assert _count(route, status) == count + 1, (route, status)


def test_rows_still_get_fresh_defaults() -> None:
    first, second = (Case(reference="r", la_code="x", kind="mediation", status="submitted") for _ in range(2))
    assert first.id != second.id
    assert first.dr_parties == [] and first.dr_parties is not second.dr_parties
    assert first.meeting_needs == {} and first.meeting_needs is not second.meeting_needs


def test_one_typed_envelope_class_per_event_type() -> None:
    import gc

    typed = Envelope.of(CaseWithdrawnV1)
    gc.collect()
    assert Envelope.of(CaseWithdrawnV1) is typed
    assert Envelope[CaseWithdrawnV1] is typed  # pydantic's own cache finds the class kept


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("uvicorn.access")
    saved = (logger.handlers[:], logger.propagate)
    yield logger
    logger.handlers[:], logger.propagate = saved


def test_no_access_log_stays_off(access_logger: logging.Logger) -> None:
    access_logger.handlers[:], access_logger.propagate = [], False  # what uvicorn --no-access-log leaves
    configure_logging("unit")
    assert not access_logger.propagate and not access_logger.hasHandlers()


def test_access_log_on_goes_to_the_json_handler(access_logger: logging.Logger) -> None:
    access_logger.handlers[:], access_logger.propagate = [logging.NullHandler()], False  # uvicorn's default
    configure_logging("unit")
    assert access_logger.propagate and not access_logger.handlers
