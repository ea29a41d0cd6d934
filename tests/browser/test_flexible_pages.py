"""A person's pages besides the rent form: the flexible-employment insurance subsidy (apply by keyboard, review and
confirm, status, withdraw, the exclusivity refusal in words) and the rent subsidy's "before you start" page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.programs.rent_subsidy.rules import add_months
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import account_for, bearer_login, forget_failed_sign_ins
from tests.helpers import china_today, new_credit_code, new_resident_id_of

COUNTY = "150203"


@pytest.fixture
async def api(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def person(sex: str = "M", age: int = 40) -> dict[str, Any]:
    born = add_months(china_today(), -12 * age)
    id_number = new_resident_id_of(sex, born)
    return {
        "name": "周六" if sex == "M" else "吴七",
        "id_number": id_number,
        "disability_cert_number": f"{id_number}43",
        "sex": sex,
        "birth_date": born.isoformat(),
        "severe_disability": False,
        "special_hardship": False,
    }


async def account_of(sessions: async_sessionmaker[AsyncSession], someone: dict[str, Any]) -> str:
    return await account_for(
        sessions,
        "person",
        someone["id_number"],
        name=someone["name"],
        disability_cert_number=someone["disability_cert_number"],
    )


async def open_task(http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    """The newest open task matching `params`, once its workflow has opened it."""
    for _ in range(150):
        response = await http.get("/api/v1/tasks", params=params, headers=headers)
        assert response.status_code == 200, response.text
        tasks = [task for task in response.json() if task["status"] in ("open", "claimed")]
        if tasks:
            newest: dict[str, Any] = max(tasks, key=lambda task: task["created_at"])
            return newest
        await asyncio.sleep(0.1)
    raise AssertionError(f"no open task with {params}")


async def decided(http: httpx.AsyncClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    for _ in range(50):  # the task row is written a moment before its workflow learns the task's id
        response = await http.post(f"/api/v1/tasks/{task_id}/decision", json={"decision": "approve"}, headers=headers)
        if response.status_code != 409 or "not open" not in response.text:
            break
        await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def placed_in_publicity(
    http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], someone: dict[str, Any]
) -> None:
    """A new employer declares a post, dpf-150203-a reports it, hr-150203-a approves it and the placement of
    `someone` on it: the placement is in publicity, and so holds the place (and excludes the other subsidy)."""
    login = bearer_login(http)
    credit_code = new_credit_code()
    employer = await login(await account_for(sessions, "employer", credit_code, name="包头市某社区服务中心"))
    declared = await http.post(
        "/api/v1/applications",
        json={
            "program": "public_welfare_post",
            "employer": {"name": "包头市某社区服务中心", "credit_code": credit_code},
            "county": COUNTY,
            "year": china_today().year,
            "posts": [{"title": "社区服务岗", "category": "public_service", "count": 1, "monthly_wage": "2200.00"}],
        },
        headers=employer,
    )
    assert declared.status_code == 201, declared.text
    declaration = declared.json()["id"]
    dpf, hr = await login("dpf-150203-a"), await login("hr-150203-a")
    collection = await open_task(http, dpf, program="public_welfare_post_collection")
    await decided(http, dpf, collection["id"])
    await decided(http, hr, (await open_task(http, hr, application_id=declaration))["id"])
    proposed = await http.post(
        "/api/v1/applications",
        json={
            "program": "public_welfare_placement",
            "post_application_id": declaration,
            "post_number": 1,
            "person": someone,
            "start_date": china_today().isoformat(),
        },
        headers=employer,
    )
    assert proposed.status_code == 201, proposed.text
    placement = proposed.json()["id"]
    result = await decided(http, hr, (await open_task(http, hr, application_id=placement))["id"])
    assert result["application"]["status"] == "publicity"


async def test_a_person_applies_by_keyboard_sees_the_status_and_withdraws(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    someone = person(sex="F")
    username = await account_of(sessions, someone)
    await page.goto("/login")
    await type_into(page, "#username", username)
    await type_into(page, "#password", "demo")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/my/applications")

    # The start page says what a person can do.
    await page.goto("/")
    await expect(page.locator(".can-do")).to_contain_text("申请灵活就业人员社会保险补贴")
    await expect(page.locator(".can-do")).to_contain_text("申请场地租金补贴")
    await expect(page.locator("main").get_by_role("link", name="登录")).to_have_count(0)
    await assert_accessible(page)
    await tab_to(page, ".can-do a[href='/apply/flexible-insurance']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/apply/flexible-insurance")
    await expect(page.locator("h1")).to_have_text("申请灵活就业人员社会保险补贴")
    await expect(page.locator("#person-name")).to_have_text("吴七")
    masked = someone["id_number"][:6] + "********" + someone["id_number"][-4:]
    await expect(page.locator("#person-id")).to_have_text(masked)
    await expect(page.locator("#county")).to_have_value(COUNTY)  # the county the person registered in
    await assert_accessible(page)

    await tab_to(page, "#person-retirement_category-female_50")
    await page.keyboard.press("Space")
    await type_into(page, "#start_date", "2025-13-01")
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("li")).to_have_count(1)
    await expect(summary).to_contain_text('请按"年-月-日"填写日期')
    await expect(page.locator("#person-retirement_category-female_50")).to_be_checked()
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#start_date']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#start_date")).to_be_focused()
    start = (china_today() - timedelta(days=10)).isoformat()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(start)
    await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("提交前请核对填写内容")
    await expect(page.locator("#confirm-county")).to_have_text("昆都仑区")
    await expect(page.locator("#confirm-start")).to_have_text(start)
    await expect(page.locator("main")).to_contain_text("工人（50周岁退休）")
    await expect(page.locator("main")).not_to_contain_text(someone["id_number"])
    await assert_accessible(page)
    await tab_to(page, "form[action='/apply/flexible-insurance/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/my/flexible-insurance/[0-9a-f-]+\?submitted=1"))
    await expect(page.locator(".notice")).to_contain_text("您的申请已提交")
    status_url = page.url.split("?")[0]
    for _ in range(50):
        if "审核中" in await page.locator("#status").inner_text():
            break
        await asyncio.sleep(0.2)
        await page.reload()
    await expect(page.locator("#status")).to_have_text("审核中")
    await expect(page.locator("#next-step")).to_have_text("县人社局正在审核您的申请。")
    await assert_accessible(page)

    await page.goto("/my/applications")
    link = page.get_by_role("link", name="灵活就业人员社会保险补贴", exact=True)
    await expect(link).to_have_attribute("href", re.compile(r"^/my/flexible-insurance/"))
    await link.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(status_url)
    await tab_to(page, "a[href$='/withdraw']")
    await page.keyboard.press("Enter")
    await expect(page.locator("h1")).to_have_text("撤回申请")
    await assert_accessible(page)
    await tab_to(page, "form[action$='/withdraw'] button")
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("您的申请已撤回")
    await expect(page.locator("#status")).to_have_text("已撤回")
    await expect(page.locator("a[href$='/withdraw']")).to_have_count(0)  # status and buttons agree
    await assert_accessible(page)


async def test_a_person_on_a_public_welfare_post_is_refused_in_words(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    someone = person()
    await placed_in_publicity(api, sessions, someone)
    await sign_in(page, await account_of(sessions, someone))
    await page.goto("/apply/flexible-insurance")
    await page.fill("#start_date", china_today().isoformat())
    await page.click("form[action='/apply/flexible-insurance'] button.button")
    await page.click("form[action='/apply/flexible-insurance/confirm'] button")
    await expect(page.locator("h1")).to_have_text("您的申请不能受理")
    await expect(page.locator("#refusal-reason")).to_have_text(
        "享受公益性岗位补贴人员不得同时享受灵活就业人员社会保险补贴"
    )
    await expect(page.locator("main")).not_to_contain_text("exclusive_with_public_welfare_post")
    await expect(page.locator("main")).not_to_contain_text(someone["id_number"])
    await assert_accessible(page)
    await page.goto("/my/applications")
    stored = page.get_by_role("link", name="灵活就业人员社会保险补贴", exact=True)
    await expect(stored).to_have_count(0)  # nothing was stored


async def test_the_form_checks_the_age_on_the_start_date_and_fits_320_css_pixels(page: Page) -> None:
    # applicant-a acts for 张三, born 1985-03-12: 16 on 2001-03-12.
    await page.set_viewport_size({"width": 320, "height": 800})
    await sign_in(page, "applicant-a")
    await page.goto("/apply/flexible-insurance")
    await expect(page.locator("#person-name")).to_have_text("张三")
    await expect(page.locator("#person-id")).to_have_text("150203********1234")
    await expect(page.locator("#person-retirement_category-female_50")).to_have_count(0)  # a man
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await page.select_option("#county", "")
    await page.click("form[action='/apply/flexible-insurance'] button.button")  # nothing chosen or typed
    await expect(page.locator(".error-summary li")).to_have_count(1)  # the start date; the county defaults to the ID's
    await expect(page.locator(".error-summary")).to_contain_text("请填写此项")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await assert_accessible(page)
    await page.fill("#start_date", "2001-03-11")
    await page.click("form[action='/apply/flexible-insurance'] button.button")
    await expect(page.locator(".error-summary")).to_contain_text("开始灵活就业之日须年满16周岁")
    await page.fill("#start_date", "2001-03-12")
    await page.click("form[action='/apply/flexible-insurance'] button.button")
    await expect(page.locator("h1")).to_have_text("提交前请核对填写内容")
    await expect(page.locator("#confirm-county")).to_have_text("昆都仑区")  # from the ID's region code
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await assert_accessible(page)


async def test_before_you_start_tells_who_cannot_get_the_rent_subsidy(page: Page) -> None:
    today = china_today()
    await sign_in(page, "applicant-a")
    await page.get_by_role("navigation").get_by_role("link", name="申请场地租金补贴").click()
    await page.wait_for_url("**/apply/rent-subsidy/before-you-start")
    await expect(page.locator("h1")).to_have_text("申请场地租金补贴前请阅读")
    await expect(page.locator("#not-blind-massage")).to_contain_text("盲人按摩店")
    # As the rules count: the latest licence date with a full year by today, the earliest start within three years.
    days = [today - timedelta(days=n) for n in range(1200)]
    licence = max(day for day in days if add_months(day, 12) <= today)
    earliest = min(day for day in days if add_months(day, 36) >= today)
    await expect(page.locator("#not-yet-a-year")).to_contain_text(f"{licence.isoformat()}或更早")
    await expect(page.locator("#not-past-three-years")).to_contain_text(f"{earliest.isoformat()}或更晚")
    await assert_accessible(page)
    await page.click("#start-form")
    await page.wait_for_url("**/apply/rent-subsidy")
    await expect(page.locator("h1")).to_have_text("申请自主创业场地租金补贴")
    await expect(page.get_by_role("link", name="哪些情况不能享受租金补贴：开始前请阅读")).to_have_count(1)


async def test_only_the_person_sees_their_flexible_insurance_pages(
    page: Page, sessions: async_sessionmaker[AsyncSession], api: httpx.AsyncClient
) -> None:
    someone = person()
    username = await account_of(sessions, someone)
    headers = await bearer_login(api)(username)
    body = {
        "program": "flexible_employment_insurance_subsidy",
        "person": someone,
        "start_date": china_today().isoformat(),
    }
    created = await api.post("/api/v1/applications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    await sign_in(page, "provider-a")
    for path in ("/apply/flexible-insurance", f"/my/flexible-insurance/{application_id}"):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
    await sign_out(page)
    await sign_in(page, "applicant-b")
    response = await page.goto(f"/my/flexible-insurance/{application_id}")
    assert response is not None and response.status == 404
    await expect(page.locator("main")).not_to_contain_text(someone["name"])
    withdrawn = await api.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "withdrawn"}, headers=headers
    )
    assert withdrawn.status_code == 200, withdrawn.text


async def test_the_person_pages_in_english(page: Page) -> None:
    await page.goto("/login")
    await page.click("button[name='lang'][value='en']")
    await sign_in(page, "applicant-a")
    await page.goto("/apply/flexible-insurance")
    await expect(page.locator("h1")).to_have_text("Apply for the flexible-employment social insurance subsidy")
    await expect(page.locator("main")).to_contain_text("Male")
    await assert_accessible(page)
    await page.goto("/apply/rent-subsidy/before-you-start")
    await expect(page.locator("h1")).to_have_text("Before you apply for the rent subsidy")
    await expect(page.locator("#not-blind-massage")).to_contain_text("blind massage shop")
    await assert_accessible(page)
    await page.goto("/")
    await expect(page.locator(".can-do")).to_contain_text("Apply for the flexible-employment insurance subsidy")
    await assert_accessible(page)
