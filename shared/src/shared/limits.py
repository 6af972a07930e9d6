"""Input limits at the edge, defined once and used by every request schema (documented in docs/api.md).

Every string and list a client sends has a maximum length; names and anything that may reach an email header
refuse control characters (CR, LF, NUL, ...); NUL is refused in every string (PostgreSQL cannot store it);
booleans and dates are strict (``"yes"`` is not true, ``0`` is not a date); dates and instants absurd for the
domain are refused relative to ``shared.clock``. ``BodyLimits`` refuses a body that is too large (413) or JSON
nested too deep (422), and a NUL in the path or query (422), before any route sees the request. Each refusal is
a problem+json response naming the field.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BeforeValidator,
    EmailStr,
    HttpUrl,
    StrictBool,
    StringConstraints,
    UrlConstraints,
    WithJsonSchema,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import clock
from shared.errors import PROBLEM_JSON, FieldError, Problem

# --- Lengths (characters) and counts -------------------------------------------------------------------------

NAME_MAX = 200
EMAIL_MAX = 254  # RFC 5321: the longest address a mail server accepts
SHORT_TEXT_MAX = 300
ISSUE_MAX = 500
ISSUES_MAX = 50
FREE_TEXT_MAX = 2000
REASON_MAX = 500
ATTENDEES_MAX = 20
#: A webhook endpoint's URL; a video-call link (it is shown as the meeting's place, 300 characters with a prefix).
URL_MAX = 2000
MEETING_URL_MAX = 250

#: The largest request body any endpoint accepts; the largest real one (a mediator's availability) is ~40 KiB.
MAX_BODY_BYTES = 256 * 1024
#: JSON deeper than this is refused before it is parsed; the deepest real body is 4 levels.
MAX_JSON_DEPTH = 32

# --- Domain date ranges ----------------------------------------------------------------------------------------

#: Dates of decisions, notices and contacts: the SEND framework began on 1 September 2014; none is years ahead.
EVENT_DATE_YEARS_BACK = 12
EVENT_DATE_YEARS_AHEAD = 2
#: Meetings, availability and exceptions: planned at most this far ahead, recorded at most this far back.
PLAN_YEARS_BACK = 2
PLAN_YEARS_AHEAD = 5
#: A child or young person with special educational needs is under 26 (a plan can last to 25).
BIRTH_YEARS_BACK = 30


def _years(n: int) -> timedelta:
    return timedelta(days=366 * n)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _single_line(value: str) -> str:
    """Names and header-bound text: no control characters (CR, LF, NUL, TAB, ...), no line separators."""
    if any(_is_control(char) for char in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _text(value: str) -> str:
    """Free text: line breaks and tabs are allowed, NUL and other control characters are not."""
    if any(_is_control(char) and char not in "\n\r\t" for char in value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# --- Strings -------------------------------------------------------------------------------------------------

#: A person's or an organisation's name: single line, no control characters (it may go into an email header).
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(_single_line),
                 AfterValidator(_not_blank)]
#: A short single-line text: an address, an issuer's or a provider's name, an organisation.
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=SHORT_TEXT_MAX), AfterValidator(_single_line),
                      AfterValidator(_not_blank)]
#: One mediation issue, in the LA's words (it appears in emails and events).
Issue = Annotated[str, StringConstraints(min_length=1, max_length=ISSUE_MAX), AfterValidator(_single_line)]
#: Free text: a summary, the health provision wanted. Line breaks allowed.
FreeText = Annotated[str, StringConstraints(min_length=1, max_length=FREE_TEXT_MAX), AfterValidator(_text)]
#: A reason or a note kept with a decision. Line breaks allowed.
Reason = Annotated[str, StringConstraints(min_length=1, max_length=REASON_MAX), AfterValidator(_text)]
#: An email address: at most 254 characters (checked before the address is parsed), no control characters.
Email = Annotated[EmailStr, BeforeValidator(lambda v: _bounded_email(v)),
                  WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX})]


def _bounded_email(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > EMAIL_MAX:
            raise ValueError(f"must have at most {EMAIL_MAX} characters")
        _single_line(value)
    return value


def _url_within(limit: int) -> Any:
    def check(value: Any) -> Any:
        if len(str(value)) > limit:  # as stored: after normalisation (IDNA, percent-encoding) it can grow
            raise ValueError(f"must have at most {limit} characters")
        return value
    return AfterValidator(check)


#: A receiver's URL (http or https), at most 2000 characters.
EndpointUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=URL_MAX), _url_within(URL_MAX)]
#: A video-call link, at most 250 characters.
MeetingUrl = Annotated[HttpUrl, UrlConstraints(max_length=MEETING_URL_MAX), _url_within(MEETING_URL_MAX)]


def no_nul(value: str) -> str:
    """For any other string field (ids, codes): NUL is refused everywhere."""
    return _no_nul(value)


# --- Booleans and dates ---------------------------------------------------------------------------------------

#: ``true`` or ``false`` only: not ``"yes"``, ``1`` or ``"on"``.
Bool = StrictBool


def _iso_date_only(value: Any) -> Any:
    """A date is an ISO 8601 string (``2026-11-03``), never a number (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, bool | int | float):
        raise ValueError("must be a date written as YYYY-MM-DD, not a number")
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return value


def _iso_instant_only(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise ValueError("must be an ISO 8601 date and time with an offset, not a number")
    return value


def _within(value: date, earliest: date, latest: date) -> date:
    if value < earliest:
        raise ValueError(f"must not be before {earliest.isoformat()}")
    if value > latest:
        raise ValueError(f"must not be after {latest.isoformat()}")
    return value


def _event_date(value: date) -> date:
    today = clock.today()
    return _within(value, max(date(2014, 9, 1), today - _years(EVENT_DATE_YEARS_BACK)),
                   today + _years(EVENT_DATE_YEARS_AHEAD))


def _plan_date(value: date) -> date:
    today = clock.today()
    return _within(value, today - _years(PLAN_YEARS_BACK), today + _years(PLAN_YEARS_AHEAD))


def _birth_date(value: date) -> date:
    today = clock.today()
    if value > today:
        raise ValueError("must not be in the future")
    return _within(value, today - _years(BIRTH_YEARS_BACK), today)


def _plan_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must have a UTC offset")
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # 9999-12-31T23:00-05:00 is past the last representable instant
        raise ValueError("is out of range") from exc
    now = clock.now()
    if utc < now - _years(PLAN_YEARS_BACK) or utc > now + _years(PLAN_YEARS_AHEAD):
        raise ValueError(f"must be within {PLAN_YEARS_BACK} years before and {PLAN_YEARS_AHEAD} years after today")
    return value


#: A decision, notice, contact or consent date: YYYY-MM-DD, from 1 Sept 2014 and at most 2 years ahead.
EventDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_event_date)]
#: A day in a schedule (availability, exceptions, a meeting's day): within 2 years back and 5 years ahead.
PlanDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_plan_date)]
#: A child's or young person's date of birth: not in the future, at most 30 years ago.
BirthDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_birth_date)]
#: A meeting's start or end: an aware instant within 2 years back and 5 years ahead.
PlanInstant = Annotated[datetime, BeforeValidator(_iso_instant_only), AfterValidator(_plan_instant)]


def _local_time(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?", value):
        raise ValueError("must be a local time written as HH:MM, without an offset")
    if isinstance(value, bool | int | float):
        raise ValueError("must be a local time written as HH:MM, not a number")
    return value


#: A wall-clock time in Europe/London (``09:30``), no offset: JSON Schema's ``time`` format needs one, so the
#: document gives a pattern instead.
LocalTime = Annotated[time, BeforeValidator(_local_time), WithJsonSchema(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "examples": ["09:30"]})]

# --- The request body ------------------------------------------------------------------------------------------


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest, without parsing it (brackets inside strings do not count);
    counting stops just past ``MAX_JSON_DEPTH``."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        else:
            depth -= 1
    return deepest


def _problem(status: int, title: str, code: str, field: str, reason: str) -> bytes:
    problem = Problem(title=title, status=status, code=code, detail=f"{field}: {reason}",
                      errors=[FieldError(field=field, reason=reason)])
    return json.dumps(problem.model_dump(exclude_none=True)).encode()


class BodyLimits:
    """ASGI middleware: 413 for a body over ``max_bytes`` (by Content-Length, or while it streams in), 422 for
    JSON nested deeper than ``max_depth``, 422 for a NUL in the path or the query string."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"") \
                or b"\x00" in scope.get("query_string", b""):
            where = "path" if "\x00" in scope.get("path", "") else "query"
            await self._refuse(send, 422, "Request is not valid", "validation_failed", where,
                               "must not contain a NUL character")
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_large = f"must be at most {self.max_bytes} bytes"
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send, 413, "Request body too large", "body_too_large", "body", too_large)
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413, "Request body too large", "body_too_large", "body", too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if json_depth(body) > self.max_depth:
            await self._refuse(send, 422, "Request is not valid", "validation_failed", "body",
                               f"must not nest arrays and objects deeper than {self.max_depth} levels")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, status: int, title: str, code: str, field: str, reason: str) -> None:
        payload = _problem(status, title, code, field, reason)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def document_edge_responses(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every refusal the edge gives, in the OpenAPI document: 422 (and 400 for malformed JSON) as problem+json
    wherever FastAPI documents its own 422, and 400, 413 and 422 on every operation that takes a body."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in schemas:
        generated = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(generated.pop("$defs", {}))
        schemas["Problem"] = generated
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in openapi.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "422" in responses or "requestBody" in operation:
                responses["422"] = {**responses.get("422", {}), "content": problem}
                responses["422"].setdefault("description", "A field breaks a limit or a rule; `errors` names it")
            if "requestBody" in operation:
                responses["400"] = {"description": "The body is not valid JSON", "content": problem}
                responses["413"] = {"description": f"The body is larger than {MAX_BODY_BYTES} bytes",
                                    "content": problem}
    _link_created_resources(openapi)
    return openapi


def _link_created_resources(openapi: dict[str, Any]) -> None:
    """OpenAPI links from each ``POST /things`` that answers 201 with an ``id`` to every operation on
    ``/things/{thing_id}...``: what lets stateful testing (schemathesis) follow a created case through its life."""
    paths: dict[str, Any] = openapi.get("paths", {})
    schemas = openapi.get("components", {}).get("schemas", {})
    for collection, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if not created:
            continue
        content: dict[str, Any] = next(iter(created.get("content", {}).values()), {})
        schema: dict[str, Any] = content.get("schema", {})
        name = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
        if "id" not in schemas.get(name, {}).get("properties", {}):
            continue
        links: dict[str, Any] = {}
        for path, item in paths.items():
            match = re.fullmatch(re.escape(collection) + r"/\{(\w+)\}(/.*)?", path)
            if not match:
                continue
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    links[operation["operationId"]] = {"operationId": operation["operationId"],
                                                       "parameters": {match.group(1): "$response.body#/id"}}
        if links:
            created.setdefault("links", {}).update(links)
