"""A workflow started from a version stored before some parameters existed runs on their defaults, keeps the values
that are there, and replays from its history (which holds the version as it was stored)."""

from __future__ import annotations

from decimal import Decimal

from subsidy.api.audit import fetch_runs, replay
from subsidy.policy.versions import version_in_force, version_to_json
from subsidy.policy.workdays import add_working_days
from subsidy.workflows.common import end_of_day
from subsidy.workflows.contracts import WorkflowView
from tests.calendars import database_calendar
from tests.policy.test_version_defaults import without
from tests.workflows.conftest import DPF_B, RentHarness


async def test_a_rent_subsidy_runs_on_a_version_stored_without_later_parameters(rent: RentHarness) -> None:
    today = await rent.today()
    version = version_in_force(today)
    assert version is not None and version.code == "baotou-2025"
    stored = without(
        version_to_json(version),
        "rent.review_due_working_days",
        "rent.pro_rata_partial_months",
        "placement",
        "training",
    )
    stored["rent"]["monthly_cap"] = "800.00"  # a present value is kept
    stated = {**stored, "rent": {**stored["rent"], "review_due_working_days": 3}}
    calendar = await database_calendar(rent.sessions)

    application_id, handle = await rent.submit(policy=stored, monthly_rent="1200.00")
    task = await rent.open_task(application_id)
    assert task.due_at == end_of_day(add_working_days(today, 10, calendar)) and not task.due_is_estimate
    await rent.decide(handle, task.id, DPF_B, values={"monthly_rent": "1200.00"})
    months = await rent.schedule(application_id)
    assert len(months) == 36 and {m.amount for m in months} == {Decimal("800.00")}
    assert {(m.city_share, m.county_share) for m in months} == {(Decimal("400.00"), Decimal("400.00"))}
    view = await handle.query("view", result_type=WorkflowView)
    assert (view.status, view.policy_version) == ("active", "baotou-2025")

    other_id, other = await rent.submit(policy=stated, monthly_rent="1200.00")
    other_task = await rent.open_task(other_id)
    assert other_task.due_at == end_of_day(add_working_days(today, 3, calendar))

    for finished in (handle, other):
        await finished.terminate("the pinned parameters were all this test needed")
    runs = [run.history for run in await fetch_runs(rent.env.client, handle.id)]
    report = await replay(runs)
    assert report.deterministic, report.error
