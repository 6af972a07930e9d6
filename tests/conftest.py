"""Fixtures for the whole suite.

Real Kafka, PostgreSQL and SMTP come from the ``send-shared`` pytest plugin
(shared/src/shared/testing/plugin.py). Each test gets its own Kafka namespace
(topic and consumer-group prefix) and its own databases, so tests never see
each other's events or rows.
"""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}."
