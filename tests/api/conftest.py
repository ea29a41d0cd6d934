"""The API over real HTTP (uvicorn on a free port), with the worker, the Temporal dev server and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Acting, Login, bearer_login, bound_login, forget_failed_sign_ins


@pytest.fixture
async def http(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def login(http: httpx.AsyncClient) -> Login:
    return bearer_login(http)


@pytest.fixture
def acting(http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> Acting:
    return bound_login(http, sessions)
