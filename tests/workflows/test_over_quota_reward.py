"""OverQuotaRewardWorkflow on the time-skipping test server, with the real activities writing real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from subsidy.activities.procedure import ProcedureActivities
from subsidy.db.models import Application, AuditRecord, Decision, LedgerEntry, Person, Task
from subsidy.db.person_records import PersonProgramRecord
from subsidy.policy.versions import OverQuotaParams, version_in_force, version_to_json
from subsidy.policy.workdays import CHINA
from subsidy.programs.over_quota_reward import rules
from subsidy.programs.over_quota_reward.contracts import (
    OVER_QUOTA_WORKFLOW,
    OverQuotaEventInput,
    OverQuotaInput,
    OverQuotaView,
)
from subsidy.programs.over_quota_reward.form import OverQuotaRewardForm
from subsidy.service.embedded import installed_binary
from subsidy.service.temporal import build_worker
from subsidy.temporal_client.client import DATA_CONVERTER
from subsidy.workflows.contracts import CONFLICT, FORBIDDEN, INVALID, Actor, DecideInput, DecideResult, PaymentInput
from tests.helpers import new_credit_code, new_resident_id
from tests.workflows.conftest import eventually, total

EMPLOYER = Actor("employer-oq-a", ["employer"])
OTHER_EMPLOYER = Actor("employer-oq-b", ["employer"])
DPF_A = Actor("dpf-150203-a", ["county_dpf"], "150203")
DPF_B = Actor("dpf-150203-b", ["county_dpf"], "150203")
DPF_OTHER_COUNTY = Actor("dpf-150204-a", ["county_dpf"], "150204")

Handle = WorkflowHandle[Any, str]


def people(count: int) -> list[str]:
    return [new_resident_id(born=date(1985, 4, 2)) for _ in range(count)]


def claim(
    employees: Sequence[str],
    *,
    year: int,
    grades: Sequence[int] = (),
    staff_total: int = 200,
    unit_kind: str = "enterprise",
    county: str = "150203",
    credit_code: str | None = None,
) -> dict[str, Any]:
    """A claim whose employees hold grade 4 certificates, except the first `grades` (one grade per line)."""
    listed = list(grades) + [4] * (len(employees) - len(grades))
    return {
        "program": "over_quota_reward",
        "employer": {"name": "包头市某某有限公司", "credit_code": credit_code or new_credit_code()},
        "county": county,
        "year": year,
        "unit_kind": unit_kind,
        "staff_total": staff_total,
        "employees": [
            {"name": f"职工{line}", "id_number": number, "disability_cert_number": f"{number}4{grade}"}
            for line, (number, grade) in enumerate(zip(employees, listed, strict=True), start=1)
        ],
    }


@dataclass
class OverQuotaHarness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str

    async def today(self) -> date:
        return (await self.env.get_current_time()).astimezone(CHINA).date()

    async def last_year(self) -> int:
        return (await self.today()).year - 1

    async def submit(self, form_fields: dict[str, Any], submitted_by: Actor = EMPLOYER) -> tuple[str, Handle]:
        form = OverQuotaRewardForm.model_validate(form_fields)
        applied_on = await self.today()
        version = version_in_force(applied_on)
        application_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            session.add(
                Application(
                    id=application_id,
                    program="over_quota_reward",
                    status="submitted",
                    county=form.county,
                    submitted_by=submitted_by.username,
                    workflow_id=f"application-{application_id}",
                    form=form.model_dump(mode="json"),
                )
            )
        handle: Handle = await self.env.client.start_workflow(
            OVER_QUOTA_WORKFLOW,
            OverQuotaInput(
                application_id=str(application_id),
                program="over_quota_reward",
                submitted_by=submitted_by.username,
                applied_on=applied_on,
                county=form.county,
                year=form.year,
                unit_kind=form.unit_kind,
                staff_total=form.staff_total,
                employee_count=len(form.employees),
                employer_credit_code=form.employer.credit_code,
                policy=version_to_json(version) if version else None,
            ),
            id=f"application-{application_id}",
            task_queue=self.task_queue,
            result_type=str,
        )
        return str(application_id), handle

    async def view(self, handle: Handle) -> OverQuotaView:
        view: OverQuotaView = await handle.query("view", result_type=OverQuotaView)
        return view

    async def settled(self, handle: Handle) -> OverQuotaView:
        async def decided() -> OverQuotaView | None:
            view = await self.view(handle)
            return view if view.status != "submitted" else None

        result: OverQuotaView = await eventually(decided, 15)
        return result

    async def open_task(self, handle: Handle) -> str:
        async def held() -> str | None:
            return (await self.view(handle)).open_task_id

        task_id: str = await eventually(held, 15)
        return task_id

    async def decide(
        self, handle: Handle, actor: Actor, decision: str = "approve", reason: str | None = None
    ) -> DecideResult:
        task_id = await self.open_task(handle)
        request = DecideInput(task_id=task_id, decision=decision, actor=actor, reason=reason)
        result: DecideResult = await handle.execute_update("decide", request, result_type=DecideResult)
        return result

    async def reaches(self, application_id: str, status: str) -> None:
        """Wait for the stored status without awaiting the result (which lets the test server skip time and lose an
        update sent to another workflow afterwards)."""

        async def reached() -> bool:
            return (await self.application(application_id)).status == status

        await eventually(reached, 15)

    async def application(self, application_id: str) -> Application:
        async with self.sessions() as session:
            found = await session.get(Application, uuid.UUID(application_id))
            assert found is not None
            return found

    async def ledger(self, application_id: str) -> list[LedgerEntry]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == uuid.UUID(application_id))
                .order_by(LedgerEntry.funder)
            )
            return list(rows.all())

    async def decisions(self, application_id: str) -> list[Decision]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Decision).where(Decision.application_id == uuid.UUID(application_id)))
            return list(rows.all())

    async def records(self, application_id: str) -> list[tuple[str, str, str, str | None]]:
        """The person registry records the claim holds: (ID number, kind, key, status)."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Person.id_number, PersonProgramRecord.kind, PersonProgramRecord.key, PersonProgramRecord.status)
                .join(Person, Person.id == PersonProgramRecord.person_id)
                .where(PersonProgramRecord.application_id == uuid.UUID(application_id))
                .order_by(Person.id_number)
            )
            return [tuple(row) for row in rows.all()]  # type: ignore[misc]

    async def tasks(self, application_id: str) -> list[Task]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Task).where(Task.application_id == uuid.UUID(application_id)))
            return list(rows.all())


@pytest.fixture
async def over_quota(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[OverQuotaHarness]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=installed_binary("temporal-test-server")
    )
    task_queue = f"test-{uuid.uuid4()}"
    try:
        async with build_worker(env.client, task_queue, sessions):
            yield OverQuotaHarness(env, sessions, task_queue)
    finally:
        await env.shutdown()


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


# --- the pure rules -------------------------------------------------------------------------------------------------


def test_the_rules_count_two_for_grades_1_and_2_and_only_whole_persons_above_the_quota() -> None:
    params = OverQuotaParams()
    assert [rules.counts_as(grade, params) for grade in (1, 2, 3, 4)] == [2, 2, 1, 1]
    assert rules.required_persons(200, params) == Decimal("3.0")
    assert rules.excess_persons(7, Decimal("3.0"), params) == 4
    assert rules.excess_persons(7, Decimal("3.2"), params) == 3
    assert rules.excess_persons(3, Decimal("3.0"), params) == 0
    assert rules.excess_persons(2, Decimal("3.0"), params) == 0  # never negative
    exact = OverQuotaParams(fraction_rule="exact")
    assert rules.excess_persons(7, Decimal("3.2"), exact) == Decimal("3.8")
    found = rules.figures([2, 2, 1, 1, 1], 200, Decimal("1980.00"), params)
    assert (found.counted, found.excess, found.amount, found.city_share, found.county_share) == (
        7,
        4,
        Decimal("39600.00"),
        Decimal("19800.00"),
        Decimal("19800.00"),
    )
    assert rules.required_text(found.required) == "3.0"
    assert rules.period_of(2025) == "2025-12" and rules.wage_day(2025) == date(2025, 12, 31)


# --- the example --------------------------------------------------------------------------------------------


async def test_200_staff_and_five_employees_two_of_grade_2_are_rewarded_39600_split_19800_and_19800(
    over_quota: OverQuotaHarness,
) -> None:
    year = await over_quota.last_year()
    employees = people(5)
    application_id, handle = await over_quota.submit(claim(employees, year=year, grades=(2, 2)))
    view = await over_quota.settled(handle)
    assert view.status == "under_review" and view.reasons == []
    assert [(line.line, line.counts_as, line.counted) for line in view.lines] == [
        (1, 2, True),
        (2, 2, True),
        (3, 1, True),
        (4, 1, True),
        (5, 1, True),
    ]
    assert view.figures is not None
    assert (view.figures.counted, view.figures.required, view.figures.excess) == (7, Decimal("3.000"), 4)
    assert view.wage is not None and (view.wage.monthly, view.wage.tier, view.wage.standard, view.wage.day) == (
        Decimal("1980.00"),
        1,
        "nmg-2021",
        date(year, 12, 31),
    )
    stored = await over_quota.application(application_id)
    assert stored.eligibility is not None
    assert stored.eligibility["figures"] == {
        "counted": "7",
        "required": "3.0",
        "excess": "4",
        "amount": "39600.00",
        "city_share": "19800.00",
        "county_share": "19800.00",
    }
    # The submitter's own account may not decide; another county's official may not either.
    for actor, refused in (
        (Actor(EMPLOYER.username, ["county_dpf"], "150203"), FORBIDDEN),
        (DPF_OTHER_COUNTY, FORBIDDEN),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as error:
            await over_quota.decide(handle, actor)
        assert refusal_type(error.value) == refused
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await over_quota.decide(handle, DPF_A, "return", reason="more papers")
    assert refusal_type(error.value) == INVALID
    result = await over_quota.decide(handle, DPF_A)
    assert result.status == "approved"
    assert await handle.result() == "completed"
    rows = await over_quota.ledger(application_id)
    assert [(row.period, row.funder, row.amount) for row in rows] == [
        (f"{year}-12", "city", Decimal("19800.00")),
        (f"{year}-12", "county", Decimal("19800.00")),
    ]
    (decision,) = await over_quota.decisions(application_id)
    assert decision.values == {
        "quota_ratio": "0.015",
        "fraction_rule": "whole_persons",
        "counted": "7",
        "required": "3.0",
        "excess": "4",
        "amount": "39600.00",
        "city_share": "19800.00",
        "county_share": "19800.00",
        "minimum_wage_monthly": "1980.00",
        "minimum_wage_tier": "1",
        "minimum_wage_standard": "nmg-2021",
        "minimum_wage_day": f"{year}-12-31",
    }
    assert await over_quota.records(application_id) == sorted(
        (number, "counted", f"{year:04d}", "granted") for number in employees
    )
    # A retried payment posts nothing more.
    again = await ProcedureActivities(over_quota.sessions).post_payment(
        PaymentInput(
            application_id=application_id,
            program="over_quota_reward",
            county="150203",
            period=f"{year}-12",
            amount=Decimal("39600.00"),
            city_share=Decimal("19800.00"),
            county_share=Decimal("19800.00"),
        )
    )
    assert again.rows_posted == 0
    assert total(await over_quota.ledger(application_id)) == Decimal("39600.00")


async def test_7_counted_against_3_21_required_rewards_3_whole_persons(over_quota: OverQuotaHarness) -> None:
    year = await over_quota.last_year()
    # 214 staff × 1.5 % = 3.21: 7 − 3.21 = 3.79, of which 3 whole persons.
    application_id, handle = await over_quota.submit(claim(people(5), year=year, grades=(1, 2), staff_total=214))
    view = await over_quota.settled(handle)
    assert view.figures is not None
    assert (view.figures.counted, view.figures.required, view.figures.excess, view.figures.amount) == (
        7,
        Decimal("3.210"),
        3,
        Decimal("29700.00"),
    )
    await over_quota.decide(handle, DPF_B)
    assert await handle.result() == "completed"
    assert total(await over_quota.ledger(application_id)) == Decimal("29700.00")


async def test_an_excess_of_exactly_0_is_refused_and_one_person_above_is_rewarded(
    over_quota: OverQuotaHarness,
) -> None:
    year = await over_quota.last_year()
    at_quota, at_handle = await over_quota.submit(claim(people(3), year=year))
    assert await at_handle.result() == "rejected"
    stored = await over_quota.application(at_quota)
    assert stored.eligibility is not None and stored.eligibility["reasons"] == ["no_excess"]
    assert stored.eligibility["figures"]["excess"] == "0"
    assert await over_quota.tasks(at_quota) == []
    above, above_handle = await over_quota.submit(claim(people(4), year=year))
    view = await over_quota.settled(above_handle)
    assert view.status == "under_review" and view.figures is not None
    assert (view.figures.excess, view.figures.amount) == (1, Decimal("9900.00"))


@pytest.mark.parametrize(
    ("unit_kind", "reason"),
    [("state_funded", "state_funded_unit_excluded"), ("concentrated_placement", "concentrated_placement_excluded")],
)
async def test_excluded_units_are_refused(over_quota: OverQuotaHarness, unit_kind: str, reason: str) -> None:
    year = await over_quota.last_year()
    application_id, handle = await over_quota.submit(claim(people(5), year=year, grades=(2, 2), unit_kind=unit_kind))
    assert await handle.result() == "rejected"
    stored = await over_quota.application(application_id)
    assert stored.status == "rejected" and stored.eligibility is not None
    assert stored.eligibility["reasons"] == [reason]
    assert await over_quota.tasks(application_id) == [] and await over_quota.ledger(application_id) == []


async def test_the_current_year_is_not_over_and_is_refused(over_quota: OverQuotaHarness) -> None:
    year = (await over_quota.today()).year
    application_id, handle = await over_quota.submit(claim(people(5), year=year, grades=(2, 2)))
    assert await handle.result() == "rejected"
    stored = await over_quota.application(application_id)
    assert stored.eligibility is not None and stored.eligibility["reasons"] == ["year_not_ended"]


async def test_a_year_without_a_minimum_wage_standard_for_the_county_is_refused(
    over_quota: OverQuotaHarness,
) -> None:
    # The first standard stored (nmg-2021) is in force from 2021-12-01: on 31 December 2020 none names the county.
    application_id, handle = await over_quota.submit(claim(people(5), year=2020, grades=(2, 2)))
    assert await handle.result() == "rejected"
    stored = await over_quota.application(application_id)
    assert stored.eligibility is not None and stored.eligibility["reasons"] == ["no_minimum_wage_for_date"]
    assert stored.eligibility["minimum_wage"] is None
    # The year after has one: the standard of 2021-12-01 is in force on 2021-12-31.
    _, later = await over_quota.submit(claim(people(5), year=2021, grades=(2, 2)))
    view = await over_quota.settled(later)
    assert view.status == "under_review" and view.wage is not None and view.wage.monthly == Decimal("1980.00")


# --- one person, one employer's claim a year ------------------------------------------------------------------------


async def test_an_employee_counted_by_the_first_approved_claim_is_not_counted_again(
    over_quota: OverQuotaHarness,
) -> None:
    year = await over_quota.last_year()
    shared = people(2)  # grade 2, each counting two
    first_id, first = await over_quota.submit(claim([*shared, *people(3)], year=year, grades=(2, 2)))
    second_id, second = await over_quota.submit(
        claim([*shared, *people(4)], year=year, grades=(2, 2)), submitted_by=OTHER_EMPLOYER
    )
    # Both were counted in full at submission: neither was approved yet.
    for handle in (first, second):
        view = await over_quota.settled(handle)
        assert view.figures is not None and all(line.counted for line in view.lines)
    await over_quota.decide(first, DPF_A)
    await over_quota.reaches(first_id, "completed")
    # The second's approval counts again under the locks: the shared two belong to the first.
    result = await over_quota.decide(second, DPF_A)
    assert result.status == "approved"
    assert await second.result() == "completed"
    (decision,) = await over_quota.decisions(second_id)
    # 8 counted at submission (−3.0 → 5); the two shared grade-2 employees out: 4 − 3.0 → 1.
    assert (decision.values["counted"], decision.values["excess"], decision.values["amount"]) == ("4", "1", "9900.00")
    assert total(await over_quota.ledger(second_id)) == Decimal("9900.00")
    assert total(await over_quota.ledger(first_id)) == Decimal("39600.00")
    stored = await over_quota.application(second_id)
    assert stored.eligibility is not None
    assert [(e["line"], e["counted"], e["reason"]) for e in stored.eligibility["approved"]["employees"][:3]] == [
        (1, False, "counted_by_another_employer"),
        (2, False, "counted_by_another_employer"),
        (3, True, None),
    ]
    # A claim filed after the first's approval shows them not counted at once.
    third_id, third = await over_quota.submit(
        claim([*shared, *people(4)], year=year, grades=(2, 2)), submitted_by=OTHER_EMPLOYER
    )
    view = await over_quota.settled(third)
    assert [line.reason for line in view.lines[:2]] == ["counted_by_another_employer"] * 2
    assert view.figures is not None and view.figures.counted == 4 and view.figures.amount == Decimal("9900.00")
    # Another year is another count.
    _, earlier_year = await over_quota.submit(claim(shared, year=year - 1, grades=(2, 2)), submitted_by=OTHER_EMPLOYER)
    view = await over_quota.settled(earlier_year)
    assert view.figures is not None and view.figures.counted == 4 and all(line.counted for line in view.lines)


async def test_an_approval_left_without_excess_is_refused_with_409_and_can_be_rejected(
    over_quota: OverQuotaHarness,
) -> None:
    year = await over_quota.last_year()
    shared = people(2)
    first_id, first = await over_quota.submit(claim([*shared, *people(1)], year=year, grades=(2, 2)))
    second_id, second = await over_quota.submit(
        claim([*shared, *people(1)], year=year, grades=(2, 2)), submitted_by=OTHER_EMPLOYER
    )
    await over_quota.settled(second)
    await over_quota.decide(first, DPF_A)
    await over_quota.reaches(first_id, "completed")
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await over_quota.decide(second, DPF_B)
    assert refusal_type(error.value) == CONFLICT
    assert "no_excess" in str(error.value.cause)
    view = await over_quota.view(second)
    assert view.status == "under_review" and view.open_task_id is not None
    assert view.figures is not None and view.figures.counted == 1 and view.figures.excess == 0
    assert await over_quota.records(second_id) == []
    await over_quota.decide(second, DPF_B, "reject", reason="no_excess: counted for another employer")
    assert await second.result() == "rejected"
    (decision,) = await over_quota.decisions(second_id)
    assert decision.decision == "reject" and decision.values["counted"] == "1" and decision.values["excess"] == "0"
    assert await over_quota.ledger(second_id) == []


# --- withdrawal and rejection ---------------------------------------------------------------------------------------


async def test_the_employer_withdraws_a_claim_under_review(over_quota: OverQuotaHarness) -> None:
    year = await over_quota.last_year()
    application_id, handle = await over_quota.submit(claim(people(5), year=year, grades=(2, 2)))
    await over_quota.open_task(handle)
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await handle.execute_update("event", OverQuotaEventInput("withdrawn", OTHER_EMPLOYER))
    assert refusal_type(error.value) == FORBIDDEN
    await handle.execute_update("event", OverQuotaEventInput("withdrawn", EMPLOYER))
    assert await handle.result() == "withdrawn"
    (task,) = await over_quota.tasks(application_id)
    assert task.status == "cancelled"
    assert await over_quota.ledger(application_id) == [] and await over_quota.records(application_id) == []


async def test_a_rejection_needs_a_reason_and_records_the_figures(over_quota: OverQuotaHarness) -> None:
    year = await over_quota.last_year()
    application_id, handle = await over_quota.submit(claim(people(5), year=year, grades=(2, 2)))
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await over_quota.decide(handle, DPF_A, "reject")
    assert refusal_type(error.value) == INVALID
    await over_quota.decide(handle, DPF_A, "reject", reason="the staff register does not show these employees")
    assert await handle.result() == "rejected"
    (decision,) = await over_quota.decisions(application_id)
    assert decision.values["amount"] == "39600.00" and decision.values["minimum_wage_monthly"] == "1980.00"
    async with over_quota.sessions() as session:
        kinds = (
            await session.scalars(
                select(AuditRecord.kind).where(AuditRecord.application_id == uuid.UUID(application_id))
            )
        ).all()
    assert "eligibility" in kinds and "decision" in kinds
    assert await over_quota.ledger(application_id) == [] and await over_quota.records(application_id) == []
