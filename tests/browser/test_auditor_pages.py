"""The auditor's pages: find the application, read who decided under which rule, download, replay, verify."""

from __future__ import annotations

import csv
import io
import json

from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import apply_through_the_form, open_task_of
from tests.conftest import account_for
from tests.helpers import new_resident_id


async def test_an_auditor_reads_the_timeline_downloads_and_replays(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    await sign_in(page, await account_for(sessions, "person", person, name="李明"))
    await apply_through_the_form(page, person)
    reference = (await page.locator("#reference").inner_text()).strip()
    await sign_out(page)
    await sign_in(page, "dpf-150203-b")
    await open_task_of(page, reference)
    await page.check("#decision-approve")
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")  # the preview, then the decision
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    await sign_in(page, "auditor-a")
    await page.wait_for_url("**/audit")
    await assert_accessible(page)
    await page.fill("#reference", reference)
    await page.click("form[action='/audit'] button")
    await page.get_by_role("link", name=reference).first.click()
    await page.wait_for_url("**/audit/applications/*")
    body = page.locator("tbody")
    # Each step in words, its actor as an office and a person; the engine's events folded away.
    decided = body.locator("tr", has_text="作出审核决定")
    await expect(decided).to_contain_text("旗县区残联, 昆都仑区")  # the approving official's office
    await expect(decided).to_contain_text("昆都仑区残联 审核员乙")  # and the official
    await expect(decided).to_contain_text("批准")  # the decision in words
    submitted = body.locator("tr", has_text="提交申请")
    await expect(submitted).to_contain_text("李明")  # the applicant, named in the submission
    await expect(body).to_contain_text("baotou-2025")  # the policy version
    await expect(body.locator("tr", has_text="月份到期应付：已记入台账").first).to_contain_text("市级承担（元）")
    await expect(body).not_to_contain_text("update_accepted", use_inner_text=True)
    engine = page.locator("details.engine-events")
    await expect(engine).not_to_have_attribute("open", "")
    await engine.locator("summary").click()
    await expect(engine).to_contain_text("工作流接收消息")
    await assert_accessible(page)

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载办理过程（CSV）").click()
    table = open(await (await downloading.value).path(), encoding="utf-8").read()  # noqa: ASYNC230 - a small temp file
    assert table.startswith("\ufeff时间（北京时间）,"), table[:40]  # a spreadsheet keeps the Chinese intact
    rows = list(csv.reader(io.StringIO(table.removeprefix("\ufeff"))))
    assert any(row[1] == "作出审核决定" and "昆都仑区残联 审核员乙" in row[3] for row in rows[1:])
    assert any(row[1] == "工作流接收消息" and row[5] == "是" for row in rows[1:])

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载流程历史（JSON）").click()
    download = await downloading.value
    document = json.loads(open(await download.path(), encoding="utf-8").read())  # noqa: ASYNC230 - a small temp file
    assert document["runs"] and document["runs"][0]["history"]["events"]

    await page.get_by_role("button", name="用当前程序重放").click()
    await expect(page.locator("#replay-result")).to_contain_text("确定性一致")
    await page.goto("/audit")
    await page.get_by_role("button", name="校验审计日志的哈希链").click()
    await expect(page.locator(".notice")).to_contain_text("审计日志完整")
    await assert_accessible(page)


async def test_other_roles_cannot_open_the_audit_pages(page: Page) -> None:
    await sign_in(page, "dpf-150203-a")
    response = await page.goto("/audit")
    assert response is not None and response.status == 403


async def test_an_auditor_finds_applications_by_official_person_and_date(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    await sign_in(page, await account_for(sessions, "person", person, name="李明"))
    await apply_through_the_form(page, person)
    reference = (await page.locator("#reference").inner_text()).strip()
    await sign_out(page)
    await sign_in(page, "dpf-150203-b")
    await open_task_of(page, reference)
    await page.check("#decision-reject")
    await page.fill("#reason", "材料不全")
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")  # the preview, then the decision
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    await sign_in(page, "auditor-a")
    async with sessions() as session:
        day = await session.scalar(
            text("SELECT min(at AT TIME ZONE 'Asia/Shanghai')::date FROM audit_log WHERE actor = 'dpf-150203-b'")
        )
    found = page.get_by_role("link", name=reference)
    for query in (f"person={person}", "person=李明", "official=dpf-150203-b", "official=审核员乙", f"on={day}"):
        await page.goto(f"/audit?{query}&reference={reference.lower()}")
        await expect(found, query).to_have_count(1)
    await page.goto(f"/audit?person={new_resident_id()}")
    await expect(page.get_by_text("未查到。")).to_be_visible()
    await page.goto("/audit?on=2025-13-45")
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("日期")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#on")
    await assert_accessible(page)


def test_the_temporal_ui_help_names_the_real_addresses() -> None:
    from starlette.requests import Request

    from subsidy.api.pages.auditor_pages import temporal_ui_help

    request = Request({"type": "http", "scheme": "http", "server": ("localhost", 8777), "path": "/", "headers": []})
    help = temporal_ui_help(request, 8233, ["http://localhost:8233", "http://127.0.0.1:8233"])
    assert help is not None
    assert help.url == "http://localhost:8233"
    assert help.codec_endpoint == "http://localhost:8777/api/v1/audit/codec"
    assert temporal_ui_help(request, 8233, []) is None  # no UI allowed to call the codec: nothing to set
