"""The official calendar over real HTTP: the years listed with their sources, a year file loaded by an administrator
(API, page with CSRF and an error summary, command line), `/healthz` warning from 1 November while next year is
unknown (the API's today set by SUBSIDY_TODAY, for tests and demos)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.db.calendar_models import CalendarYearRow
from subsidy.db.models import AuditRecord
from tests.calendars import EXAMPLE_2027, example_year_for_a_test
from tests.conftest import Login, forget_failed_sign_ins, running_service
from tests.hostile.pages import csrf_token, page_login

# Far-off years that no other test counts in: loaded here and removed afterwards.
FAR = 2090
YEAR_FILE = f"""
year: {FAR + 1}
source: test data
description: made up for the health check test
holidays:
  - {{name: 元旦, from: {FAR + 1}-01-01, to: {FAR + 1}-01-01}}
"""
EXAMPLE_FILE = f"""
year: {FAR + 2}
source: example
example: true
description: an example year for the health check test, not a notice
holidays:
  - {{name: 元旦, from: {FAR + 2}-01-01, to: {FAR + 2}-01-01}}
"""
INCONSISTENT = f"""
year: {FAR + 2}
source: State Council notice
holidays:
  - {{name: 春节, from: {FAR + 2}-02-10, to: {FAR + 2}-02-03}}
working_days:
  - {{date: {FAR + 3}-01-06, name: 春节}}
"""


@pytest.fixture
async def far_years(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    yield
    async with sessions.begin() as session:
        await session.execute(delete(CalendarYearRow).where(CalendarYearRow.year >= FAR))


async def test_any_signed_in_user_lists_the_years_with_their_sources(http: httpx.AsyncClient, login: Login) -> None:
    assert (await http.get("/api/v1/calendar/years")).status_code == 401
    listed = await http.get("/api/v1/calendar/years", headers=await login("applicant-a"))
    assert listed.status_code == 200
    years = {row["year"]: row for row in listed.json()}
    # The session loads test calendars for the years around today (tests/calendars), or keeps the packaged ones.
    assert {row["source"] for row in years.values()} <= {"chinesecalendar", "test data", "example"}
    first = next(iter(years.values()))
    assert set(first) == {
        "year", "source", "example", "notice", "url", "description", "holidays", "working_days", "loaded_by",
        "loaded_at",
    }  # fmt: skip
    assert all({"name", "from", "to"} == set(h) for row in years.values() for h in row["holidays"])


async def test_only_an_administrator_loads_a_year_and_the_2027_example_is_marked_as_such(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with example_year_for_a_test(sessions, 2027):
        await _load_the_2027_example(http, login, sessions)


async def _load_the_2027_example(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    text = EXAMPLE_2027.read_text(encoding="utf-8")
    yaml_type = {"content-type": "application/yaml"}
    assert (await http.post("/api/v1/calendar/years", content=text, headers=yaml_type)).status_code == 401
    refused = await http.post("/api/v1/calendar/years", content=text, headers={**yaml_type, **await login("auditor-a")})
    assert refused.status_code == 403
    admin = {**yaml_type, **await login("admin-a")}
    loaded = await http.post("/api/v1/calendar/years", content=text, headers=admin)
    assert loaded.status_code == 201, loaded.text
    body = loaded.json()
    assert (body["year"], body["source"], body["example"], body["loaded_by"]) == (2027, "example", True, "admin-a")
    assert "not the official notice" in body["description"]
    assert {"name": "春节", "from": "2027-02-05", "to": "2027-02-13"} in body["holidays"]
    assert body["working_days"][0] == {"date": "2027-01-31", "name": "春节"}
    again = await http.post("/api/v1/calendar/years", content=text, headers=admin)
    assert again.status_code == 201 and again.json()["replaced"] is True
    listed = {row["year"]: row for row in (await http.get("/api/v1/calendar/years", headers=admin)).json()}
    assert listed[2027]["source"] == "example"
    async with sessions() as session:
        audited = (
            await session.scalars(
                select(AuditRecord).where(AuditRecord.kind == "calendar_year_loaded").order_by(AuditRecord.id.desc())
            )
        ).first()
    assert audited is not None and audited.actor == "admin-a"
    assert (audited.detail["year"], audited.detail["source"], audited.detail["replaced"]) == (
        2027,
        "example",
        "example",
    )


async def test_an_inconsistent_file_is_a_422_naming_each_problem(
    http: httpx.AsyncClient, login: Login, far_years: None
) -> None:
    admin = {"content-type": "application/yaml", **await login("admin-a")}
    refused = await http.post("/api/v1/calendar/years", content=INCONSISTENT, headers=admin)
    assert refused.status_code == 422
    places = {tuple(item["loc"]) for item in refused.json()["detail"]}
    assert places == {
        ("body", "notice"),
        ("body", "url"),
        ("body", "holidays[1]", "to"),
        ("body", "working_days[1]", "date"),
    }
    assert (await http.post("/api/v1/calendar/years", content=b"\xff\xfe", headers=admin)).status_code == 422
    assert (await http.post("/api/v1/calendar/years", content="[" * 3000, headers=admin)).status_code == 422
    # JSON is YAML: the same fields as a JSON object load too.
    as_json = {"year": FAR + 4, "source": "test data", "holidays": [{"name": "x", "from": f"{FAR + 4}-01-01"}]}
    assert (await http.post("/api/v1/calendar/years", json=as_json, headers=await login("admin-a"))).status_code == 201


@pytest.mark.timeout(120)
async def test_healthz_warns_from_1_november_while_next_year_is_unknown(
    database_url: str, dev_server_env: WorkflowEnvironment, tmp_path: Path, far_years: None
) -> None:
    async def health(today: str) -> dict[str, object]:
        async with running_service(database_url, dev_server_env, worker=False, SUBSIDY_TODAY=today) as url:
            async with httpx.AsyncClient(base_url=url) as client:
                response = await client.get("/healthz")
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body

    quiet = await health(f"{FAR}-10-31")
    assert quiet == {"status": "ok", "database": "ok", "temporal": "ok", "calendar": "ok", "calendar_warning": None}
    warned = await health(f"{FAR}-11-01")
    assert (warned["status"], warned["calendar"]) == ("ok", "next_year_unknown")
    assert f"{FAR + 1}" in str(warned["calendar_warning"])
    assert (await health(f"{FAR}-12-31"))["calendar"] == "next_year_unknown"
    # Once next year is loaded (here by the command line), the warning is gone.
    year_file = tmp_path / f"{FAR + 1}.yaml"
    year_file.write_text(YEAR_FILE, encoding="utf-8")
    loaded = await _cli("calendar", "load", str(year_file), database_url=database_url)
    assert loaded[0] == 0, loaded
    assert f"{FAR + 1}: loaded (test data)" in loaded[1]
    assert (await health(f"{FAR}-11-01"))["calendar"] == "ok"
    # A year known only from an example file counts days, but is not the notice: the warning stays, and says so.
    example_file = tmp_path / f"{FAR + 2}.yaml"
    example_file.write_text(EXAMPLE_FILE, encoding="utf-8")
    assert (await _cli("calendar", "load", str(example_file), database_url=database_url))[0] == 0
    on_example = await health(f"{FAR + 1}-11-01")
    assert (on_example["status"], on_example["calendar"]) == ("ok", "next_year_example")
    assert "example" in str(on_example["calendar_warning"])


async def test_the_command_line_refuses_an_inconsistent_file_and_names_its_problems(
    database_url: str, tmp_path: Path, far_years: None
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(INCONSISTENT, encoding="utf-8")
    code, output = await _cli("calendar", "load", str(bad), database_url=database_url)
    assert code == 1
    assert "holidays[1].to:" in output and "notice:" in output and "working_days[1].date:" in output
    code, output = await _cli("calendar", "list", database_url=database_url)
    assert code == 0 and str(FAR + 2) not in output


async def test_the_admin_page_lists_the_years_warns_and_loads_a_file_with_an_error_summary(
    database_url: str, dev_server_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], far_years: None
) -> None:
    await forget_failed_sign_ins(sessions)
    async with running_service(
        database_url, dev_server_env, worker=False, SUBSIDY_TODAY=f"{FAR}-11-02", SUBSIDY_COOKIE_SECURE=False
    ) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
            signed_in = await page_login(browser, "admin-a")
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/admin/calendar"
            page = await browser.get("/admin/calendar")
            assert page.status_code == 200
            assert "明年的日历尚未导入" in page.text and f"{FAR + 1}" in page.text  # zh-CN first
            bad = await browser.post(
                "/admin/calendar",
                data={"csrf_token": csrf_token(page.text)},
                files={"year_file": ("bad.yaml", INCONSISTENT.encode(), "application/yaml")},
            )
            assert bad.status_code == 400
            assert "error-summary" in bad.text and 'href="#year_file"' in bad.text and "holidays[1].to" in bad.text
            forged = await browser.post(
                "/admin/calendar",
                data={"csrf_token": "forged"},
                files={"year_file": ("y.yaml", YEAR_FILE.encode(), "application/yaml")},
            )
            assert forged.status_code == 403
            good = await browser.post(
                "/admin/calendar",
                data={"csrf_token": csrf_token(bad.text)},
                files={"year_file": ("y.yaml", YEAR_FILE.encode(), "application/yaml")},
            )
            assert good.status_code == 303 and good.headers["location"] == f"/admin/calendar?loaded={FAR + 1}"
            after = await browser.get(good.headers["location"])
            assert "明年的日历尚未导入" not in after.text and f"{FAR + 1}" in after.text
            assert "测试数据" in after.text
        async with httpx.AsyncClient(base_url=url, timeout=30) as other:
            assert (await page_login(other, "auditor-a")).status_code == 303
            assert (await other.get("/admin/calendar")).status_code == 403


async def _cli(*args: str, database_url: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "subsidy.service.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()
