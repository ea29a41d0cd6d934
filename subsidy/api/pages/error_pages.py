"""Unknown pages, wrong methods and malformed addresses on page paths are pages in the user's language (zh-CN
first) with a way back; the JSON API keeps its JSON answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from subsidy.api.pages.web import gettext_for, is_page_path, page_identity, render
from subsidy.api.refusals import record_refusal


def _back(request: Request) -> tuple[str, str]:
    """Where the way back leads: the signed-in user's start page, else the public one."""
    _ = gettext_for(request)
    if page_identity(request) is not None:
        return "/", _("Go to your start page")
    return "/", _("Go to the start page")


def error_page(request: Request, status_code: int, headers: dict[str, str] | None = None) -> Response:
    _ = gettext_for(request)
    titles = {
        404: _("Page not found"),
        405: _("This page cannot be used that way"),
        403: _("You cannot see this page"),
        409: _("This cannot be done now"),
    }
    messages = {
        404: _("There is no page at this address. Check the address, or go back and follow a link."),
        405: _("Go back and use the page's own links and buttons."),
        403: _("It does not exist, or it belongs to someone else."),
        409: _("The page changed meanwhile. Go back, reload it and try again."),
    }
    href, words = _back(request)
    response = render(
        request,
        "error.html",
        {
            "title": titles.get(status_code, _("The address is not valid")),
            "message": messages.get(status_code, _("Part of the address is not valid. Go back and follow a link.")),
            "back_href": href,
            "back_words": words,
        },
        status_code=status_code,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install_error_pages(app: FastAPI) -> None:
    """Wrap the API's handlers: page paths get an HTML page, API paths what they got before."""
    api_http = app.exception_handlers[StarletteHTTPException]
    api_invalid = app.exception_handlers[RequestValidationError]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_page_path(request.url.path) or request.url.path.startswith("/static/"):
            return await api_http(request, exc)  # type: ignore[no-any-return]
        if exc.status_code in (401, 403):
            await record_refusal(request, exc.status_code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            response = await api_http(request, exc)
            headers = {"Allow": response.headers.get("Allow", "")}
        return error_page(request, exc.status_code, headers)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        if not is_page_path(request.url.path):
            return await api_invalid(request, exc)  # type: ignore[no-any-return]
        # 422 as the API answers a value it cannot accept; the page says so in words.
        return error_page(request, 422)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
