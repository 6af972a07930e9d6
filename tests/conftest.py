"""Fixtures for the whole suite.

Real Kafka, PostgreSQL and SMTP come from the ``send-shared`` pytest plugin
(shared/src/shared/testing/plugin.py). Each test gets its own Kafka namespace
(topic and consumer-group prefix) and its own databases, so tests never see
each other's events or rows.

``make test`` runs the suite on two pytest-xdist workers (``--dist loadgroup``),
each with its own broker, PostgreSQL cluster and SMTP servers: the groups below
keep a module's tests on one worker, in order (a module fixture is set up once),
and run the end-to-end tests one after another on one worker, so that no more
than one set of service processes runs at a time.
"""

from __future__ import annotations

import uuid

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = "e2e" if item.get_closest_marker("e2e") else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}."
