"""The API over real HTTP (uvicorn on a free port), with the worker, the Temporal dev server and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import forget_failed_sign_ins

Login = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture
async def http(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def login(http: httpx.AsyncClient) -> Login:
    async def token_for(username: str) -> dict[str, str]:
        response = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return token_for
