"""The administrator's accounts page lists the registrations waiting for verification, by county, in Chromium with
axe-core: masked names and ID numbers, how long each has waited, and overdue in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_account_bindings import registration
from tests.api.test_pending_registrations import task_of
from tests.browser.conftest import assert_accessible, sign_in


async def test_the_accounts_page_shows_registrations_waiting_by_county(
    page: Page, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = registration(county="150206")
    employer = registration("employer", county="150205")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        person_id = (await http.post("/api/v1/registrations", json=person)).json()["id"]
        employer_id = (await http.post("/api/v1/registrations", json=employer)).json()["id"]
    task_id = await task_of(sessions, person_id)
    await task_of(sessions, employer_id)
    async with sessions.begin() as db:
        await db.execute(
            text("UPDATE tasks SET due_at = :due WHERE id = CAST(:id AS uuid)"),
            {"due": datetime.now(UTC) - timedelta(days=1), "id": task_id},
        )

    await sign_in(page, "admin-a")
    await page.goto("/admin/accounts")
    await expect(page.locator("#waiting-heading")).to_have_text("待核实的注册")
    section = page.locator("section[aria-labelledby='waiting-heading']")
    await expect(section.locator("tbody tr", has_text=person["username"])).to_have_count(1)
    await expect(section.locator("tbody tr", has_text=employer["username"])).to_have_count(1)
    await assert_accessible(page)

    await page.select_option("#waiting-county", "150206")
    await section.get_by_role("button", name="显示").click()
    await page.wait_for_url("**/admin/accounts?*county=150206*")
    rows = section.locator("tbody tr")
    await expect(rows).to_have_count(1)  # no other test registers in 白云鄂博矿区
    row = rows.first
    masked = person["id_number"][:6] + "********" + person["id_number"][-4:]
    for words in (
        person["username"],
        "王*",
        masked,
        "白云鄂博矿区",
        "0 天 0 小时",
        "尚未认领",
        "已超期：等待时间已超过办理期限",
    ):
        await expect(row).to_contain_text(words)
    await expect(section).not_to_contain_text(person["id_number"])
    await expect(section).not_to_contain_text(employer["username"])
    await assert_accessible(page)

    # A county with none: said in words.
    await page.goto("/admin/accounts?county=150222")
    await expect(section).to_contain_text("没有待核实的注册。")
    await assert_accessible(page)
