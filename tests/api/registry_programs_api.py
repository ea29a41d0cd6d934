"""The service over real HTTP on the time-skipping test server, for the programs that hold person registry records
(the dispatch referral reward, the blind massage insurance subsidy): a year of employment passes with `env.sleep`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.service.embedded import installed_binary
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.conftest import account_for, running_service


@dataclass
class Api:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    async def account(self, kind: str, identifier: str, **fields: Any) -> str:
        """The account bound to this person or organisation (made for the test)."""
        return await account_for(self.sessions, kind, identifier, **fields)

    async def auth(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = await self.http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
            assert response.status_code == 200, response.text
            self.tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.tokens[username]

    async def submit(self, username: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/api/v1/applications", json=body, headers=await self.auth(username))

    async def application(self, username: str, application_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/applications/{application_id}", headers=await self.auth(username))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def reaches(self, username: str, application_id: str, status: str) -> dict[str, Any]:
        for _ in range(150):
            application = await self.application(username, application_id)
            if application["status"] == status:
                return application
            await asyncio.sleep(0.1)
        raise AssertionError(f"{application_id} did not reach {status}: {application['status']}")

    async def task(self, username: str, application_id: str, step: str) -> dict[str, Any]:
        for _ in range(150):
            response = await self.http.get(
                "/api/v1/tasks", params={"application_id": application_id}, headers=await self.auth(username)
            )
            assert response.status_code == 200, response.text
            tasks = [t for t in response.json() if t["step"] == step]
            if tasks:
                found: dict[str, Any] = tasks[0]
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {step} task for {username}")

    async def decide(self, username: str, task_id: str, decision: str = "approve", **body: Any) -> httpx.Response:
        # The task row is written a moment before its workflow learns the task's id: retry that 409 briefly.
        for _ in range(50):
            response = await self.http.post(
                f"/api/v1/tasks/{task_id}/decision",
                json={"decision": decision, **body},
                headers=await self.auth(username),
            )
            if response.status_code != 409 or "not open" not in response.text:
                return response
            await asyncio.sleep(0.1)
        return response

    async def event(self, username: str, application_id: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/applications/{application_id}/events", json=body, headers=await self.auth(username)
        )


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def service_url(database_url: str, skipping_env: WorkflowEnvironment) -> AsyncIterator[str]:
    async with running_service(database_url, skipping_env) as url:
        yield url


@pytest.fixture
async def api(
    service_url: str, skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=service_url, timeout=30) as http:
        yield Api(http, skipping_env, sessions)
