"""The annual report's pages in Chromium with axe-core: the city's figures beside each county's, charts with their
tables, the plans' targets and actions, the CSV with Chinese intact, the rows behind a figure, an action updated by
the City DPF, a county official confined to their own county."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_annual_report_api import PLAN, YEAR, year_of_records  # noqa: F401 - the same year of records
from tests.browser.conftest import assert_accessible
from tests.conftest import forget_failed_sign_ins


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", "demo")
    await page.click("form[action='/login'] button")
    await page.wait_for_load_state()


async def test_the_city_reads_the_report_with_charts_tables_targets_and_the_csv(
    browser: Browser,
    base_url: str,
    sessions: async_sessionmaker[AsyncSession],
    year_of_records: dict[str, Any],  # noqa: F811
) -> None:
    await forget_failed_sign_ins(sessions)
    context = await browser.new_context(base_url=base_url, locale="zh-CN", accept_downloads=True)
    page = await context.new_page()
    await sign_in(page, "city-a")
    await page.get_by_role("link", name="年度报告", exact=True).click()
    await page.fill("#year", str(YEAR))
    await page.click("form[action='/reports/annual'] button")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{YEAR}年度报告：包头市（全部旗县区）")
    counties = page.locator("table", has=page.locator("caption", has_text=f"{YEAR}年各旗县区数据"))
    kundulun = counties.locator("tr", has=page.get_by_role("rowheader", name="昆都仑区"))
    await expect(kundulun.locator("td").nth(1)).to_have_text("2")  # new employment
    await expect(kundulun.locator("td").nth(3)).to_have_text("1999.99")
    chart = page.locator("figure", has=page.locator("figcaption", has_text=f"{YEAR}年各旗县区新增就业"))
    await expect(chart.locator("svg[role='img'] title")).to_have_text(f"{YEAR}年各旗县区新增就业")
    table = page.locator("table.chart-table", has=page.locator("caption", has_text=f"{YEAR}年各旗县区新增就业"))
    await expect(table.locator("tr", has=page.get_by_role("rowheader", name="青山区")).locator("td")).to_have_text("1")
    targets = page.locator("table", has=page.locator("caption", has_text="测试计划的目标"))
    await expect(targets.locator("tbody tr").first.locator("td")).to_have_text(["8", "4", "50.0%", "三年新增就业8人"])
    liaoning = page.locator(
        "table", has=page.locator("caption", has_text="辽宁省促进残疾人就业三年行动方案（2022—2024年）的目标")
    )
    await expect(liaoning.locator("tbody tr").first).to_contain_text("不在本系统统计范围")
    await assert_accessible(page)

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name=f"下载报告 CSV 文件（包头市（全部旗县区），{YEAR}年）").click()
    download = await waiting.value
    content = (await download.path()).read_bytes()
    assert content.startswith("\ufeff".encode()) and "昆都仑区".encode() in content

    await page.get_by_role("link", name="新增就业：3，查看所统计的记录").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"新增就业，{YEAR}年：包头市（全部旗县区）")
    await expect(page.locator("tbody tr")).to_have_count(3)
    await assert_accessible(page)

    await page.go_back()
    await page.select_option("#status-baotou-2023-43-3", "done")
    await page.fill("#note-baotou-2023-43-3", "已召开助残社会组织座谈会")
    await page.get_by_role("button", name="保存第3项任务的进展").click()
    await expect(page.get_by_role("status")).to_contain_text("已保存")
    await expect(page.locator("#action-baotou-2023-43-3")).to_contain_text("已召开助残社会组织座谈会")
    await page.select_option("#status-baotou-2023-43-3", "not_started")
    await page.fill("#note-baotou-2023-43-3", "")
    await page.get_by_role("button", name="保存第3项任务的进展").click()
    await context.close()


async def test_a_county_official_reads_their_own_county_only(
    browser: Browser,
    base_url: str,
    sessions: async_sessionmaker[AsyncSession],
    year_of_records: dict[str, Any],  # noqa: F811
) -> None:
    await forget_failed_sign_ins(sessions)
    context = await browser.new_context(base_url=base_url, locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, "dpf-150203-a")
    await page.goto(f"/reports/annual?year={YEAR}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{YEAR}年度报告：昆都仑区")
    await expect(page.locator("#county")).to_have_count(0)
    await expect(page.locator("form[action='/reports/annual/actions']")).to_have_count(0)
    await assert_accessible(page)
    other = await page.goto(f"/reports/annual?year={YEAR}&county=150204")
    assert other is not None and other.status == 403
    await context.close()
