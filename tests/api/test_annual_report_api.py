"""The annual report over HTTP: each figure counted from the records of one year (a far year of its own, so that
nothing else the suite writes is counted), for a county and for the city, traced to its rows, as JSON and as CSV,
read only by whom it is for; the plans' targets against the actual figures; an action's status set with a note."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Application, Decision, LedgerEntry, Person, Task
from subsidy.db.plans import PlanActionStatus, PlanRow, store_plan
from subsidy.policy.plans import Plan, Target
from subsidy.programs.public_welfare.placement_workflow import HR_STEP
from subsidy.programs.rent_subsidy.workflow import REVIEW_STEP
from tests.conftest import Login

YEAR = 2091
# 1 January 00:30 in China is still 31 December in UTC: counted in YEAR, not the year before.
NEW_YEAR_IN_CHINA = datetime(YEAR - 1, 12, 31, 16, 30, tzinfo=UTC)
PLAN = "test-plan-2091"


async def _application(
    session: AsyncSession,
    *,
    program: str,
    county: str,
    status: str,
    person: uuid.UUID | None,
    submitted_at: datetime,
) -> uuid.UUID:
    application_id = uuid.uuid4()
    session.add(
        Application(
            id=application_id,
            program=program,
            status=status,
            county=county,
            submitted_by="report-test",
            submitted_at=submitted_at,
            workflow_id=f"application-{application_id}",
            form={},
            person_id=person,
        )
    )
    await session.flush()
    return application_id


async def _decide(
    session: AsyncSession,
    application_id: uuid.UUID,
    *,
    step: str,
    decision: str,
    opened: datetime,
    decided: datetime,
    county: str,
    overdue: bool = False,
) -> None:
    task_id = uuid.uuid4()
    session.add(
        Task(
            id=task_id,
            application_id=application_id,
            workflow_id=f"application-{application_id}",
            program="x",
            step=step,
            round=1,
            role="county_dpf",
            county=county,
            status="done",
            overdue=overdue,
            decided_by="dpf-150203-a",
            decision=decision,
            created_at=opened,
            closed_at=decided,
        )
    )
    await session.flush()
    session.add(
        Decision(
            application_id=application_id,
            task_id=task_id,
            step=step,
            decision=decision,
            decided_by="dpf-150203-a",
            decided_at=decided,
            reason=None if decision == "approve" else "test",
            values={},
        )
    )
    await session.flush()


async def _person(session: AsyncSession, name: str) -> uuid.UUID:
    person_id = uuid.uuid4()
    session.add(Person(id=person_id, id_number=f"8{uuid.uuid4().int % 10**17:017d}", name=name))
    await session.flush()
    return person_id


@pytest.fixture(scope="module")
async def year_of_records(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[dict[str, Any]]:
    """In 150203: a rent subsidy approved (new employment) with two months paid, a placement approved by County HR
    and active (new employment), a placement approved but rejected later (not new employment), an application
    rejected; in 150204: one placement approved and active. A decision of the year before counts nowhere."""
    day = timedelta(days=1)
    made: dict[str, Any] = {}
    async with sessions.begin() as session:
        zhang, li, wang, zhao = [await _person(session, name) for name in ("张三", "李四", "王五", "赵六")]
        rent = await _application(
            session,
            program="rent_subsidy",
            county="150203",
            status="active",
            person=zhang,
            submitted_at=NEW_YEAR_IN_CHINA,
        )
        await _decide(
            session,
            rent,
            step=REVIEW_STEP,
            decision="approve",
            opened=NEW_YEAR_IN_CHINA,
            decided=NEW_YEAR_IN_CHINA + 2 * day,
            county="150203",
        )
        placed = await _application(
            session,
            program="public_welfare_placement",
            county="150203",
            status="active",
            person=li,
            submitted_at=NEW_YEAR_IN_CHINA + 10 * day,
        )
        await _decide(
            session,
            placed,
            step=HR_STEP,
            decision="approve",
            opened=NEW_YEAR_IN_CHINA + 10 * day,
            decided=NEW_YEAR_IN_CHINA + 14 * day,
            county="150203",
            overdue=True,
        )
        refused_later = await _application(
            session,
            program="public_welfare_placement",
            county="150203",
            status="rejected",
            person=li,
            submitted_at=NEW_YEAR_IN_CHINA + 20 * day,
        )
        await _decide(
            session,
            refused_later,
            step=HR_STEP,
            decision="approve",
            opened=NEW_YEAR_IN_CHINA + 20 * day,
            decided=NEW_YEAR_IN_CHINA + 21 * day,
            county="150203",
        )
        rejected = await _application(
            session,
            program="rent_subsidy",
            county="150203",
            status="rejected",
            person=wang,
            submitted_at=NEW_YEAR_IN_CHINA + 30 * day,
        )
        await _decide(
            session,
            rejected,
            step=REVIEW_STEP,
            decision="reject",
            opened=NEW_YEAR_IN_CHINA + 30 * day,
            decided=NEW_YEAR_IN_CHINA + 40 * day,
            county="150203",
        )
        elsewhere = await _application(
            session,
            program="public_welfare_placement",
            county="150204",
            status="active",
            person=zhao,
            submitted_at=NEW_YEAR_IN_CHINA + 50 * day,
        )
        await _decide(
            session,
            elsewhere,
            step=HR_STEP,
            decision="approve",
            opened=NEW_YEAR_IN_CHINA + 50 * day,
            decided=NEW_YEAR_IN_CHINA + 51 * day,
            county="150204",
        )
        year_before = await _application(
            session,
            program="rent_subsidy",
            county="150203",
            status="active",
            person=zhao,
            submitted_at=NEW_YEAR_IN_CHINA - 5 * day,
        )
        await _decide(
            session,
            year_before,
            step=REVIEW_STEP,
            decision="approve",
            opened=NEW_YEAR_IN_CHINA - 5 * day,
            decided=NEW_YEAR_IN_CHINA - timedelta(minutes=31),  # 23:59 on 31 December in China
            county="150203",
        )
        await session.execute(
            insert(LedgerEntry).values(
                [
                    {
                        "idempotency_key": f"{rent}:{YEAR}-01:{funder}",
                        "application_id": rent,
                        "period": f"{YEAR}-01",
                        "funder": funder,
                        "county": "150203",
                        "program": "rent_subsidy",
                        "amount": Decimal("500.00"),
                    }
                    for funder in ("city", "county")
                ]
                + [
                    {
                        "idempotency_key": f"{rent}:{YEAR}-02:{funder}",
                        "application_id": rent,
                        "period": f"{YEAR}-02",
                        "funder": funder,
                        "county": "150203",
                        "program": "rent_subsidy",
                        "amount": Decimal("499.99") if funder == "city" else Decimal("500.00"),
                    }
                    for funder in ("city", "county")
                ]
            )
        )
        await store_plan(
            session,
            Plan(
                code=PLAN,
                jurisdiction="150200",
                jurisdiction_name="包头市",
                title="测试计划",
                period_from=datetime(YEAR - 1, 1, 1).date(),
                period_to=datetime(YEAR + 1, 12, 31).date(),
                source="test",
                description="test",
                report_due="11-30",
                targets=(Target("new_employment", 8, "三年新增就业8人"),),
            ),
            loaded_by="test",
        )
        made.update(rent=rent, placed=placed, refused_later=refused_later, elsewhere=elsewhere)
        made.update(
            people=[zhang, li, wang, zhao], applications=[rent, placed, refused_later, rejected, elsewhere, year_before]
        )
    yield made
    applications, people = made["applications"], made["people"]
    async with sessions.begin() as session:
        await session.execute(delete(PlanActionStatus).where(PlanActionStatus.plan_code == PLAN))
        await session.execute(delete(PlanRow).where(PlanRow.code == PLAN))
        await session.execute(delete(LedgerEntry).where(LedgerEntry.application_id.in_(applications)))
        await session.execute(delete(Decision).where(Decision.application_id.in_(applications)))
        await session.execute(delete(Task).where(Task.application_id.in_(applications)))
        await session.execute(delete(Application).where(Application.id.in_(applications)))
        await session.execute(delete(Person).where(Person.id.in_(people)))


async def test_the_county_and_city_figures_count_the_records_of_the_year(
    http: httpx.AsyncClient, login: Login, year_of_records: dict[str, Any]
) -> None:
    county = await http.get(
        "/api/v1/reports/annual", params={"year": YEAR, "county": "150203"}, headers=await login("dpf-150203-a")
    )
    assert county.status_code == 200, county.text
    figures = county.json()["figures"]
    assert figures["persons_served"] == 3  # 张三, 李四 (twice), 王五; 赵六's decision was the year before
    assert figures["new_employment"] == 2  # the approved rent, the active placement; not the one rejected later
    assert figures["new_employment_by_program"] == {"public_welfare_placement": 1, "rent_subsidy": 1}
    assert figures["money_paid"] == "1999.99"
    assert figures["money_paid_by_program"] == {"rent_subsidy": {"city": "999.99", "county": "1000.00"}}
    assert {line["month"] for line in figures["money_paid_by_program_funder_month"]} == {f"{YEAR}-01", f"{YEAR}-02"}
    assert figures["applications_by_status"] == {"active": 2, "rejected": 2}
    assert figures["tasks_decided"] == 4
    assert figures["median_days_to_decide"] == "3.0"  # 2, 4, 1 and 10 days
    assert figures["overdue_tasks"] == 1
    assert figures["persons_trained"] == 0

    city = await http.get("/api/v1/reports/annual", params={"year": YEAR}, headers=await login("city-a"))
    assert city.status_code == 200
    report = city.json()
    assert report["figures"]["new_employment"] == 3 and report["figures"]["persons_served"] == 4
    by_county = {row["county"]: row for row in report["counties"]}
    assert by_county["150204"]["new_employment"] == 1 and by_county["150203"]["new_employment"] == 2
    assert by_county["150222"]["persons_served"] == 0
    plan = next(plan for plan in report["plans"] if plan["code"] == PLAN)
    assert plan["measures"] == [
        {"measure": "new_employment", "target": 8, "text": "三年新增就业8人", "actual": 4, "achieved_share": "0.500"}
    ]
    # The share of the period elapsed is as of the report's day: the year's end, or today if that comes first.
    as_of = date.fromisoformat(report["as_of"])
    assert as_of <= date(YEAR, 12, 31)
    expected = Decimal(0) if as_of.year < YEAR - 1 else Decimal((as_of - date(YEAR - 1, 1, 1)).days + 1) / 1096
    assert Decimal(plan["elapsed_share"]) == expected.quantize(Decimal("0.001"))
    assert next(p for p in report["plans"] if p["code"] == "liaoning-2022")["measures"][0]["actual"] is None


async def test_every_traceable_figure_lists_the_rows_it_counts(
    http: httpx.AsyncClient, login: Login, year_of_records: dict[str, Any]
) -> None:
    headers = await login("auditor-a")
    report = await http.get("/api/v1/reports/annual", params={"year": YEAR, "county": "150203"}, headers=headers)
    figures = report.json()["figures"]

    async def rows(figure: str) -> list[dict[str, str]]:
        answer = await http.get(
            "/api/v1/reports/annual/rows", params={"year": YEAR, "county": "150203", "figure": figure}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    employment = await rows("new_employment")
    assert sorted(row["application_id"] for row in employment) == sorted(
        str(year_of_records[key]) for key in ("rent", "placed")
    )
    served = await rows("persons_served")
    assert len(served) == figures["persons_served"] and {row["person"] for row in served} == {"张*", "李*", "王*"}
    assert len(await rows("tasks_decided")) == figures["tasks_decided"]
    assert len(await rows("overdue_tasks")) == figures["overdue_tasks"] == 1
    money = await rows("money_paid")
    assert sum(Decimal(row["detail"].split()[-1]) for row in money) == Decimal(figures["money_paid"])
    assert len(await rows("applications")) == sum(figures["applications_by_status"].values())
    unknown = await http.get(
        "/api/v1/reports/annual/rows", params={"year": YEAR, "figure": "everything"}, headers=headers
    )
    assert unknown.status_code == 422


async def test_the_csv_opens_in_a_spreadsheet_with_chinese_intact(
    http: httpx.AsyncClient, login: Login, year_of_records: dict[str, Any]
) -> None:
    answer = await http.get(
        "/api/v1/reports/annual", params={"year": YEAR, "format": "csv"}, headers=await login("city-a")
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert lines[0] == ["scope", "county", "county_name", "figure", "breakdown", "value"]
    assert ["county", "150203", "昆都仑区", "new_employment", "", "2"] in lines
    assert ["total", "", "", "money_paid", "", "1999.99"] in lines
    assert ["plan", "150200", "包头市", "actual:new_employment", PLAN, "4"] in lines


async def test_the_report_is_read_only_by_whom_it_is_for(http: httpx.AsyncClient, login: Login) -> None:
    params = {"year": YEAR, "county": "150204"}
    assert (
        await http.get("/api/v1/reports/annual", params=params, headers=await login("dpf-150203-a"))
    ).status_code == 403
    assert (
        await http.get("/api/v1/reports/annual", params=params, headers=await login("applicant-a"))
    ).status_code == 403
    assert (
        await http.get("/api/v1/reports/annual", params=params, headers=await login("employer-a"))
    ).status_code == 403
    assert (await http.get("/api/v1/reports/annual", params=params)).status_code == 401
    own = await http.get("/api/v1/reports/annual", params={"year": YEAR}, headers=await login("hr-150203-a"))
    assert own.status_code == 200 and own.json()["county"] == "150203"  # a county official's own county
    assert (
        await http.get("/api/v1/reports/annual", params={"year": 1999}, headers=await login("city-a"))
    ).status_code == 422
    assert (
        await http.get(
            "/api/v1/reports/annual", params={"year": YEAR, "county": "110101"}, headers=await login("city-a")
        )
    ).status_code == 422


async def test_a_city_official_tracks_an_action_with_a_note(http: httpx.AsyncClient, login: Login) -> None:
    path = "/api/v1/plans/baotou-2023-43/actions/8"
    body = {"status": "in_progress", "note": "盲人按摩就业推进会已召开"}
    assert (await http.post(path, json=body, headers=await login("dpf-150203-a"))).status_code == 403
    done = await http.post(path, json=body, headers=await login("city-a"))
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["note"], done.json()["updated_by"]) == (
        "in_progress",
        "盲人按摩就业推进会已召开",
        "city-a",
    )
    report = await http.get("/api/v1/reports/annual", params={"year": YEAR}, headers=await login("city-a"))
    baotou = next(plan for plan in report.json()["plans"] if plan["code"] == "baotou-2023-43")
    action = next(action for action in baotou["actions"] if action["number"] == 8)
    assert (action["title"], action["status"], action["note"]) == ("实施盲人就业拓展行动", "in_progress", body["note"])
    assert len(baotou["actions"]) == 10
    missing = await http.post("/api/v1/plans/baotou-2023-43/actions/11", json=body, headers=await login("city-a"))
    assert missing.status_code == 404
    bad = await http.post(path, json={"status": "finished"}, headers=await login("city-a"))
    assert bad.status_code == 422
    reset = await http.post(path, json={"status": "not_started"}, headers=await login("city-a"))
    assert reset.status_code == 200
