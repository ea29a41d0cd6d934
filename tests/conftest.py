"""Real parts for the tests: embedded PostgreSQL (migrated and seeded) and Temporal servers from the wheels."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.migrate import upgrade
from subsidy.db.session import create_engine, session_factory
from subsidy.service.embedded import EmbeddedPostgres, installed_binary
from subsidy.service.seed import seed_demo_accounts, seed_policies
from subsidy.service.temporal import DATA_CONVERTER


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="subsidy-pg-") as folder:
        postgres = await EmbeddedPostgres.start(Path(folder) / "data")
        try:
            import asyncio

            await asyncio.to_thread(upgrade, postgres.url)
            engine = create_engine(postgres.url, pool_size=2)
            await seed_policies(session_factory(engine))
            await seed_demo_accounts(session_factory(engine))
            await engine.dispose()
            yield postgres.url
        finally:
            await postgres.stop()


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()
