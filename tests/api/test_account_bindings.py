"""Accounts act for whom they are bound to (issue 11, finding 4): registration verified by the County DPF, the
binding checked at submission before anything about the person is read, and filing at the service window."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Application
from subsidy.service.seed import DEMO_BINDINGS
from tests.api.conftest import Login
from tests.conftest import Acting
from tests.helpers import months_ago, new_credit_code, new_resident_id, own_rent_form, rent_form

APPLICANT_A = DEMO_BINDINGS["applicant-a"]
EMPLOYER_A = DEMO_BINDINGS["employer-a"]


def registration(kind: str = "person", county: str = "150203", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": f"reg-{uuid.uuid4().hex[:12]}",
        "password": "correct horse battery",
        "kind": kind,
        "name": "王五" if kind == "person" else "包头市某社区服务中心",
        "phone": "13800000001",
        "county": county,
    }
    if kind == "person":
        id_number = new_resident_id(county)
        body.update(id_number=id_number, disability_cert_number=id_number + "42")
    else:
        body["credit_code"] = new_credit_code(county)
    return {**body, **fields}


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def registration_task(http: httpx.AsyncClient, official: dict[str, str], registration_id: str) -> dict[str, Any]:
    for _ in range(100):
        tasks = await http.get("/api/v1/tasks", params={"application_id": registration_id}, headers=official)
        assert tasks.status_code == 200
        if tasks.json():
            task: dict[str, Any] = tasks.json()[0]
            return task
        await asyncio.sleep(0.1)
    raise AssertionError("no registration task appeared")


async def open_task(http: httpx.AsyncClient, official: dict[str, str], application_id: str) -> dict[str, Any]:
    return await registration_task(http, official, application_id)


async def test_demo_accounts_act_for_their_bound_person_or_organisation(http: httpx.AsyncClient, login: Login) -> None:
    me = (await http.get("/api/v1/me", headers=await login("applicant-a"))).json()
    assert me["acts_for"] == {
        "kind": "person",
        "name": "张三",
        "status": "verified",
        "id_number_masked": "150203********1234",
        "credit_code": None,
    }
    employer = (await http.get("/api/v1/me", headers=await login("employer-a"))).json()
    assert employer["acts_for"]["credit_code"] == EMPLOYER_A.identifier
    assert employer["acts_for"]["kind"] == "employer" and employer["acts_for"]["status"] == "verified"
    assert (await http.get("/api/v1/me", headers=await login("dpf-150203-a"))).json()["acts_for"] is None


async def test_applying_for_another_accounts_person_is_403_and_tells_nothing(
    http: httpx.AsyncClient, login: Login
) -> None:
    mine = await http.post(
        "/api/v1/applications",
        json=own_rent_form("applicant-a", license_date=months_ago(13)),
        headers=await login("applicant-a"),
    )
    assert mine.status_code == 201, mine.text
    stranger = await login("applicant-b")
    refused = await http.post(
        "/api/v1/applications",
        json=own_rent_form(
            "applicant-a",
        ),
        headers=stranger,
    )
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert detail.startswith("not_bound_to_this_person:")
    assert "already" not in detail and "subsidy" not in detail and APPLICANT_A.identifier not in detail
    # The same answer for a person nobody has applied for: the refusal depends on nothing about that person.
    unknown = await http.post("/api/v1/applications", json=rent_form(id_number=new_resident_id()), headers=stranger)
    assert (unknown.status_code, unknown.json()) == (403, refused.json())
    listed = await http.get("/api/v1/applications", headers=stranger)
    assert mine.json()["id"] not in [a["id"] for a in listed.json()]


async def test_an_employer_declares_only_under_its_own_credit_code(http: httpx.AsyncClient, login: Login) -> None:
    employer = await login("employer-a")
    year = 2090 + uuid.uuid4().int % 9

    def declaration(credit_code: str) -> dict[str, Any]:
        return {
            "program": "public_welfare_post",
            "employer": {"name": EMPLOYER_A.name, "credit_code": credit_code},
            "county": "150203",
            "year": year,
            "posts": [{"title": "社区服务", "category": "public_service", "count": 1, "monthly_wage": "2000.00"}],
        }

    refused = await http.post("/api/v1/applications", json=declaration(new_credit_code()), headers=employer)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("not_bound_to_this_organisation:")
    own = await http.post("/api/v1/applications", json=declaration(EMPLOYER_A.identifier), headers=employer)
    assert own.status_code == 201, own.text


async def test_registration_pending_then_verified_acts_for_itself_only(http: httpx.AsyncClient, login: Login) -> None:
    body = registration()
    created = await http.post("/api/v1/registrations", json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {"id": created.json()["id"], "status": "pending"}
    registration_id = created.json()["id"]

    account = await sign_in(http, body["username"], body["password"])
    me = (await http.get("/api/v1/me", headers=account)).json()
    assert me["roles"] == [] and me["acts_for"]["status"] == "pending"
    assert me["acts_for"]["id_number_masked"] == body["id_number"][:6] + "********" + body["id_number"][-4:]
    own = await http.get(f"/api/v1/registrations/{registration_id}", headers=account)
    assert own.status_code == 200 and own.json()["status"] == "pending"
    assert own.json()["disability_cert_number"] is None  # the account sees its own data masked
    for method, path, payload in (
        ("POST", "/api/v1/applications", rent_form(id_number=body["id_number"])),
        ("GET", "/api/v1/applications", None),
        ("GET", "/api/v1/ledger", None),
        ("GET", "/api/v1/tasks", None),
        ("GET", "/api/v1/public-welfare-posts?county=150203&year=2026", None),
        ("GET", f"/api/v1/applications/{registration_id}", None),
    ):
        refused = await http.request(method, path, json=payload, headers=account)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["detail"].startswith("account_not_verified:"), path

    # Only the County DPF of the registration's county sees the task, with the certificate.
    other_county = await login("dpf-150204-a")
    assert (
        await http.get("/api/v1/tasks", params={"application_id": registration_id}, headers=other_county)
    ).json() == []
    official = await login("dpf-150203-a")
    task = await registration_task(http, official, registration_id)
    assert (task["program"], task["step"], task["role"], task["county"]) == (
        "account_registration",
        "registration_check",
        "county_dpf",
        "150203",
    )
    seen = (await http.get(f"/api/v1/registrations/{registration_id}", headers=official)).json()
    assert seen["disability_cert_number"] == body["disability_cert_number"] and seen["name"] == "王五"
    assert (await http.get(f"/api/v1/registrations/{registration_id}", headers=other_county)).status_code == 404
    wrong = await http.post(f"/api/v1/tasks/{task['id']}/decision", json={"decision": "approve"}, headers=other_county)
    assert wrong.status_code == 403
    approved = await http.post(f"/api/v1/tasks/{task['id']}/decision", json={"decision": "approve"}, headers=official)
    assert approved.status_code == 200, approved.text
    assert approved.json()["application"]["status"] == "approved"

    me = (await http.get("/api/v1/me", headers=account)).json()  # the same token: roles are read from the account
    assert me["roles"] == ["applicant"] and me["acts_for"]["status"] == "verified"
    form = rent_form(id_number=body["id_number"], license_date=months_ago(13))
    form["applicant"]["disability_cert_number"] = body["disability_cert_number"]
    assert (await http.post("/api/v1/applications", json=form, headers=account)).status_code == 201
    other = await http.post("/api/v1/applications", json=rent_form(), headers=account)
    assert other.status_code == 403 and other.json()["detail"].startswith("not_bound_to_this_person:")

    # Now bound: the same person or user name cannot be registered again (409), and the words say nothing else.
    again = await http.post(
        "/api/v1/registrations",
        json={
            **registration(),
            "id_number": body["id_number"],
            "disability_cert_number": body["disability_cert_number"],
        },
    )
    assert again.status_code == 409 and again.json()["detail"].startswith("registration_refused:")
    taken = await http.post("/api/v1/registrations", json={**registration(), "username": body["username"]})
    assert taken.status_code == 409 and taken.json()["detail"].startswith("username_taken:")


async def test_a_rejected_registration_stays_unbound_with_the_reason(http: httpx.AsyncClient, login: Login) -> None:
    body = registration("employer")
    registration_id = (await http.post("/api/v1/registrations", json=body)).json()["id"]
    official = await login("dpf-150203-b")
    task = await registration_task(http, official, registration_id)
    no_reason = await http.post(f"/api/v1/tasks/{task['id']}/decision", json={"decision": "reject"}, headers=official)
    assert no_reason.status_code == 422
    rejected = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "reject", "reason": "营业执照与信用代码不符"},
        headers=official,
    )
    assert rejected.status_code == 200, rejected.text
    account = await sign_in(http, body["username"], body["password"])
    me = (await http.get("/api/v1/me", headers=account)).json()
    assert me["roles"] == [] and me["acts_for"]["status"] == "rejected"
    assert me["acts_for"]["credit_code"] == body["credit_code"]
    seen = (await http.get(f"/api/v1/registrations/{registration_id}", headers=account)).json()
    assert (seen["status"], seen["reason"]) == ("rejected", "营业执照与信用代码不符")
    refused = await http.get("/api/v1/applications", headers=account)
    assert refused.status_code == 403 and refused.json()["detail"].startswith("account_not_verified:")


async def test_registration_input_is_checked(http: httpx.AsyncClient) -> None:
    short = await http.post("/api/v1/registrations", json={**registration(), "password": "Tq8#vLm2p"})
    assert short.status_code == 422
    assert (
        await http.post("/api/v1/registrations", json={**registration(), "password": "Tq8#vLm2pZ"})
    ).status_code == 201
    guessable = await http.post("/api/v1/registrations", json={**registration(), "password": "x" * 10})
    assert guessable.status_code == 422 and guessable.json()["detail"][0]["loc"] == ["body", "password"]
    mixed = await http.post("/api/v1/registrations", json={**registration(), "credit_code": new_credit_code()})
    assert mixed.status_code == 422
    bad_id = registration()
    bad_id["id_number"] = bad_id["id_number"][:-1] + ("0" if bad_id["id_number"][-1] != "0" else "1")
    assert (await http.post("/api/v1/registrations", json=bad_id)).status_code == 422
    outside = await http.post("/api/v1/registrations", json=registration(county="110105"))
    assert outside.status_code == 422
    look_alike = await http.post("/api/v1/registrations", json=registration(username="Applicant-A"))
    assert look_alike.status_code == 422


async def test_county_dpf_files_at_the_window_and_may_not_decide_it(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    filer, colleague = await login("dpf-150203-a"), await login("dpf-150203-b")
    person = new_resident_id()
    other_county = await http.post(
        "/api/v1/applications",
        json=rent_form(id_number=new_resident_id("150204"), hukou_county="150204"),
        headers=filer,
    )
    assert other_county.status_code == 403
    filed = await http.post(
        "/api/v1/applications", json=rent_form(id_number=person, license_date=months_ago(13)), headers=filer
    )
    assert filed.status_code == 201, filed.text
    application_id = filed.json()["id"]
    async with sessions() as session:
        row = await session.scalar(select(Application).where(Application.id == uuid.UUID(application_id)))
        assert row is not None and (row.filed_by, row.filed_at_window, row.submitted_by) == (
            "dpf-150203-a",
            True,
            "dpf-150203-a",
        )
    task = await open_task(http, colleague, application_id)
    own = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=filer,
    )
    assert own.status_code == 403, own.text
    assert "submitted" in own.json()["detail"]
    decided = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=colleague,
    )
    assert decided.status_code == 200, decided.text
    timeline = await http.get(f"/api/v1/audit/applications/{application_id}/timeline", headers=await login("auditor-a"))
    submitted = next(step for step in timeline.json() if step["kind"] == "submitted")
    assert submitted["detail"]["filed_at_window"] is True and submitted["detail"]["filed_by"] == "dpf-150203-a"


async def test_acting_helper_binds_a_fresh_account(http: httpx.AsyncClient, acting: Acting) -> None:
    body = rent_form()
    headers = await acting(body)
    assert (await http.post("/api/v1/applications", json=body, headers=headers)).status_code == 201
    assert (await acting(body)) is not None
