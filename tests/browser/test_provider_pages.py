"""A training provider's pages as people use them: file a class plan with its trainees (keyboard only), follow it,
report the attended hours and the cost, see the reimbursement and its split, withdraw; axe-core on every page."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import bearer_login, forget_failed_sign_ins
from tests.helpers import china_today, new_resident_id, training_body, with_bad_checksum

PROVIDER = "provider-a"


@pytest.fixture
async def api(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failed_sign_ins(sessions)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def task_of(http: httpx.AsyncClient, headers: dict[str, str], application_id: str, step: str) -> dict[str, Any]:
    for _ in range(150):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = [task for task in response.json() if task["step"] == step]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {step} task appeared")


async def approve(http: httpx.AsyncClient, official: str, application_id: str, step: str) -> None:
    headers = await bearer_login(http)(official)
    task = await task_of(http, headers, application_id, step)
    decided = await http.post(f"/api/v1/tasks/{task['id']}/decision", json={"decision": "approve"}, headers=headers)
    assert decided.status_code == 200, decided.text


async def reload_until(page: Page, selector: str, text: str) -> None:
    """The workflow moves on a moment after the page asked it to: reload until the page says so."""
    for _ in range(75):
        if text in await page.locator(selector).inner_text():
            return
        await asyncio.sleep(0.2)
        await page.reload()
    await expect(page.locator(selector)).to_contain_text(text)


def class_answers(start: date, trainees: list[tuple[str, str]]) -> dict[str, str]:
    """A 6-day, 48-hour class that ended three days ago."""
    answers = {
        "#course-code": "4-10-04-01",
        "#course-title": "盲人医疗按摩（初级）",
        "#course-level": "初级",
        "#course-start_date": start.isoformat(),
        "#course-end_date": (start + timedelta(days=5)).isoformat(),
        "#course-class_days": "6",
        "#course-class_hours": "48",
        "#planned_cost": "6000.00",
    }
    for row, (name, number) in enumerate(trainees):
        answers[f"#trainees-{row}-name"] = name
        answers[f"#trainees-{row}-id_number"] = number
        answers[f"#trainees-{row}-disability_cert_number"] = number + "42"
    return answers


async def test_provider_files_a_class_by_keyboard_reports_hours_and_sees_the_split_reimbursement(
    page: Page, api: httpx.AsyncClient
) -> None:
    people = [("王一", new_resident_id(born=date(1986, 3, 1))), ("李二", new_resident_id(born=date(1986, 3, 1)))]
    people.append(("赵三", new_resident_id(born=date(1986, 3, 1))))
    start = china_today() - timedelta(days=8)

    # Signed in, the provider's start page says what it can do (and no longer offers to sign in).
    await page.goto("/login")
    await type_into(page, "#username", PROVIDER)
    await type_into(page, "#password", "demo")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/$"))
    main = page.locator("main")
    await expect(main.locator(".can-do")).to_contain_text("提交培训计划")
    await expect(main.locator(".can-do")).to_contain_text("我的培训班")
    await expect(main.get_by_role("link", name="登录")).to_have_count(0)
    await assert_accessible(page)

    await tab_to(page, ".can-do a[href='/training/classes/new']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/training/classes/new")
    await expect(page.locator("h1")).to_have_text("提交培训计划")
    await expect(page.locator("#provider-credit_code")).to_have_text("52150203MA0P00002A")
    await assert_accessible(page)

    answers = class_answers(start, people)
    answers["#trainees-1-id_number"] = with_bad_checksum(people[1][1])
    await tab_to(page, "#county")
    await page.keyboard.press("ArrowDown")  # 东河区
    await page.keyboard.press("ArrowDown")  # 昆都仑区
    await expect(page.locator("#county")).to_have_value("150203")
    for selector in ("#course-code", "#course-title", "#course-level"):
        await type_into(page, selector, answers[selector])
    await tab_to(page, "#course-kind-vocational")
    await page.keyboard.press("Space")
    for selector, text in answers.items():
        if not selector.startswith(("#course-code", "#course-title", "#course-level")):
            await type_into(page, selector, text)
    await page.keyboard.press("Enter")  # the first button: continue, not "add rows"

    # The error names the trainee's row; nothing typed was lost.
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("li")).to_have_count(1)
    await expect(summary).to_contain_text("学员 2：身份证号码")
    await expect(summary).to_contain_text("身份证号码校验不通过")
    await expect(page.locator("#trainees-1-name")).to_have_value("李二")
    await expect(page.locator("#trainees-1-id_number")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#trainees-1-id_number']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#trainees-1-id_number")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(people[1][1])
    await tab_to(page, "form[action='/training/classes/new'] button[name='check']")
    await page.keyboard.press("Enter")

    # Review and confirm: at most min(6000.00, 3 × 1500.00).
    await expect(page.locator("h1")).to_have_text("提交前请核对培训计划")
    await expect(page.locator("#trainees-caption")).to_have_text("学员（3人）")
    await expect(page.locator("#class-days")).to_have_text("6")
    await expect(page.locator("#class-hours")).to_have_text("48")
    await expect(page.locator("#at-most")).to_contain_text("4500.00")
    await assert_accessible(page)
    await tab_to(page, "form[action='/training/classes/new/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/training/classes/[0-9a-f-]+\?submitted=1"))
    await expect(page.locator(".notice")).to_contain_text("培训计划已提交")
    class_url = page.url.split("?")[0]
    application_id = class_url.rsplit("/", 1)[1]
    await reload_until(page, "#status", "审核中")
    await expect(page.locator("#next-step")).to_have_text("县残联正在审核培训计划。")
    await expect(page.locator("tbody tr")).to_have_count(3)
    await expect(page.locator("tbody")).to_contain_text("王一")
    await expect(page.locator("tbody")).not_to_contain_text(people[0][1])  # masked
    await expect(page.locator("tbody")).to_contain_text(people[0][1][:6] + "********" + people[0][1][-4:])
    await expect(page.locator("tbody tr", has_text="已纳入")).to_have_count(3)
    await expect(page.get_by_role("link", name="提交结业报告")).to_have_count(0)  # not before the approval
    await assert_accessible(page)

    await approve(api, "dpf-150203-a", application_id, "plan_review")
    await reload_until(page, "#status", "已批准")
    await tab_to(page, f"a[href='/training/classes/{application_id}/report']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/report")
    await expect(page.locator("h1")).to_have_text("提交结业报告")
    await assert_accessible(page)
    lines = {name: row for row, (name, _) in enumerate(people)}
    await type_into(page, f"#hours-{lines['王一']}", "48")
    await type_into(page, f"#hours-{lines['李二']}", "49")  # more than the class's 48
    await type_into(page, f"#hours-{lines['赵三']}", "39")
    await type_into(page, "#actual_cost", "5000.00")
    await page.keyboard.press("Enter")
    await expect(page.locator(".error-summary")).to_be_focused()
    await expect(page.locator(".error-summary li")).to_have_count(1)
    await expect(page.locator(".error-summary")).to_contain_text("0 到 48 之间的整数")
    await expect(page.locator("#actual_cost")).to_have_value("5000.00")
    await assert_accessible(page)
    await type_into(page, f"#hours-{lines['李二']}", "40")
    await page.keyboard.press("Enter")

    # The confirm page previews what the rules make of it: 2 of 3 qualify, min(5000.00, 2 × 1500.00), halved.
    await expect(page.locator("h1")).to_have_text("发送前请核对结业报告")
    await expect(page.locator("#preview")).to_have_text("3000.00 = 市级 1500.00 + 县级 1500.00")
    await expect(page.locator("tbody tr", has_text="赵三")).to_contain_text("否：不足 40 学时")
    await assert_accessible(page)
    await tab_to(page, f"form[action='/training/classes/{application_id}/report/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/training/classes/[0-9a-f-]+\?reported=1"))
    await expect(page.locator(".notice")).to_contain_text("结业报告已提交")
    await expect(page.locator("#status")).to_have_text("审核中")
    await expect(page.locator("#next-step")).to_have_text("县残联正在审核结业报告。")
    await expect(page.locator("#paid")).to_have_text("尚未发放")
    await expect(page.get_by_role("link", name="撤回培训班")).to_have_count(0)  # no withdrawal after the report
    await assert_accessible(page)

    await approve(api, "dpf-150203-b", application_id, "completion_review")
    await reload_until(page, "#status", "已拨付补贴")
    await expect(page.locator("#qualified-count")).to_have_text("2人（不少于40学时）")
    await expect(page.locator("#reimbursement")).to_have_text("3000.00 = 市级 1500.00 + 县级 1500.00")
    await expect(page.locator("#paid")).to_have_text("应付 3000.00 元：银行尚未确认支付")
    hours = {name: page.locator("tbody tr", has_text=name) for name, _ in people}
    await expect(hours["王一"]).to_contain_text("合格")
    await expect(hours["王一"]).to_contain_text("48")
    await expect(hours["李二"]).to_contain_text("合格")
    await expect(hours["李二"]).to_contain_text("40")
    await expect(hours["赵三"]).to_contain_text("学时不足")
    await expect(hours["赵三"]).to_contain_text("39")
    await assert_accessible(page)

    # The class plan names no bank account: the provider gives one, and both shares go into the next batches.
    await expect(page.locator("#account-needed")).to_contain_text("2 笔款项应付")
    await page.click("#give-account")
    await expect(page.locator("h1")).to_have_text("提供银行账号")
    await page.fill("#bank_account", "6228480000000000001")
    await page.click("form[action$='/bank-account'] button")
    await expect(page.locator("#given")).to_contain_text("2 笔款项将在下一批次支付")
    await expect(page.locator("#on-record")).to_have_text("***************0001")
    await assert_accessible(page)
    await page.goto(f"/training/classes/{application_id}")
    assert await page.locator("#account-needed").count() == 0

    await page.goto("/training/classes")
    row = page.locator("tbody tr", has_text=application_id[:8].upper())
    await expect(row).to_contain_text("盲人医疗按摩（初级）")
    await expect(row).to_contain_text("3人纳入，0人未纳入")
    await expect(row).to_contain_text("已拨付补贴")
    await assert_accessible(page)


async def test_the_class_plan_form_lists_every_missing_answer_and_fits_320_css_pixels(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 800})
    await sign_in(page, PROVIDER)
    await page.goto("/training/classes/new")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await page.click("form[action='/training/classes/new'] button[name='check']")  # everything empty
    summary = page.locator(".error-summary li")
    # county, the course's 8 fields, the planned cost, and at least one trainee
    await expect(summary).to_have_count(11)
    await expect(page.locator(".error-summary")).to_contain_text("请至少填写一名学员")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await assert_accessible(page)
    # More rows keep what was typed.
    await page.fill("#trainees-4-name", "孙五")
    await page.click("form[action='/training/classes/new'] button[name='more']")
    await expect(page.locator("fieldset.group legend", has_text="学员")).to_have_count(10)
    await expect(page.locator("#trainees-4-name")).to_have_value("孙五")
    await expect(page.locator(".error-summary")).to_have_count(0)
    # A class of 8 class days in 6 calendar days, and a trainee listed twice.
    start = china_today() - timedelta(days=8)
    twice = new_resident_id(born=date(1986, 3, 2))
    answers = class_answers(start, [("王一", twice), ("王一", twice)])
    answers["#course-class_days"] = "8"
    answers["#trainees-4-name"] = ""
    for selector, text in answers.items():
        await page.fill(selector, text)
    await page.select_option("#county", "150203")
    await page.check("#course-kind-vocational")
    await page.click("form[action='/training/classes/new'] button[name='check']")
    await expect(summary).to_have_count(2)
    await expect(page.locator(".error-summary a[href='#course-class_days']")).to_contain_text("培训天数不能多于")
    await expect(page.locator(".error-summary a[href='#trainees-1-id_number']")).to_contain_text("学员 1")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await assert_accessible(page)


async def test_an_excluded_trainee_is_shown_with_the_reason_and_the_class_is_withdrawn(
    page: Page, api: httpx.AsyncClient
) -> None:
    provider = await bearer_login(api)(PROVIDER)
    busy, free = new_resident_id(born=date(1986, 3, 3)), new_resident_id(born=date(1986, 3, 3))
    earlier = []
    for week in range(3):  # three trainings this year already
        body = training_body([busy], start=china_today() - timedelta(days=30 + 7 * week))
        body["course"]["code"] = f"6-18-02-0{week + 1}"
        created = await api.post(
            "/api/v1/applications", json=body, headers={**provider, "Idempotency-Key": str(uuid.uuid4())}
        )
        assert created.status_code == 201, created.text
        earlier.append(created.json()["id"])
    for application_id in earlier:  # each enrolled before the next one counts it
        await task_of(api, await bearer_login(api)("dpf-150203-a"), application_id, "plan_review")
    fourth = training_body([busy, free])
    fourth["course"]["code"] = "6-18-02-09"
    created = await api.post("/api/v1/applications", json=fourth, headers=provider)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]

    await sign_in(page, PROVIDER)
    await page.goto(f"/training/classes/{application_id}")
    await reload_until(page, "#status", "审核中")
    excluded = page.locator("tbody tr", has_text="王一")
    await expect(excluded).to_contain_text("未纳入")
    await expect(excluded).to_contain_text("每人每年参加残疾人职业技能培训不超过3次")
    await expect(page.locator("tbody tr", has_text="李二")).to_contain_text("已纳入")
    await assert_accessible(page)

    await page.get_by_role("link", name="撤回培训班").click()
    await expect(page.locator("h1")).to_have_text("撤回培训班")
    await assert_accessible(page)
    await page.click(f"form[action='/training/classes/{application_id}/withdraw'] button")
    await expect(page.locator(".notice")).to_contain_text("培训班已撤回")
    await expect(page.locator("#status")).to_have_text("已撤回")
    await expect(page.get_by_role("link", name="撤回培训班")).to_have_count(0)
    await reload_until(page, "tbody tr:has-text('李二')", "名额已释放")
    await expect(page.locator("tbody tr", has_text="李二")).to_contain_text("培训班已撤回")
    await assert_accessible(page)
    for earlier_id in earlier:
        withdrawn = await api.post(
            f"/api/v1/applications/{earlier_id}/events", json={"type": "withdrawn"}, headers=provider
        )
        assert withdrawn.status_code == 200, withdrawn.text


async def test_only_the_provider_sees_its_classes(page: Page, api: httpx.AsyncClient) -> None:
    provider = await bearer_login(api)(PROVIDER)
    created = await api.post("/api/v1/applications", json=training_body([new_resident_id()]), headers=provider)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    await sign_in(page, "applicant-a")
    for path in ("/training/classes", "/training/classes/new", f"/training/classes/{application_id}"):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
        await expect(page.locator("h1")).to_have_text("您无权查看此页面")
    await sign_out(page)
    await sign_in(page, PROVIDER)
    response = await page.goto(f"/training/classes/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    withdrawn = await api.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "withdrawn"}, headers=provider
    )
    assert withdrawn.status_code == 200, withdrawn.text


async def test_the_provider_pages_in_english(page: Page) -> None:
    await page.goto("/login")
    await page.click("button[name='lang'][value='en']")
    await sign_in(page, PROVIDER)
    await expect(page.locator(".can-do")).to_contain_text("File a training class plan")
    await assert_accessible(page)
    await page.goto("/training/classes/new")
    await expect(page.locator("h1")).to_have_text("File a training class plan")
    await page.click("form[action='/training/classes/new'] button[name='check']")
    await expect(page.locator(".error-summary")).to_contain_text("List at least one trainee")
    await expect(page.locator(".error-summary")).to_contain_text("Course title: Enter this information")
    await assert_accessible(page)
    await page.goto("/training/classes")
    await expect(page.locator("h1")).to_have_text("My training classes")
    await assert_accessible(page)
