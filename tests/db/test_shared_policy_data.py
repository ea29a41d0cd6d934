"""The shared data of the newer programs, in PostgreSQL: the minimum wage standards seeded and loaded, and the
person registry holding a year or an employment once per person and program."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.audit_chain import verify_chain
from subsidy.db.minimum_wages import MinimumWageStandardRow, minimum_wage, store_standard
from subsidy.db.models import Person
from subsidy.db.person_records import (
    PersonProgramRecord,
    employment_key,
    held_records,
    hold,
    release_claims,
    year_key,
)
from subsidy.policy.minimum_wage import MinimumWageStandard
from subsidy.service.seed import seed_policies


async def test_the_shipped_standard_is_seeded_once_and_a_later_one_applies_from_its_day(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_policies(sessions)  # a second seeding adds nothing
    code = f"test-{uuid.uuid4().hex[:8]}"
    later = MinimumWageStandard(
        code=code,
        region="150000",
        document="a later adjustment (test data)",
        valid_from=date(2099, 1, 1),
        description="test",
        monthly_by_tier={1: Decimal("3000.00")},
        county_tiers={"150205": 1},
    )
    async with sessions.begin() as session:
        assert await store_standard(session, later, loaded_by="admin-a")
        assert not await store_standard(session, later, loaded_by="admin-a")  # stored ones never change
    async with sessions() as session:
        shipped = await session.scalars(
            select(MinimumWageStandardRow.code).where(MinimumWageStandardRow.code == "nmg-2021")
        )
        assert list(shipped) == ["nmg-2021"]
        before = await minimum_wage(session, "150205", date(2098, 12, 31))
        after = await minimum_wage(session, "150205", date(2099, 1, 1))
        assert before is not None and before.monthly == Decimal("1980.00")
        assert after is not None and (after.monthly, after.standard) == (Decimal("3000.00"), code)
        assert await minimum_wage(session, "150205", date(2021, 11, 30)) is None
        assert await verify_chain(session)


async def _person(session: AsyncSession) -> uuid.UUID:
    person_id = uuid.uuid4()
    session.add(Person(id=person_id, id_number=f"9{uuid.uuid4().int % 10**17:017d}", name="测试"))
    await session.flush()
    return person_id


async def test_a_year_is_held_once_per_person_and_program_until_released(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        person = await _person(session)
        common = dict(person_id=person, program="blind_massage_insurance_subsidy", kind="subsidised", county="150203")
        assert await hold(session, **common, key=year_key(2024), year=2024, status="granted", recorded_by="dpf")
        assert not await hold(session, **common, key=year_key(2024), year=2024, status="claimed", recorded_by="x")
        assert await hold(session, **common, key=year_key(2023), year=2023, status="claimed", recorded_by="x")
        # Another program's record of the same year is its own.
        assert await hold(
            session,
            **{**common, "program": "over_quota_reward", "kind": "counted"},
            key=year_key(2024),
            status="granted",
            recorded_by="x",
        )
        held = await held_records(session, [person], "blind_massage_insurance_subsidy")
        assert sorted(r.year for r in held if r.year) == [2023, 2024]
        assert await held_records(session, [person], "blind_massage_insurance_subsidy", keys=[year_key(2022)]) == []


async def test_a_released_employment_can_be_claimed_again(sessions: async_sessionmaker[AsyncSession]) -> None:
    from subsidy.db.models import Application

    async with sessions.begin() as session:
        person = await _person(session)
        application = uuid.uuid4()
        session.add(
            Application(
                id=application,
                program="dispatch_referral_reward",
                status="under_review",
                county="150203",
                submitted_by="agency-a",
                workflow_id=f"application-{application}",
                form={},
                person_id=person,
            )
        )
        await session.flush()
        key = employment_key("91150203MA0E00001Y", date(2025, 3, 1))
        common = dict(person_id=person, program="dispatch_referral_reward", kind="referred", key=key, county="150203")
        assert await hold(session, **common, status="claimed", recorded_by="agency-a", application_id=application)
        assert not await hold(session, **common, status="claimed", recorded_by="agency-b")
        assert await release_claims(session, application) == 1
        assert await hold(session, **common, status="claimed", recorded_by="agency-b")
        statuses = await session.scalars(
            select(PersonProgramRecord.status)
            .where(PersonProgramRecord.person_id == person)
            .order_by(PersonProgramRecord.recorded_at)
        )
        assert list(statuses) == ["released", "claimed"]


async def test_the_command_lists_loads_and_refuses_standards(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    import yaml

    from subsidy.policy.minimum_wage import standard_to_json
    from tests.api.test_calendar_api import _cli

    code = f"cli-{uuid.uuid4().hex[:8]}"
    later = MinimumWageStandard(
        code=code,
        region="150000",
        document="命令行测试标准",
        valid_from=date(2097, 1, 1),
        description="test",
        monthly_by_tier={1: Decimal("2222.00")},
        county_tiers={"150204": 1},
    )
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"standards": [standard_to_json(later)]}, allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("standards:\n  - code: x\n", encoding="utf-8")

    status, output = await _cli("minimum-wage", "list", database_url=database_url)
    assert status == 0 and "nmg-2021" in output and "1: 1980.00 / 2: 1910.00 / 3: 1850.00" in output
    status, output = await _cli("minimum-wage", "load", str(good), database_url=database_url)
    assert status == 0 and f"{code}: loaded" in output
    status, output = await _cli("minimum-wage", "load", str(good), database_url=database_url)
    assert status == 0 and f"{code}: already stored, left unchanged" in output
    status, output = await _cli("minimum-wage", "load", str(bad), database_url=database_url)
    assert status == 1 and "missing keys" in output
    async with sessions() as session:
        found = await minimum_wage(session, "150204", date(2097, 1, 1))
    assert found is not None and found.monthly == Decimal("2222.00")
