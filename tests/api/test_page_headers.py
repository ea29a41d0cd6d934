"""Pages carry the protective headers (never cached, our scripts only, no framing); the JSON API does not need them."""

from __future__ import annotations

import httpx

from subsidy.api.pages.web import CONTENT_SECURITY_POLICY


async def test_pages_get_the_protective_headers_and_the_api_passes_through(http: httpx.AsyncClient) -> None:
    for path in ("/login", "/", "/no-such-page"):
        page = await http.get(path)
        assert page.headers["cache-control"] == "no-store", path
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert page.headers["x-frame-options"] == "DENY", path
        assert page.headers["x-content-type-options"] == "nosniff", path
        assert page.headers["referrer-policy"] == "same-origin", path
    for path in ("/healthz", "/api/v1/policies", "/openapi.json"):
        response = await http.get(path)
        assert response.status_code == 200, path
        assert "content-security-policy" not in response.headers, path
