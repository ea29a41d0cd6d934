"""Decision letters (issue 14 part 6): every decision as an A4 letter naming the office, the decision and its
reasons, the clause, the amounts, and for a refusal the ways to appeal with their last days."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.policy.workdays import CHINA
from subsidy.programs.rent_subsidy.rules import add_months
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import apply_through_the_form, open_task_of
from tests.conftest import account_for
from tests.helpers import new_resident_id


async def decide_on_the_page(page: Page, reference: str, decision: str, reason: str = "") -> None:
    await sign_in(page, "dpf-150203-b")
    await open_task_of(page, reference)
    await page.check(f"#decision-{decision}")
    if reason:
        await page.fill("#reason", reason)
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)


async def test_a_refusal_letter_names_the_office_the_reason_and_the_last_days_to_appeal(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    applicant = await account_for(sessions, "person", person, name="李明")
    await sign_in(page, applicant)
    url = await apply_through_the_form(page, person)
    reference = (await page.locator("#reference").inner_text()).strip()
    await sign_out(page)
    await decide_on_the_page(page, reference, "reject", "租赁合同与营业执照地址不一致")

    await sign_in(page, applicant)
    await page.goto(url)
    await page.get_by_role("link", name="决定书").first.click()
    letter = page.locator("article.letter")
    await expect(letter).to_contain_text("昆都仑区残疾人联合会")
    await expect(letter).to_contain_text("场地租金补贴")
    await expect(letter).to_contain_text("不予批准")
    await expect(letter).to_contain_text("租赁合同与营业执照地址不一致")
    await expect(letter).to_contain_text("包府办发〔2023〕43号")
    async with sessions() as session:
        decided_at = await session.scalar(
            text("SELECT decided_at FROM decisions WHERE application_id = :id"), {"id": url.rsplit("/", 1)[1]}
        )
    decided_on = decided_at.astimezone(CHINA).date()
    await expect(letter).to_contain_text(f"即 {(decided_on + timedelta(days=60)).isoformat()} 前")
    await expect(letter).to_contain_text(f"即 {add_months(decided_on, 6).isoformat()} 前")
    await expect(letter).to_contain_text("行政复议")
    await assert_accessible(page)
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载决定书").click()
    saved = open(await (await downloading.value).path(), encoding="utf-8").read()  # noqa: ASYNC230 - a small temp file
    assert "租赁合同与营业执照地址不一致" in saved and "行政复议" in saved
    await sign_out(page)

    # Another applicant: the letter does not exist for them.
    await sign_in(page, "applicant-b")
    response = await page.goto(url.replace("/my/applications/", "/letters/") + "/1")
    assert response is not None and response.status == 404


async def test_an_approval_letter_states_the_months_and_the_split(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = new_resident_id()
    applicant = await account_for(sessions, "person", person, name="李明")
    await sign_in(page, applicant)
    url = await apply_through_the_form(page, person, monthly_rent="900.00")
    reference = (await page.locator("#reference").inner_text()).strip()
    await sign_out(page)
    await decide_on_the_page(page, reference, "approve")

    await sign_in(page, "dpf-150203-a")  # an official of the county reads it too
    response = await page.goto(url.replace("/my/applications/", "/letters/") + "/1")
    assert response is not None and response.status == 200
    letter = page.locator("article.letter")
    await expect(letter).to_contain_text("批准")
    # 900.00 a month: 450.00 city, 450.00 county each month, for the months the schedule holds.
    async with sessions() as session:
        months, total = (
            await session.execute(
                text("SELECT count(*), sum(amount) FROM schedule WHERE application_id = :id AND status <> 'cancelled'"),
                {"id": url.rsplit("/", 1)[1]},
            )
        ).one()
    assert months > 0
    await expect(letter).to_contain_text(f"补贴共 {months} 个月，合计 {total} 元")
    await expect(letter).to_contain_text(f"市级财政承担 {total / 2:.2f} 元")
    await expect(letter).not_to_contain_text("行政复议")  # an approval is not appealed
    await assert_accessible(page)
    missing = await page.goto(url.replace("/my/applications/", "/letters/") + "/2")
    assert missing is not None and missing.status == 404


async def test_a_refusal_by_the_rules_has_its_letter_with_the_reasons_in_words(
    page: Page, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from tests.browser.test_pages import rent_answers

    person = new_resident_id()
    await sign_in(page, await account_for(sessions, "person", person, name="李明"))
    await page.goto("/apply/rent-subsidy")
    for selector, value in rent_answers(person).items():
        await page.fill(selector, value)
    await page.select_option("#applicant-hukou_county", "150203")
    await page.check("#business-business_type-blind_massage")
    await page.click("form[action='/apply/rent-subsidy'] button.button")
    await page.click("form[action='/apply/rent-subsidy/confirm'] button")
    await page.wait_for_url("**/my/applications/*")
    url = page.url.split("?")[0]
    link = page.get_by_role("link", name="决定书")
    for _ in range(50):  # the rules' check runs in the workflow, a moment after the submission
        if await link.count():
            break
        await page.wait_for_timeout(200)
        await page.reload()
    await link.click()
    letter = page.locator("article.letter")
    await expect(letter).to_contain_text("按政策规定审查申请")
    await expect(letter).to_contain_text("盲人按摩")
    await expect(letter).to_contain_text("行政复议")
    await assert_accessible(page)
    assert page.url.endswith(url.rsplit("/", 1)[1] + "/0")
