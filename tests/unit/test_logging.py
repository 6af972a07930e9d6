"""JSON logs carry ids, and personal data keys are redacted (second line of defence, R20)."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from shared.logging import bound_contextvars, configure_logging, get_logger

EMAIL = "ada.lovelace@example.org"
NAME = "Ada Lovelace"


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_log_call_is_one_json_line_with_service_level_and_ids(capsys):
    configure_logging("intake")

    get_logger("intake.test").info("case.received", case_id="c-1", la_code="E09000033")

    [record] = json_lines(capsys.readouterr().out)
    assert record["event"] == "case.received"
    assert record["case_id"] == "c-1"
    assert record["la_code"] == "E09000033"
    assert record["service"] == "intake"
    assert record["level"] == "info"
    assert record["logger"] == "intake.test"
    assert "timestamp" in record


def test_an_email_value_is_redacted(capsys):
    configure_logging("intake")

    get_logger("intake.test").info("case.received", case_id="c-1", email=EMAIL)

    output = capsys.readouterr().out
    [record] = json_lines(output)
    assert record["email"] == "[redacted]"
    assert EMAIL not in output


@pytest.mark.parametrize("key", ["name", "requester", "child", "date_of_birth", "recipient", "body", "pdf_base64"])
def test_personal_data_keys_are_redacted(capsys, key):
    configure_logging("notifications")

    get_logger("notifications.test").warning("email.retry", **{key: {"name": NAME, "email": EMAIL}})

    output = capsys.readouterr().out
    [record] = json_lines(output)
    assert record[key] == "[redacted]"
    assert NAME not in output
    assert EMAIL not in output


def test_an_email_bound_to_the_context_is_redacted(capsys):
    configure_logging("intake")

    with bound_contextvars(case_id="c-1", email=EMAIL):
        get_logger("intake.test").info("case.received")

    output = capsys.readouterr().out
    [record] = json_lines(output)
    assert record["case_id"] == "c-1"
    assert record["email"] == "[redacted]"
    assert EMAIL not in output


def test_standard_library_log_records_are_rendered_as_json(capsys):
    configure_logging("scheduling")

    logging.getLogger("some.library").warning("connection lost")

    [record] = json_lines(capsys.readouterr().out)
    assert record["event"] == "connection lost"
    assert record["service"] == "scheduling"
    assert record["level"] == "warning"


def test_records_below_the_configured_level_are_dropped(capsys):
    configure_logging("intake", level="warning")

    get_logger("intake.test").info("case.received", case_id="c-1")

    assert capsys.readouterr().out == ""


def test_a_line_below_the_level_is_dropped_before_any_processor_runs(capsys, monkeypatch):
    configure_logging("intake", level="info")
    looked_up: list[str] = []
    monkeypatch.setattr("shared.tracing.trace_ids", lambda: looked_up.append("trace ids") or {})

    get_logger("intake.test").debug("outbox.published", count=1)
    get_logger("intake.test").info("case.received", case_id="c-1")

    assert looked_up == ["trace ids"]  # the info line's only: the debug line cost no processor
    assert [line["event"] for line in json_lines(capsys.readouterr().out)] == ["case.received"]


def test_case_field_names_holding_personal_data_are_redacted(capsys):
    configure_logging("intake")

    get_logger("intake.test").info("case.received", case_id="c-1", requester_email=EMAIL, child_name=NAME)

    output = capsys.readouterr().out
    assert EMAIL not in output
    assert NAME not in output


class _UniqueViolation(Exception):
    sqlstate = "23505"


def _fail_to_store(name: str) -> None:
    try:
        raise _UniqueViolation(f'duplicate key value\nDETAIL:  Key (child_name)=({name}) already exists.')
    except _UniqueViolation as exc:
        raise RuntimeError(f"could not store {name}") from exc


@pytest.mark.parametrize("logger", ["structlog", "uvicorn.error"])
def test_a_logged_exception_keeps_its_class_sqlstate_and_frames_but_never_its_message(capsys, logger):
    configure_logging("intake")
    try:
        _fail_to_store(NAME)
    except RuntimeError:
        if logger == "structlog":
            get_logger("test").exception("request.failed")
        else:
            logging.getLogger(logger).exception("Exception in ASGI application")

    [line] = json_lines(capsys.readouterr().out)
    assert NAME not in json.dumps(line)
    assert "RuntimeError: [message withheld]" in line["exception"]
    assert "_UniqueViolation (SQLSTATE 23505): [message withheld]" in line["exception"]
    assert "in _fail_to_store" in line["exception"]


@pytest.mark.parametrize("url", ["postgresql+asyncpg://user:secret@localhost/intake", "sqlite+aiosqlite:///:memory:"])
def test_both_database_engines_hide_bound_parameters_from_their_errors(url):
    from shared.db import create_engine

    engine = create_engine(url)

    assert engine.sync_engine.hide_parameters is True
