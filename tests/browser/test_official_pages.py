"""Officials see what they decide (issue 14, 2 and 3): the task page shows the application in words and previews the
outcome before the decision is confirmed; the inbox names each application, searches and filters; unknown pages are
pages in the user's language."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Task
from subsidy.policy.workdays import china_today
from subsidy.programs.public_welfare.models import PublicWelfarePost
from subsidy.programs.rent_subsidy.rules import add_months
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import account_for, bearer_login
from tests.helpers import months_ago, new_credit_code, new_resident_id_of, rent_form


async def _token_http(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=30)


async def _task(http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    for _ in range(150):
        tasks = (await http.get("/api/v1/tasks", params=params, headers=headers)).json()
        if tasks:
            return dict(tasks[0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no task for {params}")


async def _rent_application(
    base_url: str, sessions: async_sessionmaker[AsyncSession], name: str, business: str
) -> tuple[str, str]:
    """A rent application of a new person (licence 13 months ago, rent 1200.00): its id and its County DPF task."""
    body = rent_form(license_date=months_ago(13))
    body["applicant"]["name"] = name  # type: ignore[index]
    body["business"]["name"] = business  # type: ignore[index]
    person = body["applicant"]["id_number"]  # type: ignore[index]
    async with await _token_http(base_url) as http:
        login = bearer_login(http)
        username = await account_for(sessions, "person", person, name=name)
        created = await http.post("/api/v1/applications", json=body, headers=await login(username))
        assert created.status_code == 201, created.text
        application_id = created.json()["id"]
        task = await _task(http, await login("dpf-150203-a"), application_id=application_id)
    return application_id, str(task["id"])


async def test_a_rent_task_shows_person_and_lease_and_previews_the_months_before_a_keyboard_decision(
    page: Page, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application_id, task_id = await _rent_application(base_url, sessions, "周明", "周明便利店")
    await sign_in(page, "dpf-150203-a")
    await page.goto(f"/tasks/{task_id}")
    main = page.locator("main")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(main).to_contain_text("周明")
    await expect(main).to_contain_text("周明便利店")
    await expect(main).to_contain_text("150203********")  # the ID masked
    await expect(main).to_contain_text("肢体残疾, 二级（重度）")  # the certificate number ends in 42
    await expect(main).to_contain_text("1200.00")
    await expect(main).to_contain_text("租赁期限")
    await assert_accessible(page)

    # By keyboard alone: approve with a verified rent of 900.00, see the preview, confirm.
    await tab_to(page, "#decision-approve")
    await page.keyboard.press("Space")
    await type_into(page, "#monthly_rent", "900.00")
    await tab_to(page, "form[action$='/decision'] button")
    await page.keyboard.press("Enter")
    await expect(page.locator("h1")).to_have_text("确认前请核对该决定")
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text(
        "共 36 个月，合计 32400.00 元：市级承担 16200.00 元，旗县区承担 16200.00 元。"
    )
    await expect(outcome).to_contain_text("已结束的 13 个月在批准后立即发放（11700.00 元）")
    await expect(outcome).to_contain_text("发放给 周明，银行账户 " + "*" * 15 + "0000。")
    await expect(page.locator("#preview-months tbody tr")).to_have_count(36)
    first = page.locator("#preview-months tbody tr").first
    await expect(first).to_contain_text("900.00")
    await expect(first).to_contain_text("450.00")
    await expect(first).to_contain_text("立即发放")
    await assert_accessible(page)
    # Nothing was decided yet.
    async with sessions() as db:
        task = await db.get(Task, uuid.UUID(task_id))
        assert task is not None and (task.status, task.decision) == ("open", None)
    await tab_to(page, "#confirm-form button")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/inbox?decided=*")
    await expect(page.locator(".notice")).to_contain_text(f"{application_id[:8].upper()} · 旗县区残联审核 · 批准")
    async with sessions() as db:
        task = await db.get(Task, uuid.UUID(task_id))
        assert task is not None and (task.status, task.decision) == ("done", "approve")

    # The done list shows the outcome.
    await page.goto(f"/inbox?status=done&q={application_id[:8]}")
    row = page.locator(f"tr[data-reference='{application_id[:8].upper()}']")
    await expect(row).to_contain_text("批准")
    await expect(row).to_contain_text("dpf-150203-a")
    await assert_accessible(page)


async def _declared(base_url: str, sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str, str]:
    """A new employer declares two posts; dpf-150203-a reports the collection: (employer, declaration, HR task)."""
    year = china_today().year
    credit_code = new_credit_code()
    employer_name = f"包头市{credit_code[-4:]}社区服务中心"
    async with await _token_http(base_url) as http:
        login = bearer_login(http)
        employer = await account_for(sessions, "employer", credit_code, name=employer_name)
        created = await http.post(
            "/api/v1/applications",
            json={
                "program": "public_welfare_post",
                "employer": {"name": employer_name, "credit_code": credit_code},
                "county": "150203",
                "year": year,
                "posts": [
                    {"title": "社区保洁员", "category": "public_service", "count": 2, "monthly_wage": "2200.00"},
                    {"title": "图书管理员", "category": "public_service", "count": 1, "monthly_wage": "2350.50"},
                ],
            },
            headers=await login(employer),
        )
        assert created.status_code == 201, created.text
        declaration = created.json()["id"]
        dpf = await login("dpf-150203-a")
        hr = await login("hr-150203-a")
        for _ in range(100):
            tasks = (await http.get("/api/v1/tasks", params={"application_id": declaration}, headers=hr)).json()
            if tasks:
                return employer, declaration, str(tasks[0]["id"])
            for collection in (
                await http.get("/api/v1/tasks", params={"program": "public_welfare_post_collection"}, headers=dpf)
            ).json():
                await http.post(f"/api/v1/tasks/{collection['id']}/decision", json={"decision": "approve"}, headers=dpf)
            await asyncio.sleep(0.2)
    raise AssertionError("the declaration never reached County HR")


async def test_a_declaration_task_shows_titles_and_wages_and_approves_one_post_rejecting_the_other(
    page: Page, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, declaration, task_id = await _declared(base_url, sessions)
    await sign_in(page, "hr-150203-a")
    await page.goto(f"/tasks/{task_id}")
    posts = page.locator("#posts")
    await expect(posts).to_contain_text("社区保洁员")
    await expect(posts).to_contain_text("2200.00")
    await expect(posts).to_contain_text("图书管理员")
    await expect(posts).to_contain_text("2350.50")
    await expect(page.locator("main")).to_contain_text("社区服务中心")
    await expect(page.locator("#decision")).not_to_contain_text("退回")  # a declaration is not returned
    await assert_accessible(page)

    # Rejecting a post without a reason: a field error at the reason.
    await page.check("#decision-approve")
    await page.check("#rejected_post-2")
    await page.click("form[action$='/decision'] button")
    await expect(page.locator(".error-summary")).to_contain_text("请填写不予批准这些岗位的理由")
    await expect(page.locator("#rejected_post-2")).to_be_checked()
    await assert_accessible(page)
    await page.fill("#reason", "图书管理员岗位不属于本年度开发范围")
    await page.click("form[action$='/decision'] button")
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text("批准的岗位及名额：1. 社区保洁员 (2)")
    await expect(outcome).to_contain_text("不予批准的岗位（用人单位可以看到您的理由）：2. 图书管理员")
    await assert_accessible(page)
    await page.click("#confirm-form button")
    await page.wait_for_url("**/inbox?decided=*")
    async with sessions() as db:
        rows = (
            await db.scalars(
                select(PublicWelfarePost)
                .where(PublicWelfarePost.application_id == uuid.UUID(declaration))
                .order_by(PublicWelfarePost.number)
            )
        ).all()
    assert [(post.number, post.status) for post in rows] == [(1, "approved"), (2, "rejected")]


async def test_a_placement_task_shows_the_persons_age_and_disability_grade(
    page: Page, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    employer, declaration, review = await _declared(base_url, sessions)
    start = china_today() + timedelta(days=30)
    born = add_months(start, -12 * 47)  # 47 on the start date
    id_number = new_resident_id_of("F", born)
    async with await _token_http(base_url) as http:
        login = bearer_login(http)
        hr = await login("hr-150203-a")
        approved = await http.post(f"/api/v1/tasks/{review}/decision", json={"decision": "approve"}, headers=hr)
        assert approved.status_code == 200, approved.text
        created = await http.post(
            "/api/v1/applications",
            json={
                "program": "public_welfare_placement",
                "post_application_id": declaration,
                "post_number": 2,
                "person": {
                    "name": "吴秀兰",
                    "id_number": id_number,
                    "disability_cert_number": f"{id_number}12",
                    "sex": "F",
                    "birth_date": born.isoformat(),
                    "severe_disability": True,
                },
                "start_date": start.isoformat(),
            },
            headers=await login(employer),
        )
        assert created.status_code == 201, created.text
        task = await _task(http, hr, application_id=created.json()["id"])
    await sign_in(page, "hr-150203-a")
    await page.goto(f"/tasks/{task['id']}")
    main = page.locator("main")
    await expect(main).to_contain_text("吴秀兰")
    await expect(main).to_contain_text(f"47 岁（截至 {start.isoformat()}）")
    await expect(main).to_contain_text("视力残疾, 二级（重度）")
    await expect(main).to_contain_text("图书管理员")
    await expect(main).to_contain_text("2350.50")
    await expect(main).to_contain_text(f"{id_number[:6]}********{id_number[-4:]}")
    await expect(main).not_to_contain_text(id_number)
    await expect(page.locator("#approved_on")).to_be_visible()  # this step's own value
    await expect(page.locator("#monthly_rent")).to_have_count(0)
    await assert_accessible(page)


async def test_the_inbox_finds_a_task_by_reference_and_by_name_and_filters_overdue(
    page: Page, base_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first_id, first_task = await _rent_application(base_url, sessions, "郑海燕", "海燕花店")
    second_id, second_task = await _rent_application(base_url, sessions, "冯建国", "建国五金")
    first_ref, second_ref = first_id[:8].upper(), second_id[:8].upper()
    # The first is overdue, as the workflow's timer marks a task whose due date has passed.
    async with sessions.begin() as db:
        await db.execute(
            update(Task)
            .where(Task.id == uuid.UUID(first_task))
            .values(overdue=True, due_at=datetime.now(UTC) - timedelta(days=1))
        )
    await sign_in(page, "dpf-150203-a")

    await page.goto("/inbox")
    await page.fill("#filter-q", first_ref.lower())
    await page.click("form[action='/inbox'] button")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)
    link = page.locator(f"tr[data-reference='{first_ref}'] a")
    # The link says which application: step, reference, business and the person's name masked.
    await expect(link).to_have_text(f"旗县区残联审核: {first_ref} · 海燕花店 · 郑**")
    await expect(page.locator(f"tr[data-reference='{first_ref}']")).to_contain_text("月租金 1200.00 元")
    await expect(page.locator("tbody")).not_to_contain_text("rent 1200.00")
    await expect(page.locator(f"tr[data-reference='{first_ref}']")).to_contain_text("已超期")
    await assert_accessible(page)

    await page.fill("#filter-q", "建国五金")
    await page.click("form[action='/inbox'] button")
    await expect(rows).to_have_count(1)
    await expect(page.locator(f"tr[data-reference='{second_ref}']")).to_have_count(1)
    await page.fill("#filter-q", "冯建国")  # the person's name
    await page.click("form[action='/inbox'] button")
    await expect(page.locator(f"tr[data-reference='{second_ref}']")).to_have_count(1)
    await expect(rows).to_have_count(1)

    await page.fill("#filter-q", "")
    await page.check("#filter-overdue")
    await page.click("form[action='/inbox'] button")
    await expect(page.locator(f"tr[data-reference='{first_ref}']")).to_have_count(1)
    await expect(page.locator(f"tr[data-reference='{second_ref}']")).to_have_count(0)
    await page.uncheck("#filter-overdue")
    await page.click("form[action='/inbox'] button")
    await expect(page.locator(f"tr[data-reference='{second_ref}']")).to_have_count(1)

    # Claimed by me: only the one claimed; a colleague sees who holds it and why there is no form.
    await page.goto(f"/tasks/{second_task}")
    await page.click("form[action$='/claim'] button")
    await page.goto("/inbox?mine=1")
    await expect(page.locator(f"tr[data-reference='{second_ref}']")).to_have_count(1)
    await expect(page.locator(f"tr[data-reference='{first_ref}']")).to_have_count(0)
    await sign_out(page)
    await sign_in(page, "dpf-150203-b")
    await page.goto(f"/tasks/{second_task}")
    await expect(page.locator("#claimed-notice")).to_contain_text("此事项已由 dpf-150203-a 认领")
    await expect(page.locator("form[action$='/decision']")).to_have_count(0)
    await assert_accessible(page)

    # Sortable columns: due, the other way, puts the overdue one (due yesterday) after later ones.
    await page.goto("/inbox?sort=due")
    await expect(page.locator("th[aria-sort='ascending']")).to_contain_text("期限")
    await assert_accessible(page)


async def test_unknown_pages_and_refusals_are_pages_in_chinese_and_the_api_keeps_json(
    page: Page, base_url: str
) -> None:
    response = await page.goto("/no-such-page")
    assert response is not None and response.status == 404
    assert "text/html" in response.headers["content-type"]
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("h1")).to_have_text("页面不存在")
    await expect(page.locator("main a[href='/']")).to_be_visible()
    await assert_accessible(page)

    await sign_in(page, "applicant-a")
    refused = await page.goto("/inbox")
    assert refused is not None and refused.status == 403
    await expect(page.locator("h1")).to_have_text("您无权查看此页面")
    await assert_accessible(page)
    malformed = await page.goto("/inbox?status=nonsense")
    assert malformed is not None and malformed.status in (422, 403)

    async with httpx.AsyncClient(base_url=base_url) as http:
        api = await http.get("/api/v1/no-such-thing")
        assert api.status_code == 404
        assert api.json() == {"detail": "Not Found"}
