"""Which failures are outages (retried for ever) and which are failures of the work (retried, then dead-lettered)."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared.outage import is_outage


class DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the driver's error with its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def wrapped(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, DriverError(sqlstate), connection_invalidated=False)


@pytest.mark.parametrize("sqlstate", ["57P03", "57P01", "57P02", "08006", "08001", "53300", "53100"])
def test_a_database_starting_up_shutting_down_unreachable_or_out_of_resources_is_an_outage(sqlstate):
    assert is_outage(wrapped(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "22P05", "42P01", "40001"])
def test_an_error_about_the_statement_or_its_data_is_not_an_outage(sqlstate):
    assert not is_outage(wrapped(sqlstate))


def test_an_integrity_error_is_not_an_outage():
    assert not is_outage(IntegrityError("INSERT", None, DriverError("23505")))


def test_a_refused_connection_and_an_unreachable_broker_are_outages():
    assert is_outage(ConnectionRefusedError(111, "Connection refused"))
    assert is_outage(KafkaConnectionError("no broker"))


def test_the_drivers_own_cannot_connect_now_error_is_an_outage_however_deep_in_the_chain():
    try:
        try:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        except asyncpg.PostgresError as exc:
            raise RuntimeError("while opening a session") from exc
    except RuntimeError as outer:
        assert is_outage(outer)


def test_a_bug_in_a_handler_is_not_an_outage():
    assert not is_outage(ValueError("the handler has a bug"))
