"""Registering on the pages (issue 14 part 1): a person registers, is told who verifies it, the County DPF verifies it
from the inbox, and the account then acts for that person."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.helpers import new_credit_code, new_resident_id


async def test_a_person_registers_on_the_pages_and_the_county_verifies_it(page: Page) -> None:
    await page.goto("/login")
    await page.get_by_role("link", name="还没有账号？注册").click()
    await expect(page.locator("h1")).to_have_text("注册账号")
    await assert_accessible(page)

    # Nothing filled in: each required field says what is missing, linked from the summary.
    await page.get_by_role("button", name="注册", exact=True).click()
    summary = page.locator(".error-summary")
    for label in ("注册类型", "用户名", "密码", "联系电话"):
        await expect(summary).to_contain_text(label)
    await expect(summary.get_by_role("link").first).to_have_attribute("href", "#kind")
    await assert_accessible(page)

    id_number = new_resident_id()
    username = f"reg-{uuid.uuid4().hex[:10]}"
    await page.check("#kind-person")
    await page.fill("#name", "周八")
    await page.fill("#id_number", id_number)
    await page.fill("#disability_cert_number", id_number + "41")
    await page.fill("#credit_code", new_credit_code())  # another kind's field: ignored for a person
    await page.fill("#phone", "abc")
    await page.select_option("#county", "150203")
    await page.fill("#username", username)
    await page.fill("#password", "correct horse battery staple")
    await page.get_by_role("button", name="注册", exact=True).click()
    await expect(summary).to_contain_text("联系电话")  # a phone number is checked
    await expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    assert await page.input_value("#password") == ""  # a password is never sent back
    await page.fill("#phone", "13800000000")
    await page.fill("#password", "correct horse battery staple")
    await page.get_by_role("button", name="注册", exact=True).click()
    await expect(page.locator("h1")).to_have_text("注册申请已收到")
    await expect(page.locator("main")).to_contain_text("昆都仑区残疾人联合会")  # who verifies it
    await assert_accessible(page)

    await sign_in(page, "dpf-150203-a")
    await page.goto("/inbox?program=account_registration")
    await page.locator("tbody a").first.wait_for()
    await sign_out(page)
    # The registrant signs in: waiting for verification.
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", "correct horse battery staple")
    await page.click("form[action='/login'] button")
    await expect(page.locator("#acts-for")).to_contain_text("正在等待旗县区残联核验")
    await sign_out(page)


async def test_an_organisation_registering_twice_with_one_user_name_is_told_by_the_field(page: Page) -> None:
    username = f"org-{uuid.uuid4().hex[:10]}"
    for attempt in range(2):
        await page.goto("/register")
        await page.check("#kind-employer")
        await page.fill("#name", "包头市示例公司")
        await page.fill("#credit_code", new_credit_code())
        await page.fill("#phone", "0472-1234567")
        await page.select_option("#county", "150204")
        await page.fill("#username", username)
        await page.fill("#password", "correct horse battery staple")
        await page.get_by_role("button", name="注册", exact=True).click()
        if attempt == 0:
            await expect(page.locator("main")).to_contain_text("青山区残疾人联合会")
    summary = page.locator(".error-summary")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#username")
    await assert_accessible(page)
