"""Whom an account acts for, on the pages: the banner of a bound demo account, of a pending and of a refused
registration, and the County DPF's verification task showing the certificate (axe-core on each)."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import open_task_of, rent_answers
from tests.helpers import new_resident_id


async def test_the_banner_names_the_bound_person(page: Page) -> None:
    await sign_in(page, "applicant-a")
    await expect(page.locator("#acts-for")).to_have_text("代表：张三（150203********1234）")
    await assert_accessible(page)
    await sign_out(page)
    await sign_in(page, "employer-a")
    await expect(page.locator("#acts-for")).to_have_text("代表：包头市昆都仑区示例社区服务中心（91150203MA0E00001Y）")
    await sign_out(page)
    await sign_in(page, "dpf-150203-a")
    await expect(page.locator("#acts-for")).to_have_count(0)


async def test_a_registration_waits_is_verified_on_its_task_page_and_then_acts(page: Page, base_url: str) -> None:
    id_number = new_resident_id()
    username = f"reg-{uuid.uuid4().hex[:10]}"
    body = {
        "username": username,
        "password": "correct horse battery",
        "kind": "person",
        "name": "周七",
        "id_number": id_number,
        "disability_cert_number": id_number + "31",
        "phone": "13800000003",
        "county": "150203",
    }
    async with httpx.AsyncClient(base_url=base_url) as http:
        created = await http.post("/api/v1/registrations", json=body)
    assert created.status_code == 201, created.text
    reference = created.json()["id"][:8].upper()

    async def sign_in_as_registrant() -> None:
        await page.goto("/login")
        await page.fill("#username", username)
        await page.fill("#password", body["password"])
        await page.click("form[action='/login'] button")
        await page.wait_for_load_state()

    await sign_in_as_registrant()
    await expect(page.locator("#acts-for")).to_contain_text("正在等待旗县区残联核验")
    await assert_accessible(page)
    assert (await page.goto("/my/applications")).status == 403  # type: ignore[union-attr]
    await page.goto("/")
    await sign_out(page)

    await sign_in(page, "dpf-150203-a")
    await open_task_of(page, reference)
    main = page.locator("main")
    await expect(page.locator("h1")).to_have_text("旗县区残联核验账号注册")
    await expect(main).to_contain_text(id_number + "31")
    await expect(main).to_contain_text("周七")
    await expect(page.locator("#decision-return")).to_have_count(0)
    await assert_accessible(page)
    await page.check("#decision-approve")
    await page.click("form[action$='/decision'] button")
    await page.click("#confirm-form button")  # the preview, then the decision
    await page.wait_for_url("**/inbox?decided=*")
    await sign_out(page)

    await sign_in_as_registrant()
    await page.wait_for_url("**/my/applications")
    await expect(page.locator("#acts-for")).to_have_text(f"代表：周七（{id_number[:6]}********{id_number[-4:]}）")
    await assert_accessible(page)


async def test_the_rent_form_refuses_someone_elses_id_number_at_the_field(page: Page) -> None:
    await sign_in(page, "applicant-b")
    await page.goto("/apply/rent-subsidy")
    answers = rent_answers("150203198503121234")  # applicant-a's person
    answers["#applicant-disability_cert_number"] = "15020319850312123442"
    for selector, value in answers.items():
        await page.fill(selector, value)
    await page.select_option("#applicant-hukou_county", "150203")
    await page.check("#business-business_type-general")
    await page.click("form[action='/apply/rent-subsidy'] button.button")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("本账号只能为其所代表的本人申请")
    await expect(page.locator("#applicant-id_number")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("h1")).not_to_have_text("提交前请核对填写内容")
    await assert_accessible(page)
