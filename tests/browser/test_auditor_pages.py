"""The auditor's pages: find the application, read who decided under which rule, download, replay, verify."""

from __future__ import annotations

import json

from playwright.async_api import Page, expect
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
    await expect(body).to_contain_text("dpf-150203-b")  # the approving official
    await expect(body).to_contain_text("李明")  # the applicant, named in the submission
    await expect(body).to_contain_text("baotou-2025")  # the policy version
    await expect(body).to_contain_text("payment")
    await assert_accessible(page)

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
