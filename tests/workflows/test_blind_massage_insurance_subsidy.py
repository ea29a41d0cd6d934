"""BlindMassageInsuranceWorkflow on the time-skipping test server, with the real activities writing real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from subsidy.activities.procedure import ProcedureActivities
from subsidy.api.errors import Conflict
from subsidy.api.submission_checks import person_row
from subsidy.db.person_records import hold, year_key
from subsidy.programs.blind_massage_insurance_subsidy.contracts import MassageView
from subsidy.programs.blind_massage_insurance_subsidy.workflow import BlindMassageInsuranceWorkflow
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import FORBIDDEN, INVALID, Actor, EventInput, PaymentInput
from tests.helpers import new_credit_code
from tests.workflows.person_registry_harness import Handle, RegistryHarness, registry, unique_person

__all__ = ["registry"]

PROGRAM = "blind_massage_insurance_subsidy"
PRACTITIONER = Actor("applicant-c", ["applicant"])
DPF_A = Actor("dpf-150203-a", ["county_dpf"], "150203")
DPF_OTHER_COUNTY = Actor("dpf-150204-a", ["county_dpf"], "150204")


def claim(id_number: str, year: int, *, paid: str = "8000.00", category: int = 1) -> dict[str, Any]:
    return {
        "program": PROGRAM,
        "applicant": {
            "name": "王五",
            "id_number": id_number,
            "disability_cert_number": f"{id_number}{category}2",
            "hukou_county": "150203",
            "phone": "13800000000",
        },
        "year": year,
        "insurance_paid": paid,
        "workplace": {"name": "包头市示例盲人按摩店", "credit_code": new_credit_code()},
        "bank_account": "6222020200001234567",
    }


async def register_years(registry: RegistryHarness, id_number: str, years: range) -> None:
    """Years subsidised before the service, as the County DPF records them from the federation's register."""
    async with registry.sessions.begin() as session:
        person_id, _ = await person_row(session, id_number, "王五")
        for year in years:
            assert await hold(
                session,
                person_id=person_id,
                program=PROGRAM,
                kind="subsidised",
                key=year_key(year),
                county="150203",
                status="granted",
                recorded_by="dpf-150203-a",
                year=year,
                source="register vol. 3 p. 12",
            )


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


async def view(handle: Handle) -> MassageView:
    found: MassageView = await handle.query("view", result_type=MassageView)
    return found


async def approved(registry: RegistryHarness, handle: Handle, verified: str = "8000.00") -> None:
    task_id = await registry.open_task(handle, "review")
    await registry.decide(handle, task_id, DPF_A, values={"insurance_verified": verified})


async def test_8000_paid_gives_4000_all_from_the_city_once(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    application_id, handle = await registry.submit(claim(someone, last_year), PRACTITIONER)
    task_id = await registry.open_task(handle, "review")
    task = await registry.task(task_id)
    assert (task.role, task.county) == ("county_dpf", "150203") and "王五" not in task.summary

    with pytest.raises(WorkflowUpdateFailedError) as other_county:
        await registry.decide(handle, task_id, DPF_OTHER_COUNTY, values={"insurance_verified": "8000.00"})
    assert refusal_type(other_county.value) == FORBIDDEN
    with pytest.raises(WorkflowUpdateFailedError) as above:
        await registry.decide(handle, task_id, DPF_A, values={"insurance_verified": "8000.01"})
    assert refusal_type(above.value) == INVALID
    with pytest.raises(WorkflowUpdateFailedError) as missing:
        await registry.decide(handle, task_id, DPF_A)
    assert refusal_type(missing.value) == INVALID

    assert (await registry.decide(handle, task_id, DPF_A, values={"insurance_verified": "8000.00"})).status == (
        "approved"
    )
    assert await handle.result() == "completed"
    period = f"{last_year}-12"
    rows = await registry.ledger(application_id)
    assert [(r.funder, r.amount, r.period) for r in rows if r.amount] == [("city", Decimal("4000.00"), period)]
    assert sum((r.amount for r in rows if r.funder == "county"), Decimal("0.00")) == Decimal("0.00")
    decision = (await registry.audit(application_id, "decision"))[0].detail["values"]
    assert (decision["amount"], decision["city_share"], decision["county_share"], decision["years_before"]) == (
        "4000.00",
        "4000.00",
        "0.00",
        "0",
    )
    assert [(r.status, r.year) for r in await registry.records(someone, PROGRAM)] == [("granted", last_year)]

    again = await ProcedureActivities(registry.sessions).post_payment(
        PaymentInput(application_id, PROGRAM, "150203", period, Decimal("4000.00"), Decimal("4000.00"), Decimal("0"))
    )
    assert again.rows_posted == 0
    assert sum((r.amount for r in await registry.ledger(application_id)), Decimal("0")) == Decimal("4000.00")

    history = await handle.fetch_history()
    await Replayer(workflows=[BlindMassageInsuranceWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_a_lower_verified_amount_pays_half_of_it_to_the_fen(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    application_id, handle = await registry.submit(claim(unique_person(), last_year, paid="8000.00"), PRACTITIONER)
    await approved(registry, handle, "7999.99")
    assert await handle.result() == "completed"
    rows = await registry.ledger(application_id)
    assert sum((r.amount for r in rows), Decimal("0")) == Decimal("3999.99")


async def test_a_physical_disability_certificate_is_refused(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    application_id, handle = await registry.submit(claim(someone, last_year, category=4), PRACTITIONER)
    assert await handle.result() == "rejected"
    assert (await registry.application(application_id)).eligibility["reasons"] == ["not_visual_disability"]
    assert await registry.count_tasks(application_id) == 0
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released"]

    history = await handle.fetch_history()
    await Replayer(workflows=[BlindMassageInsuranceWorkflow], data_converter=DATA_CONVERTER).replay_workflow(history)


async def test_14_register_years_and_this_one_is_the_15th_paid(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    await register_years(registry, someone, range(last_year - 14, last_year))
    application_id, handle = await registry.submit(claim(someone, last_year), PRACTITIONER)
    await approved(registry, handle)
    assert await handle.result() == "completed"
    assert (await view(handle)).years_before == 14
    assert (await registry.application(application_id)).eligibility["years_before"] == 14
    assert sum(r.status == "granted" for r in await registry.records(someone, PROGRAM)) == 15


async def test_15_register_years_and_the_16th_is_refused(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    await register_years(registry, someone, range(last_year - 15, last_year))
    application_id, handle = await registry.submit(claim(someone, last_year), PRACTITIONER)
    assert await handle.result() == "rejected"
    eligibility = (await registry.application(application_id)).eligibility
    assert eligibility["reasons"] == ["subsidy_years_exhausted"] and eligibility["years_before"] == 15
    assert await registry.ledger(application_id) == []


async def test_the_same_year_twice_is_refused_with_409_and_may_be_claimed_after_a_withdrawal(
    registry: RegistryHarness,
) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    first_id, first = await registry.submit(claim(someone, last_year), PRACTITIONER)
    await registry.open_task(first, "review")
    with pytest.raises(Conflict) as twice:
        await registry.submit(claim(someone, last_year), PRACTITIONER)
    assert "already_claimed_this_year" in str(twice.value.detail)
    with pytest.raises(WorkflowUpdateFailedError) as not_theirs:
        await registry.event(first, EventInput("withdrawn", DPF_A))
    assert refusal_type(not_theirs.value) == FORBIDDEN
    assert (await registry.event(first, EventInput("withdrawn", PRACTITIONER))).status == "withdrawn"
    await registry.released(someone, PROGRAM, 1)
    second_id, second = await registry.submit(claim(someone, last_year), PRACTITIONER)
    await registry.open_task(second, "review")
    assert await registry.status(second_id) == "under_review"


async def test_a_year_in_the_register_cannot_be_claimed_again(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    await register_years(registry, someone, range(last_year, last_year + 1))
    with pytest.raises(Conflict) as refused:
        await registry.submit(claim(someone, last_year), PRACTITIONER)
    assert "already_claimed_this_year" in str(refused.value.detail)


@pytest.mark.parametrize("years_back", [0, 2])
async def test_a_year_other_than_the_previous_one_is_refused(registry: RegistryHarness, years_back: int) -> None:
    year = (await registry.today()).year - years_back
    application_id, handle = await registry.submit(claim(unique_person(), year), PRACTITIONER)
    assert await handle.result() == "rejected"
    assert (await registry.application(application_id)).eligibility["reasons"] == ["not_the_previous_year"]


async def test_a_rejection_gives_the_year_back(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    _, handle = await registry.submit(claim(someone, last_year), PRACTITIONER)
    task_id = await registry.open_task(handle, "review")
    await registry.decide(handle, task_id, DPF_A, "reject", reason="缴费证明不全")
    assert await handle.result() == "rejected"
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released"]


async def test_a_claim_withdrawn_in_review_gives_the_year_back(registry: RegistryHarness) -> None:
    last_year = (await registry.today()).year - 1
    someone = unique_person()
    application_id, handle = await registry.submit(claim(someone, last_year), PRACTITIONER)
    await registry.open_task(handle, "review")
    assert (await registry.event(handle, EventInput("withdrawn", PRACTITIONER))).status == "withdrawn"
    assert await handle.result() == "withdrawn"
    assert await registry.count_tasks(application_id) == 1
    assert [r.status for r in await registry.records(someone, PROGRAM)] == ["released"]
