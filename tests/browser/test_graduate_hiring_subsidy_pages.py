"""The graduate hiring subsidy's pages: the employer's form (zh-CN, errors linked to the fields, review and
confirm), the subsidy's own page (status, who decides, the years with their checks and payments, the confirm and
employment-ended forms, withdraw), the officials' task pages with the preview of a year's amount, the refusal by
rule in words, and the link from the employer's home page. axe-core finds nothing on each."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.programs.graduate_hiring_subsidy.rules import add_months, add_years
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_flexible_pages import open_task, person, placed_in_publicity
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import account_for, bearer_login, forget_failed_sign_ins
from tests.helpers import china_today, new_credit_code

COUNTY = "150203"
NAME = "包头新材料有限公司"


@pytest.fixture
async def api(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def new_employer(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    credit_code = new_credit_code()
    return await account_for(sessions, "employer", credit_code, name=NAME), credit_code


def hire_body(credit_code: str, someone: dict[str, Any], start: date) -> dict[str, Any]:
    return {
        "program": "graduate_hiring_subsidy",
        "employer": {"name": NAME, "credit_code": credit_code},
        "county": COUNTY,
        "person": {k: someone[k] for k in ("name", "id_number", "disability_cert_number")},
        "graduated_on": (start - timedelta(days=40)).isoformat(),
        "contract": {"start_date": start.isoformat(), "end_date": add_years(start, 3).isoformat()},
        "social_insurance_from": start.isoformat(),
    }


async def until(page: Page, selector: str, text: str) -> None:
    for _ in range(50):
        if text in await page.locator(selector).inner_text():
            return
        await asyncio.sleep(0.2)
        await page.reload()
    await expect(page.locator(selector)).to_contain_text(text)


async def test_an_employer_applies_by_keyboard_checks_and_withdraws(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    username, credit_code = await new_employer(sessions)
    someone = person(age=23)
    await sign_in(page, username)
    await page.goto("/")
    await expect(page.locator(".can-do")).to_contain_text("我的应届毕业生安置")
    await page.goto("/employer/graduate-hires")
    await expect(page.locator("h1")).to_have_text("我的应届毕业生安置")
    await assert_accessible(page)
    await tab_to(page, "a[href='/employer/graduate-hires/new']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/employer/graduate-hires/new")
    await expect(page.locator("h1")).to_have_text("申请安置残疾人应届高校毕业生补贴")
    await expect(page.locator("#employer-name")).to_have_text(NAME)
    await expect(page.locator("#employer-code")).to_have_text(credit_code)
    await expect(page.locator("label[for='graduated_on']")).to_have_text("毕业日期")
    await assert_accessible(page)

    start = china_today() - timedelta(days=10)
    await page.select_option("#county", COUNTY)
    await type_into(page, "#person-name", someone["name"])
    await type_into(page, "#person-id_number", someone["id_number"])
    await type_into(page, "#person-disability_cert_number", someone["disability_cert_number"])
    await type_into(page, "#graduated_on", "2025-13-01")
    await type_into(page, "#contract-start_date", start.isoformat())
    await type_into(page, "#contract-end_date", add_years(start, 3).isoformat())
    await type_into(page, "#social_insurance_from", start.isoformat())
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("li")).to_have_count(1)
    await expect(summary).to_contain_text("毕业日期")
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#graduated_on']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#graduated_on")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type((start - timedelta(days=30)).isoformat())
    await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("提交前请核对填写内容")
    await expect(page.locator("#confirm-county")).to_have_text("昆都仑区")
    await expect(page.locator("#confirm-name")).to_have_text(someone["name"])
    await expect(page.locator("main")).not_to_contain_text(someone["id_number"])
    await assert_accessible(page)
    await tab_to(page, "form[action='/employer/graduate-hires/new/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/employer/graduate-hires/[0-9a-f-]+\?submitted=1"))
    await expect(page.locator(".notice")).to_contain_text("您的申请已提交")
    await until(page, "#status", "审核中")
    await expect(page.locator("#next-step")).to_have_text("旗县区残联正在审核该安置情况。")
    await expect(page.locator("main")).to_contain_text("昆都仑区残联")
    rows = page.locator("#years tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text("9900.00（估算）".replace("（", " (").replace("）", ")"))
    await assert_accessible(page)

    await tab_to(page, "form[action$='/withdraw'] button")
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("您的申请已撤回")
    await expect(page.locator("#status")).to_have_text("已撤回")
    await expect(page.locator("form[action$='/withdraw']")).to_have_count(0)
    await assert_accessible(page)


async def test_a_year_is_confirmed_checked_with_its_preview_paid_and_the_employment_ended(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    username, credit_code = await new_employer(sessions)
    login = bearer_login(api)
    employer = await login(username)
    start = add_months(china_today(), -13)
    created = await api.post(
        "/api/v1/applications", json=hire_body(credit_code, person(age=24), start), headers=employer
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    dpf_a, dpf_b = await login("dpf-150203-a"), await login("dpf-150203-b")

    # The review on its task page, with the preview.
    review = await open_task(api, dpf_a, application_id=application_id)
    await sign_in(page, "dpf-150203-a")
    await page.goto(f"/tasks/{review['id']}")
    main = page.locator("main")
    await expect(main).to_contain_text("周六")
    await expect(main).to_contain_text("150203********")
    await expect(main).to_contain_text("劳动合同")
    await expect(page.locator("#years tbody tr")).to_have_count(3)
    await assert_accessible(page)
    await page.check("#decision-approve")
    await page.click("form[action$='/decision'] button")
    await expect(page.locator("h1")).to_have_text("确认前请核对该决定")
    await expect(page.locator("#outcome")).to_contain_text("补贴生效：共 3 年，每年核查后发放。")
    await assert_accessible(page)
    await page.click("#confirm-form button")
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    # The first year ended a month ago: the employer confirms it on the subsidy's page.
    await sign_in(page, username)
    await page.goto(f"/employer/graduate-hires/{application_id}")
    await until(page, "#status", "正常")
    await expect(page.locator("#confirm-title")).to_have_text("确认第 1 年")
    await assert_accessible(page)
    await page.click("form[action$='/confirm'] button")
    await expect(page.locator(".notice")).to_contain_text("已确认在岗")
    await sign_out(page)

    # County DPF b checks it: the preview names the minimum wage, its standard and the split.
    check = await open_task(api, dpf_b, application_id=application_id)
    assert check["step"] == "year_check"
    await sign_in(page, "dpf-150203-b")
    await page.goto(f"/tasks/{check['id']}")
    await assert_accessible(page)
    await page.check("#decision-approve")
    await page.click("form[action$='/decision'] button")
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text("1980.00（第 1 档，nmg-2021")
    await expect(outcome).to_contain_text("5 × 1980.00 = 9900.00 = 市级 4950.00 + 旗县区 4950.00")
    await assert_accessible(page)
    await page.click("#confirm-form button")
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    await sign_in(page, username)
    await page.goto(f"/employer/graduate-hires/{application_id}")
    first = page.locator("#years tbody tr").first
    await until(page, "#years tbody tr:first-child", "应付，尚未发送银行")  # due: no bank has paid it yet
    await expect(first).to_contain_text("9900.00")
    await expect(page.locator("#confirm-title")).to_have_count(0)  # year 2 has not ended
    await page.fill("#ended-date", china_today().isoformat())
    await page.click("form[action$='/ended'] button")
    await expect(page.locator(".notice")).to_contain_text("终止就业已记录")
    await until(page, "#status", "已终止")
    await expect(page.locator("#years tbody tr").nth(1)).to_contain_text("已取消")
    await assert_accessible(page)


async def test_a_graduate_on_a_public_welfare_post_is_refused_in_words(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    someone = person(age=24)
    await placed_in_publicity(api, sessions, someone)
    username, _ = await new_employer(sessions)
    await sign_in(page, username)
    await page.goto("/employer/graduate-hires/new")
    start = china_today() - timedelta(days=5)
    await page.select_option("#county", COUNTY)
    await page.fill("#person-name", someone["name"])
    await page.fill("#person-id_number", someone["id_number"])
    await page.fill("#person-disability_cert_number", someone["disability_cert_number"])
    await page.fill("#graduated_on", (start - timedelta(days=30)).isoformat())
    await page.fill("#contract-start_date", start.isoformat())
    await page.fill("#contract-end_date", add_years(start, 2).isoformat())
    await page.fill("#social_insurance_from", start.isoformat())
    await page.click("form[action='/employer/graduate-hires/new'] button.button")
    await page.click("form[action='/employer/graduate-hires/new/confirm'] button")
    await expect(page.locator("h1")).to_have_text("您的申请不能受理")
    await expect(page.locator("#refusal-reason")).to_have_text(
        "享受公益性岗位补贴人员不得同时享受安置应届高校毕业生补贴"
    )
    await expect(page.locator("main")).not_to_contain_text("exclusive_with_public_welfare_post")
    await assert_accessible(page)
