"""The pages as people use them: screen-reader and keyboard users, both languages, small screens, forged posts."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.conftest import account_for
from tests.helpers import months_ago, new_resident_id, with_bad_checksum


async def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element has focus: proves it can be reached with the keyboard alone."""
    for _ in range(limit):
        if await page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


async def type_into(page: Page, selector: str, text: str) -> None:
    await tab_to(page, selector)
    await page.keyboard.press("Control+A")
    await page.keyboard.type(text)


def rent_answers(id_number: str) -> dict[str, str]:
    licence = months_ago(14, days=1)
    return {
        "#applicant-name": "李明",
        "#applicant-id_number": id_number,
        "#applicant-disability_cert_number": id_number + "42",
        "#applicant-phone": "13800000000",
        "#business-name": "明亮小超市",
        "#business-credit_code": "91150203MA0N12345B",
        "#business-license_date": licence.isoformat(),
        "#business-started_on": licence.isoformat(),
        "#lease-monthly_rent": "1200.00",
        "#lease-start_date": licence.isoformat(),
        "#lease-end_date": months_ago(-36).isoformat(),
        "#bank_account": "6222020000000000000",
    }


async def fill_rent_form_by_keyboard(page: Page, answers: dict[str, str]) -> None:
    await page.keyboard.press("Tab")
    for selector in ("#applicant-name", "#applicant-id_number", "#applicant-disability_cert_number"):
        await type_into(page, selector, answers[selector])
    await tab_to(page, "#applicant-hukou_county")
    await page.keyboard.press("ArrowDown")  # 东河区
    await page.keyboard.press("ArrowDown")  # 昆都仑区
    await expect(page.locator("#applicant-hukou_county")).to_have_value("150203")
    for selector in ("#applicant-phone", "#business-name", "#business-credit_code"):
        await type_into(page, selector, answers[selector])
    await tab_to(page, "#business-business_type-general")
    await page.keyboard.press("Space")
    for selector in (
        "#business-license_date",
        "#business-started_on",
        "#lease-monthly_rent",
        "#lease-start_date",
        "#lease-end_date",
        "#bank_account",
    ):
        await type_into(page, selector, answers[selector])


async def test_keyboard_only_application_and_county_approval(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    applicant = await account_for(sessions, "person", person, name="李明")
    await page.goto("/login")
    await type_into(page, "#username", applicant)
    await type_into(page, "#password", "demo")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/my/applications")
    await page.goto("/apply/rent-subsidy")

    answers = rent_answers(person)
    answers["#applicant-id_number"] = with_bad_checksum(person)
    await fill_rent_form_by_keyboard(page, answers)
    await page.keyboard.press("Enter")

    # The error summary is announced first and links to the field; nothing typed was lost.
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("身份证号码校验不通过")
    await expect(page.locator("#applicant-name")).to_have_value("李明")
    await expect(page.locator("#applicant-id_number")).to_have_attribute("aria-invalid", "true")
    described = await page.get_attribute("#applicant-id_number", "aria-describedby")
    assert described is not None and "applicant-id_number-error" in described
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#applicant-id_number']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#applicant-id_number")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(person.lower())  # a lower-case x is fine too
    await tab_to(page, "form[action='/apply/rent-subsidy'] button.button")
    await page.keyboard.press("Enter")

    # Review and confirm (WCAG 3.3.4): nothing is submitted before this.
    await expect(page.locator("h1")).to_have_text("提交前请核对填写内容")
    await expect(page.locator("main")).to_contain_text("1000.00")
    await assert_accessible(page)
    await tab_to(page, "form[action='/apply/rent-subsidy/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/my/applications/[0-9a-f-]+\?submitted=1"))
    application_url = page.url.split("?")[0]
    reference = (await page.locator("#reference").inner_text()).strip()
    await expect(page.locator(".notice")).to_contain_text("您的申请已提交")
    await sign_out(page)

    await type_into(page, "#username", "dpf-150203-a")
    await type_into(page, "#password", "demo")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/inbox")
    task_link = page.locator(f"tr[data-reference='{reference}'] a")
    for _ in range(50):  # the workflow opens the task a moment after the submission
        if await task_link.count():
            break
        await asyncio.sleep(0.2)
        await page.reload()
    await assert_accessible(page)
    await tab_to(page, f"tr[data-reference='{reference}'] a")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/tasks/*")
    await expect(page.locator("main")).to_contain_text("李明")
    await expect(page.locator("main")).to_contain_text("baotou-2025")
    await assert_accessible(page)
    await tab_to(page, "#decision-approve")
    await page.keyboard.press("Space")
    await type_into(page, "#monthly_rent", "1200.00")
    await tab_to(page, "form[action$='/decision'] button")
    await page.keyboard.press("Enter")
    # The outcome is previewed before the decision is confirmed.
    await expect(page.locator("#outcome")).to_contain_text("1000.00")
    await tab_to(page, "#confirm-form button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/inbox?decided=*")
    await expect(page.locator(".notice")).to_contain_text("您的审核意见已记录")
    await sign_out(page)

    await sign_in(page, applicant)
    await page.goto(application_url)
    await expect(page.locator("main")).to_contain_text("享受中（按月发放）")
    rows = page.locator("#schedule-caption ~ tbody tr")
    await expect(rows).to_have_count(36)
    # The months over are due, not paid: paid is what the bank confirms (issue 18).
    await expect(page.locator("tbody")).to_contain_text("应付，尚未发送银行")
    await expect(page.locator("tbody")).to_contain_text("待发放")
    await expect(page.locator("#payee-payments")).to_contain_text("应付，尚未发送银行")
    await assert_accessible(page)


async def test_every_page_passes_axe_in_both_languages(page: Page) -> None:
    for language in ("zh-CN", "en"):
        await page.context.clear_cookies()
        await page.goto("/")
        if language == "en":
            await page.click("button[name='lang'][value='en']")
            await expect(page.locator("html")).to_have_attribute("lang", "en")
        await assert_accessible(page)
        await page.goto("/login")
        await assert_accessible(page)
        await page.fill("#username", "applicant-a")
        await page.fill("#password", "wrong")
        await page.click("form[action='/login'] button")
        await expect(page.locator(".error-summary")).to_be_visible()
        await assert_accessible(page)
        await sign_in(page, "applicant-a")
        await assert_accessible(page)  # my applications
        await page.goto("/apply/rent-subsidy")
        await assert_accessible(page)
        await page.click("form[action='/apply/rent-subsidy'] button.button")  # everything empty
        await expect(page.locator(".error-summary li")).to_have_count(14)
        await assert_accessible(page)
        await sign_out(page)
        await sign_in(page, "dpf-150203-b")
        await assert_accessible(page)  # the inbox
        await page.goto("/inbox?status=done")
        await assert_accessible(page)
        await sign_out(page)


async def test_english_is_remembered_and_everything_is_translated(page: Page) -> None:
    await page.goto("/login")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.click("button[name='lang'][value='en']")
    await expect(page.locator("h1")).to_have_text("Sign in")
    await sign_in(page, "applicant-a")
    await page.goto("/apply/rent-subsidy")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("h1")).to_have_text("Apply for the start-up premises rent subsidy")
    await page.click("button[name='lang'][value='zh-CN']")
    await expect(page.locator("h1")).to_have_text("申请自主创业场地租金补贴")


async def test_a_post_without_the_csrf_token_is_refused(page: Page) -> None:
    await sign_in(page, "applicant-a")
    answers = {"applicant.name": "王五", "bank_account": "6222020000000000000"}
    forged = await page.request.post("/apply/rent-subsidy", form=answers)
    assert forged.status == 403
    assert "安全令牌" in await forged.text()
    wrong = await page.request.post("/apply/rent-subsidy", form={**answers, "csrf_token": "0" * 40})
    assert wrong.status == 403
    signed_out = await page.request.post("/logout", form={})
    assert signed_out.status == 403  # still signed in: the forged sign-out did nothing
    await page.goto("/my/applications")
    await expect(page.locator("h1")).to_have_text("我的申请")


async def test_the_form_fits_320_css_pixels_without_sideways_scrolling(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 800})
    await sign_in(page, "applicant-a")
    await page.goto("/apply/rent-subsidy")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    await page.click("form[action='/apply/rent-subsidy'] button.button")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320


async def test_pages_with_personal_data_are_not_cached_and_scripts_are_restricted(page: Page) -> None:
    await sign_in(page, "applicant-a")
    response = await page.goto("/my/applications")
    assert response is not None
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert "script-src 'self'" in headers["content-security-policy"]
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["subsidy_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax"


async def apply_through_the_form(page: Page, id_number: str, monthly_rent: str = "1200.00") -> str:
    """Submit a rent subsidy application on the pages; returns the application's page URL."""
    await page.goto("/apply/rent-subsidy")
    answers = rent_answers(id_number)
    answers["#lease-monthly_rent"] = monthly_rent
    for selector, value in answers.items():
        await page.fill(selector, value)
    await page.select_option("#applicant-hukou_county", "150203")
    await page.check("#business-business_type-general")
    await page.click("form[action='/apply/rent-subsidy'] button.button")
    await page.click("form[action='/apply/rent-subsidy/confirm'] button")
    await page.wait_for_url(re.compile(r".*/my/applications/[0-9a-f-]+\?submitted=1"))
    return page.url.split("?")[0]


async def open_task_of(page: Page, reference: str) -> None:
    await page.goto("/inbox")
    link = page.locator(f"tr[data-reference='{reference}'] a")
    for _ in range(50):
        if await link.count():
            break
        await asyncio.sleep(0.2)
        await page.reload()
    await link.click()
    await page.wait_for_url("**/tasks/*")


async def test_return_correct_refusal_on_the_page_and_withdraw(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    applicant = await account_for(sessions, "person", person, name="李明")
    await sign_in(page, applicant)
    application_url = await apply_through_the_form(page, person)
    reference = (await page.locator("#reference").inner_text()).strip()
    await sign_out(page)

    await sign_in(page, "dpf-150203-a")
    await open_task_of(page, reference)
    task_url = page.url
    await page.check("#decision-return")
    await page.click("form[action$='/decision'] button")  # no reason given
    await expect(page.locator(".error-summary")).to_contain_text("请填写理由")
    await expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)
    await page.check("#decision-return")
    await page.fill("#reason", "请补充租赁合同原件照片")
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    await sign_in(page, applicant)
    await page.goto(application_url)
    await expect(page.locator("main")).to_contain_text("退回补正")
    await expect(page.locator("main")).to_contain_text("请补充租赁合同原件照片")
    await page.get_by_role("link", name="补正后重新提交").click()
    await expect(page.locator("#lease-monthly_rent")).to_have_value("1200.00")
    await assert_accessible(page)
    await page.fill("#lease-monthly_rent", "900.00")
    await page.click("form[action$='/correct'] button.button")
    await page.wait_for_url(re.compile(r".*/my/applications/[0-9a-f-]+\?submitted=1"))
    await sign_out(page)

    # The official who returned it may not approve it now: the workflow says no, and the page says why.
    await sign_in(page, "dpf-150203-a")
    await open_task_of(page, reference)
    assert page.url != task_url  # a new review round, a new task
    await page.check("#decision-approve")
    await page.fill("#monthly_rent", "900.00")
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")
    await expect(page.locator(".error-summary")).to_contain_text("不相容岗位分离")
    await expect(page.locator("h1")).to_have_text("旗县区残联审核")
    await assert_accessible(page)
    await sign_out(page)

    await sign_in(page, "dpf-150203-b")
    await open_task_of(page, reference)
    await page.check("#decision-approve")
    await page.fill("#monthly_rent", "900.00")
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    await sign_in(page, applicant)
    await page.goto(application_url)
    await expect(page.locator("tbody")).to_contain_text("900.00")
    await page.get_by_role("link", name="撤回申请").click()
    await expect(page.locator("h1")).to_have_text("撤回申请")
    await assert_accessible(page)
    await page.click("form[action$='/withdraw'] button")
    await expect(page.locator(".notice")).to_contain_text("您的申请已撤回")
    await expect(page.locator("main")).to_contain_text("已撤回")
    await expect(page.locator("tbody")).to_contain_text("已取消")
