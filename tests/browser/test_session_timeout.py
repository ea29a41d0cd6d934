"""Session time-outs warn first and can be extended without losing what was typed (WCAG 2.2.1)."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import running_service


async def test_the_idle_warning_appears_can_be_extended_and_expiry_signs_out(
    browser: Browser, database_url: str, dev_server_env: WorkflowEnvironment
) -> None:
    short = {"SUBSIDY_SESSION_IDLE_SECONDS": 15, "SUBSIDY_SESSION_WARN_SECONDS": 11}
    async with running_service(database_url, dev_server_env, **short) as url:
        context = await browser.new_context(base_url=url)
        page = await context.new_page()
        await sign_in(page, "applicant-a")
        await page.goto("/apply/rent-subsidy")
        await page.fill("#applicant-name", "赵六")
        warning = page.locator("#session-warning")
        await expect(warning).to_be_hidden()
        await expect(warning).to_be_visible(timeout=10_000)  # 15 s idle limit, warned 11 s before
        await expect(warning.locator("button")).to_be_focused()
        await assert_accessible(page)
        await page.keyboard.press("Enter")  # stay signed in
        await expect(warning).to_be_hidden()
        await expect(page.locator("#applicant-name")).to_have_value("赵六")  # nothing typed was lost

        await asyncio.sleep(16)  # now nobody extends it
        await page.goto("/my/applications")
        await page.wait_for_url(
            re.compile(r".*/login\?next=%2Fmy%2Fapplications&expired=1$|.*/login\?next=/my/applications&expired=1$")
        )
        await expect(page.locator(".notice")).to_contain_text("长时间未操作")
        await context.close()
