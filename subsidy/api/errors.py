"""One error hierarchy, mapped to HTTP status codes in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
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


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    app.add_exception_handler(ServiceError, handle)
