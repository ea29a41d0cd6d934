"""One person across every program: who may see it, what it holds, and the limits used so far.

Shared by `GET /api/v1/people/{person_id}` (subsidy/api/routers/people.py) and the page `/people/{person_id}`
(subsidy/api/pages/person_pages.py). Who may see a person: the auditors, the City DPF and the administrators, and
the officials of the person's county (county DPF, county HR, the county's finance officer) — the county of any of
the person's applications, classes attended or register entries. Anyone else with an official's role gets 404 (the
person's existence does not leak); an account without such a role gets 403 whoever is asked for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api import procedures
from subsidy.api.errors import Forbidden, NotFound
from subsidy.api.read_model import mask_id_number, mask_name
from subsidy.api.security import Identity
from subsidy.db.audit_chain import append_audit
from subsidy.db.models import Application, AuditRecord, LedgerEntry, Person, ScheduledPayment, Task
from subsidy.db.payment_models import Payment, Recovery
from subsidy.db.person_holds import TOOK_UP_A_POST
from subsidy.db.person_records import PersonProgramRecord
from subsidy.policy.versions import PolicyVersion, version_from_json
from subsidy.programs.training_subsidy.models import COUNTING_STATUSES, TrainingClass, TrainingEnrolment

CITY_WIDE = ("auditor", "city_dpf", "admin")
COUNTY_OFFICIALS = ("county_dpf", "county_hr", "finance")
ID_SHOWN = "person_id_shown"
RENT = "rent_subsidy"
PLACEMENT = "public_welfare_placement"
TRAINING = "training_subsidy"
BLIND_MASSAGE = "blind_massage_insurance_subsidy"
# A rent month counts as used once it is due (whatever became of its payment), not while it is only planned.
NOT_USED_MONTH = ("planned", "cancelled")
ZERO = Decimal("0.00")


def may_open_people(identity: Identity) -> bool:
    return identity.has(*CITY_WIDE) or (identity.has(*COUNTY_OFFICIALS) and identity.county is not None)


async def person_counties(session: AsyncSession, person_id: uuid.UUID) -> set[str]:
    """The counties of the person's applications, classes attended and register entries."""
    own = select(Application.county).where(Application.person_id == person_id)
    classes = (
        select(TrainingClass.county)
        .join(TrainingEnrolment, TrainingEnrolment.application_id == TrainingClass.application_id)
        .where(TrainingEnrolment.person_id == person_id)
    )
    register = select(PersonProgramRecord.county).where(PersonProgramRecord.person_id == person_id)
    rows = await session.scalars(own.union(classes, register))
    return set(rows.all())


async def visible_person(session: AsyncSession, identity: Identity, person_id: str) -> Person:
    if not may_open_people(identity):
        raise Forbidden("a person's records are for the officials of the person's county, the City DPF and auditors")
    try:
        key = uuid.UUID(person_id)
    except ValueError:
        raise NotFound("no such person") from None
    person = await session.get(Person, key)
    if person is None:
        raise NotFound("no such person")
    if not identity.has(*CITY_WIDE) and identity.county not in await person_counties(session, person.id):
        raise NotFound("no such person")  # the same answer as for no one: existence does not leak
    return person


@dataclass(frozen=True)
class ApplicationLine:
    id: uuid.UUID
    program: str
    status: str
    county: str
    submitted_at: datetime
    # "own": the person's application; "trainee": a class the person attends (its status is the enrolment's).
    relation: str
    enrolment: str | None = None


@dataclass(frozen=True)
class TaskLine:
    id: uuid.UUID
    application_id: uuid.UUID
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


@dataclass(frozen=True)
class PaymentLine:
    reference: str
    application_id: uuid.UUID
    program: str
    period: str
    funder: str
    amount: Decimal
    status: str


@dataclass(frozen=True)
class Limit:
    """One limit of the person: `used` of `limit` (None: no version in force says), with what is pending."""

    code: str
    program: str
    used: int
    limit: int | None
    pending: int = 0
    year: int | None = None


@dataclass(frozen=True)
class Opening:
    actor: str
    at: datetime


@dataclass
class PersonRecord:
    person: Person
    applications: list[ApplicationLine] = field(default_factory=list)
    tasks: list[TaskLine] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    # Who opened the full ID number, for auditors only (None for anyone else).
    openings: list[Opening] | None = None
    # Due so far as the schedules count it: the ledger's rows, less what was reversed or is owed back.
    due: Decimal = ZERO

    @property
    def name_masked(self) -> str:
        return mask_name(self.person.name)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.person.id_number)

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.status == "paid"), ZERO)


async def person_record(session: AsyncSession, identity: Identity, person: Person, today: date) -> PersonRecord:
    record = PersonRecord(person)
    own = (
        await session.scalars(
            select(Application).where(Application.person_id == person.id).order_by(Application.submitted_at)
        )
    ).all()
    record.applications = [ApplicationLine(a.id, a.program, a.status, a.county, a.submitted_at, "own") for a in own]
    attended = (
        await session.execute(
            select(Application, TrainingEnrolment.status)
            .join(TrainingEnrolment, TrainingEnrolment.application_id == Application.id)
            .where(TrainingEnrolment.person_id == person.id)
            .order_by(Application.submitted_at)
        )
    ).all()
    record.applications += [
        ApplicationLine(a.id, a.program, a.status, a.county, a.submitted_at, "trainee", enrolment)
        for a, enrolment in attended
    ]
    own_ids = [a.id for a in own]
    if own_ids:
        tasks = (
            await session.scalars(
                select(Task).where(Task.application_id.in_(own_ids)).order_by(Task.created_at, Task.id)
            )
        ).all()
        record.tasks = [
            TaskLine(
                t.id,
                t.application_id,
                t.program,
                t.step,
                t.role,
                t.county,
                t.status,
                t.created_at,
                t.closed_at,
                t.claimed_by,
                t.decided_by,
                t.decision,
            )
            for t in tasks
        ]
        payments = (
            await session.scalars(
                select(Payment)
                .where(Payment.application_id.in_(own_ids))
                .order_by(Payment.period, Payment.application_id, Payment.funder)
            )
        ).all()
        record.payments = [
            PaymentLine(p.reference, p.application_id, p.program, p.period, p.funder, p.amount, p.status)
            for p in payments
        ]
        record.due = (
            await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), ZERO)).where(LedgerEntry.application_id.in_(own_ids))
            )
            or ZERO
        )
    record.recoveries = list(
        (
            await session.scalars(select(Recovery).where(Recovery.person_id == person.id).order_by(Recovery.created_at))
        ).all()
    )
    record.limits = await limits_used(session, person.id, today)
    if identity.has("auditor"):
        openings = await session.execute(
            select(AuditRecord.actor, AuditRecord.at)
            .where(AuditRecord.kind == ID_SHOWN, AuditRecord.detail["person_id"].astext == str(person.id))
            .order_by(AuditRecord.id)
        )
        record.openings = [Opening(actor, at) for actor, at in openings]
    return record


async def limits_used(session: AsyncSession, person_id: uuid.UUID, today: date) -> list[Limit]:
    """Each per-person limit as the rules count it, against the version in force today."""
    policy = await procedures.policy_in_force(session, today)
    version: PolicyVersion | None = version_from_json(policy) if policy is not None else None
    trainings = await session.scalar(
        select(func.count())
        .select_from(TrainingEnrolment)
        .join(TrainingClass, TrainingClass.application_id == TrainingEnrolment.application_id)
        .where(
            TrainingEnrolment.person_id == person_id,
            TrainingEnrolment.status.in_(COUNTING_STATUSES),
            func.extract("year", TrainingClass.start_date) == today.year,
        )
    )
    placements = await session.scalar(
        select(func.count())
        .select_from(Application)
        .where(
            Application.person_id == person_id,
            Application.program == PLACEMENT,
            Application.status.in_(TOOK_UP_A_POST),
        )
    )
    months = dict(
        (
            await session.execute(
                select(ScheduledPayment.status, func.count())
                .join(Application, Application.id == ScheduledPayment.application_id)
                .where(Application.person_id == person_id, Application.program == RENT)
                .group_by(ScheduledPayment.status)
            )
        ).all()
    )
    years = dict(
        (
            await session.execute(
                select(PersonProgramRecord.status, func.count(func.distinct(PersonProgramRecord.key)))
                .where(
                    PersonProgramRecord.person_id == person_id,
                    PersonProgramRecord.program == BLIND_MASSAGE,
                    PersonProgramRecord.status.in_(("claimed", "granted")),
                )
                .group_by(PersonProgramRecord.status)
            )
        ).all()
    )
    return [
        Limit(
            "trainings_this_year",
            TRAINING,
            int(trainings or 0),
            version.training.max_trainings_per_year if version else None,
            year=today.year,
        ),
        Limit("placements", PLACEMENT, int(placements or 0), version.placement.max_placements if version else None),
        Limit(
            "rent_months",
            RENT,
            sum(int(n) for status, n in months.items() if status not in NOT_USED_MONTH),
            version.rent.max_months if version else None,
            pending=int(months.get("planned", 0)),
        ),
        Limit(
            "blind_massage_years",
            BLIND_MASSAGE,
            int(years.get("granted", 0)),
            version.blind_massage.max_years_per_person if version else None,
            pending=int(years.get("claimed", 0)),
        ),
    ]


async def show_id_number(session: AsyncSession, identity: Identity, person: Person) -> str:
    """The full ID number, for an official who asked for it: each opening is audited."""
    await append_audit(
        session,
        kind=ID_SHOWN,
        actor=identity.username,
        at=datetime.now(UTC),
        detail={"person_id": str(person.id)},
    )
    return person.id_number
