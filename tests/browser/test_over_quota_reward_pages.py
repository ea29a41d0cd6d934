"""The over-quota employment reward's pages: the employer's claim form (zh-CN, labels, an error summary linked to the
fields, review and confirm), the claim's own page (status in words, who decides, the employees and figures, the
payment, withdraw), the County DPF's task page in words with its preview, and the link from the employer's home page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import tab_to
from tests.browser.test_provider_pages import reload_until
from tests.conftest import account_for, bearer_login, forget_failed_sign_ins
from tests.helpers import china_today, new_credit_code, new_resident_id

EMPLOYER_NAME = "包头市示例福利企业"


@pytest.fixture
async def api(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def employees(grades: tuple[int, ...]) -> list[tuple[str, str, str]]:
    names = ["王一", "李二", "赵三", "钱四", "孙五", "周六", "吴七"]
    found = []
    for name, grade in zip(names, grades, strict=False):
        number = new_resident_id(born=date(1984, 2, 3))
        found.append((name, number, f"{number}4{grade}"))
    return found


def masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


async def task_of(http: httpx.AsyncClient, headers: dict[str, str], application_id: str) -> dict[str, Any]:
    for _ in range(150):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        if response.json():
            found: dict[str, Any] = response.json()[0]
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("no task")


async def test_an_employer_claims_by_keyboard_the_official_approves_from_the_preview_and_it_is_paid(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    year = china_today().year - 1
    username = await account_for(sessions, "employer", new_credit_code(), name=EMPLOYER_NAME)
    staff = employees((2, 2, 4, 4, 4))
    await sign_in(page, username)
    await page.goto("/")
    await expect(page.locator(".can-do")).to_contain_text("申请以往年度的超比例安排残疾人就业奖励")
    await assert_accessible(page)
    await tab_to(page, ".can-do a[href='/employer/over-quota/new']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/employer/over-quota/new")
    await expect(page.locator("h1")).to_have_text("申请超比例安排残疾人就业奖励")
    await expect(page.locator("#employer-name")).to_have_text(EMPLOYER_NAME)
    await expect(page.locator("label[for='staff_total']")).to_have_text("该年度在职职工总数")
    await expect(page.locator("#year")).to_have_value(str(year))
    await expect(page.locator("#unit_kind-enterprise")).to_be_checked()
    await assert_accessible(page)

    # No staff total, and a line without its certificate number: two problems, each linked to its field.
    await page.fill(
        "#employees", "\n".join([f"{n}, {i}, {c}" for n, i, c in staff[:4]] + [f"{staff[4][0]}，{staff[4][1]}"])
    )
    await page.click("form[action='/employer/over-quota/new'] button.button")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("li")).to_have_count(1)
    await expect(summary).to_contain_text("第5行：请填写姓名、居民身份证号码和残疾证号，用逗号分隔")
    await expect(page.locator("#employees")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)
    await page.fill("#employees", "\n".join(f"{n}，{i}，{c}" for n, i, c in staff))
    await page.click("form[action='/employer/over-quota/new'] button.button")
    await expect(summary.locator("li")).to_have_count(1)
    await expect(summary.locator("a[href='#staff_total']")).to_contain_text("该年度在职职工总数")
    await tab_to(page, ".error-summary a[href='#staff_total']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#staff_total")).to_be_focused()
    await page.keyboard.type("200")
    await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("提交前请核对申请")
    await expect(page.locator("#confirm-year")).to_have_text(str(year))
    await expect(page.locator("#confirm-staff")).to_have_text("200")
    await expect(page.locator("#confirm-unit-kind")).to_have_text("企业")
    await expect(page.locator("#confirm-employees tbody tr")).to_have_count(5)
    await expect(page.locator("#confirm-employees")).to_contain_text(masked(staff[0][1]))
    await expect(page.locator("main")).not_to_contain_text(staff[0][1])
    await assert_accessible(page)
    await tab_to(page, "form[action='/employer/over-quota/new/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/employer/over-quota/[0-9a-f-]+\?submitted=1"))
    await expect(page.locator(".notice")).to_contain_text("您的申请已提交")
    application_id = page.url.split("?")[0].rsplit("/", 1)[1]
    await reload_until(page, "#status", "审核中")
    await expect(page.locator("#next-step")).to_contain_text("县残联审核申请")
    await expect(page.locator("#who-decides")).to_have_text("昆都仑区残联")
    await expect(page.locator("#employees tbody tr", has_text="计入")).to_have_count(5)
    await expect(page.locator("#figures")).to_contain_text("4 × 5 × 1980.00 = 39600.00")
    await expect(page.locator("#figures")).to_contain_text("市级19800.00 + 县级19800.00")
    await expect(page.locator("main")).not_to_contain_text(staff[0][1])
    await assert_accessible(page)
    await sign_out(page)

    # The official's task page in words, and the preview of the approval.
    await sign_in(page, "dpf-150203-a")
    task = await task_of(api, await bearer_login(api)("dpf-150203-a"), application_id)
    await page.goto(f"/tasks/{task['id']}")
    await expect(page.locator("#employees tbody tr")).to_have_count(5)
    await expect(page.locator("#employees tbody tr").first).to_contain_text("2")  # grade 2 counts as two
    await expect(page.locator("#employees")).to_contain_text(masked(staff[0][1]))
    await expect(page.locator("main")).to_contain_text("1.5% × 200名职工 = 3.0")
    await expect(page.locator("main")).to_contain_text("1980.00元（第1档，标准nmg-2021")
    await assert_accessible(page)
    await page.check("#decision-approve")
    await page.click("form[action$='/decision'] button.button")
    await expect(page.locator("main")).to_contain_text("一次性发放给用人单位" + EMPLOYER_NAME)
    await expect(page.locator("main")).to_contain_text("4 × 5 × 1980.00 = 39600.00")
    await assert_accessible(page)
    await page.click("#confirm-form button")
    await sign_out(page)

    await sign_in(page, username)
    await page.goto(f"/employer/over-quota/{application_id}")
    await reload_until(page, "#status", "奖励已发放")
    await expect(page.locator("#payments tbody tr")).to_have_count(1)
    await expect(page.locator("#payments")).to_contain_text(f"{year}-12")
    await expect(page.locator("#payments")).to_contain_text("39600.00")
    await expect(page.get_by_role("link", name="撤回申请")).to_have_count(0)
    await assert_accessible(page)
    # The decision letter names what the decision used, and that the reward is paid once.
    await page.goto(f"/letters/{application_id}/1")
    await expect(page.locator("#letter-inputs")).to_contain_text("1980.00元（第1档，标准nmg-2021")
    await expect(page.locator("#letter-inputs")).to_contain_text("39600.00")
    await expect(page.locator("article")).to_contain_text("该款项一次性发放，共39600.00元")
    await assert_accessible(page)
    await page.goto("/employer/over-quota")
    await expect(page.locator("#claims tbody tr")).to_have_count(1)
    await assert_accessible(page)


async def test_a_second_claim_of_the_year_is_refused_in_words_and_the_first_is_withdrawn(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await page.set_viewport_size({"width": 320, "height": 800})
    username = await account_for(sessions, "employer", new_credit_code(), name=EMPLOYER_NAME)
    await sign_in(page, username)

    async def claim() -> None:
        await page.goto("/employer/over-quota/new")
        staff = employees((1, 4, 4, 4))
        await page.fill("#staff_total", "200")
        await page.fill("#employees", "\n".join(f"{n}, {i}, {c}" for n, i, c in staff))
        await page.click("form[action='/employer/over-quota/new'] button.button")
        await page.click("form[action='/employer/over-quota/new/confirm'] button")

    await claim()
    await page.wait_for_url(re.compile(r".*/employer/over-quota/[0-9a-f-]+\?submitted=1"))
    first = page.url.split("?")[0]
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await claim()
    await expect(page.locator("#problem")).to_have_text("该单位本年度已有审核中或已批准的申请")
    await expect(page.locator("main")).not_to_contain_text("already_claimed_this_year")
    await assert_accessible(page)
    await page.goto(first)
    await reload_until(page, "#status", "审核中")
    await tab_to(page, "a[href$='/withdraw']")
    await page.keyboard.press("Enter")
    await expect(page.locator("h1")).to_have_text("撤回申请")
    await assert_accessible(page)
    await page.click("form[action$='/withdraw'] button")
    await expect(page.locator(".notice")).to_contain_text("您的申请已撤回")
    await expect(page.locator("#status")).to_have_text("已撤回")
    await expect(page.locator("a[href$='/withdraw']")).to_have_count(0)
    await assert_accessible(page)


def claim_body(credit_code: str, numbers: list[str], grades: tuple[int, ...]) -> dict[str, Any]:
    return {
        "program": "over_quota_reward",
        "employer": {"name": EMPLOYER_NAME, "credit_code": credit_code},
        "county": "150203",
        "year": china_today().year - 1,
        "unit_kind": "enterprise",
        "staff_total": 200,
        "employees": [
            {"name": f"职工{line}", "id_number": number, "disability_cert_number": f"{number}4{grade}"}
            for line, (number, grade) in enumerate(zip(numbers, grades, strict=True), start=1)
        ],
    }


async def test_employees_counted_by_the_first_approved_claim_show_not_counted_on_the_seconds_task_page(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    login = bearer_login(api)
    shared = [new_resident_id(born=date(1983, 5, 20)) for _ in range(2)]
    others = [new_resident_id(born=date(1983, 5, 20)) for _ in range(5)]
    first_code, second_code = new_credit_code(), new_credit_code()
    first_headers = await login(await account_for(sessions, "employer", first_code, name=EMPLOYER_NAME))
    second_headers = await login(await account_for(sessions, "employer", second_code, name=EMPLOYER_NAME))
    first = await api.post(
        "/api/v1/applications",
        json=claim_body(first_code, [*shared, others[0]], (2, 2, 4)),
        headers=first_headers,
    )
    second = await api.post(
        "/api/v1/applications",
        json=claim_body(second_code, [*shared, *others[1:]], (2, 2, 4, 4, 4, 4)),
        headers=second_headers,
    )
    assert first.status_code == second.status_code == 201
    official = await login("dpf-150203-a")
    first_task = await task_of(api, official, first.json()["id"])
    second_task = await task_of(api, official, second.json()["id"])
    await sign_in(page, "dpf-150203-a")
    await page.goto(f"/tasks/{second_task['id']}")
    await expect(page.locator("#employees tbody tr", has_text="不计入")).to_have_count(0)
    await expect(page.locator("main")).to_contain_text("5 × 5 × 1980.00 = 49500.00")
    approved = await api.post(
        f"/api/v1/tasks/{first_task['id']}/decision", json={"decision": "approve"}, headers=official
    )
    assert approved.status_code == 200, approved.text
    # The second's task now shows the two shared lines not counted, and the lower amount: 4 − 3.0 → 1.
    await reload_until(page, "#employees", "已计入其他单位本年度已批准的申请")
    await expect(page.locator("#employees tbody tr", has_text="已计入其他单位本年度已批准的申请")).to_have_count(2)
    await expect(page.locator("main")).to_contain_text("1 × 5 × 1980.00 = 9900.00")
    await expect(page.locator("main")).not_to_contain_text("49500.00")
    await assert_accessible(page)
    await page.check("#decision-approve")
    await page.click("form[action$='/decision'] button.button")
    await expect(page.locator("#outcome")).to_contain_text("不计入（已计入其他单位本年度已批准的申请）：第1, 2行")
    await expect(page.locator("#outcome")).to_contain_text("9900.00")
    await page.click("#confirm-form button")
    for _ in range(75):
        found = await api.get(f"/api/v1/applications/{second.json()['id']}", headers=second_headers)
        if found.json()["status"] == "completed":
            break
        await asyncio.sleep(0.2)
    assert found.json()["totals"]["due"] == "9900.00"
