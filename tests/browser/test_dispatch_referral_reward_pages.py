"""The labour dispatch agency's referral pages (claim by keyboard, the error summary, review and confirm, the
referral's own page, the end of the employment) and the County DPF's task page with its preview."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.programs.rent_subsidy.rules import add_months
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import bearer_login, forget_failed_sign_ins
from tests.helpers import china_today, new_credit_code, new_resident_id


@pytest.fixture
async def http(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> Any:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def fill_referral(page: Page, id_number: str, start: date) -> None:
    await type_into(page, "#person-name", "赵六")
    await type_into(page, "#person-id_number", id_number)
    await type_into(page, "#person-disability_cert_number", id_number + "43")
    await type_into(page, "#employer-name", "包头市示例用人单位")
    await type_into(page, "#employer-credit_code", new_credit_code())
    await type_into(page, "#contract-start_date", start.isoformat())
    await type_into(page, "#contract-end_date", add_months(start, 36).isoformat())


async def test_an_agency_claims_by_keyboard_and_records_the_end_of_the_employment(page: Page) -> None:
    await sign_in(page, "agency-a")
    await page.goto("/")
    await expect(page.locator(".can-do")).to_contain_text("申请推荐残疾人就业补贴")
    await tab_to(page, ".can-do a[href='/agency/referrals/new']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/agency/referrals/new")
    await expect(page.locator("h1")).to_have_text("申请推荐残疾人就业补贴")
    await expect(page.locator("#agency-code")).to_have_text("91150203MA0A00003T")
    await expect(page.locator("#county")).to_have_value("150203")
    await assert_accessible(page)

    id_number = new_resident_id(born=date(1991, 5, 6))
    start = add_months(china_today(), -6)
    await fill_referral(page, id_number, china_today() + timedelta(days=5))  # a contract not started yet
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("a")).to_have_attribute("href", "#contract-start_date")
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#contract-start_date']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#contract-start_date")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(start.isoformat())
    await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("提交前请核对填写内容")
    await expect(page.locator("#confirm-start")).to_have_text(start.isoformat())
    await expect(page.locator("#confirm-county")).to_have_text("昆都仑区")
    await expect(page.locator("main")).not_to_contain_text(id_number)
    await assert_accessible(page)
    await tab_to(page, "form[action='/agency/referrals/new/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/agency/referrals/[0-9a-f-]+\?submitted=1"))
    for _ in range(50):
        if "进行中" in await page.locator("#status").inner_text():
            break
        await asyncio.sleep(0.2)
        await page.reload()
    await expect(page.locator("#status")).to_have_text("进行中：就业满一年计时中")
    await expect(page.locator("#who-decides")).to_contain_text(add_months(start, 12).isoformat())
    await assert_accessible(page)

    # Six months in, the employment ends: no reward.
    await type_into(page, "#date", add_months(start, 6).isoformat())
    await tab_to(page, "form[action$='/employment-ended'] button")
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("已记录")
    await expect(page.locator("#status")).to_contain_text("终止")
    await expect(page.locator("#ended-reason")).to_have_text("就业未满一年即终止")
    await assert_accessible(page)


async def test_the_official_task_page_previews_500_split_250_and_250(page: Page, http: httpx.AsyncClient) -> None:
    login = bearer_login(http)
    id_number = new_resident_id(born=date(1989, 2, 3))
    start = add_months(china_today(), -13)  # over a year ago: the check opens at once
    created = await http.post(
        "/api/v1/applications",
        json={
            "program": "dispatch_referral_reward",
            "agency": {"name": "包头市示例劳务派遣有限公司", "credit_code": "91150203MA0A00003T"},
            "county": "150203",
            "person": {"name": "赵六", "id_number": id_number, "disability_cert_number": id_number + "43"},
            "employer": {"name": "包头市示例用人单位", "credit_code": new_credit_code()},
            "contract": {"start_date": start.isoformat(), "end_date": add_months(start, 36).isoformat()},
        },
        headers=await login("agency-a"),
    )
    assert created.status_code == 201, created.text
    dpf = await login("dpf-150203-a")
    for _ in range(150):
        tasks = (await http.get("/api/v1/tasks", params={"application_id": created.json()["id"]}, headers=dpf)).json()
        if tasks:
            break
        await asyncio.sleep(0.1)
    await sign_in(page, "dpf-150203-a")
    await page.goto(f"/tasks/{tasks[0]['id']}")
    main = page.locator("main")
    await expect(main).to_contain_text("包头市示例劳务派遣有限公司")
    await expect(main).to_contain_text(add_months(start, 12).isoformat())
    await expect(main).not_to_contain_text(id_number)
    await assert_accessible(page)
    await tab_to(page, "#decision-approve")
    await page.keyboard.press("Space")
    await tab_to(page, "form[action$='/decision'] button")
    await page.keyboard.press("Enter")
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text("500.00")
    await expect(outcome).to_contain_text("250.00")
    await assert_accessible(page)
