"""GET /api/v1/people/{person_id}: one person across every program, for the officials of the person's county, the
City DPF and auditors — limits used so far against the policy in force, payments through the bank (a failure, the
payee's correction under a new reference), and a recovery after a business closure dated in the past."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Application, Person
from subsidy.policy.workdays import china_today
from tests.api.conftest import Login
from tests.conftest import Acting
from tests.helpers import months_ago, new_resident_id, rent_form

COUNTY = "150203"


async def wait_for(http: httpx.AsyncClient, headers: dict[str, str], path: str, done: Any, **params: str) -> Any:
    for _ in range(150):
        response = await http.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        if done(response.json()):
            return response.json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} {params} never reached the expected state")


async def person_of(sessions: async_sessionmaker[AsyncSession], application_id: str) -> str:
    async with sessions() as session:
        person_id = await session.scalar(
            select(Application.person_id).where(Application.id == uuid.UUID(application_id))
        )
    assert person_id is not None
    return str(person_id)


async def approved_rent(
    http: httpx.AsyncClient, login: Login, acting: Acting, *, months: int = 14
) -> tuple[dict[str, Any], dict[str, str]]:
    """A rent application of a new person, approved with `months` months over (all due at once): (its view, the
    applicant's headers)."""
    body = rent_form(id_number=new_resident_id(), monthly_rent="1200.00", license_date=months_ago(months, days=1))
    applicant = await acting(body)
    created = await http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": f"people-{uuid.uuid4()}"}
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    official = await login("dpf-150203-b")
    (task,) = await wait_for(http, official, "/api/v1/tasks", bool, application_id=application_id)
    decided = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
    await wait_for(
        http,
        applicant,
        "/api/v1/payments",
        lambda rows: len(rows) == 2 * months,
        application_id=application_id,
    )
    view = (await http.get(f"/api/v1/applications/{application_id}", headers=applicant)).json()
    return view, applicant


async def send_through_the_bank(
    http: httpx.AsyncClient, login: Login, application: dict[str, Any], funder: str, failed_period: str | None = None
) -> list[str]:
    """A batch of `funder`'s due payments of the county, built by one finance officer and approved by another, its
    bank file fetched, and the bank's result for this application's lines: each paid, but `failed_period`'s (failed,
    "account closed"). Returns this application's references sent."""
    builder, approver = (
        ("finance-city-a", "finance-city-b") if funder == "city" else ("finance-150203-a", "finance-150203-b")
    )
    first, second = await login(builder), await login(approver)
    last_period = max(row["period"] for row in application["schedule"] if row["status"] == "due")
    built = await http.post(
        "/api/v1/payment-batches",
        json={"funder": funder, "county": COUNTY, "up_to_period": last_period},
        headers=first,
    )
    assert built.status_code == 201, built.text
    batch_id = built.json()["id"]
    approved = await http.post(f"/api/v1/payment-batches/{batch_id}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    assert (await http.get(f"/api/v1/payment-batches/{batch_id}/bank-file", headers=first)).status_code == 200
    lines = (await http.get(f"/api/v1/payment-batches/{batch_id}", headers=first)).json()["payments"]
    mine = [line for line in lines if line["application_id"] == application["id"]]
    assert len(mine) == len([row for row in application["schedule"] if row["status"] == "due"])
    result = "reference,result,reason\r\n" + "".join(
        f"{line['reference']},failed,account closed\r\n"
        if line["period"] == failed_period
        else f"{line['reference']},paid,\r\n"
        for line in mine
    )
    answered = await http.post(
        f"/api/v1/payment-batches/{batch_id}/bank-result",
        content=result.encode(),
        headers={**first, "content-type": "text/csv"},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["failed"] == (1 if failed_period else 0)
    return [line["reference"] for line in mine]


def limits_of(person: dict[str, Any]) -> dict[str, tuple[int, int | None, int]]:
    return {limit["code"]: (limit["used"], limit["limit"], limit["pending"]) for limit in person["limits"]}


async def test_the_person_and_the_limits_used_before_and_after_the_rent_months_fall_due(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = rent_form(id_number=new_resident_id(), license_date=months_ago(14, days=1))
    applicant = await acting(body)
    created = await http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": f"people-{uuid.uuid4()}"}
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    person_id = await person_of(sessions, application_id)
    official = await login("dpf-150203-a")

    before = (await http.get(f"/api/v1/people/{person_id}", headers=official)).json()
    id_number = body["applicant"]["id_number"]  # type: ignore[index]
    assert before["id_number_masked"] == f"{id_number[:6]}********{id_number[-4:]}"
    assert id_number not in str(before)
    assert before["name"] == "张三" and before["id_number_shown"] is None
    assert [(a["id"], a["program"], a["relation"]) for a in before["applications"]] == [
        (application_id, "rent_subsidy", "own")
    ]
    assert limits_of(before) == {
        "trainings_this_year": (0, 3, 0),
        "placements": (0, 2, 0),
        "rent_months": (0, 36, 0),
        "blind_massage_years": (0, 15, 0),
    }
    assert before["payments"] == [] and before["due"] == "0.00" and before["paid"] == "0.00"
    assert [limit["year"] for limit in before["limits"] if limit["code"] == "trainings_this_year"] == [
        china_today().year
    ]

    decider = await login("dpf-150203-b")
    (task,) = await wait_for(http, decider, "/api/v1/tasks", bool, application_id=application_id)
    decided = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=decider,
    )
    assert decided.status_code == 200, decided.text
    after = await wait_for(http, official, f"/api/v1/people/{person_id}", lambda person: len(person["payments"]) == 28)
    # 14 months over and due, 22 still planned: 14 of the 36 months used, whatever the bank has done yet.
    assert limits_of(after)["rent_months"] == (14, 36, 22)
    assert after["due"] == "14000.00" and after["paid"] == "0.00"
    assert {p["status"] for p in after["payments"]} == {"due"}
    assert sum(Decimal(p["amount"]) for p in after["payments"] if p["funder"] == "city") == Decimal("7000.00")
    assert [(t["step"], t["status"], t["decided_by"], t["decision"]) for t in after["tasks"]] == [
        ("county_review", "done", "dpf-150203-b", "approve")
    ]
    assert after["applications"][0]["status"] == "active"


async def test_who_may_see_a_person(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = rent_form(id_number=new_resident_id())
    applicant = await acting(body)
    created = await http.post(
        "/api/v1/applications", json=body, headers={**applicant, "Idempotency-Key": f"people-{uuid.uuid4()}"}
    )
    assert created.status_code == 201, created.text
    person_id = await person_of(sessions, created.json()["id"])
    path = f"/api/v1/people/{person_id}"
    for user in ("dpf-150203-a", "hr-150203-a", "finance-150203-a", "city-a", "auditor-a", "admin-a"):
        assert (await http.get(path, headers=await login(user))).status_code == 200, user
    # Another county's officials: as if there were no such person.
    other = await login("dpf-150204-a")
    assert (await http.get(path, headers=other)).status_code == 404
    assert (await http.get(f"/api/v1/people/{uuid.uuid4()}", headers=other)).status_code == 404
    assert (await http.get("/api/v1/people/not-an-id", headers=other)).status_code == 404
    # Those without an official's role, and the city's finance officer (the city's shares, not people): 403.
    for headers in (applicant, await login("applicant-a"), await login("employer-a"), await login("finance-city-a")):
        assert (await http.get(path, headers=headers)).status_code == 403
        assert (await http.get(f"/api/v1/people/{uuid.uuid4()}", headers=headers)).status_code == 403
    assert (await http.get(path)).status_code == 401
    auditor = (await http.get(path, headers=await login("auditor-a"))).json()
    assert auditor["id_number_shown"] == []
    responses = (await http.get("/openapi.json")).json()["paths"]["/api/v1/people/{person_id}"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= set(responses)


async def test_blind_massage_years_from_the_register_count_up_to_the_policys_fifteen(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    id_number = new_resident_id()
    last_year = china_today().year - 1
    official = await login("dpf-150203-a")
    recorded = await http.post(
        "/api/v1/person-registry/prior-years",
        json={
            "program": "blind_massage_insurance_subsidy",
            "id_number": id_number,
            "name": "王五",
            "years": list(range(last_year - 14, last_year)),
            "source": "第4册第2页",
        },
        headers=official,
    )
    assert recorded.status_code == 201, recorded.text
    async with sessions() as session:
        person_id = await session.scalar(select(Person.id).where(Person.id_number == id_number))
    # No application, but the register entry is of the county: its officials see the person.
    person = (await http.get(f"/api/v1/people/{person_id}", headers=official)).json()
    assert person["applications"] == []
    assert limits_of(person)["blind_massage_years"] == (14, 15, 0)
    one_more = await http.post(
        "/api/v1/person-registry/prior-years",
        json={
            "program": "blind_massage_insurance_subsidy",
            "id_number": id_number,
            "name": "王五",
            "years": [last_year],
            "source": "第4册第3页",
        },
        headers=official,
    )
    assert one_more.status_code == 201, one_more.text
    person = (await http.get(f"/api/v1/people/{person_id}", headers=official)).json()
    assert limits_of(person)["blind_massage_years"] == (15, 15, 0)
    assert (await http.get(f"/api/v1/people/{person_id}", headers=await login("dpf-150204-a"))).status_code == 404


async def test_a_failed_payment_is_corrected_by_the_payee_and_goes_again_under_reference_2(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application, applicant = await approved_rent(http, login, acting)
    first_period = application["schedule"][0]["period"]
    await send_through_the_bank(http, login, application, "county", failed_period=first_period)
    payments = (
        await http.get("/api/v1/payments", params={"application_id": application["id"]}, headers=applicant)
    ).json()
    (failed,) = [p for p in payments if p["status"] == "failed"]
    assert (failed["period"], failed["funder"], failed["amount"]) == (first_period, "county", "500.00")
    assert failed["failure_reason"] == "account closed" and failed["reference"].endswith("-1")
    assert len([p for p in payments if p["status"] == "paid"]) == 13

    # Only the payee corrects: an official of the county may not.
    refused = await http.post(
        f"/api/v1/applications/{application['id']}/bank-account",
        json={"bank_account": "6222020000000000001"},
        headers=await login("dpf-150203-a"),
    )
    assert refused.status_code == 403
    corrected = await http.post(
        f"/api/v1/applications/{application['id']}/bank-account",
        json={"bank_account": "6222020000000000001"},
        headers=applicant,
    )
    assert corrected.status_code == 200 and corrected.json() == {"corrected": 1}
    payments = (
        await http.get("/api/v1/payments", params={"application_id": application["id"]}, headers=applicant)
    ).json()
    (again,) = [p for p in payments if p["period"] == first_period and p["funder"] == "county"]
    assert again["status"] == "corrected" and again["reference"] == failed["reference"][:-2] + "-2"

    person = (
        await http.get(
            f"/api/v1/people/{await person_of(sessions, application['id'])}", headers=await login("finance-150203-a")
        )
    ).json()
    statuses = {(p["period"], p["funder"]): p["status"] for p in person["payments"]}
    assert statuses[(first_period, "county")] == "corrected"
    assert list(statuses.values()).count("paid") == 13 and list(statuses.values()).count("due") == 14
    assert person["paid"] == "6500.00" and person["due"] == "14000.00"


async def test_a_business_closed_four_months_back_is_a_recovery_of_the_months_paid_after_it(
    http: httpx.AsyncClient, login: Login, acting: Acting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    application, applicant = await approved_rent(http, login, acting)
    await send_through_the_bank(http, login, application, "county")
    await send_through_the_bank(http, login, application, "city")
    closed_on = months_ago(4)
    closed = await http.post(
        f"/api/v1/applications/{application['id']}/events",
        json={"type": "business_closed", "date": closed_on.isoformat()},
        headers=applicant,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "terminated"
    after = [row["period"] for row in application["schedule"] if row["status"] == "due" and row["end"] > str(closed_on)]
    assert len(after) == 4  # licence 14 months and a day back: the months not ended by the closure, four months back
    person_id = await person_of(sessions, application["id"])
    person = await wait_for(
        http, await login("dpf-150203-a"), f"/api/v1/people/{person_id}", lambda p: bool(p["recoveries"])
    )
    (recovery,) = person["recoveries"]
    assert recovery["event"] == "business_closed" and recovery["event_date"] == closed_on.isoformat()
    assert recovery["amount"] == "4000.00" and recovery["status"] == "open"
    assert (recovery["city_amount"], recovery["county_amount"], recovery["outstanding"]) == (
        "2000.00",
        "2000.00",
        "4000.00",
    )
    assert sorted({m["period"] for m in recovery["months"]}) == after
    assert len(recovery["months"]) == 8
    # The months used stop at the 14 paid; the planned ones are cancelled.
    assert limits_of(person)["rent_months"] == (14, 36, 0)
