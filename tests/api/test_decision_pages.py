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
from tests.conftest import Acting, Login, running_service
from tests.helpers import new_resident_id, rent_form, training_body
from tests.hostile.pages import csrf_token, page_login


@pytest.fixture(scope="module")
async def page_url(database_url: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    # Cookies without the Secure flag, so that an HTTP client on http://127.0.0.1 sends them back like a browser.
    async with running_service(database_url, dev_server_env, SUBSIDY_COOKIE_SECURE=False) as url:
        yield url


async def _task_of(http: httpx.AsyncClient, official: dict[str, str], application_id: str) -> str:
    for _ in range(100):
        tasks = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)).json()
        if tasks:
            return str(tasks[0]["id"])
        await asyncio.sleep(0.1)
    raise AssertionError("no task appeared")


async def _decide_on_page(page_url: str, official: str, task_id: str, data: dict[str, str]) -> tuple[str, int]:
    """The task page as the official sees it, and the status of posting `data` (with the CSRF token) to it."""
    async with httpx.AsyncClient(base_url=page_url, timeout=30) as browser:
        assert (await page_login(browser, official)).status_code == 303
        page = await browser.get(f"/tasks/{task_id}")
        assert page.status_code == 200
        token = csrf_token(page.text)
        # The decision is previewed first (nothing is sent to the workflow), then confirmed.
        preview = await browser.post(f"/tasks/{task_id}/decision", data={**data, "csrf_token": token})
        assert preview.status_code == 200, preview.text
        assert 'name="confirm" value="yes"' in preview.text
        decided = await browser.post(
            f"/tasks/{task_id}/decision", data={**data, "confirm": "yes", "csrf_token": csrf_token(preview.text)}
        )
        return page.text, decided.status_code


async def _recorded_values(sessions: async_sessionmaker[AsyncSession], application_id: str) -> list[object]:
    async with sessions() as db:
        records = (
            await db.scalars(
                select(AuditRecord)
                .where(AuditRecord.application_id == uuid.UUID(application_id), AuditRecord.kind == "decision")
                .order_by(AuditRecord.id)
            )
        ).all()
    return [record.detail["values"] for record in records]


async def test_a_training_plan_approved_on_the_page_records_no_rent_value(
    page_url: str, http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Issue 13 (3): the task page sent `monthly_rent` with every approval, so a training decision was recorded with
    `"values": {"monthly_rent": ""}`. Each step records only the values it asks for."""
    body = training_body([new_resident_id(), new_resident_id(), new_resident_id()])
    created = await http.post("/api/v1/applications", json=body, headers=await login("provider-a"))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    task_id = await _task_of(http, await login("dpf-150203-a"), application_id)

    page, status = await _decide_on_page(page_url, "dpf-150203-a", task_id, {"decision": "approve", "reason": ""})
    assert 'name="monthly_rent"' not in page
    assert status == 303
    assert await _recorded_values(sessions, application_id) == [{}]


async def test_a_training_approval_posted_with_an_empty_rent_as_the_old_page_sent_it_records_no_values(
    page_url: str, http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A form still carrying the old page's `monthly_rent=""` (a page loaded before the fix, or a hand-made post):
    the plan review reads no values, so none is sent, and the approval is recorded with `values == {}`."""
    body = training_body([new_resident_id(), new_resident_id(), new_resident_id()])
    created = await http.post("/api/v1/applications", json=body, headers=await login("provider-a"))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    task_id = await _task_of(http, await login("dpf-150203-a"), application_id)

    data = {"decision": "approve", "reason": "", "monthly_rent": "", "rejected_posts": "2"}
    _, status = await _decide_on_page(page_url, "dpf-150203-a", task_id, data)
    assert status == 303
    assert await _recorded_values(sessions, application_id) == [{}]


async def test_a_rent_approval_on_the_page_records_only_the_verified_rent(
    page_url: str, http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = rent_form(monthly_rent="900.00")
    created = await http.post("/api/v1/applications", json=body, headers=await acting(body))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    task_id = await _task_of(http, await login("dpf-150203-a"), application_id)

    # Other steps' values in the same form (a placement's approval day, a declaration's rejected posts) are not
    # this step's: they are neither sent nor recorded.
    data = {
        "decision": "approve",
        "reason": "",
        "monthly_rent": " 850.00 ",
        "approved_on": "2025-01-02",
        "rejected_posts": "2",
    }
    page, status = await _decide_on_page(page_url, "dpf-150203-a", task_id, data)
    assert 'name="monthly_rent"' in page
    assert status == 303
    assert await _recorded_values(sessions, application_id) == [{"monthly_rent": "850.00"}]
