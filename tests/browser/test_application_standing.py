"""The applicant's page says where things stand (issue 14 part 4): who decides and by when, the next payment,
what has happened, and after a withdrawal the status and the buttons agree."""

from __future__ import annotations

from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.policy.workdays import CHINA
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_letter_pages import decide_on_the_page
from tests.browser.test_pages import apply_through_the_form
from tests.conftest import account_for
from tests.helpers import new_resident_id


async def test_the_applicant_sees_who_decides_by_when_the_next_payment_and_the_history(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    applicant = await account_for(sessions, "person", person, name="李明")
    await sign_in(page, applicant)
    url = await apply_through_the_form(page, person, monthly_rent="800.00")
    application_id = url.rsplit("/", 1)[1]
    reference = (await page.locator("#reference").inner_text()).strip()
    for _ in range(50):  # the review task opens a moment after the submission
        await page.reload()
        if await page.get_by_text("当前办理单位").count():
            break
        await page.wait_for_timeout(200)
    async with sessions() as session:
        due_at = await session.scalar(
            text("SELECT due_at FROM tasks WHERE application_id = :id AND status = 'open'"), {"id": application_id}
        )
    summary = page.locator("dl.summary-list").first
    await expect(summary).to_contain_text("旗县区残联 (昆都仑区)")
    await expect(summary).to_contain_text(f"预计 {due_at.astimezone(CHINA).date().isoformat()} 前办结")
    history = page.locator("ol.history")
    await expect(history).to_contain_text("提交申请")
    await expect(history).to_contain_text("生成待办任务")
    await assert_accessible(page)
    await sign_out(page)

    await decide_on_the_page(page, reference, "approve")
    await sign_in(page, applicant)
    await page.goto(url)
    async with sessions() as session:
        period_end, amount = (
            await session.execute(
                text(
                    "SELECT period_end, amount FROM schedule WHERE application_id = :id AND status = 'planned' "
                    "ORDER BY period LIMIT 1"
                ),
                {"id": application_id},
            )
        ).one()
    last_day = period_end.fromordinal(period_end.toordinal() - 1)
    await expect(summary).to_contain_text(f"{amount} 元，于该月期满（{last_day.isoformat()}）后发放")
    await expect(summary).not_to_contain_text("当前办理单位")  # nobody is deciding any more
    await expect(history).to_contain_text("作出审核决定")
    await expect(history).to_contain_text("批准")
    await expect(history).not_to_contain_text("审核员")  # the office, not the official's account
    await assert_accessible(page)

    await page.get_by_role("link", name="撤回申请").click()
    await page.get_by_role("button", name="确认撤回申请").click()
    await expect(summary).to_contain_text("已撤回")
    await expect(page.get_by_role("link", name="撤回申请")).to_have_count(0)
    await expect(summary).not_to_contain_text("下一笔补贴")  # the months not yet paid were cancelled
    await expect(history).to_contain_text("申请人撤回")
