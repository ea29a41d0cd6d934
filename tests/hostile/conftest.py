"""Hostile callers against the real service: a database of their own (the fuzzer and the matrix create rows that
other tests must not count), the session's Temporal dev server, and the API on real HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.migrate import upgrade
from subsidy.db.session import create_engine, session_factory
from subsidy.service.seed import seed_demo_accounts, seed_policies
from tests.calendars import seed_calendars_for_tests
from tests.conftest import Acting, Login, bearer_login, bound_login, forget_failed_sign_ins, running_service


@pytest.fixture(scope="package")
async def hostile_database_url(database_url: str) -> AsyncIterator[str]:
    """A fresh database in the session's PostgreSQL cluster, migrated and seeded like the main one."""
    url = make_url(database_url)
    name = f"hostile_{uuid.uuid4().hex[:12]}"
    socket_dir = url.query["host"]
    admin = await asyncpg.connect(user="postgres", host=socket_dir, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    own = url.set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, own)
    engine = create_engine(own, pool_size=2)
    await seed_policies(session_factory(engine))
    await seed_demo_accounts(session_factory(engine))
    await seed_calendars_for_tests(session_factory(engine))  # tests/calendars: never the packaged years alone
    await engine.dispose()
    yield own


@pytest.fixture(scope="package")
async def hostile_sessions(hostile_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(hostile_database_url, pool_size=2)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="package")
async def hostile_base_url(hostile_database_url: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    # Cookies without the Secure flag, so that an HTTP client on http://127.0.0.1 sends them back like a browser.
    async with running_service(hostile_database_url, dev_server_env, SUBSIDY_COOKIE_SECURE=False) as url:
        yield url


@pytest.fixture
async def http(
    hostile_base_url: str, hostile_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    # Tests here fail sign-ins on purpose: whatever the order, none may find an account already closed by another.
    await forget_failed_sign_ins(hostile_sessions)
    async with httpx.AsyncClient(base_url=hostile_base_url, timeout=30) as client:
        yield client


@pytest.fixture
def login(http: httpx.AsyncClient) -> Login:
    return bearer_login(http)


@pytest.fixture
def acting(http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]) -> Acting:
    return bound_login(http, hostile_sessions)
