"""Documents on the pages (issue 14 part 5): the applicant attaches the lease, the official opens it on the task."""

from __future__ import annotations

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_documents import PDF
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import apply_through_the_form, open_task_of
from tests.conftest import account_for
from tests.helpers import new_resident_id


async def test_the_applicant_attaches_the_lease_and_the_official_opens_it(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    await sign_in(page, await account_for(sessions, "person", person, name="李明"))
    application_id = (await apply_through_the_form(page, person)).rsplit("/", 1)[1]
    reference = (await page.locator("#reference").inner_text()).strip()
    await page.get_by_role("link", name=f"申请材料 ({reference})").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("申请材料")
    await expect(page.get_by_text("尚未上传材料。")).to_be_visible()
    await assert_accessible(page)

    # Nothing chosen: the error summary names both fields and links to them.
    await page.get_by_role("button", name="上传").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("材料名称")
    await expect(summary).to_contain_text("请选择要上传的文件")
    await assert_accessible(page)
    # A page of HTML named like a PDF: refused by what it is.
    await page.get_by_label("经营场所租赁合同").check()
    await page.set_input_files(
        "#file", files=[{"name": "lease.pdf", "mimeType": "application/pdf", "buffer": b"<html>not a lease</html>"}]
    )
    await page.get_by_role("button", name="上传").click()
    await expect(summary).to_contain_text("无论文件名如何，此文件都不是这几种格式")
    await expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    # The real lease, by keyboard: choose the kind, then the file, then submit with Enter.
    await page.get_by_label("经营场所租赁合同").focus()
    await page.keyboard.press("Space")
    await page.set_input_files("#file", files=[{"name": "租赁合同.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    await page.get_by_role("button", name="上传").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("材料已上传。")
    await expect(page.get_by_role("link", name="下载 经营场所租赁合同 租赁合同.pdf")).to_be_visible()
    await assert_accessible(page)
    await sign_out(page)

    await sign_in(page, "dpf-150203-b")
    await open_task_of(page, reference)
    await page.get_by_role("link", name=f"申请材料 ({reference})").click()
    await expect(page.get_by_role("button", name="上传")).to_have_count(0)  # officials read, the filer attaches
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载 经营场所租赁合同 租赁合同.pdf").click()
    download = await downloading.value
    assert download.suggested_filename == "租赁合同.pdf"
    assert open(await download.path(), "rb").read() == PDF  # noqa: ASYNC230 - a small temp file
    await page.get_by_role("link", name="返回").click()
    await page.wait_for_url("**/tasks/*")
    await sign_out(page)

    await sign_in(page, "dpf-150204-a")  # another county: the application and its files do not exist for them
    response = await page.goto(f"/documents/{application_id}")
    assert response is not None and response.status == 404
