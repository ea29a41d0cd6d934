"""Years subsidised before the service, from the federation's paper register: recorded by a County DPF official.

Each year is a `granted` record of the person registry (kind `subsidised`, no application, the register's volume
and page as its source, the official's own county as its county), so it counts towards `max_years_per_person` and
a claim of that year is refused as already claimed. A year held already (by the register or an application) is
left as it is and answered as `already_held`. Written under the person's row lock (the `person_row` upsert), audited.
Shared by the API route (`api.py`) and the County DPF's page (`pages.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.submission_checks import person_row
from subsidy.db.audit_chain import append_audit
from subsidy.db.person_holds import lock_person
from subsidy.db.person_records import held_records, hold, year_key
from subsidy.programs.blind_massage_insurance_subsidy.contracts import PROGRAM

PRIOR_YEARS_RECORDED = "prior_years_recorded"


@dataclass(frozen=True)
class PriorYears:
    recorded: list[int]
    already_held: list[int]
    held_years: list[int]  # every year the person now holds (granted or claimed), in order


async def record_prior_years(
    session: AsyncSession,
    *,
    id_number: str,
    name: str,
    years: list[int],
    source: str,
    county: str,
    official: str,
) -> PriorYears:
    person_id, _ = await person_row(session, id_number, name)
    await lock_person(session, person_id)
    recorded: list[int] = []
    already: list[int] = []
    for year in sorted(set(years)):
        held = await hold(
            session,
            person_id=person_id,
            program=PROGRAM,
            kind="subsidised",
            key=year_key(year),
            county=county,
            status="granted",
            recorded_by=official,
            year=year,
            source=source,
        )
        (recorded if held else already).append(year)
    await append_audit(
        session,
        kind=PRIOR_YEARS_RECORDED,
        actor=official,
        at=datetime.now(UTC),
        # The person's row id, never the ID number: the audit log is read more widely than the registry.
        detail={
            "program": PROGRAM,
            "person_id": str(person_id),
            "county": county,
            "recorded": recorded,
            "already_held": already,
            "source": source,
        },
    )
    return PriorYears(recorded, already, await years_held(session, person_id))


async def years_held(session: AsyncSession, person_id: object) -> list[int]:
    records = await held_records(session, [person_id], PROGRAM)  # type: ignore[list-item]
    return sorted({record.year for record in records if record.year is not None})
