"""The training subsidy through HTTP with the demo accounts: issue 5's "done when", and the form's refusals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.api.conftest import Login
from tests.helpers import china_today, new_resident_id, training_body, with_bad_checksum

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def id_ending_in_x() -> str:
    for _ in range(200):
        number = new_resident_id(born=date(1985, 7, 1))
        if number.endswith("X"):
            return number
    raise AssertionError("no resident ID with the check character X")


async def task_of(http: httpx.AsyncClient, headers: dict[str, str], application_id: str, step: str) -> dict[str, Any]:
    for _ in range(150):
        response = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = [task for task in response.json() if task["step"] == step]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {step} task appeared")


async def status_of(
    http: httpx.AsyncClient, headers: dict[str, str], application_id: str, wanted: str
) -> dict[str, Any]:
    for _ in range(150):
        response = await http.get(f"/api/v1/applications/{application_id}", headers=headers)
        assert response.status_code == 200, response.text
        if response.json()["status"] == wanted:
            application: dict[str, Any] = response.json()
            return application
        await asyncio.sleep(0.1)
    raise AssertionError(f"the application never became {wanted}")


async def test_provider_plans_dpf_approves_provider_reports_another_official_approves_ledger_halves(
    http: httpx.AsyncClient, login: Login
) -> None:
    provider = await login("provider-a")
    official_a, official_b = await login("dpf-150203-a"), await login("dpf-150203-b")
    trainees = [id_ending_in_x(), new_resident_id(born=date(1985, 7, 1)), new_resident_id(born=date(1985, 7, 1))]
    body = training_body(trainees)
    # As people type them: lower-case x, full-width digits.
    body["trainees"][0]["id_number"] = trainees[0].lower().translate(FULL_WIDTH)
    body["trainees"][0]["disability_cert_number"] = (trainees[0] + "42").lower()

    created = await http.post(
        "/api/v1/applications", json=body, headers={**provider, "Idempotency-Key": f"class-{uuid.uuid4()}"}
    )
    assert created.status_code == 201, created.text
    application = created.json()
    assert (application["program"], application["county"]) == ("training_subsidy", "150203")
    assert application["policy_version"] == "baotou-2025"
    application_id = application["id"]

    plan_task = await task_of(http, official_a, application_id, "plan_review")
    assert (plan_task["role"], plan_task["county"]) == ("county_dpf", "150203")
    assert not any(number in plan_task["summary"] for number in trainees)
    approved = await http.post(
        f"/api/v1/tasks/{plan_task['id']}/decision", json={"decision": "approve"}, headers=official_a
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["application"]["status"] == "approved"

    # The provider reports completion; ID numbers as typed: lower-case x, full-width digits.
    report = {
        "type": "completion_report",
        "attendance": [{"id_number": number.lower().translate(FULL_WIDTH), "hours": 40} for number in trainees],
        "actual_cost": "6000.00",
    }
    reported = await http.post(f"/api/v1/applications/{application_id}/events", json=report, headers=provider)
    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "under_review"

    review = await task_of(http, official_b, application_id, "completion_review")
    assert "reimbursement 4500.00" in review["summary"]
    same_official = await http.post(
        f"/api/v1/tasks/{review['id']}/decision", json={"decision": "approve"}, headers=official_a
    )
    assert same_official.status_code == 403, same_official.text  # separation of duties
    decided = await http.post(
        f"/api/v1/tasks/{review['id']}/decision", json={"decision": "approve"}, headers=official_b
    )
    assert decided.status_code == 200, decided.text

    final = await status_of(http, provider, application_id, "completed")
    assert final["totals"]["due"] == "4500.00"
    assert (final["totals"]["city"], final["totals"]["county"]) == ("2250.00", "2250.00")
    assert [(d["step"], d["decision"], d["by"]) for d in final["decisions"]] == [
        ("plan_review", "approve", "dpf-150203-a"),
        ("completion_review", "approve", "dpf-150203-b"),
    ]
    ledger = await http.get("/api/v1/ledger", params={"application_id": application_id}, headers=provider)
    assert ledger.status_code == 200 and ledger.headers["X-Total-Count"] == "2"
    end_month = (china_today() - timedelta(days=3)).strftime("%Y-%m")
    assert [(r["funder"], r["amount"], r["period"], r["county"], r["program"]) for r in ledger.json()] == [
        ("city", "2250.00", end_month, "150203", "training_subsidy"),
        ("county", "2250.00", end_month, "150203", "training_subsidy"),
    ]
    assert sum(Decimal(r["amount"]) for r in ledger.json()) == min(Decimal("6000.00"), Decimal("1500.00") * 3)

    # The class plan names no bank account: the batch leaves the reimbursement out until the provider gives one.
    finance_a, finance_b = await login("finance-150203-a"), await login("finance-150203-b")
    batch = {"funder": "county", "county": "150203", "up_to_period": end_month}
    built = await http.post("/api/v1/payment-batches", json=batch, headers=finance_a)
    assert built.status_code == 409 or built.json()["without_account"] >= 1
    if built.status_code == 201:
        assert (await http.post(f"/api/v1/payment-batches/{built.json()['id']}/approve", headers=finance_b)).is_success
        shown = await http.get(f"/api/v1/payment-batches/{built.json()['id']}", headers=finance_a)
        assert application_id not in {line["application_id"] for line in shown.json()["payments"]}
    given = await http.post(
        f"/api/v1/applications/{application_id}/bank-account",
        json={"bank_account": "6228480000000000001"},
        headers=provider,
    )
    assert given.status_code == 200 and given.json() == {"corrected": 2}
    again = await http.post(
        f"/api/v1/applications/{application_id}/bank-account",
        json={"bank_account": "6228480000000000002"},
        headers=provider,
    )
    assert again.status_code == 409  # an account on record changes only after a failure
    built = await http.post("/api/v1/payment-batches", json=batch, headers=finance_b)
    assert built.status_code == 201, built.text
    shown = await http.get(f"/api/v1/payment-batches/{built.json()['id']}", headers=finance_b)
    (line,) = [line for line in shown.json()["payments"] if line["application_id"] == application_id]
    assert (line["amount"], line["account_masked"][-4:]) == ("2250.00", "0001")


async def test_the_class_plan_form_refuses_bad_trainees_without_echoing_their_numbers(
    http: httpx.AsyncClient, login: Login
) -> None:
    provider = await login("provider-a")
    first, second = new_resident_id(born=date(1985, 7, 2)), new_resident_id(born=date(1985, 7, 2))

    body = training_body([first, with_bad_checksum(second)])
    refused = await http.post("/api/v1/applications", json=body, headers=provider)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][:4] == ["body", "trainees", 1, "id_number"]
    assert second[:17] not in refused.text

    body = training_body([first, second])
    body["trainees"][1]["disability_cert_number"] = first + "42"  # someone else's certificate
    refused = await http.post("/api/v1/applications", json=body, headers=provider)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][:4] == ["body", "trainees", 1, "disability_cert_number"]

    refused = await http.post("/api/v1/applications", json=training_body([first, second, first]), headers=provider)
    assert refused.status_code == 422
    assert "trainee 3 is the same person as trainee 1" in refused.text and first not in refused.text

    body = training_body([first])
    body["course"]["class_days"] = 8  # a week has 7 days
    assert (await http.post("/api/v1/applications", json=body, headers=provider)).status_code == 422

    applicant = await login("applicant-a")
    forbidden = await http.post("/api/v1/applications", json=training_body([first]), headers=applicant)
    assert forbidden.status_code == 403


async def test_a_report_naming_someone_outside_the_class_is_refused(http: httpx.AsyncClient, login: Login) -> None:
    provider, official = await login("provider-a"), await login("dpf-150203-a")
    trainee, stranger = new_resident_id(born=date(1985, 7, 3)), new_resident_id(born=date(1985, 7, 3))
    created = await http.post("/api/v1/applications", json=training_body([trainee]), headers=provider)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    early = {"type": "completion_report", "attendance": [{"id_number": trainee, "hours": 40}], "actual_cost": "1.00"}
    plan_task = await task_of(http, official, application_id, "plan_review")
    not_yet = await http.post(f"/api/v1/applications/{application_id}/events", json=early, headers=provider)
    assert not_yet.status_code == 409  # the plan is not approved yet
    await http.post(f"/api/v1/tasks/{plan_task['id']}/decision", json={"decision": "approve"}, headers=official)

    wrong = {
        "type": "completion_report",
        "attendance": [{"id_number": stranger, "hours": 40}],
        "actual_cost": "1500.00",
    }
    refused = await http.post(f"/api/v1/applications/{application_id}/events", json=wrong, headers=provider)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "attendance", "0", "id_number"]
    assert stranger not in refused.text
    other = await http.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "business_closed"}, headers=provider
    )
    assert other.status_code == 422

    withdrawn = await http.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "withdrawn"}, headers=provider
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
