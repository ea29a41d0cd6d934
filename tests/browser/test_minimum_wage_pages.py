"""The minimum wage standards page in Chromium with axe-core: the shipped standard with its tiers and counties, a
refused file's error summary, a later standard loaded by an administrator, read-only for the City DPF."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.minimum_wages import MinimumWageStandardRow
from tests.browser.conftest import assert_accessible
from tests.conftest import forget_failed_sign_ins, running_service

CODE = "nmg-browser-test"
GOOD = f"""standards:
  - code: {CODE}
    region: '150000'
    document: 测试用最低工资标准调整通知
    valid_from: '2090-01-01'
    description: test data
    monthly_by_tier: {{1: '2500.00', 2: '2400.00'}}
    county_tiers: {{'150203': 1, '150222': 2}}
"""


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", "demo")
    await page.click("form[action='/login'] button")
    await page.wait_for_load_state()


@pytest.mark.timeout(180)
async def test_standards_are_listed_loaded_and_refused_in_words(
    browser: Browser,
    database_url: str,
    dev_server_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await forget_failed_sign_ins(sessions)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("'2500.00'", "2500.0"), encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    try:
        async with running_service(database_url, dev_server_env, worker=False) as url:
            context = await browser.new_context(base_url=url, locale="zh-CN")
            page = await context.new_page()
            await sign_in(page, "admin-a")
            await page.goto("/admin/minimum-wages")
            shipped = page.locator("table", has=page.locator("caption", has_text="nmg-2021"))
            tier_1 = shipped.locator("tr", has=page.get_by_role("rowheader", name="1", exact=True))
            await expect(tier_1).to_contain_text("1980.00")
            await expect(tier_1).to_contain_text("昆都仑区")
            tier_2 = shipped.locator("tr", has=page.get_by_role("rowheader", name="2", exact=True))
            await expect(tier_2).to_contain_text("1910.00")
            await expect(tier_2).to_contain_text("固阳县")
            await expect(page.locator("main")).to_contain_text("ASSUMPTION")
            await assert_accessible(page)

            await page.set_input_files("#standards_file", str(bad))
            await page.click("form[action='/admin/minimum-wages'] button")
            summary = page.locator(".error-summary[aria-labelledby='error-summary-title']")
            await expect(summary).to_contain_text("quoted text")
            await expect(page.locator("#standards_file")).to_have_attribute("aria-invalid", "true")
            await assert_accessible(page)

            await page.set_input_files("#standards_file", str(good))
            await page.click("form[action='/admin/minimum-wages'] button")
            await page.wait_for_url(f"**/admin/minimum-wages?loaded={CODE}")
            await expect(page.locator(".notice")).to_contain_text(f"标准 {CODE} 已导入")
            await expect(page.get_by_role("heading", level=2, name="测试用最低工资标准调整通知")).to_be_visible()

            # Loading it again is refused: a stored standard never changes.
            await page.set_input_files("#standards_file", str(good))
            await page.click("form[action='/admin/minimum-wages'] button")
            await expect(summary).to_contain_text(CODE)
            await context.close()

            context = await browser.new_context(base_url=url, locale="zh-CN")
            page = await context.new_page()
            await sign_in(page, "city-a")
            await page.goto("/admin/minimum-wages")
            await expect(page.locator("caption", has_text="nmg-2021")).to_be_visible()
            await expect(page.locator("form[action='/admin/minimum-wages']")).to_have_count(0)
            await assert_accessible(page)
            await context.close()

            context = await browser.new_context(base_url=url, locale="zh-CN")
            page = await context.new_page()
            await sign_in(page, "applicant-a")
            response = await page.goto("/admin/minimum-wages")
            assert response is not None and response.status == 403
            await context.close()
    finally:
        async with sessions.begin() as session:
            await session.execute(delete(MinimumWageStandardRow).where(MinimumWageStandardRow.code == CODE))
