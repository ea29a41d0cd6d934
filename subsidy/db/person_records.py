"""The person registry across programs: who is counted, referred or subsidised where, and for which year.

A program that limits a person across applications, employers or agencies writes here, and reads here, under the
person's row lock (`person_holds.lock_person`), the same lock as program P's exclusivity (DESIGN.md §8):

- an employee counted for an employer's over-quota reward of a year (`counted`), granted when the reward is
  approved: a person counts for one employer's claim per year, the first approved;
- a referral into an employment (`referred`: the employer's credit code and the contract's start), claimed when the
  agency files it: one reward per person and employment, whichever agency claims it first;
- a year of the blind massage practitioners' insurance subsidy (`subsidised`), claimed when the practitioner files
  it; years subsidised before the service, from the federation's paper register, are recorded by a County DPF
  official (no application) and count towards the limit of years like the others;
- a graduate hire (`employed`), granted when the subsidy is approved, so that the person page shows it.

A record is `claimed` (an application pending), `granted` (approved, or recorded from the register) or `released`
(the application ended unpaid, or the register entry was withdrawn). One partial unique index keeps a `key` (the
year, or the employment) from being held twice for a person and program: the database, not only the code, refuses
the second claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, func, select, text, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from subsidy.db.models import Base

RECORD_KINDS = ("counted", "referred", "subsidised", "employed")
HELD = ("claimed", "granted")


class PersonProgramRecord(Base):
    __tablename__ = "person_program_records"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    program: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(12))
    # What may be held once per person and program: the year ("2025"), or an employment ("<credit code>:<start>").
    key: Mapped[str] = mapped_column(String(64))
    year: Mapped[int | None] = mapped_column(Integer)
    # The employer that counts or employs the person (a credit code), when there is one.
    organisation: Mapped[str | None] = mapped_column(String(18))
    started_on: Mapped[date | None] = mapped_column(Date)
    # None for a year recorded from the federation's register before the service.
    application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id"))
    county: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(12))
    # "application", or the register entry's source (the paper register's volume and page).
    source: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index(
            "one_held_record_per_person_program_key",
            "person_id",
            "program",
            "key",
            unique=True,
            postgresql_where=text("status IN ('claimed', 'granted')"),
        ),
        Index("ix_person_program_records_application", "application_id"),
        Index("ix_person_program_records_person", "person_id", "program"),
    )


def year_key(year: int) -> str:
    return f"{year:04d}"


def employment_key(organisation: str, started_on: date) -> str:
    return f"{organisation}:{started_on.isoformat()}"


async def held_records(
    session: AsyncSession,
    person_ids: Sequence[uuid.UUID],
    program: str,
    *,
    keys: Sequence[str] | None = None,
    statuses: Sequence[str] = HELD,
    exclude_application: uuid.UUID | None = None,
) -> list[PersonProgramRecord]:
    """The records of `program` held for these people (the caller holds their row locks)."""
    if not person_ids:
        return []
    query = select(PersonProgramRecord).where(
        PersonProgramRecord.person_id.in_(person_ids),
        PersonProgramRecord.program == program,
        PersonProgramRecord.status.in_(statuses),
    )
    if keys is not None:
        query = query.where(PersonProgramRecord.key.in_(keys))
    if exclude_application is not None:
        query = query.where(
            (PersonProgramRecord.application_id.is_(None)) | (PersonProgramRecord.application_id != exclude_application)
        )
    return list(await session.scalars(query.order_by(PersonProgramRecord.recorded_at)))


async def hold(
    session: AsyncSession,
    *,
    person_id: uuid.UUID,
    program: str,
    kind: str,
    key: str,
    county: str,
    status: str,
    recorded_by: str,
    application_id: uuid.UUID | None = None,
    year: int | None = None,
    organisation: str | None = None,
    started_on: date | None = None,
    source: str = "application",
) -> bool:
    """Hold `key` for the person; False when it is held already (by another application, or the register)."""
    assert kind in RECORD_KINDS and status in HELD
    inserted = await session.scalar(
        insert(PersonProgramRecord)
        .values(
            id=uuid.uuid4(),
            person_id=person_id,
            program=program,
            kind=kind,
            key=key,
            year=year,
            organisation=organisation,
            started_on=started_on,
            application_id=application_id,
            county=county,
            status=status,
            source=source,
            recorded_by=recorded_by,
            recorded_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(
            index_elements=["person_id", "program", "key"], index_where=text("status IN ('claimed', 'granted')")
        )
        .returning(PersonProgramRecord.id)
    )
    return inserted is not None


async def grant_claims(session: AsyncSession, application_id: uuid.UUID) -> int:
    """The application's claims become granted (it was approved)."""
    result = await session.execute(
        update(PersonProgramRecord)
        .where(PersonProgramRecord.application_id == application_id, PersonProgramRecord.status == "claimed")
        .values(status="granted")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_claims(session: AsyncSession, application_id: uuid.UUID) -> int:
    """The application's records are given back (it ended unpaid): another application may hold them."""
    result = await session.execute(
        update(PersonProgramRecord)
        .where(PersonProgramRecord.application_id == application_id, PersonProgramRecord.status.in_(HELD))
        .values(status="released")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
