"""Issue 11, findings 7 and 9 over HTTP: what the documented patterns refuse is refused, with a 422 naming the field
and a reason code; decisions take only their step's values; a key reused with another body is refused; 405 says
every method of the path; a new name for a stored person is recorded."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import AuditRecord, Person
from tests.api.conftest import Login
from tests.conftest import Acting, account_for
from tests.helpers import months_ago, new_resident_id, rent_form, training_body


async def open_task(http: httpx.AsyncClient, headers: dict[str, str], application_id: str) -> dict[str, Any]:
    for _ in range(100):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        if response.json():
            task: dict[str, Any] = response.json()[0]
            return task
        await asyncio.sleep(0.1)
    raise AssertionError("no task appeared")


def _problems(response: httpx.Response) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    return [(item["loc"], item["type"]) for item in response.json()["detail"]]


async def test_money_in_exponent_or_arabic_indic_digits_is_refused(http: httpx.AsyncClient, login: Login) -> None:
    applicant = await login("applicant-a")
    for rent in ("1e3", "٣٠٠٠"):
        response = await http.post("/api/v1/applications", json=rent_form(monthly_rent=rent), headers=applicant)
        assert _problems(response) == [(["body", "lease", "monthly_rent"], "money_format")]


async def test_ids_of_no_region_or_born_in_the_future_and_owners_under_16_are_refused(
    http: httpx.AsyncClient, login: Login
) -> None:
    applicant = await login("applicant-a")
    cases = {
        new_resident_id(region="999999"): "id_region",
        new_resident_id(born=date(2030, 1, 1)): "id_birth_date_future",
        new_resident_id(born=date(2020, 1, 1)): "age_below_minimum",
    }
    for id_number, code in cases.items():
        response = await http.post("/api/v1/applications", json=rent_form(id_number=id_number), headers=applicant)
        assert (["body", "applicant", "id_number"], code) in _problems(response)


async def test_a_business_started_in_the_future_and_blank_names_are_refused(
    http: httpx.AsyncClient, login: Login
) -> None:
    applicant = await login("applicant-a")
    future = rent_form(started_on=months_ago(-1))
    assert _problems(await http.post("/api/v1/applications", json=future, headers=applicant)) == [
        (["body", "business", "started_on"], "date_in_future")
    ]
    for blank in ("\u3164", "\u115f", "\u2800", "\u0301\u0301"):
        body = rent_form()
        body["applicant"]["name"] = blank  # type: ignore[index]
        response = await http.post("/api/v1/applications", json=body, headers=applicant)
        assert _problems(response) == [(["body", "applicant", "name"], "name_letters")]


async def test_the_verified_rent_may_not_exceed_the_declared_one(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    body = rent_form(monthly_rent="800.00")
    created = await http.post("/api/v1/applications", json=body, headers=await acting(body))
    assert created.status_code == 201, created.text
    official = await login("dpf-150203-b")
    task = await open_task(http, official, created.json()["id"])
    decide = f"/api/v1/tasks/{task['id']}/decision"

    above = await http.post(
        decide, json={"decision": "approve", "values": {"monthly_rent": "800.01"}}, headers=official
    )
    assert _problems(above) == [(["body", "values", "monthly_rent"], "verified_above_declared")]
    assert "800.00" in above.json()["detail"][0]["msg"]
    for text in ("1e3", "٣٠٠٠"):
        wrong = await http.post(
            decide, json={"decision": "approve", "values": {"monthly_rent": text}}, headers=official
        )
        assert _problems(wrong) == [(["body", "values", "monthly_rent"], "money_format")]
    unknown = await http.post(
        decide,
        json={"decision": "approve", "values": {"rejected_posts": "2", "monthly_rent": "800.00"}},
        headers=official,
    )
    assert _problems(unknown) == [(["body", "values", "rejected_posts"], "unknown_value")]
    undeclared = await http.post(decide, json={"decision": "approve", "values": {"rent": "1"}}, headers=official)
    assert _problems(undeclared) == [(["body", "values", "rent"], "extra_forbidden")]
    missing = await http.post(decide, json={"decision": "approve"}, headers=official)
    assert _problems(missing) == [(["body", "values", "monthly_rent"], "value_required")]

    exactly = await http.post(
        decide, json={"decision": "approve", "values": {"monthly_rent": "８００"}}, headers=official
    )
    assert exactly.status_code == 200, exactly.text
    assert {row["amount"] for row in exactly.json()["application"]["schedule"]} == {"800.00"}


async def test_a_training_plan_review_takes_no_values(http: httpx.AsyncClient, login: Login) -> None:
    plan = training_body([new_resident_id(born=date(1985, 7, 1))])
    created = await http.post("/api/v1/applications", json=plan, headers=await login("provider-a"))
    assert created.status_code == 201, created.text
    official = await login("dpf-150203-b")
    task = await open_task(http, official, created.json()["id"])
    response = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "800.00"}},
        headers=official,
    )
    assert _problems(response) == [(["body", "values", "monthly_rent"], "unknown_value")]
    assert "training_subsidy plan_review takes no values" in response.json()["detail"][0]["msg"]


async def test_a_trainee_under_16_is_refused(http: httpx.AsyncClient, login: Login) -> None:
    start = months_ago(0)
    plan = training_body([new_resident_id(born=start.replace(year=start.year - 15))], start=start)
    response = await http.post("/api/v1/applications", json=plan, headers=await login("provider-a"))
    assert _problems(response) == [(["body", "trainees", 0, "id_number"], "age_below_minimum")]


async def test_the_same_key_with_another_body_is_refused_with_the_same_body_it_returns_the_first(
    http: httpx.AsyncClient, acting: Acting
) -> None:
    body = rent_form(monthly_rent="1200.00")
    applicant = {**await acting(body), "Idempotency-Key": f"strict-{uuid.uuid4()}"}
    first = await http.post("/api/v1/applications", json=body, headers=applicant)
    assert first.status_code == 201, first.text
    typed_otherwise = {**body, "lease": {**body["lease"], "monthly_rent": "1200"}}  # type: ignore[dict-item]
    again = await http.post("/api/v1/applications", json=typed_otherwise, headers=applicant)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = {**body, "lease": {**body["lease"], "monthly_rent": "1300.00"}}  # type: ignore[dict-item]
    refused = await http.post("/api/v1/applications", json=other, headers=applicant)
    assert _problems(refused) == [(["header", "Idempotency-Key"], "idempotency_key_reused")]


async def test_405_allows_every_method_of_the_path(http: httpx.AsyncClient) -> None:
    response = await http.patch("/api/v1/applications")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert (await http.delete("/api/v1/tasks/00000000-0000-0000-0000-000000000000/claim")).headers["allow"] == "POST"


async def test_a_new_name_for_a_stored_person_is_recorded_with_an_audit_record(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    id_number = new_resident_id()
    username = await account_for(sessions, "person", id_number)  # the account bound to this person, named 张三
    applicant = await login(username)
    first = await http.post("/api/v1/applications", json=rent_form(id_number=id_number), headers=applicant)
    assert first.status_code == 201, first.text
    body = rent_form(id_number=id_number)
    body["applicant"]["name"] = "张三丰"  # type: ignore[index]
    second = await http.post("/api/v1/applications", json=body, headers=applicant)
    assert second.status_code == 201, second.text
    assert second.json()["applicant"]["name"] == "张三丰"
    async with sessions() as session:
        person = await session.scalar(select(Person).where(Person.id_number == id_number))
        assert person is not None and person.name == "张三丰"
        renamed = (
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.kind == "person_renamed", AuditRecord.application_id == uuid.UUID(second.json()["id"])
                )
            )
        ).all()
    assert [(r.actor, r.detail) for r in renamed] == [
        (username, {"person_id": str(person.id), "previous_name": "张三", "name": "张三丰"})
    ]


async def test_codec_payloads_of_another_shape_are_refused_naming_the_field(
    http: httpx.AsyncClient, login: Login
) -> None:
    auditor = await login("auditor-a")
    response = await http.post(
        "/api/v1/audit/codec/decode", json={"payloads": [{"data": "AA==", "extra": 1}]}, headers=auditor
    )
    assert _problems(response) == [(["body", "payloads", 0, "extra"], "extra_forbidden")]
    not_base64 = await http.post("/api/v1/audit/codec/decode", json={"payloads": [{"data": "%%"}]}, headers=auditor)
    assert _problems(not_base64) == [(["body", "payloads", 0, "data"], "string_pattern_mismatch")]
