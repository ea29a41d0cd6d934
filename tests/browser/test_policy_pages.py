"""The policy versions page: an administrator uploads a file, sees the difference, loads it; a second official
approves it. On a database of its own, so the other tests keep the seeded versions."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from playwright.async_api import Browser, Page, expect
from temporalio.testing import WorkflowEnvironment

from subsidy.db.migrate import upgrade
from subsidy.db.session import create_engine, session_factory
from subsidy.policy.files import shipped_versions
from subsidy.policy.versions import version_to_json
from subsidy.policy.workdays import china_today
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.embedded import EmbeddedPostgres
from subsidy.service.seed import seed_demo_accounts, seed_policies
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.conftest import running_service

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
async def own_base_url(dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="subsidy-policy-pages-pg-") as folder:
        postgres = await EmbeddedPostgres.start(Path(folder) / "data")
        try:
            await asyncio.to_thread(upgrade, postgres.url)
            engine = create_engine(postgres.url, pool_size=2)
            await seed_policies(session_factory(engine))
            await seed_demo_accounts(session_factory(engine))
            await engine.dispose()
            async with running_service(postgres.url, dev_server_env, worker=False) as url:
                yield url
        finally:
            await postgres.stop()


@pytest.fixture
async def own_page(browser: Browser, own_base_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=own_base_url, locale="zh-CN")
    yield await context.new_page()
    await context.close()


async def test_an_administrator_loads_a_version_and_a_second_official_approves_it(
    own_page: Page, tmp_path: Path
) -> None:
    page = own_page
    first_day = add_months(china_today().replace(day=1), 1)
    data = version_to_json(shipped_versions()[1][1])
    code = f"page-{uuid.uuid4().hex[:8]}"
    data.update(code=code, valid_from=first_day.isoformat(), valid_to=None)
    data["rent"]["monthly_cap"] = "1200.00"
    good = tmp_path / "rent-1200.yaml"
    good.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"code": "x", "rent": {"monthly_cap": 1200.0}}', encoding="utf-8")

    await sign_in(page, "admin-a")
    await page.goto("/admin/policies")
    await expect(page.locator("h1")).to_have_text("政策版本")
    await expect(page.locator("tbody")).to_contain_text("baotou-2025")
    await assert_accessible(page)

    await page.set_input_files("#version_file", str(bad))
    await page.get_by_role("button", name="检查文件").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("rent.monthly_cap")
    await expect(summary).to_contain_text("title: missing")
    await assert_accessible(page)

    await page.set_input_files("#version_file", str(good))
    await page.get_by_role("button", name="检查文件").click()
    await expect(page.locator("h1")).to_have_text("核对新的政策版本")
    row = page.locator("tr", has_text="rent.monthly_cap")
    await expect(row).to_contain_text("1000.00")
    await expect(row).to_contain_text("1200.00")
    await assert_accessible(page)
    await page.get_by_role("button", name=f"导入 {code} 并提交审批").click()
    await page.wait_for_url(f"**/admin/policies?loaded={code}")
    await expect(page.locator(".notice")).to_contain_text(f"{code} 已导入")
    await expect(page.get_by_text("此版本由您导入")).to_be_visible()
    await expect(page.get_by_role("button", name=f"批准 {code}")).to_have_count(0)
    await assert_accessible(page)
    await sign_out(page)

    await sign_in(page, "city-a")
    await page.goto("/admin/policies")
    await page.get_by_role("button", name=f"批准 {code}").click()
    await page.wait_for_url(f"**/admin/policies?approved={code}")
    await expect(page.locator(".notice")).to_contain_text(f"{code} 已批准")
    approved = page.locator("tbody tr", has_text=code)
    await expect(approved).to_contain_text("已批准")
    await expect(approved).to_contain_text("city-a")
    await expect(page.locator("tbody tr", has_text="baotou-2025")).to_contain_text(
        (first_day - timedelta(days=1)).isoformat()
    )
    await assert_accessible(page)
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("h1")).to_have_text("Policy versions")
    await assert_accessible(page)


async def test_applicants_cannot_open_the_policy_versions_page(own_page: Page) -> None:
    await sign_in(own_page, "applicant-a")
    response = await own_page.goto("/admin/policies")
    assert response is not None and response.status == 403
