"""The blind massage practitioner's pages (apply by keyboard, the error summary, review and confirm, the claim's own
page, withdraw), the County DPF's task page with its preview, and the register's years page."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import account_for, bearer_login, forget_failed_sign_ins
from tests.helpers import china_today, new_credit_code, new_resident_id

LAST_YEAR = china_today().year - 1


@pytest.fixture
async def http(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> Any:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def practitioner_id() -> str:
    return new_resident_id(born=date(1966, 1, 1) + timedelta(days=random.randrange(0, 9000)))


async def open_task(http: httpx.AsyncClient, headers: dict[str, str], application_id: str) -> str:
    for _ in range(150):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        if response.json():
            task_id: str = response.json()[0]["id"]
            return task_id
        await asyncio.sleep(0.1)
    raise AssertionError("no task")


async def test_a_practitioner_claims_by_keyboard_and_the_official_previews_4000_from_the_city(
    page: Page, http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    id_number = practitioner_id()
    username = await account_for(sessions, "person", id_number, name="王五", disability_cert_number=f"{id_number}12")
    await sign_in(page, username)
    await page.goto("/")
    await expect(page.locator(".can-do")).to_contain_text("申请盲人按摩从业人员社会保险补贴")
    await tab_to(page, ".can-do a[href='/apply/blind-massage-insurance']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/apply/blind-massage-insurance")
    await expect(page.locator("h1")).to_have_text("申请盲人按摩从业人员社会保险补贴")
    await expect(page.locator("#person-name")).to_have_text("王五")
    await expect(page.locator("#person-id")).to_have_text(id_number[:6] + "********" + id_number[-4:])
    await expect(page.locator("#person-disability")).to_contain_text("视力残疾")
    await expect(page.locator("#year")).to_have_value(str(LAST_YEAR))
    await assert_accessible(page)

    await type_into(page, "#applicant-phone", "13800000000")
    await type_into(page, "#insurance_paid", "八千")
    await type_into(page, "#workplace-name", "包头市示例盲人按摩店")
    await type_into(page, "#workplace-credit_code", new_credit_code())
    await type_into(page, "#bank_account", "6222020200001234567")
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("li")).to_have_count(1)
    await expect(summary.locator("a")).to_have_attribute("href", "#insurance_paid")
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#insurance_paid']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#insurance_paid")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("8000.00")
    await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("提交前请核对填写内容")
    await expect(page.locator("#confirm-year")).to_have_text(str(LAST_YEAR))
    await expect(page.locator("#confirm-paid")).to_have_text("8000.00")
    await expect(page.locator("main")).not_to_contain_text(id_number)
    await assert_accessible(page)
    await tab_to(page, "form[action='/apply/blind-massage-insurance/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/my/blind-massage-insurance/[0-9a-f-]+\?submitted=1"))
    application_id = page.url.split("/")[-1].split("?")[0]
    for _ in range(50):
        if "审核中" in await page.locator("#status").inner_text():
            break
        await asyncio.sleep(0.2)
        await page.reload()
    await expect(page.locator("#status")).to_have_text("审核中")
    await expect(page.locator("#who-decides")).to_contain_text("昆都仑区残联")
    await expect(page.locator("#years-before")).to_have_text("0")
    await expect(page.locator("main")).not_to_contain_text("6222020200001234567")
    await assert_accessible(page)

    # The County DPF's task page: the practitioner in words, and the preview of an approval.
    task_id = await open_task(http, await bearer_login(http)("dpf-150203-a"), application_id)
    official = await page.context.browser.new_context(base_url=page.url.split("/my/")[0], locale="zh-CN")  # type: ignore[union-attr]
    desk = await official.new_page()
    await sign_in(desk, "dpf-150203-a")
    await desk.goto(f"/tasks/{task_id}")
    main = desk.locator("main")
    await expect(main).to_contain_text("王五")
    await expect(main).to_contain_text("视力残疾")
    await expect(main).to_contain_text("8000.00")
    await assert_accessible(desk)
    await tab_to(desk, "#decision-approve")
    await desk.keyboard.press("Space")
    await type_into(desk, "#insurance_verified", "8000.00")
    await tab_to(desk, "form[action$='/decision'] button")
    await desk.keyboard.press("Enter")
    outcome = desk.locator("#outcome")
    await expect(outcome).to_contain_text("4000.00")
    await expect(outcome).to_contain_text("已享受补贴 0 年，上限 15 年；本次为第 1 年。")
    await assert_accessible(desk)
    await official.close()

    # The practitioner withdraws before the decision.
    await page.goto(f"/my/blind-massage-insurance/{application_id}/withdraw")
    await expect(page.locator("h1")).to_have_text("撤回您的申请")
    await assert_accessible(page)
    await tab_to(page, "form[action$='/withdraw'] button")
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("您的申请已撤回")


async def test_a_county_dpf_official_records_register_years_and_sees_them_listed(page: Page) -> None:
    id_number = practitioner_id()
    await sign_in(page, "dpf-150203-a")
    await page.goto("/registry/prior-years")
    await expect(page.locator("h1")).to_have_text("残联台账中的盲人按摩社会保险补贴年度")
    await assert_accessible(page)
    await type_into(page, "#id_number", id_number)
    await type_into(page, "#name", "王五")
    await type_into(page, "#years", f"2009, {china_today().year}")
    await type_into(page, "#source", "第3册第12页")
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("a")).to_have_attribute("href", "#years")
    await assert_accessible(page)
    await page.fill("#years", "2009，2010、2011")
    await page.fill("#id_number", id_number)
    await page.locator("form[action='/registry/prior-years'] button").press("Enter")
    await expect(page.locator("#recorded")).to_have_text("2009, 2010, 2011")
    await expect(page.locator("#held-years")).to_have_text("2009, 2010, 2011")
    await expect(page.locator("#outcome")).to_contain_text(id_number[:6] + "********" + id_number[-4:])
    await expect(page.locator("main")).not_to_contain_text(id_number)
    await assert_accessible(page)


async def test_the_register_page_is_for_county_dpf_officials(page: Page) -> None:
    await sign_in(page, "applicant-a")
    response = await page.goto("/registry/prior-years")
    assert response is not None and response.status == 403
