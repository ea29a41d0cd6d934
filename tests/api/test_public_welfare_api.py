"""Program P through HTTP with the demo accounts: issue 4's "Done when", status codes included.

The service runs as in the other API tests (uvicorn, its worker, PostgreSQL), but on the time-skipping test server
instead of the dev server: publicity lasts five working days, and `env.sleep` lets them pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.embedded import installed_binary
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.conftest import account_for, running_service
from tests.helpers import china_today, new_credit_code, new_resident_id_of

COUNTY = "150203"
# Five working days are at most seven calendar days while no holiday is near.
PAST_PUBLICITY = timedelta(days=8)


@dataclass
class Api:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    # The employer of the test: one bound to a credit code of its own, which declares once a year in a county.
    employer: str = "employer-a"

    async def person_account(self, someone: dict[str, Any]) -> str:
        """The account bound to this person (made for the test): only it may apply for the person."""
        return await account_for(
            self.sessions,
            "person",
            someone["id_number"],
            name=someone["name"],
            disability_cert_number=someone["disability_cert_number"],
        )

    async def auth(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = await self.http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
            assert response.status_code == 200, response.text
            self.tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.tokens[username]

    async def submit(self, username: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/api/v1/applications", json=body, headers=await self.auth(username))

    async def application(self, username: str, application_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/applications/{application_id}", headers=await self.auth(username))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def reaches(self, username: str, application_id: str, status: str) -> dict[str, Any]:
        for _ in range(150):
            application = await self.application(username, application_id)
            if application["status"] == status:
                return application
            await asyncio.sleep(0.1)
        raise AssertionError(f"{application_id} did not reach {status}: {application['status']}")

    async def task(self, username: str, **params: str) -> dict[str, Any]:
        """The caller's newest open task matching `params` (earlier tests' servers may have left others open)."""
        step = params.pop("step", None)
        for _ in range(150):
            response = await self.http.get("/api/v1/tasks", params=params, headers=await self.auth(username))
            assert response.status_code == 200, response.text
            tasks = [t for t in response.json() if step is None or t["step"] == step]
            if tasks:
                newest: dict[str, Any] = max(tasks, key=lambda t: t["created_at"])
                return newest
            await asyncio.sleep(0.1)
        raise AssertionError(f"no task for {username} with {params}")

    async def decide(self, username: str, task_id: str, decision: str = "approve", **body: Any) -> httpx.Response:
        # The task row is written a moment before its workflow learns the task's id: retry that 409 briefly.
        for _ in range(50):
            response = await self.http.post(
                f"/api/v1/tasks/{task_id}/decision",
                json={"decision": decision, **body},
                headers=await self.auth(username),
            )
            if response.status_code != 409 or "not open" not in response.text:
                return response
            await asyncio.sleep(0.1)
        return response

    async def event(self, username: str, application_id: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/applications/{application_id}/events", json=body, headers=await self.auth(username)
        )


def person(*, sex: str = "M", age: int = 45, grade: int = 3, hardship: bool = False) -> dict[str, Any]:
    born = add_months(china_today(), -12 * age)
    id_number = new_resident_id_of(sex, born)
    return {
        "name": "王五",
        "id_number": id_number,
        "disability_cert_number": f"{id_number}4{grade}",
        "sex": sex,
        "birth_date": born.isoformat(),
        "severe_disability": grade <= 2,
        "special_hardship": hardship,
    }


def placement(post: str, someone: dict[str, Any], start: date | None = None) -> dict[str, Any]:
    return {
        "program": "public_welfare_placement",
        "post_application_id": post,
        "post_number": 1,
        "person": someone,
        "start_date": (start or china_today()).isoformat(),
    }


def flexible(someone: dict[str, Any]) -> dict[str, Any]:
    return {
        "program": "flexible_employment_insurance_subsidy",
        "county": COUNTY,
        "person": someone,
        "start_date": china_today().isoformat(),
    }


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def service_url(database_url: str, skipping_env: WorkflowEnvironment) -> AsyncIterator[str]:
    async with running_service(database_url, skipping_env) as url:
        yield url


@pytest.fixture
async def api(
    service_url: str, skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=service_url, timeout=30) as http:
        yield Api(http, skipping_env, sessions)


async def declared_and_approved(api: Api, places: tuple[int, ...] = (1, 1)) -> str:
    """A new employer declares, dpf-150203-a collects and reports, hr-150203-a approves: the declaration's id."""
    year = china_today().year
    credit_code = new_credit_code()
    api.employer = await account_for(api.sessions, "employer", credit_code, name="包头市某社区服务中心")
    created = await api.submit(
        api.employer,
        {
            "program": "public_welfare_post",
            "employer": {"name": "包头市某社区服务中心", "credit_code": credit_code},
            "county": COUNTY,
            "year": year,
            "posts": [
                {"title": f"社区服务岗{n}", "category": "public_service", "count": count, "monthly_wage": "2200.00"}
                for n, count in enumerate(places, start=1)
            ],
        },
    )
    assert created.status_code == 201, created.text
    declaration = created.json()
    assert (declaration["program"], declaration["county"]) == ("public_welfare_post", COUNTY)
    await api.reaches(api.employer, declaration["id"], "under_review")

    collection = await api.task("dpf-150203-a", program="public_welfare_post_collection")
    assert collection["role"] == "county_dpf" and f"{year} public-welfare post declarations" in collection["summary"]
    seen = await api.http.get(
        "/api/v1/public-welfare-posts",
        params={"county": COUNTY, "year": str(year), "status": "declared"},
        headers=await api.auth("dpf-150203-a"),
    )
    assert declaration["id"] in {post["application_id"] for post in seen.json()}  # the declarations together
    reported = await api.decide("dpf-150203-a", collection["id"])
    assert reported.status_code == 200, reported.text
    assert reported.json()["task"]["status"] == "done"

    review = await api.task("hr-150203-a", application_id=declaration["id"])
    assert review["step"] == "hr_approval" and review["role"] == "county_hr"
    approved = await api.decide("hr-150203-a", review["id"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["application"]["status"] == "approved"
    posts = await api.http.get(
        "/api/v1/public-welfare-posts",
        params={"application_id": declaration["id"]},
        headers=await api.auth(api.employer),
    )
    assert [(p["number"], p["status"], p["places"], p["places_taken"]) for p in posts.json()] == [
        (n, "approved", count, 0) for n, count in enumerate(places, start=1)
    ]
    post_id: str = declaration["id"]
    return post_id


async def placed(api: Api, post: str, someone: dict[str, Any], start: date | None = None) -> dict[str, Any]:
    """The employer proposes, hr-150203-a approves, publicity passes: the active placement."""
    created = await api.submit(api.employer, placement(post, someone, start))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    assert created.json()["county"] == COUNTY  # the post's county
    review = await api.task("hr-150203-a", application_id=application_id)
    decided = await api.decide("hr-150203-a", review["id"])
    assert decided.status_code == 200, decided.text
    assert decided.json()["application"]["status"] == "publicity"
    await api.env.sleep(PAST_PUBLICITY)
    return await api.reaches(api.employer, application_id, "active")


async def test_done_when_declare_collect_approve_place_publicity_cap_and_exclusivity(api: Api) -> None:
    post = await declared_and_approved(api)
    someone = person(hardship=True)

    # A first placement, started two months ago: after publicity it is active and the months over are paid.
    first = await placed(api, post, someone, start=add_months(china_today(), -2))
    assert len(first["schedule"]) == 36
    ledger = await api.http.get(
        "/api/v1/ledger", params={"application_id": first["id"]}, headers=await api.auth(api.employer)
    )
    rows = ledger.json()
    assert len(rows) == 8  # two months × (post subsidy, social insurance) × (city, county)
    assert {(r["item"], r["funder"], r["amount"]) for r in rows} == {
        ("post_subsidy", "city", "990.00"),
        ("post_subsidy", "county", "990.00"),
        ("social_insurance", "city", "493.22"),
        ("social_insurance", "county", "493.23"),
    }
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("5932.90")

    # The flexible-employment insurance subsidy for a person on an active placement: 409 with the reason.
    refused = await api.submit(await api.person_account(someone), flexible(someone))
    assert refused.status_code == 409, refused.text
    assert "exclusive_with_public_welfare_post" in refused.json()["detail"]
    assert someone["id_number"] not in refused.text

    ended = await api.event(api.employer, first["id"], type="employment_ended", date=china_today().isoformat())
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"

    # A re-placement: filed with the region, whose completion is recorded.
    second = await placed(api, post, someone)
    filing = await api.task("region-a", application_id=second["id"])
    assert (filing["step"], filing["role"], filing["county"]) == ("region_filing", "region_hr", None)
    filed = await api.decide("region-a", filing["id"])
    assert filed.status_code == 200, filed.text
    assert [d["step"] for d in filed.json()["application"]["decisions"]] == ["hr_approval", "region_filing"]
    assert (
        await api.event(api.employer, second["id"], type="employment_ended", date=china_today().isoformat())
    ).status_code == 200

    # The third placement of the same person is refused with placement_cap_reached, and opens no task.
    third = await api.submit(api.employer, placement(post, someone))
    assert third.status_code == 201, third.text
    rejected = await api.reaches(api.employer, third.json()["id"], "rejected")
    assert rejected["eligibility"] == {"eligible": False, "reasons": ["placement_cap_reached"]}
    tasks = await api.http.get(
        "/api/v1/tasks", params={"application_id": rejected["id"]}, headers=await api.auth("hr-150203-a")
    )
    assert tasks.json() == []


async def test_a_placement_for_a_person_with_the_flexible_subsidy_is_refused_with_409(api: Api) -> None:
    post = await declared_and_approved(api, places=(1,))
    someone = person(sex="F", age=40)
    applicant = await api.person_account(someone)
    insured = await api.submit(applicant, flexible(someone))
    assert insured.status_code == 201, insured.text
    review = await api.task("hr-150203-a", application_id=insured.json()["id"])
    approved = await api.decide("hr-150203-a", review["id"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["application"]["status"] == "active"

    refused = await api.submit(api.employer, placement(post, someone))
    assert refused.status_code == 409, refused.text
    assert "exclusive_with_flexible_employment_insurance" in refused.json()["detail"]
    ended = await api.event(applicant, insured.json()["id"], type="employment_ended", date=china_today().isoformat())
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    # Once that subsidy has ended, the placement may go ahead.
    assert (await api.submit(api.employer, placement(post, someone))).status_code == 201


async def test_two_simultaneous_approvals_for_one_person_cannot_both_start(api: Api) -> None:
    post = await declared_and_approved(api, places=(1,))
    someone = person(age=35)
    # Both applications are pending (neither subsidy has started), so both are accepted...
    proposed, insured = await asyncio.gather(
        api.submit(api.employer, placement(post, someone)),
        api.submit(await api.person_account(someone), flexible(someone)),
    )
    assert (proposed.status_code, insured.status_code) == (201, 201)
    placement_task = await api.task("hr-150203-a", application_id=proposed.json()["id"])
    flexible_task = await api.task("hr-150203-a", application_id=insured.json()["id"])
    # ...but only one of two approvals sent at the same moment starts.
    outcomes = await asyncio.gather(
        api.decide("hr-150203-a", placement_task["id"]), api.decide("hr-150203-a", flexible_task["id"])
    )
    codes = sorted(o.status_code for o in outcomes)
    assert codes == [200, 409], [o.text for o in outcomes]
    refused = next(o for o in outcomes if o.status_code == 409)
    assert "exclusive_with" in refused.json()["detail"]


async def test_who_may_do_what(api: Api) -> None:
    post = await declared_and_approved(api, places=(1,))
    someone = person()
    assert (await api.submit("applicant-a", placement(post, someone))).status_code == 403  # employers propose
    wrong_post = placement("00000000-0000-0000-0000-000000000000", someone)
    missing = await api.submit(api.employer, wrong_post)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "post_application_id"]
    mismatched = placement(post, {**someone, "sex": "F"})
    response = await api.submit(api.employer, mismatched)
    assert response.status_code == 422
    assert ["body", "person", "sex"] in [e["loc"] for e in response.json()["detail"]]
    assert someone["id_number"] not in response.text

    created = await api.submit(api.employer, placement(post, someone))
    review = await api.task("hr-150203-a", application_id=created.json()["id"])
    assert (await api.decide("dpf-150203-a", review["id"])).status_code == 403  # County HR's task
    assert (await api.decide("hr-150203-a", review["id"], "reject")).status_code == 422  # no reason
    assert (await api.decide("hr-150203-a", review["id"], "return", reason="x")).status_code == 422
    assert (await api.decide("hr-150203-a", review["id"])).status_code == 200
    objection = await api.event(api.employer, created.json()["id"], type="objection", note="有异议")
    assert objection.status_code == 403  # objections are recorded by county officials
    recorded = await api.event("dpf-150203-a", created.json()["id"], type="objection", note="群众反映情况不实")
    assert recorded.status_code == 200 and recorded.json()["status"] == "under_review"
    again = await api.task("hr-150203-a", application_id=created.json()["id"])
    # The official who approved before may not approve again after the objection: another must look at it.
    assert (await api.decide("hr-150203-a", again["id"])).status_code == 403
    rejected = await api.decide("hr-150203-a", again["id"], "reject", reason="异议属实")
    assert rejected.status_code == 200 and rejected.json()["application"]["status"] == "rejected"
