"""The API over real HTTP (uvicorn on a free port), with the worker, the Temporal dev server and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.api.app import create_app
from subsidy.api.deps import Resources
from subsidy.db.session import create_engine, session_factory
from subsidy.service.embedded import free_port
from subsidy.service.settings import Settings
from subsidy.service.temporal import build_worker

Login = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture(scope="session")
async def base_url(database_url: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    task_queue = f"api-{uuid.uuid4()}"
    settings = Settings(SUBSIDY_TASK_QUEUE=task_queue, SUBSIDY_JWT_SECRET="x" * 48)  # type: ignore[call-arg]
    engine = create_engine(database_url)
    sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
    resources = Resources(settings, engine, sessions, dev_server_env.client, settings.signing_key())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(resources), host="127.0.0.1", port=port, log_level="warning"))
    async with build_worker(dev_server_env.client, task_queue, sessions):
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        await serving
    await engine.dispose()


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def login(http: httpx.AsyncClient) -> Login:
    async def token_for(username: str) -> dict[str, str]:
        response = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return token_for
