"""Signing in to the pages with a plain HTTP client, as a browser does: the sign-in form, its CSRF token and cookies."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html[:2000]
    return found.group(1)


async def page_login(client: httpx.AsyncClient, username: str, password: str = "demo") -> httpx.Response:
    """Post the sign-in form; the client keeps the session cookie when it succeeds (a 303 to the start page)."""
    form = await client.get("/login")
    return await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(form.text), "next": ""}
    )
