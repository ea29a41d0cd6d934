"""RentSubsidyWorkflow on the time-skipping test server, with the real activities writing real PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from subsidy.activities.procedure import ProcedureActivities
from subsidy.programs.rent_subsidy.form import RentSubsidyForm
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.workflows.contracts import CONFLICT, FORBIDDEN, INVALID, Actor, EventInput, PaymentInput, WorkflowView
from tests.helpers import new_resident_id
from tests.workflows.conftest import APPLICANT, CITY_A, DPF_A, DPF_B, DPF_OTHER_COUNTY, RentHarness, total


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


async def test_rent_1200_runs_36_months_to_completed_with_72_ledger_rows(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(monthly_rent="1200.00", license_date=await rent.months_ago(13))
    task = await rent.open_task(application_id)
    assert task.role == "county_dpf" and task.county == "150203"
    await rent.decide(handle, task.id, DPF_B, values={"monthly_rent": "1200.00"})

    assert await handle.result() == "completed"

    rows = await rent.ledger(application_id)
    assert len(rows) == 72
    assert total(rows) == Decimal("36000.00")
    assert total(rows, "city") == Decimal("18000.00")
    assert total(rows, "county") == Decimal("18000.00")
    assert {r.amount for r in rows} == {Decimal("500.00")}
    months = await rent.schedule(application_id)
    assert len(months) == 36 and all(m.status == "due" for m in months)
    assert (await rent.application(application_id)).status == "completed"
    # 13 months paid at approval, then 23 by timers: the run continued as new after each 12 payments.
    latest = await rent.env.client.get_workflow_handle(handle.id).describe()
    assert latest.run_id != handle.first_execution_run_id


async def test_rent_999_99_splits_499_99_city_and_500_00_county(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(monthly_rent="999.99", license_date=await rent.months_ago(13))
    task = await rent.open_task(application_id)
    await rent.decide(handle, task.id, DPF_B, values={"monthly_rent": "999.99"})
    paid = await rent.paid_months(application_id, 13)
    assert {(m.amount, m.city_share, m.county_share) for m in paid} == {
        (Decimal("999.99"), Decimal("499.99"), Decimal("500.00"))
    }
    rows = await rent.ledger(application_id)
    assert {r.amount for r in rows if r.funder == "city"} == {Decimal("499.99")}
    assert {r.amount for r in rows if r.funder == "county"} == {Decimal("500.00")}
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    assert await handle.result() == "withdrawn"


async def test_verified_rent_above_1000_is_capped_at_1000(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(monthly_rent="1200.00", license_date=await rent.months_ago(13))
    task = await rent.open_task(application_id)
    # The official verified less than the applicant declared, but still above the cap: the cap holds.
    await rent.decide(handle, task.id, DPF_B, values={"monthly_rent": "1000.01"})
    months = await rent.schedule(application_id)
    assert {m.amount for m in months} == {Decimal("1000.00")}
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    await handle.result()


async def test_approval_14_months_after_licence_pays_the_ended_months_at_once(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(license_date=await rent.months_ago(14, days=1))
    task = await rent.open_task(application_id)
    await rent.decide(handle, task.id, DPF_B)
    paid = await rent.paid_months(application_id, 14)
    assert len(paid) == 14  # no time has passed: these are the months already over
    months = await rent.schedule(application_id)
    assert [m.status for m in months].count("planned") == 22
    assert len(await rent.ledger(application_id)) == 28
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    assert await handle.result() == "withdrawn"


async def test_business_closed_after_20_paid_months_leaves_20_paid_and_16_cancelled(rent: RentHarness) -> None:
    licence = await rent.months_ago(13, days=2)
    application_id, handle = await rent.submit(license_date=licence)
    task = await rent.open_task(application_id)
    await rent.decide(handle, task.id, DPF_B)
    await rent.paid_months(application_id, 13)
    # Month 20 (index 19) ends at licence + 20 months; month 21 at licence + 21 months. Stop in between.
    halfway_into_month_21 = add_months(licence, 20) + timedelta(days=10)
    await rent.env.sleep(halfway_into_month_21 - await rent.today())
    await rent.paid_months(application_id, 20)

    result = await rent.event(handle, EventInput("business_closed", APPLICANT, date=halfway_into_month_21))
    assert result.status == "terminated"
    assert await handle.result() == "terminated"
    months = await rent.schedule(application_id)
    assert [m.status for m in months].count("due") == 20
    assert [m.status for m in months].count("cancelled") == 16
    rows = await rent.ledger(application_id)
    assert len(rows) == 40 and total(rows) == Decimal("20000.00")


async def test_ineligible_application_is_rejected_with_reasons_and_no_task(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(license_date=await rent.months_ago(6), business_type="blind_massage")
    assert await handle.result() == "rejected"
    application = await rent.application(application_id)
    assert application.status == "rejected"
    assert application.eligibility is not None
    assert application.eligibility["reasons"] == ["operated_less_than_one_year", "blind_massage_excluded"]
    assert await rent.count_tasks(application_id) == 0


async def test_application_outside_every_policy_window_is_rejected(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(applied_on=date(2023, 4, 21), license_date=date(2021, 1, 1))
    assert await handle.result() == "rejected"
    application = await rent.application(application_id)
    assert application.eligibility and application.eligibility["reasons"] == ["outside_policy_window"]


async def test_second_application_of_the_same_person_is_refused_while_the_first_is_active(rent: RentHarness) -> None:
    person = new_resident_id()
    first_id, first = await rent.submit(id_number=person)
    await rent.decide(first, (await rent.open_task(first_id)).id, DPF_B)
    second_id, second = await rent.submit(id_number=person)
    assert await second.result() == "rejected"
    application = await rent.application(second_id)
    # The first holds all 36 months of the person's entitlement, so both reasons apply.
    assert application.eligibility and application.eligibility["reasons"] == [
        "already_has_active_rent_subsidy",
        "rent_months_exhausted",
    ]
    await rent.event(first, EventInput("withdrawn", APPLICANT))
    await first.result()


async def test_forbidden_decisions_are_refused_by_the_validator(rent: RentHarness) -> None:
    application_id, handle = await rent.submit()
    task = await rent.open_task(application_id)
    cases = [
        (Actor("applicant-a", ["applicant"]), "approve", None, FORBIDDEN),  # wrong role
        (DPF_OTHER_COUNTY, "approve", None, FORBIDDEN),  # other county
        (Actor(APPLICANT.username, ["county_dpf"], "150203"), "approve", None, FORBIDDEN),  # own application
        (DPF_A, "reject", None, INVALID),  # reject without a reason
        (DPF_A, "return", "   ", INVALID),  # return with a blank reason
    ]
    for actor, decision, reason, expected in cases:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await rent.decide(handle, task.id, actor, decision, reason=reason)
        assert refusal_type(refused.value) == expected, (actor, decision)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await rent.decide(handle, task.id, DPF_A, values={"monthly_rent": "12.345"})
    assert refusal_type(refused.value) == INVALID

    await rent.decide(handle, task.id, DPF_A, "reject", reason="租赁合同与营业执照地址不一致")
    assert await handle.result() == "rejected"
    with pytest.raises(RPCError) as ended:  # the procedure is over: the API answers 409
        await rent.decide(handle, task.id, DPF_B)
    assert ended.value.status == RPCStatusCode.NOT_FOUND
    assert await rent.count_tasks(application_id) == 1


async def test_return_and_correction_go_back_to_review_and_need_another_official(rent: RentHarness) -> None:
    application_id, handle = await rent.submit(monthly_rent="800.00")
    task = await rent.open_task(application_id)
    result = await rent.decide(handle, task.id, DPF_A, "return", reason="请补充租赁合同")
    assert result.status == "returned"
    assert (await rent.application(application_id)).status == "returned"
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await rent.decide(handle, task.id, DPF_B)
    assert refusal_type(refused.value) == CONFLICT  # the task is no longer open

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await rent.event(handle, EventInput("corrected", DPF_A))
    assert refusal_type(refused.value) == FORBIDDEN

    view = await handle.query("view", result_type=WorkflowView)
    assert view.status == "returned" and view.schedule == [] and view.policy_version == "baotou-2025"
    form = RentSubsidyForm.model_validate((await rent.application(application_id)).form)
    corrected = form.facts()
    corrected.monthly_rent = Decimal("850.00")
    await rent.event(handle, EventInput("corrected", APPLICANT, corrected=corrected))
    second = await rent.open_task(application_id)
    assert second.round == 2 and second.id != task.id

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await rent.decide(handle, second.id, DPF_A, values={"monthly_rent": "850.00"})
    assert refusal_type(refused.value) == FORBIDDEN  # separation of duties: A already reviewed it
    await rent.decide(handle, second.id, DPF_B, values={"monthly_rent": "850.00"})
    assert {m.amount for m in await rent.schedule(application_id)} == {Decimal("850.00")}
    stored = await rent.application(application_id)
    assert stored.form["lease"]["monthly_rent"] == "850.00"
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    await handle.result()


async def test_overdue_review_is_marked_and_escalated_to_the_city(rent: RentHarness) -> None:
    application_id, handle = await rent.submit()
    review = await rent.open_task(application_id)
    assert review.due_at is not None
    await rent.env.sleep(timedelta(days=20))  # 10 working days are at most 18 calendar days around holidays
    escalation = await rent.open_task(application_id, step="city_escalation")
    assert escalation.role == "city_dpf" and escalation.county is None
    async with rent.sessions() as session:
        from subsidy.db.models import Task

        marked = await session.get(Task, review.id)
        assert marked is not None and marked.overdue and marked.status == "open"
    await rent.decide(handle, escalation.id, CITY_A)
    assert (await rent.application(application_id)).status == "active"
    async with rent.sessions() as session:
        settled = await session.get(Task, review.id)
        assert settled is not None and settled.status == "cancelled"
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    await handle.result()


async def test_withdrawal_during_review_closes_the_task(rent: RentHarness) -> None:
    application_id, handle = await rent.submit()
    task = await rent.open_task(application_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await rent.event(handle, EventInput("withdrawn", DPF_A))
    assert refusal_type(refused.value) == FORBIDDEN
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    assert await handle.result() == "withdrawn"
    async with rent.sessions() as session:
        from subsidy.db.models import Task

        closed = await session.get(Task, task.id)
        assert closed is not None and closed.status == "cancelled"
    assert await rent.ledger(application_id) == []


async def test_payment_activity_run_twice_for_the_same_month_posts_once(rent: RentHarness) -> None:
    application_id, handle = await rent.submit()
    await rent.event(handle, EventInput("withdrawn", APPLICANT))
    await handle.result()
    activities = ProcedureActivities(rent.sessions)
    payment = PaymentInput(
        application_id=application_id,
        program="rent_subsidy",
        county="150203",
        period="2025-01",
        amount=Decimal("1000.00"),
        city_share=Decimal("500.00"),
        county_share=Decimal("500.00"),
    )
    first = await activities.post_payment(payment)
    again = await activities.post_payment(payment)
    assert (first.rows_posted, again.rows_posted) == (2, 0)
    rows = await rent.ledger(application_id)
    assert len(rows) == 2 and total(rows) == Decimal("1000.00")


async def test_a_withdrawal_right_after_an_approval_that_pays_arrears_ends_it_whatever_run_it_reaches(
    rent: RentHarness,
) -> None:
    """Twelve months over at approval: the run pays them and continues as new at once, so a withdrawal sent right
    after may reach the new run's first workflow task, before its `run` has started. Its handlers must see that
    run's input and state (the update failed with an AssertionError, which the API answered with a 500)."""
    first_of_next_month = add_months((await rent.today()).replace(day=1), 1)
    for applied_on in (first_of_next_month - timedelta(days=1), first_of_next_month):
        application_id, handle = await rent.submit(
            applied_on=applied_on, monthly_rent="1500.00", license_date=add_months(applied_on, -13)
        )
        task = await rent.open_task(application_id)
        await rent.decide(handle, task.id, DPF_B, values={"monthly_rent": "1500.00"})
        await rent.paid_months(application_id, 12)  # the old run's last step before it continues as new
        result = await rent.event(handle, EventInput("withdrawn", APPLICANT))
        assert result.status == "withdrawn"
        assert await handle.result() == "withdrawn"
        # While the client waits for its update the test server skips time, so the new run may pay more months
        # before the withdrawal lands; each month is paid once and the rest are cancelled.
        months = await rent.schedule(application_id)
        paid = [m.status for m in months].count("due")
        assert paid >= 12 and paid + [m.status for m in months].count("cancelled") == 36
        rows = await rent.ledger(application_id)
        assert len(rows) == 2 * paid and total(rows) == Decimal("1000.00") * paid
