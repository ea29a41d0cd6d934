"""The rent subsidy through HTTP with the demo accounts: the contract of API.md, status codes included."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx

from tests.api.conftest import Login
from tests.conftest import Acting
from tests.helpers import months_ago, new_resident_id, rent_form, with_bad_checksum


async def submit(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    key: str | None = None,
    body: dict[str, Any] | None = None,
    **form: Any,
) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return await http.post("/api/v1/applications", json=body or rent_form(**form), headers={**headers, **extra})


async def open_task(http: httpx.AsyncClient, headers: dict[str, str], application_id: str) -> dict[str, Any]:
    for _ in range(100):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        assert response.status_code == 200
        if response.json():
            task: dict[str, Any] = response.json()[0]
            return task
        await asyncio.sleep(0.1)
    raise AssertionError("no task appeared")


async def test_health_and_identity(http: httpx.AsyncClient, login: Login) -> None:
    health = await http.get("/healthz")
    assert health.status_code == 200
    # The session's database knows next year (a test calendar), so no calendar warning whatever today is.
    ok = {"status": "ok", "database": "ok", "temporal": "ok", "calendar": "ok", "calendar_warning": None}
    assert health.json() == ok
    assert (await http.get("/api/v1/me")).status_code == 401
    wrong = await http.post("/api/v1/auth/token", data={"username": "applicant-a", "password": "wrong"})
    assert wrong.status_code == 401
    me = await http.get("/api/v1/me", headers=await login("dpf-150203-a"))
    assert me.json() == {
        "username": "dpf-150203-a",
        "roles": ["county_dpf"],
        "county": "150203",
        "must_change_password": False,
        "acts_for": None,
    }


async def test_policies_list_both_versions_with_the_numbers_of_the_plan(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/policies")
    assert response.status_code == 200
    versions = {v["code"]: v for v in response.json()}
    assert set(versions) == {"baotou-2023", "baotou-2025"}
    assert versions["baotou-2023"]["valid_from"] == "2023-04-22"
    assert versions["baotou-2023"]["valid_to"] == "2024-12-31"
    assert versions["baotou-2025"]["valid_to"] is None
    rent = versions["baotou-2025"]["parameters"]["rent"]
    assert rent["monthly_cap"] == "1000.00" and rent["max_months"] == 36
    training = versions["baotou-2025"]["parameters"]["training"]
    assert training["per_person_cap"] == "1500.00" and training["min_class_hours"] == 40
    assert versions["baotou-2025"]["parameters"]["placement"]["max_placements"] == 2


async def test_the_whole_flow_applicant_submits_county_dpf_approves(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    body = rent_form(monthly_rent="1200.00", license_date=months_ago(14, days=1))
    applicant, official = await acting(body), await login("dpf-150203-b")
    created = await submit(http, applicant, key=f"flow-{uuid.uuid4()}", body=body)
    assert created.status_code == 201, created.text
    application = created.json()
    assert application["program"] == "rent_subsidy" and application["county"] == "150203"
    assert application["policy_version"] == "baotou-2025"
    assert "********" in application["applicant"]["id_number"]  # masked

    task = await open_task(http, official, application["id"])
    assert task["step"] == "county_review" and task["role"] == "county_dpf" and task["due_at"]
    claimed = await http.post(f"/api/v1/tasks/{task['id']}/claim", headers=official)
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "dpf-150203-b"
    other = await http.post(f"/api/v1/tasks/{task['id']}/claim", headers=await login("dpf-150203-a"))
    assert other.status_code == 409

    decided = await http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["task"]["status"] == "done"
    result = decided.json()["application"]
    assert result["status"] == "active"
    assert len(result["schedule"]) == 36
    assert {row["amount"] for row in result["schedule"]} == {"1000.00"}
    assert {(row["city_share"], row["county_share"]) for row in result["schedule"]} == {("500.00", "500.00")}
    assert result["decisions"][0]["by"] == "dpf-150203-b" and result["decisions"][0]["decision"] == "approve"

    for _ in range(100):  # the 14 months already over are paid at once
        ledger = await http.get("/api/v1/ledger", params={"application_id": application["id"]}, headers=applicant)
        if ledger.headers["X-Total-Count"] == "28":
            break
        await asyncio.sleep(0.1)
    rows = ledger.json()
    assert len(rows) == 28
    assert sum(Decimal(r["amount"]) for r in rows if r["funder"] == "city") == Decimal("7000.00")
    assert sum(Decimal(r["amount"]) for r in rows if r["funder"] == "county") == Decimal("7000.00")
    final = (await http.get(f"/api/v1/applications/{application['id']}", headers=applicant)).json()
    assert final["totals"]["due"] == "14000.00" and final["totals"]["planned"] == "22000.00"
    # Due, not paid: paid is what the bank confirmed (tests/api/test_payments_api.py).
    assert final["totals"]["paid"] == "0.00" and {row["status"] for row in final["schedule"][:14]} == {"due"}

    closed = await http.post(
        f"/api/v1/applications/{application['id']}/events",
        json={"type": "business_closed", "date": months_ago(0).isoformat()},
        headers=applicant,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "terminated"
    assert closed.json()["totals"]["cancelled"] == "22000.00"


async def test_same_idempotency_key_gives_one_application(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    key = f"same-{uuid.uuid4()}"
    body = rent_form(id_number=new_resident_id())
    applicant = await acting(body)
    first = await submit(http, applicant, key=key, body=body)
    again = await submit(http, applicant, key=key, body=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    listed = await http.get("/api/v1/applications", headers=applicant)
    assert [a["id"] for a in listed.json()].count(first.json()["id"]) == 1
    tasks = await http.get(
        "/api/v1/tasks", params={"application_id": first.json()["id"]}, headers=await login("dpf-150203-a")
    )
    assert len(tasks.json()) <= 1


async def test_bad_id_checksum_gives_422_naming_the_field(http: httpx.AsyncClient, login: Login) -> None:
    bad = with_bad_checksum(new_resident_id())
    response = await submit(http, await login("applicant-a"), id_number=bad)
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", "applicant", "id_number"] in locations
    assert bad not in response.text  # the number is not echoed back


async def test_lower_case_x_and_full_width_digits_are_accepted(http: httpx.AsyncClient, acting: Acting) -> None:
    body = rent_form(id_number="11010519491231002X")
    applicant = await acting(body)  # bound to the canonical form of the number
    body["applicant"]["id_number"] = "１１０１０５１９４９１２３１００２x"  # type: ignore[index]
    response = await http.post("/api/v1/applications", json=body, headers=applicant)
    assert response.status_code == 201, response.text


async def test_forbidden_decisions_get_their_status_codes(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    body = rent_form()
    applicant = await acting(body)
    created = await submit(http, applicant, body=body)
    task = await open_task(http, await login("dpf-150203-a"), created.json()["id"])
    decide = f"/api/v1/tasks/{task['id']}/decision"
    approve = {"decision": "approve", "values": {"monthly_rent": "1200.00"}}

    assert (await http.post(decide, json=approve)).status_code == 401
    assert (await http.post(decide, json=approve, headers=applicant)).status_code == 403  # wrong role
    assert (await http.post(decide, json=approve, headers=await login("dpf-150204-a"))).status_code == 403  # county
    no_reason = await http.post(decide, json={"decision": "reject"}, headers=await login("dpf-150203-a"))
    assert no_reason.status_code == 422
    bad_rent = await http.post(
        decide, json={"decision": "approve", "values": {"monthly_rent": "abc"}}, headers=await login("dpf-150203-a")
    )
    assert bad_rent.status_code == 422
    assert bad_rent.json()["detail"][0]["loc"] == ["body", "values", "monthly_rent"]
    unknown = await http.post(
        "/api/v1/tasks/00000000-0000-0000-0000-000000000000/decision", json=approve, headers=await login("dpf-150203-a")
    )
    assert unknown.status_code == 404

    returned = await http.post(
        decide, json={"decision": "return", "reason": "请补充租赁合同"}, headers=await login("dpf-150203-a")
    )
    assert returned.status_code == 200 and returned.json()["application"]["status"] == "returned"
    again = await http.post(decide, json=approve, headers=await login("dpf-150203-b"))
    assert again.status_code == 409  # the task is done

    corrected = await http.post(
        f"/api/v1/applications/{created.json()['id']}/events",
        json={
            "type": "corrected",
            "corrected": {
                "lease": {
                    "monthly_rent": "900.00",
                    "start_date": months_ago(13).isoformat(),
                    "end_date": months_ago(-30).isoformat(),
                }
            },
        },
        headers=applicant,
    )
    assert corrected.status_code == 200, corrected.text
    second = await open_task(http, await login("dpf-150203-b"), created.json()["id"])
    assert second["id"] != task["id"]
    duty = await http.post(f"/api/v1/tasks/{second['id']}/decision", json=approve, headers=await login("dpf-150203-a"))
    assert duty.status_code == 403  # dpf-150203-a already reviewed it


async def test_applicants_see_only_their_own_applications(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    body = rent_form()
    applicant = await acting(body)
    mine = await submit(http, applicant, body=body)
    other = await http.get(f"/api/v1/applications/{mine.json()['id']}", headers=await login("applicant-b"))
    assert other.status_code == 404
    listed = await http.get("/api/v1/applications", headers=await login("applicant-b"))
    assert all(a["submitted_by"] == "applicant-b" for a in listed.json())
    county = await http.get(f"/api/v1/applications/{mine.json()['id']}", headers=await login("dpf-150204-a"))
    assert county.status_code == 404
    assert (
        await http.get(f"/api/v1/applications/{mine.json()['id']}", headers=await login("auditor-a"))
    ).status_code == 200
    withdrawn = await http.post(
        f"/api/v1/applications/{mine.json()['id']}/events",
        json={"type": "withdrawn"},
        headers=applicant,
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = await http.post(
        f"/api/v1/applications/{mine.json()['id']}/events",
        json={"type": "withdrawn"},
        headers=applicant,
    )
    assert again.status_code == 409


async def test_a_correction_cannot_move_the_application_to_another_county(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    """Issue 11 (3): a returned application corrected to hukou 150204 was paid from 150203's budget and 150204 never
    saw it. A correction that changes the county is refused; the application stays whole in its county and is paid
    from that county's budget."""
    body = rent_form(license_date=months_ago(13))
    applicant, first, second = await acting(body), await login("dpf-150203-a"), await login("dpf-150203-b")
    created = await submit(http, applicant, body=body)
    application_id = created.json()["id"]
    task = await open_task(http, first, application_id)
    returned = await http.post(
        f"/api/v1/tasks/{task['id']}/decision", json={"decision": "return", "reason": "请核对户籍"}, headers=first
    )
    assert returned.status_code == 200, returned.text

    events = f"/api/v1/applications/{application_id}/events"
    moved = await http.post(
        events, json={"type": "corrected", "corrected": {"hukou_county": "150204"}}, headers=applicant
    )
    assert moved.status_code == 422, moved.text
    assert moved.json()["detail"][0]["loc"] == ["body", "corrected", "hukou_county"]
    assert moved.json()["detail"][0]["msg"].startswith("county_change_not_allowed")
    still = (await http.get(f"/api/v1/applications/{application_id}", headers=applicant)).json()
    assert still["status"] == "returned" and still["county"] == "150203"
    assert (
        await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=await login("dpf-150204-a"))
    ).json() == []

    same = await http.post(
        events, json={"type": "corrected", "corrected": {"hukou_county": "150203"}}, headers=applicant
    )
    assert same.status_code == 200, same.text
    review = await open_task(http, second, application_id)
    approved = await http.post(
        f"/api/v1/tasks/{review['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=second,
    )
    assert approved.status_code == 200, approved.text
    for _ in range(100):
        ledger = await http.get("/api/v1/ledger", params={"application_id": application_id}, headers=applicant)
        if int(ledger.headers["X-Total-Count"]) >= 26:
            break
        await asyncio.sleep(0.1)
    rows = ledger.json()
    assert len(rows) == 26  # 13 months over, city and county shares
    assert {row["county"] for row in rows} == {"150203"}


async def test_twenty_simultaneous_decisions_on_one_task_give_one_decision_and_nineteen_ordinary_409s(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    """Issue 11 (8): the losers of a race are refused by the API, as the ordinary 409 they are, before they reach the
    workflow (where Temporal aborted them as updates and logged each as an error)."""
    body = rent_form()
    applicant = await acting(body)
    officials = [await login("dpf-150203-a"), await login("dpf-150203-b")]
    created = await submit(http, applicant, body=body)
    task = await open_task(http, officials[0], created.json()["id"])
    approve = {"decision": "approve", "values": {"monthly_rent": "1200.00"}}
    outcomes = await asyncio.gather(
        *(http.post(f"/api/v1/tasks/{task['id']}/decision", json=approve, headers=officials[n % 2]) for n in range(20))
    )
    codes = sorted(o.status_code for o in outcomes)
    assert codes == [200] + [409] * 19, [o.text for o in outcomes]
    refusals = {o.json()["detail"] for o in outcomes if o.status_code == 409}
    assert refusals <= {"another decision on this task is being recorded at this moment", "the task is already done"}
    final = (await http.get(f"/api/v1/applications/{created.json()['id']}", headers=applicant)).json()
    assert final["status"] == "active" and len(final["decisions"]) == 1
