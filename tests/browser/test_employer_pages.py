"""An employer's job on the pages (issue 14): declare the year's posts, see them approved or rejected with places and
places taken, propose a person for an approved post, follow the placement through publicity to active and its
schedule, withdraw, report the end of the employment; refusals in words. Officials' steps go through the API.

The service runs on the time-skipping test server (as tests/api/test_public_welfare_api.py does): publicity lasts
five working days, and `env.sleep` lets them pass.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.embedded import installed_binary
from subsidy.service.seed import DEMO_BINDINGS
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_pages import tab_to, type_into
from tests.conftest import account_for, running_service
from tests.helpers import china_today, new_credit_code, new_resident_id_of

pytestmark = pytest.mark.timeout(300)

COUNTY = "150203"
PAST_PUBLICITY = timedelta(days=8)  # five working days are at most seven calendar days while no holiday is near


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def base_url(database_url: str, skipping_env: WorkflowEnvironment) -> AsyncIterator[str]:
    async with running_service(database_url, skipping_env) as url:
        yield url


class Officials:
    """The officials' steps, through the JSON API."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.tokens: dict[str, dict[str, str]] = {}

    async def auth(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = await self.http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
            assert response.status_code == 200, response.text
            self.tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.tokens[username]

    async def task(self, username: str, summary: str = "", **params: str) -> dict[str, Any]:
        """The newest open task matching `params` whose summary says `summary`."""
        for _ in range(150):
            response = await self.http.get("/api/v1/tasks", params=params, headers=await self.auth(username))
            assert response.status_code == 200, response.text
            found = [t for t in response.json() if summary in t["summary"]]
            if found:
                newest: dict[str, Any] = max(found, key=lambda t: t["created_at"])
                return newest
            await asyncio.sleep(0.1)
        raise AssertionError(f"no task for {username} with {params}")

    async def decide(self, username: str, task_id: str, **body: Any) -> dict[str, Any]:
        for _ in range(50):
            response = await self.http.post(
                f"/api/v1/tasks/{task_id}/decision",
                json={"decision": "approve", **body},
                headers=await self.auth(username),
            )
            if response.status_code != 409 or "not open" not in response.text:
                break
            await asyncio.sleep(0.1)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def status_of(self, username: str, application_id: str, status: str) -> None:
        for _ in range(150):
            response = await self.http.get(f"/api/v1/applications/{application_id}", headers=await self.auth(username))
            if response.json()["status"] == status:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{application_id} did not reach {status}: {response.json()['status']}")


@pytest.fixture
async def officials(base_url: str) -> AsyncIterator[Officials]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield Officials(http)


def someone(*, sex: str = "M", age: int = 45, grade: int = 3) -> dict[str, str]:
    born = add_months(china_today(), -12 * age)
    id_number = new_resident_id_of(sex, born)
    return {
        "name": "王五",
        "id_number": id_number,
        "cert": f"{id_number}4{grade}",
        "sex": sex,
        "birth_date": born.isoformat(),
    }


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} needs {width} px at 320 px"


async def fill_person(page: Page, person: dict[str, str], *, sex: str | None = None) -> None:
    await page.fill("#person-name", person["name"])
    await page.fill("#person-id_number", person["id_number"])
    await page.fill("#person-disability_cert_number", person["cert"])
    await page.check(f"#person-sex-{sex or person['sex']}")
    await page.fill("#person-birth_date", person["birth_date"])
    await page.fill("#start_date", china_today().isoformat())


async def propose(page: Page, person: dict[str, str]) -> str:
    """From the propose form, through review and confirm, to the placement's page: its address."""
    await fill_person(page, person)
    await page.click("form[action='/employer/placements/new'] button.button")
    await expect(page.locator("h1")).to_have_text("提交前请核对推荐信息")
    await page.click("form[action='/employer/placements/confirm'] button")
    await page.wait_for_url(re.compile(r".*/employer/placements/[0-9a-f-]+\?submitted=1"))
    return page.url.split("?")[0]


async def test_employer_declares_proposes_and_follows_a_placement_to_active(
    page: Page, officials: Officials, skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    year = china_today().year
    # Signed in by keyboard alone: the home page lists what an employer can do, and offers no "登录".
    await page.goto("/login")
    await type_into(page, "#username", "employer-a")
    await type_into(page, "#password", "demo")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/$"))
    actions = page.locator("#home-actions a")
    await expect(actions).to_have_text(
        [
            "申报本年度公益性岗位",
            "我的岗位申报：岗位、名额和推荐人员",
            "我的安置：公示、发放计划、终止就业",
            "申请以往年度的超比例安排残疾人就业奖励",
            "我的超比例奖励申请：计入职工、计算结果、发放情况",
            "我的应届毕业生安置：安置残疾人应届高校毕业生补贴及年度核查",
            "我的全部申请",
        ]
    )
    await expect(page.locator("main a.button", has_text="登录")).to_have_count(0)
    await assert_accessible(page)
    mine = await page.goto("/my/applications")
    assert mine is not None and mine.status == 200
    await assert_accessible(page)

    # The declaration, by keyboard alone: two posts in the three rows, the third left empty and ignored.
    await page.goto("/")
    await tab_to(page, "#home-actions a[href='/employer/declare']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/employer/declare")
    await expect(page.locator("#employer")).to_contain_text(DEMO_BINDINGS["employer-a"].identifier)
    await expect(page.locator("#county")).to_have_value(COUNTY)
    await expect(page.locator("#year")).to_have_value(str(year))
    await assert_accessible(page)
    await type_into(page, "#posts-1-title", "社区保洁员")
    await type_into(page, "#posts-1-count", "2")
    await type_into(page, "#posts-1-monthly_wage", "2200.00")
    await type_into(page, "#posts-2-title", "图书管理员")
    await tab_to(page, "#posts-2-category")
    await page.keyboard.press("ArrowDown")  # professional or technical
    await type_into(page, "#posts-2-count", "1")
    await tab_to(page, "#continue")
    await page.keyboard.press("Enter")

    # The missing wage of post 2 is named in the summary, linked to its field; nothing typed is lost.
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("岗位 2：月工资（元）")
    await expect(page.locator("#posts-1-title")).to_have_value("社区保洁员")
    await expect(page.locator("#posts-2-monthly_wage")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)
    await tab_to(page, ".error-summary a[href='#posts-2-monthly_wage']")
    await page.keyboard.press("Enter")
    await expect(page.locator("#posts-2-monthly_wage")).to_be_focused()
    await page.keyboard.type("2600.00")
    await tab_to(page, "#continue")
    await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("提交前请核对岗位申报")
    await expect(page.locator("tbody tr")).to_have_count(2)
    await expect(page.locator("tbody tr").nth(1)).to_contain_text("专业技术岗位")
    await assert_accessible(page)
    await tab_to(page, "form[action='/employer/declare/confirm'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/employer/declarations/[0-9a-f-]+\?submitted=1"))
    declaration_url = page.url.split("?")[0]
    declaration_id = declaration_url.rsplit("/", 1)[1]
    await expect(page.locator(".notice")).to_contain_text("您的申请已提交")
    await assert_accessible(page)

    # The County DPF reports the county's declarations; County HR approves post 1 and rejects post 2.
    await officials.status_of("employer-a", declaration_id, "under_review")
    collection = await officials.task(
        "dpf-150203-a", f"{year} public-welfare post declarations", program="public_welfare_post_collection"
    )
    await officials.decide("dpf-150203-a", collection["id"])
    review = await officials.task("hr-150203-a", application_id=declaration_id)
    decided = await officials.decide(
        "hr-150203-a", review["id"], values={"rejected_posts": "2"}, reason="图书管理员岗位不属于公益性岗位"
    )
    assert decided["application"]["status"] == "approved"

    await page.goto("/employer/declarations")
    await expect(page.locator("h1")).to_have_text("我的岗位申报")
    section = page.locator("section", has=page.locator(f"a[href='/employer/declarations/{declaration_id}']"))
    rows = section.locator("tbody tr")
    await expect(rows.nth(0)).to_contain_text("社区保洁员")
    await expect(rows.nth(0).locator("td").nth(3)).to_have_text("2")  # places
    await expect(rows.nth(0).locator("td").nth(4)).to_have_text("0")  # places taken
    await expect(rows.nth(0).locator("td").nth(5)).to_have_text("已批准")
    await expect(rows.nth(1).locator("td").nth(5)).to_contain_text("不予批准")
    await expect(rows.nth(1).locator("td").nth(5)).to_contain_text("图书管理员岗位不属于公益性岗位")
    await expect(rows.nth(1).locator("a")).to_have_count(0)  # no placement on a rejected post
    await assert_accessible(page)

    # A placement on the approved post: a sex that is not the ID's is refused beside the field.
    await rows.nth(0).locator("a").click()
    await page.wait_for_url(re.compile(r".*/employer/placements/new\?post=.*&number=1"))
    await expect(page.locator("#post-title")).to_have_text("社区保洁员")
    await page.set_viewport_size({"width": 320, "height": 800})
    await no_horizontal_scroll(page)
    await assert_accessible(page)
    await page.set_viewport_size({"width": 1280, "height": 800})
    person = someone(age=45)
    await fill_person(page, person, sex="F")
    await page.click("form[action='/employer/placements/new'] button.button")
    await expect(page.locator(".error-summary")).to_contain_text("性别与身份证号码不符")
    await expect(page.locator("#person-name")).to_have_value("王五")
    await assert_accessible(page)
    placement_url = await propose(page, person)
    placement_id = placement_url.rsplit("/", 1)[1]
    await officials.status_of("employer-a", placement_id, "under_review")
    await page.reload()
    await expect(page.locator("#status")).to_have_text("审核中")
    await assert_accessible(page)

    # County HR approves: publicity, with its dates; still withdrawable, no end of employment yet.
    review = await officials.task("hr-150203-a", application_id=placement_id)
    assert (await officials.decide("hr-150203-a", review["id"]))["application"]["status"] == "publicity"
    await page.goto(placement_url)
    await expect(page.locator("#status")).to_have_text("公示中")
    publicity = re.compile(rf"自 {china_today().isoformat()} 至 \d{{4}}-\d\d-\d\d")
    await expect(page.locator("#publicity")).to_have_text(publicity)
    await expect(page.locator("a[href$='/withdraw']")).to_have_count(1)
    await expect(page.locator("#ended_on")).to_have_count(0)
    await assert_accessible(page)

    # Publicity passes: active, with its 36 months, the place taken.
    await skipping_env.sleep(PAST_PUBLICITY)
    await officials.status_of("employer-a", placement_id, "active")
    await page.goto(placement_url)
    await expect(page.locator("#status")).to_have_text("享受中（按月发放）")
    await expect(page.locator("#months")).to_have_text("36")
    first = page.locator("table tbody tr").first
    await expect(first.locator("td").nth(2)).to_have_text("2966.45")
    await expect(first.locator("td").nth(3)).to_have_text("1483.22")
    await expect(first.locator("td").nth(4)).to_have_text("1483.23")
    await expect(page.locator("a[href$='/withdraw']")).to_have_count(0)
    await assert_accessible(page)
    await page.goto(declaration_url)
    await expect(page.locator("tbody tr").nth(0).locator("td").nth(4)).to_have_text("1")

    # The end of the employment: a date that is no date is refused beside the field, then the months stop.
    await page.goto(placement_url)
    await page.fill("#ended_on", "明天")
    await page.click("form[action$='/employment-ended'] button")
    await expect(page.locator(".error-summary")).to_contain_text('就业终止日期: 请按"年-月-日"填写日期')
    await assert_accessible(page)
    await page.fill("#ended_on", china_today().isoformat())
    await page.click("form[action$='/employment-ended'] button")
    await page.wait_for_url(re.compile(r".*\?ended=1"))
    await expect(page.locator("#status")).to_have_text("已终止")
    await expect(page.locator("#planned")).to_have_text("0.00 元")
    await sign_out(page)

    # Another employer does not see the declaration.
    other = await account_for(sessions, "employer", new_credit_code(), name="另一家单位")
    await sign_in(page, other)
    response = await page.goto(declaration_url)
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("页面不存在")


async def test_withdrawal_and_refusals_in_words(
    page: Page, officials: Officials, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # A new employer with an approved one-place post.
    year = china_today().year
    credit_code = new_credit_code()
    employer = await account_for(sessions, "employer", credit_code, name="包头市某社区服务中心")
    await sign_in(page, employer)
    await page.set_viewport_size({"width": 320, "height": 800})
    await page.goto("/employer/declare")
    await no_horizontal_scroll(page)
    await page.click("#continue")  # nothing typed: the summary says a post is needed, and it reflows too
    await expect(page.locator(".error-summary")).to_contain_text("请至少填写一个岗位")
    await no_horizontal_scroll(page)
    await assert_accessible(page)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.fill("#posts-1-title", "社区服务岗")
    await page.fill("#posts-1-count", "1")
    await page.fill("#posts-1-monthly_wage", "2200.00")
    # More rows without JavaScript: the form comes back with three more, and what was typed.
    await expect(page.locator("fieldset legend", has_text=re.compile(r"^岗位 \d+$"))).to_have_count(3)
    await page.click("button[name='more']")
    await expect(page.locator("fieldset legend", has_text=re.compile(r"^岗位 \d+$"))).to_have_count(6)
    await expect(page.locator("#posts-1-title")).to_have_value("社区服务岗")
    await expect(page.locator(".error-summary")).to_have_count(0)
    await page.click("#continue")
    await page.click("form[action='/employer/declare/confirm'] button")
    await page.wait_for_url(re.compile(r".*/employer/declarations/[0-9a-f-]+\?submitted=1"))
    declaration_id = page.url.split("?")[0].rsplit("/", 1)[1]
    await officials.status_of(employer, declaration_id, "under_review")
    collection = await officials.task(
        "dpf-150203-a", f"{year} public-welfare post declarations", program="public_welfare_post_collection"
    )
    await officials.decide("dpf-150203-a", collection["id"])
    review = await officials.task("hr-150203-a", application_id=declaration_id)
    await officials.decide("hr-150203-a", review["id"])

    # A placement proposed and withdrawn on the pages: the status and the buttons agree afterwards.
    await page.goto(f"/employer/placements/new?post={declaration_id}&number=1")
    placement_url = await propose(page, someone(age=38))
    await officials.status_of(employer, placement_url.rsplit("/", 1)[1], "under_review")
    await page.reload()
    await expect(page.locator("#status")).to_have_text("审核中")
    await page.click("a[href$='/withdraw']")
    await expect(page.locator("h1")).to_have_text("撤回申请")
    await assert_accessible(page)
    await page.click("form[action$='/withdraw'] button")
    await page.wait_for_url(re.compile(r".*\?withdrawn=1"))
    assert page.url.split("?")[0] == placement_url
    await expect(page.locator(".notice")).to_contain_text("您的申请已撤回")
    await expect(page.locator("#status")).to_have_text("已撤回")
    await expect(page.locator("a[href$='/withdraw']")).to_have_count(0)

    # A person on the flexible-employment insurance subsidy: the placement is refused with the rule in words.
    insured = someone(sex="F", age=40)
    applicant = await account_for(
        sessions, "person", insured["id_number"], name=insured["name"], disability_cert_number=insured["cert"]
    )
    flexible = await officials.http.post(
        "/api/v1/applications",
        json={
            "program": "flexible_employment_insurance_subsidy",
            "county": COUNTY,
            "person": {
                "name": insured["name"],
                "id_number": insured["id_number"],
                "disability_cert_number": insured["cert"],
                "sex": "F",
                "birth_date": insured["birth_date"],
            },
            "start_date": china_today().isoformat(),
        },
        headers=await officials.auth(applicant),
    )
    assert flexible.status_code == 201, flexible.text
    review = await officials.task("hr-150203-a", application_id=flexible.json()["id"])
    await officials.decide("hr-150203-a", review["id"])
    await page.goto(f"/employer/placements/new?post={declaration_id}&number=1")
    await fill_person(page, insured)
    await page.click("form[action='/employer/placements/new'] button.button")
    await page.click("form[action='/employer/placements/confirm'] button")
    exclusivity = "享受公益性岗位补贴人员不得同时享受灵活就业人员社会保险补贴"
    await expect(page.locator("#problem-text")).to_have_text(exclusivity)
    await expect(page.locator("#person-name")).to_have_value(insured["name"])
    await assert_accessible(page)

    # Pages of an employer are not an applicant's.
    await sign_out(page)
    await sign_in(page, "applicant-a")
    response = await page.goto("/employer/declare")
    assert response is not None and response.status == 403
