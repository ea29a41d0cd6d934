"""A version loaded and approved in the database is what the rent subsidy workflow pins, from its first day only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api import policy_versions, procedures
from subsidy.db.models import PolicyVersionRow
from subsidy.programs.rent_subsidy.rules import add_months
from tests.workflows.conftest import DPF_B, RentHarness


async def test_rent_cap_1200_from_next_month_is_pinned_by_applications_from_that_day(
    rent: RentHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first_day = add_months((await rent.today()).replace(day=1), 1)  # next month, on the test server's calendar
    day_before = first_day - timedelta(days=1)
    # Loaded, approved and chosen in one transaction that is rolled back: the other tests keep the seeded versions.
    async with sessions() as session:
        in_force = await session.get(PolicyVersionRow, "baotou-2025")
        assert in_force is not None and in_force.valid_to is None
        data = {**in_force.parameters, "code": f"wf-{uuid.uuid4().hex[:12]}", "valid_from": first_day.isoformat()}
        data["rent"] = {**data["rent"], "monthly_cap": "1200.00"}
        version = policy_versions.check_file(data)
        await policy_versions.load_version(session, version, loaded_by="admin-a", roles=("admin",), source="test")
        assert await procedures.policy_in_force(session, first_day) == in_force.parameters  # pending: not yet
        await policy_versions.approve_version(session, version.code, username="city-a", roles=("city_dpf",))
        before = await procedures.policy_in_force(session, day_before)
        after = await procedures.policy_in_force(session, first_day)
        await session.rollback()
    assert before is not None and after is not None
    assert (before["code"], before["rent"]["monthly_cap"]) == ("baotou-2025", "1000.00")
    assert (after["code"], after["rent"]["monthly_cap"]) == (version.code, "1200.00")

    for applied_on, policy, cap in ((day_before, before, "1000.00"), (first_day, after, "1200.00")):
        application_id, handle = await rent.submit(
            applied_on=applied_on, policy=policy, monthly_rent="1500.00", license_date=add_months(applied_on, -13)
        )
        task = await rent.open_task(application_id)
        await rent.decide(handle, task.id, DPF_B, values={"monthly_rent": "1500.00"})
        months = await rent.schedule(application_id)
        assert len(months) == 36 and {m.amount for m in months} == {Decimal(cap)}
        assert {(m.city_share, m.county_share) for m in months} == {(Decimal(cap) / 2, Decimal(cap) / 2)}
        await handle.terminate("the schedule was all this test needed")
