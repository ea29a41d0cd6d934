"""Decisions taken on the task page, over plain HTTP as a browser sends them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.models import AuditRecord
from tests.conftest import Login, running_service
from tests.helpers import new_resident_id, training_body
from tests.hostile.pages import csrf_token, page_login


@pytest.fixture(scope="module")
async def page_url(database_url: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    # Cookies without the Secure flag, so that an HTTP client on http://127.0.0.1 sends them back like a browser.
    async with running_service(database_url, dev_server_env, SUBSIDY_COOKIE_SECURE=False) as url:
        yield url


async def test_a_training_plan_approved_on_the_page_records_no_rent_value(
    page_url: str, http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Issue 13 (3): the task page sent `monthly_rent` with every approval, so a training decision was recorded with
    `"values": {"monthly_rent": ""}`. Each step records only the values it asks for."""
    body = training_body([new_resident_id(), new_resident_id(), new_resident_id()])
    created = await http.post("/api/v1/applications", json=body, headers=await login("provider-a"))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    official = await login("dpf-150203-a")
    for _ in range(100):
        tasks = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)).json()
        if tasks:
            break
        await asyncio.sleep(0.1)
    task_id = tasks[0]["id"]

    async with httpx.AsyncClient(base_url=page_url, timeout=30) as browser:
        assert (await page_login(browser, "dpf-150203-a")).status_code == 303
        page = await browser.get(f"/tasks/{task_id}")
        assert page.status_code == 200
        assert 'name="monthly_rent"' not in page.text
        decided = await browser.post(
            f"/tasks/{task_id}/decision",
            data={"decision": "approve", "reason": "", "csrf_token": csrf_token(page.text)},
        )
        assert decided.status_code == 303, decided.text

    async with sessions() as db:
        records = (
            await db.scalars(
                select(AuditRecord).where(
                    AuditRecord.application_id == uuid.UUID(application_id), AuditRecord.kind == "decision"
                )
            )
        ).all()
    assert [record.detail["values"] for record in records] == [{}]
