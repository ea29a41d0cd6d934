"""The administrator's account pages and the first sign-in with a one-time password, in Chromium with axe-core."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in, sign_out


async def test_an_admin_creates_an_official_who_must_choose_a_password_and_is_then_disabled(page: Page) -> None:
    username = f"dpf-150207-{uuid.uuid4().hex[:4]}"
    await sign_in(page, "admin-a")
    await page.get_by_role("link", name="账号管理").click()
    await page.wait_for_url("**/admin/accounts")
    await expect(page.locator("h1")).to_have_text("账号管理")
    await assert_accessible(page)
    await page.get_by_role("link", name="新建账号").click()
    await page.wait_for_url("**/admin/accounts/new")
    await assert_accessible(page)
    # A county role without its county: explained beside the field, nothing created.
    await page.fill("#username", username)
    await page.fill("#display_name", "九原区残联 审核员")
    await page.check("#roles-county_dpf")
    await page.click("form[action='/admin/accounts/new'] button")
    await expect(page.locator(".error-summary")).to_contain_text("旗县区角色须选择旗县区")
    await assert_accessible(page)
    await page.select_option("#county", "150207")
    await page.click("form[action='/admin/accounts/new'] button")
    one_time = (await page.locator("#one-time-password").inner_text()).strip()
    assert len(one_time) == 19
    await assert_accessible(page)
    await page.get_by_role("link", name="返回该账号").click()
    await expect(page.locator("#account-status")).to_have_text("须设置新密码")
    await assert_accessible(page)
    await page.goto(f"/admin/accounts?q={username}")
    listed = page.locator("table:has(#accounts-caption) tbody")  # not the registrations waiting below it
    await expect(listed.locator("tr")).to_have_count(1)
    await expect(listed).to_contain_text("九*******")  # the name masked in the list
    await sign_out(page)

    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", one_time)
    await page.click("form[action='/login'] button")
    await page.wait_for_url("**/account/password")
    await expect(page.locator(".notice")).to_contain_text("一次性密码")
    await assert_accessible(page)
    await page.fill("#old", one_time)
    await page.fill("#new", "password1234")
    await page.click("form[action='/account/password'] button")
    await expect(page.locator(".error-summary")).to_contain_text("请设置更长、更难猜的密码")
    await assert_accessible(page)
    await page.fill("#old", one_time)
    await page.fill("#new", "Jiuyuan-river-lamp-42")
    await page.click("form[action='/account/password'] button")
    await page.wait_for_url("**/inbox")

    # Disabled by the admin in another browser: this session ends at once.
    admin = await page.context.browser.new_context(base_url=page.url.split("/inbox")[0], locale="zh-CN")  # type: ignore[union-attr]
    admin_page = await admin.new_page()
    await sign_in(admin_page, "admin-a")
    await admin_page.goto(f"/admin/accounts/{username}")
    await admin_page.get_by_role("button", name="停用账号").click()
    await expect(admin_page.locator("#account-status")).to_have_text("已停用")
    await assert_accessible(admin_page)
    await admin.close()
    await page.goto("/inbox")
    await page.wait_for_url(re.compile(r".*/login\?next=(/|%2F)inbox$"))
