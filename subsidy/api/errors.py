"""One error hierarchy, mapped to HTTP status codes in one place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


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

    def __init__(self, field: str, message: str) -> None:
        loc = ["body", *field.split(".")] if field else ["body"]
        super().__init__([{"loc": loc, "msg": message, "type": "value_error"}])


class Unavailable(ServiceError):
    status_code = 503


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
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    app.add_exception_handler(ServiceError, handle)
