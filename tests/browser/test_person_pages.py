"""The payee's side of payments on the rent page (a failed payment in words, the account corrected by the payee, a
recovery) and one page per person for officials (limits used, the ID number shown on request and audited)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import AuditRecord
from tests.api.test_people_api import approved_rent, person_of, send_through_the_bank, wait_for
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.conftest import bearer_login, bound_login, forget_failed_sign_ins
from tests.helpers import months_ago


@pytest.fixture
async def api(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def rent_paid_through_the_bank(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], **bank: Any
) -> tuple[dict[str, Any], dict[str, str], str]:
    """An approved rent application of a new person with 14 months due, its county shares sent through the bank:
    (its view, the applicant's headers, the applicant's user name)."""
    login = bearer_login(api)
    application, applicant = await approved_rent(api, login, bound_login(api, sessions))
    await send_through_the_bank(api, login, application, "county", **bank)
    me = (await api.get("/api/v1/me", headers=applicant)).json()
    return application, applicant, me["username"]


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} needs {width} px at 320 px"


async def openings(sessions: async_sessionmaker[AsyncSession], person_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditRecord.actor)
            .where(AuditRecord.kind == "person_id_shown", AuditRecord.detail["person_id"].astext == person_id)
            .order_by(AuditRecord.id)
        )
        return list(rows.all())


async def test_a_failed_payment_is_shown_in_words_and_the_payee_corrects_the_account(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The first county share fails at the bank.
    application, applicant, username = await _failed_once(api, sessions)
    await sign_in(page, username)
    await page.goto(f"/my/applications/{application['id']}")
    failed = page.locator("#failed-payments")
    await expect(failed).to_contain_text(f"{application['schedule'][0]['period']}，旗县区级资金：500.00 元")
    await expect(failed).to_contain_text("银行退回原因：账户已销户")  # the bank's known phrase, in the page's language
    await expect(page.locator("#paid")).to_have_text("6500.00 元")  # the schedule's sum: the notice does not repeat it
    assert await page.locator("#payments-paid").count() == 0
    await expect(page.locator("#payee-payments")).to_contain_text("支付失败")
    await assert_accessible(page)

    await page.click("#correct-account")
    await expect(page).to_have_url(re.compile(f"/my/applications/{application['id']}/bank-account$"))
    await expect(page.locator("h1")).to_have_text("更正银行账号")
    await expect(page.locator("#on-record")).to_have_text("***************0000")
    await assert_accessible(page)
    await page.fill("#bank_account", "6222 02")
    await page.click("form[action$='/bank-account'] button")
    summary = page.locator(".error-summary[role='alert']")
    await expect(summary).to_be_focused()
    await expect(summary.locator("a[href='#bank_account']")).to_contain_text("请填写银行账号（8至30位数字）")
    await expect(page.locator("#bank_account")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#bank_account")).to_have_value("6222 02")
    await assert_accessible(page)
    await page.set_viewport_size({"width": 320, "height": 800})
    await no_horizontal_scroll(page)
    await page.fill("#bank_account", "6222020000000000001")
    await page.click("form[action$='/bank-account'] button")
    await expect(page.locator("#corrected")).to_contain_text("1 笔款项将在下一批次重新支付")
    await expect(page.locator("#on-record")).to_have_text("***************0001")
    await assert_accessible(page)

    payments = (
        await api.get("/api/v1/payments", params={"application_id": application["id"]}, headers=applicant)
    ).json()
    (again,) = [p for p in payments if p["period"] == application["schedule"][0]["period"] and p["funder"] == "county"]
    assert again["status"] == "corrected" and again["reference"].endswith("-2")
    await page.goto(f"/my/applications/{application['id']}")
    assert await page.locator("#failed-payments").count() == 0
    await expect(page.locator("#payee-payments")).to_contain_text("账户已更正，待重新支付")
    await sign_out(page)

    # Only the payee: an official of the county gets the refusal page, and no link.
    await sign_in(page, "dpf-150203-a")
    response = await page.goto(f"/my/applications/{application['id']}/bank-account")
    assert response is not None and response.status in (403, 404)


async def _failed_once(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> tuple[dict[str, Any], dict[str, str], str]:
    login = bearer_login(api)
    application, applicant = await approved_rent(api, login, bound_login(api, sessions))
    await send_through_the_bank(api, login, application, "county", failed_period=application["schedule"][0]["period"])
    me = (await api.get("/api/v1/me", headers=applicant)).json()
    return application, applicant, me["username"]


async def test_a_recovery_after_a_business_closed_four_months_back_is_shown_to_the_payee(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application, applicant, username = await rent_paid_through_the_bank(api, sessions)
    closed_on = months_ago(4)
    closed = await api.post(
        f"/api/v1/applications/{application['id']}/events",
        json={"type": "business_closed", "date": closed_on.isoformat()},
        headers=applicant,
    )
    assert closed.status_code == 200, closed.text
    months = [
        row["period"] for row in application["schedule"] if row["status"] == "due" and row["end"] > str(closed_on)
    ]
    assert len(months) == 4  # not ended by the closure, four months back
    await sign_in(page, username)
    await page.goto(f"/my/applications/{application['id']}")
    recovery = page.locator("#recovery")
    await expect(recovery).to_contain_text(f"报告经营主体注销或停业，日期为 {closed_on.isoformat()}")
    # Only the county shares were sent: the city's were not, so they are cancelled and not owed back.
    await expect(page.locator("#recovery-amount")).to_have_text("2000.00 元 (市级承担 0.00, 旗县区级承担 2000.00)")
    await expect(page.locator("#recovery-status")).to_have_text("未结：待退回")
    await expect(page.locator("#recovery-months")).to_have_text(
        "; ".join(f"{period} (旗县区级资金 500.00)" for period in months)
    )
    await expect(recovery).to_contain_text("昆都仑区")
    await assert_accessible(page)


async def test_the_person_page_shows_the_limits_and_the_id_number_on_request_audited(
    page: Page, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application, applicant, username = await rent_paid_through_the_bank(api, sessions)
    person_id = await person_of(sessions, application["id"])
    official = await bearer_login(api)("dpf-150203-a")
    (task,) = await wait_for(api, official, "/api/v1/tasks", bool, application_id=application["id"], status="done")
    await sign_in(page, "dpf-150203-a")
    await page.goto(f"/tasks/{task['id']}")
    link = page.locator("#person-link")
    await expect(link).to_have_text("张* 的全部记录")
    await link.click()
    await expect(page).to_have_url(re.compile(f"/people/{person_id}$"))
    await expect(page.locator("h1")).to_have_text("张三 的记录")
    id_number = application["applicant"]["id_number"]
    await expect(page.locator("#id-number")).to_have_text(id_number)  # the read model's masked form
    assert "********" in id_number
    await expect(page.locator("#limit-rent_months .used")).to_have_text("14 / 36")
    await expect(page.locator("#limit-rent_months")).to_contain_text("另有 22 个月已计划")
    await expect(page.locator("#limit-trainings_this_year .used")).to_have_text("0 / 3")
    await expect(page.locator("#limit-placements .used")).to_have_text("0 / 2")
    await expect(page.locator("#limit-blind_massage_years .used")).to_have_text("0 / 15")
    await expect(page.locator("#tasks")).to_contain_text("dpf-150203-b")
    await expect(page.locator("#payments tbody tr")).to_have_count(28)
    await expect(page.locator("#person-paid")).to_have_text("7000.00 元")
    await assert_accessible(page)
    await page.set_viewport_size({"width": 320, "height": 800})
    await no_horizontal_scroll(page)
    assert await openings(sessions, person_id) == []

    await page.click("text=显示身份证号码")
    full = await _full_id(sessions, person_id)
    await expect(page.locator("#id-number")).to_have_text(full)
    await expect(page.locator(".notice")).to_contain_text("已记入审计日志")
    assert await openings(sessions, person_id) == ["dpf-150203-a"]
    await assert_accessible(page)
    await page.goto(f"/people/{person_id}")
    await expect(page.locator("#id-number")).to_have_text(id_number)
    await page.click("text=显示身份证号码")
    assert await openings(sessions, person_id) == ["dpf-150203-a", "dpf-150203-a"]
    assert (await api.get(f"/api/v1/people/{person_id}", headers=official)).json()["id_number_masked"] == id_number
    await sign_out(page)

    await sign_in(page, "auditor-a")
    await page.goto(f"/people/{person_id}")
    await expect(page.locator("#openings li")).to_have_count(2)
    await expect(page.locator("#openings")).to_contain_text("dpf-150203-a")
    await assert_accessible(page)
    await sign_out(page)

    await sign_in(page, "dpf-150204-a")
    response = await page.goto(f"/people/{person_id}")
    assert response is not None and response.status == 404
    response = await page.goto(f"/people/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    await sign_out(page)
    await sign_in(page, username)
    response = await page.goto(f"/people/{person_id}")
    assert response is not None and response.status == 403
    async with sessions() as session:
        total = await session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.kind == "person_id_shown", AuditRecord.detail["person_id"].astext == person_id)
        )
    assert total == 2


async def _full_id(sessions: async_sessionmaker[AsyncSession], person_id: str) -> str:
    from subsidy.db.models import Person

    async with sessions() as session:
        person = await session.get(Person, uuid.UUID(person_id))
        assert person is not None
        return person.id_number
