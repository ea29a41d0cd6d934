"""The database steps of the over-quota employment reward: counting the employees at submission, and holding the
counted ones in the person registry at approval, each under the employees' `people` row locks.

A person counts for one employer's claim per year, the first approved (POLICY.md). Both steps lock every employee's
`people` row in ID-number order (the same order in every transaction, as the training subsidy's enrolment does), then
read who holds a `counted` record of the year in `person_program_records`: two approvals of claims sharing employees
queue on those locks, and the second finds the first's records. Each step runs in one transaction with its audit
record and is idempotent: a retry finds its own work done and answers the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from subsidy.activities.procedure import _now
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, Person
from subsidy.db.person_records import held_records, hold, year_key
from subsidy.policy.versions import OverQuotaParams
from subsidy.programs.over_quota_reward import rules
from subsidy.programs.over_quota_reward.contracts import (
    COUNT_EMPLOYEES,
    HOLD_COUNTED,
    OVER_QUOTA_PROGRAM,
    CountingRule,
    CountOutcome,
    CountRequest,
    EmployeeLine,
    Figures,
    HoldOutcome,
    HoldRequest,
    WageUsed,
)


def params_of(rule: CountingRule) -> OverQuotaParams:
    return replace(
        OverQuotaParams(),
        quota_ratio=rule.quota_ratio,
        severe_grades=tuple(rule.severe_grades),
        severe_counts_as=rule.severe_counts_as,
        fraction_rule=rule.fraction_rule,
        reward_minimum_wage_months=rule.reward_minimum_wage_months,
        city_share=rule.city_share,
    )


def figures_json(figures: Figures) -> dict[str, str]:
    return {
        "counted": str(figures.counted),
        "required": rules.required_text(figures.required),
        "excess": rules.persons_text(figures.excess),
        "amount": str(figures.amount),
        "city_share": str(figures.city_share),
        "county_share": str(figures.county_share),
    }


def wage_json(wage: WageUsed | None) -> dict[str, str] | None:
    if wage is None:
        return None
    return {
        "monthly": str(wage.monthly),
        "tier": str(wage.tier),
        "standard": wage.standard,
        "day": wage.day.isoformat(),
        "document": wage.document,
    }


def lines_json(lines: Sequence[EmployeeLine]) -> list[dict[str, Any]]:
    return [
        {"line": line.line, "counts_as": line.counts_as, "counted": line.counted, "reason": line.reason}
        for line in lines
    ]


class OverQuotaActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def all(self) -> list[Any]:
        return [self.count_employees, self.hold_counted]

    @activity.defn(name=COUNT_EMPLOYEES)
    async def count_employees(self, request: CountRequest) -> CountOutcome:
        """Decide the claim at submission: each employee counted or not, the figures, stored as its eligibility."""
        application_id = uuid.UUID(request.application_id)
        async with self._sessions.begin() as session:
            application = await session.get(Application, application_id)
            assert application is not None
            if application.eligibility is not None:  # a retry after the commit: the claim is already decided
                return _stored_outcome(application.eligibility)
            employees: list[dict[str, str]] = application.form["employees"]
            if request.plan_reasons or request.wage is None:
                outcome = CountOutcome(False, list(request.plan_reasons or [rules.NO_MINIMUM_WAGE_FOR_DATE]))
            else:
                params = params_of(request.rule)
                lines, _person_of = await _lines(session, application_id, employees, request.year, params)
                # The person rows are locked; the application's row after them (DESIGN.md §8).
                await session.get(Application, application_id, with_for_update=True)
                result = _figures(lines, request.staff_total, request.wage, params)
                eligible = result.excess > 0
                outcome = CountOutcome(eligible, [] if eligible else [rules.NO_EXCESS], lines, result)
            detail: dict[str, Any] = {
                "eligible": outcome.eligible,
                "reasons": outcome.reasons,
                "employees": lines_json(outcome.lines),
                "figures": figures_json(outcome.figures) if outcome.figures is not None else None,
                "minimum_wage": wage_json(request.wage),
                "staff_total": request.staff_total,
                "quota_ratio": str(request.rule.quota_ratio),
                "policy_version": request.policy_version,
                "clause": request.clause,
            }
            application.eligibility = detail
            application.policy_version = request.policy_version
            application.status = "under_review" if outcome.eligible else "rejected"
            await append_audit(
                session,
                kind="eligibility",
                actor="system",
                at=_now(),
                application_id=application_id,
                # Lines, never names or ID numbers: the audit log is read far more widely than the form.
                detail=detail,
                dedup_key=f"over_quota_count:{request.application_id}",
            )
            return outcome

    @activity.defn(name=HOLD_COUNTED)
    async def hold_counted(self, request: HoldRequest) -> HoldOutcome:
        """At approval: count again under the locks, and hold the counted lines `granted` when an excess remains."""
        application_id = uuid.UUID(request.application_id)
        params = params_of(request.rule)
        async with self._sessions.begin() as session:
            application = await session.get(Application, application_id)
            assert application is not None
            employees: list[dict[str, str]] = application.form["employees"]
            lines, person_of = await _lines(session, application_id, employees, request.year, params)
            result = _figures(lines, request.staff_total, request.wage, params)
            if result.excess <= 0:
                return HoldOutcome(False, lines, result)
            for line in lines:
                if line.counted:
                    # False only on a retry: this application holds it already (another's hold was read above).
                    await hold(
                        session,
                        person_id=person_of[employees[line.line - 1]["id_number"]],
                        program=OVER_QUOTA_PROGRAM,
                        kind="counted",
                        key=year_key(request.year),
                        year=request.year,
                        organisation=request.organisation,
                        county=request.county,
                        status="granted",
                        recorded_by=request.actor,
                        application_id=application_id,
                    )
            stored = await session.get(Application, application_id, with_for_update=True)
            assert stored is not None
            used = {"employees": lines_json(lines), "figures": figures_json(result)}
            stored.eligibility = {**(stored.eligibility or {}), "approved": used}
            await append_audit(
                session,
                kind="person_records_granted",
                actor=request.actor,
                at=_now(),
                application_id=application_id,
                detail={
                    "records": sum(1 for line in lines if line.counted),
                    "reason": "approved",
                    **used,
                    "minimum_wage": wage_json(request.wage),
                },
                dedup_key=f"over_quota_hold:{request.application_id}",
            )
            return HoldOutcome(True, lines, result)


async def _people(session: AsyncSession, employees: list[dict[str, str]]) -> dict[str, uuid.UUID]:
    """The employees' `people` rows, made where missing and locked, in ID-number order."""
    by_number = sorted({e["id_number"]: e["name"] for e in employees}.items())
    await session.execute(
        insert(Person)
        .values([{"id": uuid.uuid4(), "id_number": number, "name": name} for number, name in by_number])
        .on_conflict_do_nothing(index_elements=[Person.id_number])
    )
    locked = await session.execute(
        select(Person.id_number, Person.id)
        .where(Person.id_number.in_([number for number, _ in by_number]))
        .order_by(Person.id_number)
        .with_for_update()
    )
    return {number: person_id for number, person_id in locked.all()}


async def _lines(
    session: AsyncSession,
    application_id: uuid.UUID,
    employees: list[dict[str, str]],
    year: int,
    params: OverQuotaParams,
) -> tuple[list[EmployeeLine], dict[str, uuid.UUID]]:
    """Each employee counted or not: not when another employer's claim of the year holds them (granted)."""
    person_of = await _people(session, employees)
    held = await held_records(
        session,
        list(person_of.values()),
        OVER_QUOTA_PROGRAM,
        keys=[year_key(year)],
        statuses=("granted",),
        exclude_application=application_id,
    )
    taken = {record.person_id for record in held}
    lines: list[EmployeeLine] = []
    for line, employee in enumerate(employees, start=1):
        weight = rules.counts_as(int(employee["disability_cert_number"][19]), params)
        if person_of[employee["id_number"]] in taken:
            lines.append(EmployeeLine(line, weight, False, rules.COUNTED_BY_ANOTHER_EMPLOYER))
        else:
            lines.append(EmployeeLine(line, weight, True))
    return lines, person_of


def _figures(lines: Sequence[EmployeeLine], staff_total: int, wage: WageUsed, params: OverQuotaParams) -> Figures:
    found = rules.figures((line.counts_as for line in lines if line.counted), staff_total, wage.monthly, params)
    return Figures(found.counted, found.required, found.excess, found.amount, found.city_share, found.county_share)


def _stored_outcome(stored: dict[str, Any]) -> CountOutcome:
    lines = [
        EmployeeLine(int(e["line"]), int(e["counts_as"]), bool(e["counted"]), e.get("reason"))
        for e in stored.get("employees", [])
    ]
    found = stored.get("figures")
    figures = (
        Figures(
            int(found["counted"]),
            Decimal(found["required"]),
            Decimal(found["excess"]),
            Decimal(found["amount"]),
            Decimal(found["city_share"]),
            Decimal(found["county_share"]),
        )
        if found
        else None
    )
    return CountOutcome(bool(stored["eligible"]), list(stored["reasons"]), lines, figures)
