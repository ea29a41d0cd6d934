"""The administrator's calendar page in Chromium with axe-core: the warning from 1 November while next year is
unknown (the service's today set by SUBSIDY_TODAY), the years and their sources, a refused file's error summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.calendar_models import CalendarYearRow
from tests.browser.conftest import assert_accessible
from tests.conftest import forget_failed_sign_ins, running_service

FAR = 2093


@pytest.mark.timeout(180)
async def test_the_calendar_page_warns_lists_and_summarises_the_problems_of_a_file(
    browser: Browser,
    database_url: str,
    dev_server_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await forget_failed_sign_ins(sessions)
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"year: {FAR + 1}\nsource: example\nholidays: []\n", encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(
        f"year: {FAR + 1}\nsource: test data\nholidays:\n  - {{name: 元旦, from: {FAR + 1}-01-01}}\n", encoding="utf-8"
    )
    try:
        async with running_service(database_url, dev_server_env, worker=False, SUBSIDY_TODAY=f"{FAR}-11-01") as url:
            context = await browser.new_context(base_url=url, locale="zh-CN")
            page = await context.new_page()
            await page.goto("/login")
            await page.fill("#username", "admin-a")
            await page.fill("#password", "demo")
            await page.click("form[action='/login'] button")
            await page.wait_for_url("**/admin/calendar")
            await expect(page.get_by_role("alert")).to_contain_text(f"系统尚不知道{FAR + 1}年")
            await expect(page.locator("table")).not_to_contain_text(str(FAR + 1))
            await assert_accessible(page)

            await page.set_input_files("#year_file", str(bad))
            await page.click("form[action='/admin/calendar'] button")
            summary = page.locator(".error-summary[aria-labelledby='error-summary-title']")
            await expect(summary).to_contain_text("description")
            await expect(summary).to_contain_text("holidays")
            await expect(page.locator("#year_file")).to_have_attribute("aria-invalid", "true")
            await assert_accessible(page)

            await page.set_input_files("#year_file", str(good))
            await page.click("form[action='/admin/calendar'] button")
            await page.wait_for_url(f"**/admin/calendar?loaded={FAR + 1}")
            await expect(page.locator(".notice")).to_contain_text(f"{FAR + 1}年的日历已导入")
            await expect(page.get_by_role("alert")).to_have_count(0)
            row = page.locator("tr", has=page.get_by_role("rowheader", name=str(FAR + 1)))
            await expect(row).to_contain_text("测试数据")  # its source
            await assert_accessible(page)
            await context.close()
    finally:
        async with sessions.begin() as session:
            await session.execute(delete(CalendarYearRow).where(CalendarYearRow.year >= FAR))
