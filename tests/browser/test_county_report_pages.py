"""A county's November report through the pages, in Chromium with axe-core: the round opens the task, the County
DPF official reads the live figures, writes the narrative, sees what will be frozen and submits; the city sees the
county as submitted and reads the frozen report."""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.models import Task
from subsidy.programs.county_annual_report.contracts import (
    REPORT_ROUND_WORKFLOW,
    SUBMIT_STEP,
    OpenedReports,
    ReportRoundInput,
    report_application_id,
)
from subsidy.programs.county_annual_report.models import CountyReport
from subsidy.reports.figures import county_figures
from subsidy.service.temporal import build_worker
from tests.browser.conftest import assert_accessible
from tests.conftest import forget_failed_sign_ins
from tests.workflows.conftest import eventually

YEAR = 2097
COUNTY = "150203"
NARRATIVE = "本年度组织专场招聘会3场，新增安置残疾人就业5人。"


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", "demo")
    await page.click("form[action='/login'] button")
    await page.wait_for_load_state()


async def test_a_county_submits_its_report_on_the_pages_and_the_city_reads_it_frozen(
    browser: Browser,
    base_url: str,
    dev_server_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await forget_failed_sign_ins(sessions)
    task_queue = f"county-report-{uuid.uuid4()}"
    async with build_worker(dev_server_env.client, task_queue, sessions):
        opened: OpenedReports = await dev_server_env.client.execute_workflow(
            REPORT_ROUND_WORKFLOW,
            ReportRoundInput(year=YEAR, counties=[COUNTY]),
            id=f"round-{uuid.uuid4()}",
            task_queue=task_queue,
            result_type=OpenedReports,
        )
        application_id = report_application_id(COUNTY, YEAR)

        async def task_row() -> Task | None:
            async with sessions() as session:
                found: Task | None = await session.scalar(
                    select(Task).where(Task.application_id == application_id, Task.step == SUBMIT_STEP)
                )
                return found

        task = await eventually(task_row, 20)
        context = await browser.new_context(base_url=base_url, locale="zh-CN")
        page = await context.new_page()
        await sign_in(page, "dpf-150203-a")
        await page.goto(f"/tasks/{task.id}")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("报送年度报告")
        await expect(page.locator("main")).to_contain_text("本旗县区本年度数据（当前）")
        await assert_accessible(page)
        await page.check("#decision-approve")
        await page.click("form[action$='/decision'] button")  # without the narrative: refused, summarised
        await expect(page.locator(".error-summary")).to_contain_text("年度落实情况说明")
        await page.fill("#reason", NARRATIVE)
        await page.click("form[action$='/decision'] button")
        await expect(page.locator("main")).to_contain_text("将固定的数据")
        await assert_accessible(page)
        async with sessions() as session:
            live = (await county_figures(session, YEAR, COUNTY)).as_json()
        await page.click("#confirm-form button")
        await page.wait_for_url("**/inbox?decided=*")

        async def frozen() -> CountyReport | None:
            async with sessions() as session:
                found: CountyReport | None = await session.get(CountyReport, application_id)
                return found

        report = await eventually(frozen, 20)
        assert report.figures == live and report.narrative == NARRATIVE
        await context.close()
    assert opened.opened == [COUNTY] and opened.due_on == f"{YEAR}-11-30"

    context = await browser.new_context(base_url=base_url, locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, "city-a")
    await page.goto(f"/reports/annual?year={YEAR}")
    table = page.locator("table", has=page.locator("caption", has_text=f"{YEAR}年各旗县区报送的报告"))
    await table.get_by_role("link", name="已报送：昆都仑区的报告").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"昆都仑区{YEAR}年度报告（报送版本）")
    await expect(page.locator(".narrative")).to_have_text(NARRATIVE)
    await expect(page.locator("code")).to_have_text(report.figures_sha256)
    await assert_accessible(page)
    await context.close()
