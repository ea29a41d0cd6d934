"""The Temporal UI decrypts payloads through the auditors' codec endpoint: from its origin only, for auditors only.

The UI (another origin: the dev server's port) calls `POST <codec>/decode` with `Content-Type`, `X-Namespace` and
the browser's cookies, after a preflight. Only the codec path answers cross-origin, only to the origins configured
in SUBSIDY_CODEC_CORS_ORIGINS, and the auditor's page session counts there only for a request from those origins.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.service.embedded import free_port, start_temporal
from subsidy.settings import Settings
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.api.conftest import Login
from tests.conftest import forget_failed_sign_ins, running_service
from tests.hostile.pages import page_login

UI = "http://localhost:8233"
UI_LOOPBACK = "http://127.0.0.1:8233"
CODEC = "/api/v1/audit/codec/decode"
SECRET = "身份证 150203199001011234"


def preflight(origin: str, headers: str = "content-type,x-namespace") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


async def sealed_body() -> dict[str, Any]:
    """A payload sealed as the worker seals them (the tests' key), in the codec protocol's proto JSON."""
    [payload] = await DATA_CONVERTER.encode([SECRET])
    assert SECRET.encode() not in payload.data
    return {"payloads": [json_format.MessageToDict(payload)]}


def opened(response: httpx.Response) -> str:
    return base64.b64decode(response.json()["payloads"][0]["data"]).decode()


@pytest.fixture(scope="module")
async def ui_service(database_url: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """The service as `subsidy up` configures it for its Temporal UI (plain-HTTP cookies, for httpx)."""
    async with running_service(
        database_url,
        dev_server_env,
        SUBSIDY_CODEC_CORS_ORIGINS=f"{UI},{UI_LOOPBACK}",
        SUBSIDY_COOKIE_SECURE=False,
    ) as url:
        yield url


@pytest.fixture
async def browser(ui_service: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies, as the auditor's browser does."""
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=ui_service, timeout=30) as client:
        yield client


async def signed_in(client: httpx.AsyncClient, username: str) -> None:
    response = await page_login(client, username)
    assert response.status_code == 303, response.text
    assert "subsidy_session" in client.cookies


@pytest.mark.parametrize("origin", [UI, UI_LOOPBACK])
async def test_a_preflight_from_the_temporal_ui_may_post_its_headers_with_credentials(
    browser: httpx.AsyncClient, origin: str
) -> None:
    response = await browser.options(CODEC, headers=preflight(origin, "content-type,x-namespace,authorization"))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin  # never "*" with credentials
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "x-namespace", "authorization"} <= allowed
    assert "origin" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    "origin", ["http://localhost:8234", "https://localhost:8233", "http://localhost", "http://evil.example", "null"]
)
async def test_a_preflight_from_any_other_origin_gets_no_cors_header(browser: httpx.AsyncClient, origin: str) -> None:
    response = await browser.options(CODEC, headers=preflight(origin))
    assert cors_headers(response) == {}
    assert response.status_code == 405  # the app's own answer: nothing here speaks CORS to that origin


async def test_only_the_codec_path_answers_the_ui_origin(browser: httpx.AsyncClient, login: Login) -> None:
    for path in ("/api/v1/me", "/api/v1/audit/log/verify", "/api/v1/auth/token", "/api/v1/applications"):
        response = await browser.options(path, headers=preflight(UI))
        assert cors_headers(response) == {}, path
    auditor = await login("auditor-a")  # a token of the session-wide service is valid here too: same signing key
    verified = await browser.get("/api/v1/audit/log/verify", headers={"Origin": UI, **auditor})
    assert verified.status_code == 200 and cors_headers(verified) == {}


async def test_without_the_setting_the_codec_endpoint_answers_no_origin(http: httpx.AsyncClient) -> None:
    assert Settings(SUBSIDY_JWT_SECRET="x" * 48).codec_origins() == []  # type: ignore[call-arg]
    response = await http.options(CODEC, headers=preflight(UI))
    assert cors_headers(response) == {}


async def test_from_the_ui_origin_a_decode_is_still_refused_to_anyone_but_an_auditor(
    browser: httpx.AsyncClient, login: Login
) -> None:
    body = await sealed_body()
    ui = {"Origin": UI, "X-Namespace": "default"}

    anonymous = await browser.post(CODEC, json=body, headers=ui)
    assert anonymous.status_code == 401
    assert anonymous.headers["access-control-allow-origin"] == UI  # the UI can read why
    assert SECRET not in anonymous.text

    official = await browser.post(CODEC, json=body, headers={**ui, **await login("city-a")})
    assert official.status_code == 403 and SECRET not in official.text

    await signed_in(browser, "city-a")  # an official's page session, sent by the browser
    refused = await browser.post(CODEC, json=body, headers=ui)
    assert refused.status_code == 403 and SECRET not in refused.text

    await signed_in(browser, "auditor-a")
    forged = await browser.post(CODEC, json=body, headers={**ui, "Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401  # a token, when there is one, is what counts


async def test_the_auditors_page_session_counts_only_from_the_ui_origin(browser: httpx.AsyncClient) -> None:
    body = await sealed_body()
    await signed_in(browser, "auditor-a")

    decoded = await browser.post(CODEC, json=body, headers={"Origin": UI, "X-Namespace": "default"})
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == UI
    assert decoded.headers["access-control-allow-credentials"] == "true"
    assert opened(decoded) == f'"{SECRET}"'

    for origin in ("http://localhost:9999", "http://evil.example", None):  # another site, or no browser at all
        headers = {"X-Namespace": "default"} | ({"Origin": origin} if origin else {})
        refused = await browser.post(CODEC, json=body, headers=headers)
        assert refused.status_code == 401, origin
        assert cors_headers(refused) == {} and SECRET not in refused.text


def test_a_wildcard_or_a_path_is_not_an_origin() -> None:
    for value in ("*", "http://localhost:8233/", "localhost:8233", "http://*.example"):
        with pytest.raises(ValueError, match="SUBSIDY_CODEC_CORS_ORIGINS"):
            Settings(SUBSIDY_JWT_SECRET="x" * 48, SUBSIDY_CODEC_CORS_ORIGINS=value)  # type: ignore[call-arg]
    configured = Settings(SUBSIDY_JWT_SECRET="x" * 48, SUBSIDY_CODEC_CORS_ORIGINS=f" {UI}, {UI_LOOPBACK} ")  # type: ignore[call-arg]
    assert configured.codec_origins() == [UI, UI_LOOPBACK]


async def test_the_dev_server_tells_its_ui_to_decode_through_the_codec_endpoint(tmp_path: Path) -> None:
    """What `subsidy up` starts: the UI's own settings name the service's codec endpoint."""
    endpoint = "http://localhost:8000/api/v1/audit/codec"
    ui_port = free_port()
    env = await start_temporal(tmp_path, host="127.0.0.1", port=free_port(), ui_port=ui_port, codec_endpoint=endpoint)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ui_port}", timeout=10) as ui:
            for _ in range(100):
                try:
                    settings = await ui.get("/api/v1/settings")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert settings.status_code == 200
            assert settings.json()["Codec"]["Endpoint"] == endpoint
    finally:
        await env.shutdown()
