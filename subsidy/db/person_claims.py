"""A claim in the person registry held at submission, before its application row exists, then tied to it.

`admit` runs in the submission's transaction before the application row is written, so the record it holds
(`person_records.hold`) cannot name the application yet: it is held with no application and the source
"application", in the same transaction as the application row. The workflow's first step ties it to its
application (`attach_claim`), under the person's row lock, so that granting and releasing by application find it.
A record held from the federation's register also has no application, but its source is the register's page.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.person_records import PersonProgramRecord, hold

AT_SUBMISSION = "application"


async def attach_claim(
    session: AsyncSession,
    *,
    application_id: uuid.UUID,
    person_id: uuid.UUID,
    program: str,
    kind: str,
    key: str,
    county: str,
    recorded_by: str,
    year: int | None = None,
    organisation: str | None = None,
    started_on: date | None = None,
) -> bool:
    """True when the application holds `key` for the person (tied now, tied before, or held now if nobody does);
    False when another application or the register holds it. The caller holds the person's row lock."""
    await session.execute(
        update(PersonProgramRecord)
        .where(
            PersonProgramRecord.person_id == person_id,
            PersonProgramRecord.program == program,
            PersonProgramRecord.key == key,
            PersonProgramRecord.status == "claimed",
            PersonProgramRecord.application_id.is_(None),
            PersonProgramRecord.source == AT_SUBMISSION,
        )
        .values(application_id=application_id)
    )
    holder = await session.scalar(
        select(PersonProgramRecord.application_id).where(
            PersonProgramRecord.person_id == person_id,
            PersonProgramRecord.program == program,
            PersonProgramRecord.key == key,
            PersonProgramRecord.status.in_(("claimed", "granted")),
        )
    )
    if holder == application_id:
        return True
    if holder is not None:
        return False
    # Nobody holds it (a held record was released meanwhile, or the register's was withdrawn), or only the register
    # (holder None but a row exists): `hold` tells them apart.
    return await hold(
        session,
        person_id=person_id,
        program=program,
        kind=kind,
        key=key,
        county=county,
        status="claimed",
        recorded_by=recorded_by,
        application_id=application_id,
        year=year,
        organisation=organisation,
        started_on=started_on,
    )
