"""Errors that carry their HTTP status, rendered as problem+json (RFC 9457).

Services raise ServiceError subclasses from their service layer; they never
import FastAPI there. One handler renders them; request validation errors are
rendered with the same shape, naming each failing field and the reason.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.http import allowed_methods

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is, e.g. body.requester.email", examples=["body.notice_sent_on"])
    reason: str = Field(examples=["must not be in the future"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", examples=["https://send-mediation.example/problems/validation"])
    title: str = Field(examples=["Request is not valid"])
    status: int = Field(examples=[422])
    detail: str | None = None
    code: str = Field(examples=["validation_failed"])
    errors: list[FieldError] = Field(default_factory=list)


class ServiceError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    #: Response headers the status calls for (``WWW-Authenticate`` on a 401).
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str | None = None, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def response(cls, description: str | None = None) -> dict[int | str, dict[str, Any]]:
        """For a route's ``responses=``: status, schema and an example."""
        return {
            cls.status: {
                "model": Problem,
                "description": description or cls.title,
                "content": {PROBLEM_JSON: {"example": {"type": "about:blank", "title": cls.title, "status": cls.status, "code": cls.code}}},
            }
        }


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    title = "Missing or invalid credentials"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="send-mediation"'}


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class InvalidRequest(ServiceError):
    status = 422
    code = "validation_failed"
    title = "Request is not valid"

    @classmethod
    def field(cls, field: str, reason: str) -> InvalidRequest:
        return cls(f"{field}: {reason}", errors=[FieldError(field=field, reason=reason)])


VALIDATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    **InvalidRequest.response("A field is missing, has the wrong type or breaks a rule; `errors` names each one"),
    400: {"model": Problem, "description": "The body is not valid JSON", "content": {PROBLEM_JSON: {}}},
}


def problem_response(status: int, title: str, code: str, detail: str | None = None,
                     errors: list[FieldError] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, code=code, detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers)


CROSS_FIELD = "cross_field"


def cross_field_error(field: str, reason: str) -> PydanticCustomError:
    """For a model validator: a rule across fields, reported at ``field`` (e.g. ``body.health_only``) with
    ``reason`` as written, not at the model with pydantic's "Value error, " prefix."""
    return PydanticCustomError(CROSS_FIELD, reason.replace("{", "{{").replace("}", "}}"), {"field": field})


def _location(loc: tuple[Any, ...] | list[Any], hidden: frozenset[str] = frozenset()) -> str:
    return ".".join(str(part) for part in loc if part not in hidden)


def _field(error: dict[str, Any], union_tags: frozenset[str]) -> str:
    """Where the error is, as the client wrote it: a tagged union's tag is not a field, its discriminator is."""
    loc = list(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append(str(error.get("ctx", {}).get("discriminator", "")).strip("'"))
    elif error["type"] == CROSS_FIELD:
        loc.extend(str(error.get("ctx", {}).get("field", "")).split("."))
    return _location(loc, union_tags)


def field_errors(errors: list[Any], *, prefix: tuple[str, ...] = (), union_tags: frozenset[str] = frozenset()
                 ) -> list[FieldError]:
    """Pydantic's errors as fields the client wrote (``prefix`` first, union tags hidden) and reasons."""
    return [FieldError(field=".".join([*prefix, _field(e, union_tags)]).strip("."), reason=e["msg"]) for e in errors]


def install_error_handlers(app: FastAPI, *, union_tags: frozenset[str] = frozenset()) -> None:
    """``union_tags``: the tags of request bodies that are tagged unions (pydantic puts them in error paths)."""
    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.code, exc.detail, exc.errors, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(field=_field(e, union_tags), reason=e["msg"]) for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return problem_response(400, "Body is not valid JSON", "malformed_json", errors=errors)
        return problem_response(422, InvalidRequest.title, InvalidRequest.code,
                                "; ".join(f"{e.field}: {e.reason}" for e in errors), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method served at this path, not only the first route's
            headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.scope))
        return problem_response(exc.status_code, str(exc.detail), f"http_{exc.status_code}", headers=headers or None)
