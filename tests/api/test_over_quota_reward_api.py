"""The over-quota employment reward through HTTP with the demo accounts: issue 15's "Done when" for it, and its
refusals (409, 422, 403) with their reason codes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Decision, LedgerEntry
from tests.api.conftest import Login
from tests.conftest import account_for
from tests.helpers import china_today, new_credit_code, new_resident_id


def claim_body(
    credit_code: str,
    *,
    year: int | None = None,
    grades: tuple[int, ...] = (2, 2, 4, 4, 4),
    staff_total: int = 200,
    unit_kind: str = "enterprise",
    employees: list[str] | None = None,
) -> dict[str, Any]:
    numbers = employees or [new_resident_id(born=date(1983, 5, 20)) for _ in grades]
    return {
        "program": "over_quota_reward",
        "employer": {"name": "包头市示例超比例企业", "credit_code": credit_code},
        "county": "150203",
        "year": year if year is not None else china_today().year - 1,
        "unit_kind": unit_kind,
        "staff_total": staff_total,
        "employees": [
            {"name": f"职工{line}", "id_number": number, "disability_cert_number": f"{number}4{grade}"}
            for line, (number, grade) in enumerate(zip(numbers, grades, strict=True), start=1)
        ],
    }


async def employer(sessions: async_sessionmaker[AsyncSession], login: Login) -> tuple[str, dict[str, str]]:
    """A verified employer account of its own (one claim per employer and year: a fresh credit code per test)."""
    credit_code = new_credit_code()
    username = await account_for(sessions, "employer", credit_code, name="包头市示例超比例企业")
    return credit_code, await login(username)


async def status_of(http: httpx.AsyncClient, headers: dict[str, str], application_id: str, wanted: str) -> Any:
    for _ in range(150):
        response = await http.get(f"/api/v1/applications/{application_id}", headers=headers)
        assert response.status_code == 200, response.text
        if response.json()["status"] == wanted:
            return response.json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"the application never became {wanted}: {response.json()['status']}")


async def review_task(http: httpx.AsyncClient, headers: dict[str, str], application_id: str) -> dict[str, Any]:
    for _ in range(150):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        assert response.status_code == 200, response.text
        if response.json():
            found: dict[str, Any] = response.json()[0]
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("no review task appeared")


async def test_200_staff_and_two_grade_2_among_five_are_awarded_4_x_5_x_1980_split_in_halves(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    credit_code, headers = await employer(sessions, login)
    body = claim_body(credit_code)
    created = await http.post(
        "/api/v1/applications", json=body, headers={**headers, "Idempotency-Key": f"oq-{uuid.uuid4()}"}
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    assert (created.json()["program"], created.json()["county"]) == ("over_quota_reward", "150203")
    official = await login("dpf-150203-a")
    task = await review_task(http, official, application_id)
    assert (task["step"], task["role"], task["county"]) == ("county_dpf_review", "county_dpf", "150203")
    assert "counted 7, required 3.0 of 200 staff, excess 4; reward 39600.00" in task["summary"]
    assert not any(employee["id_number"] in task["summary"] for employee in body["employees"])
    # The wrong county's official may not decide it.
    elsewhere = await http.post(
        f"/api/v1/tasks/{task['id']}/decision", json={"decision": "approve"}, headers=await login("dpf-150204-a")
    )
    assert elsewhere.status_code == 403, elsewhere.text
    approved = await http.post(f"/api/v1/tasks/{task['id']}/decision", json={"decision": "approve"}, headers=official)
    assert approved.status_code == 200, approved.text
    done = await status_of(http, headers, application_id, "completed")
    assert done["eligibility"] == {"eligible": True, "reasons": []}
    assert [(row["period"], row["amount"], row["city_share"], row["county_share"]) for row in done["schedule"]] == [
        (f"{china_today().year - 1}-12", "39600.00", "19800.00", "19800.00")
    ]
    assert (done["totals"]["due"], done["totals"]["city"], done["totals"]["county"]) == (
        "39600.00",
        "19800.00",
        "19800.00",
    )
    async with sessions() as session:
        ledger = (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.application_id == uuid.UUID(application_id)))
        ).all()
        (decision,) = (
            await session.scalars(select(Decision).where(Decision.application_id == uuid.UUID(application_id)))
        ).all()
    assert sorted((row.funder, row.amount) for row in ledger) == [
        ("city", Decimal("19800.00")),
        ("county", Decimal("19800.00")),
    ]
    assert {key: decision.values[key] for key in ("counted", "required", "excess", "minimum_wage_monthly")} == {
        "counted": "7",
        "required": "3.0",
        "excess": "4",
        "minimum_wage_monthly": "1980.00",
    }
    # A second claim of the same employer for the same year: 409 with its reason code.
    again = await http.post("/api/v1/applications", json=claim_body(credit_code), headers=headers)
    assert again.status_code == 409, again.text
    assert again.json()["detail"].startswith("already_claimed_this_year:")


async def test_a_state_funded_unit_is_refused(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    credit_code, headers = await employer(sessions, login)
    for unit_kind, reason in (
        ("state_funded", "state_funded_unit_excluded"),
        ("concentrated_placement", "concentrated_placement_excluded"),
    ):
        created = await http.post(
            "/api/v1/applications",
            json=claim_body(credit_code, unit_kind=unit_kind, year=china_today().year - 2),
            headers=headers,
        )
        assert created.status_code == 201, created.text
        refused = await status_of(http, headers, created.json()["id"], "rejected")
        assert refused["eligibility"] == {"eligible": False, "reasons": [reason]}
        assert refused["schedule"] == []


async def test_the_current_year_and_an_excess_of_0_are_refused_and_a_rejected_year_may_be_claimed_again(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    credit_code, headers = await employer(sessions, login)
    current = await http.post(
        "/api/v1/applications", json=claim_body(credit_code, year=china_today().year), headers=headers
    )
    assert current.status_code == 201, current.text
    refused = await status_of(http, headers, current.json()["id"], "rejected")
    assert refused["eligibility"]["reasons"] == ["year_not_ended"]
    at_quota = await http.post("/api/v1/applications", json=claim_body(credit_code, grades=(4, 4, 4)), headers=headers)
    assert at_quota.status_code == 201, at_quota.text
    refused = await status_of(http, headers, at_quota.json()["id"], "rejected")
    assert refused["eligibility"]["reasons"] == ["no_excess"]
    # Rejected claims hold nothing: the same year may be claimed again, and then not a third time while pending.
    again = await http.post("/api/v1/applications", json=claim_body(credit_code), headers=headers)
    assert again.status_code == 201, again.text
    third = await http.post("/api/v1/applications", json=claim_body(credit_code), headers=headers)
    assert third.status_code == 409 and third.json()["detail"].startswith("already_claimed_this_year:")
    # The employer withdraws it under review; an event of another program is refused naming the field.
    await status_of(http, headers, again.json()["id"], "under_review")
    other = await http.post(
        f"/api/v1/applications/{again.json()['id']}/events", json={"type": "business_closed"}, headers=headers
    )
    assert other.status_code == 422, other.text
    withdrawn = await http.post(
        f"/api/v1/applications/{again.json()['id']}/events", json={"type": "withdrawn"}, headers=headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await status_of(http, headers, again.json()["id"], "withdrawn")


async def test_the_form_refusals_and_a_party_the_account_is_not_bound_to(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    credit_code, headers = await employer(sessions, login)
    person = new_resident_id(born=date(1983, 5, 20))
    twice = claim_body(credit_code, grades=(2, 4, 2), employees=[person, new_resident_id(), person])
    duplicate = await http.post("/api/v1/applications", json=twice, headers=headers)
    assert duplicate.status_code == 422, duplicate.text
    (problem,) = duplicate.json()["detail"]
    assert problem["loc"] == ["body", "employees", 2, "id_number"] and problem["type"] == "employee_duplicate"
    assert problem["msg"] == "employee 3 is the same person as employee 1: list each person once"
    mismatch = claim_body(credit_code)
    mismatch["employees"][0]["disability_cert_number"] = new_resident_id() + "42"
    refused = await http.post("/api/v1/applications", json=mismatch, headers=headers)
    assert refused.status_code == 422
    assert [p["loc"] for p in refused.json()["detail"]] == [["body", "employees", 0, "disability_cert_number"]]
    for field, value in (("staff_total", 0), ("unit_kind", "ngo"), ("employees", [])):
        bad = await http.post("/api/v1/applications", json={**claim_body(credit_code), field: value}, headers=headers)
        assert bad.status_code == 422 and field in bad.text, bad.text
    # The demo employer acts for its own credit code only.
    other = await http.post(
        "/api/v1/applications", json=claim_body(new_credit_code()), headers=await login("employer-a")
    )
    assert other.status_code == 403, other.text
    assert other.json()["detail"].startswith("not_bound_to_this_organisation:")
    # A person's account does not claim an employer's reward.
    applicant = await http.post(
        "/api/v1/applications", json=claim_body(credit_code), headers=await login("applicant-a")
    )
    assert applicant.status_code == 403, applicant.text
