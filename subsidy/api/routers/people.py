"""One person across every program, over HTTP: `GET /api/v1/people/{person_id}` (subsidy/api/person_view.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from subsidy.api.deps import CurrentUser, ResourcesDep, SessionDep
from subsidy.api.errors import documented
from subsidy.api.person_view import person_record, visible_person
from subsidy.api.routers.payments import RecoveryOut, recovery_out
from subsidy.api.schemas import MoneyOut

router = APIRouter(prefix="/api/v1", tags=["people"])


class PersonApplicationOut(BaseModel):
    id: str
    program: str
    status: str
    county: str
    submitted_at: datetime
    relation: str = Field(description="own: the person's application | trainee: a class the person attends")
    enrolment: str | None = Field(None, description="the trainee's enrolment status (training classes)")


class PersonTaskOut(BaseModel):
    id: str
    application_id: str
    program: str
    step: str
    role: str
    county: str | None
    status: str
    created_at: datetime
    closed_at: datetime | None
    claimed_by: str | None
    decided_by: str | None
    decision: str | None


class PersonPaymentOut(BaseModel):
    reference: str
    application_id: str
    program: str
    period: str
    funder: str
    amount: MoneyOut
    status: str


class LimitOut(BaseModel):
    code: str = Field(description="trainings_this_year | placements | rent_months | blind_massage_years")
    program: str
    used: int
    limit: int | None = Field(description="from the policy version in force today; null when none is")
    pending: int = Field(description="rent months still planned; blind massage years claimed, not yet granted")
    year: int | None = None


class OpeningOut(BaseModel):
    actor: str
    at: datetime


class PersonOut(BaseModel):
    id: str
    name: str
    id_number_masked: str
    applications: list[PersonApplicationOut]
    tasks: list[PersonTaskOut]
    payments: list[PersonPaymentOut]
    recoveries: list[RecoveryOut]
    limits: list[LimitOut]
    due: MoneyOut = Field(description="due so far as the schedules count it: the ledger, less reversals and recoveries")
    paid: MoneyOut = Field(description="confirmed by the bank")
    id_number_shown: list[OpeningOut] | None = Field(
        None, description="who opened the full ID number and when (auditors only; null for anyone else)"
    )


@router.get("/people/{person_id}", response_model=PersonOut, responses=documented(401, 403, 404))
async def get_person(
    person_id: Annotated[str, Path(max_length=64)], identity: CurrentUser, db: SessionDep, res: ResourcesDep
) -> PersonOut:
    """Every application, task, payment, recovery and per-person limit of one person (ID masked): for the
    officials of the person's county, the City DPF, auditors and administrators; 404 for a person the caller may
    not see."""
    person = await visible_person(db, identity, person_id)
    record = await person_record(db, identity, person, res.settings.today())
    return PersonOut(
        id=str(person.id),
        name=person.name,
        id_number_masked=record.id_number_masked,
        applications=[
            PersonApplicationOut(
                id=str(a.id),
                program=a.program,
                status=a.status,
                county=a.county,
                submitted_at=a.submitted_at,
                relation=a.relation,
                enrolment=a.enrolment,
            )
            for a in record.applications
        ],
        tasks=[
            PersonTaskOut(
                id=str(t.id),
                application_id=str(t.application_id),
                program=t.program,
                step=t.step,
                role=t.role,
                county=t.county,
                status=t.status,
                created_at=t.created_at,
                closed_at=t.closed_at,
                claimed_by=t.claimed_by,
                decided_by=t.decided_by,
                decision=t.decision,
            )
            for t in record.tasks
        ],
        payments=[
            PersonPaymentOut(
                reference=p.reference,
                application_id=str(p.application_id),
                program=p.program,
                period=p.period,
                funder=p.funder,
                amount=p.amount,
                status=p.status,
            )
            for p in record.payments
        ],
        recoveries=[recovery_out(r) for r in record.recoveries],
        limits=[
            LimitOut(code=x.code, program=x.program, used=x.used, limit=x.limit, pending=x.pending, year=x.year)
            for x in record.limits
        ],
        due=record.due,
        paid=record.paid,
        id_number_shown=[OpeningOut(actor=o.actor, at=o.at) for o in record.openings]
        if record.openings is not None
        else None,
    )
