"""One error hierarchy, mapped to HTTP status codes in one place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from subsidy.api.refusals import record_refusal


class ServiceError(Exception):
    status_code = 400

    def __init__(self, detail: object) -> None:
        super().__init__(str(detail))
        self.detail = detail


class NotAuthenticated(ServiceError):
    status_code = 401


class Forbidden(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    status_code = 422

    def __init__(self, field: str, message: str, code: str = "value_error") -> None:
        """`field` is a dotted path in the body ("values.monthly_rent"); `code` the machine-readable reason."""
        loc = ["body", *field.split(".")] if field else ["body"]
        super().__init__([{"loc": loc, "msg": message, "type": code}])


class Unavailable(ServiceError):
    status_code = 503


class TooManyRequests(ServiceError):
    """Too many failed sign-ins for a user name: nothing is checked until `retry_after` seconds have passed."""

    status_code = 429

    def __init__(self, detail: object, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def error_headers(exc: ServiceError) -> dict[str, str] | None:
    if isinstance(exc, NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, TooManyRequests):
        return {"Retry-After": str(exc.retry_after)}
    return None


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error body: one sentence, or one item per invalid field."""

    detail: str | list[ErrorItem]


_MEANINGS = {
    400: "the body cannot be read (not JSON or a form, not UTF-8, nested too deeply)",
    401: "not signed in, or the token is invalid or has expired",
    403: "not allowed: role, county, own application, separation of duties",
    404: "no such resource, or not one the caller may see",
    409: "conflict with the state of the procedure",
    413: "the request body is larger than 1 MiB (6 MiB for a document upload)",
    429: "too many failed sign-ins for this user name: try again after Retry-After seconds",
    503: "the workflow engine cannot be reached: try again (a submission with the same Idempotency-Key)",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds until sign-in is checked again"}},
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of API.md for `responses=`, so that the OpenAPI document lists every status returned."""
    return {
        code: {
            "model": ErrorOut,
            "description": _MEANINGS[code],
            **({"headers": _HEADERS[code]} if code in _HEADERS else {}),
        }
        for code in codes
    }


def validation_errors(errors: Sequence[Any], program_codes: Iterable[str] = ()) -> list[dict[str, Any]]:
    """422 details without the submitted values (they may be ID numbers) and without the program tag in `loc`."""
    codes = set(program_codes)
    cleaned = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if len(loc) > 1 and loc[0] == "body" and loc[1] in codes:
            del loc[1]
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        cleaned.append({"loc": loc, "msg": message, "type": error.get("type", "value_error")})
    return cleaned


def install_error_handlers(app: FastAPI, program_codes: Iterable[str] = ()) -> None:
    codes = tuple(program_codes)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": validation_errors(exc.errors(), codes)}, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid_request)

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        await record_refusal(request, exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=error_headers(exc))

    app.add_exception_handler(ServiceError, handle)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            # Starlette answers with the methods of the first route whose path matched; a path served by several
            # routes (GET and POST /api/v1/applications are two) allows all of theirs.
            exc = StarletteHTTPException(405, exc.detail, headers={**(exc.headers or {}), "Allow": allowed(request)})
        return await http_exception_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, http_error)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed(request: Request) -> str:
    """Every method that some route of the request's path answers (HEAD with GET, as Starlette adds it).

    Asked of each route through `matches`, the routing's public interface, with each method in turn: FastAPI's
    included routers nest their routes, so the app's own list does not show them.
    """
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    found = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
    return ", ".join(found)
