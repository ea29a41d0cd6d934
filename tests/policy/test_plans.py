"""The plans as data: the shipped four with their targets and sources, seed 002's actions, the share elapsed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from subsidy.policy.plans import Plan, Target, read_plans, shipped_plans


def test_the_shipped_plans_carry_the_seeds_targets_and_sources() -> None:
    plans = {plan.code: plan for plan in shipped_plans()}
    assert set(plans) == {"baotou-2023-43", "ningjin-2022", "fujian-2022", "liaoning-2022"}
    targets = {code: {t.measure: t.target for t in plan.targets} for code, plan in plans.items()}
    assert targets == {
        "baotou-2023-43": {},
        "ningjin-2022": {"new_employment": 500},
        "fujian-2022": {"new_employment": 35000},
        "liaoning-2022": {"new_employment": 30000, "persons_trained": 45000},
    }
    assert (plans["baotou-2023-43"].report_due_on(2026), plans["ningjin-2022"].report_due_on(2026)) == (
        date(2026, 11, 30),
        date(2026, 11, 10),
    )
    assert plans["liaoning-2022"].source == "004_2a4d6ed644893453.txt"
    actions = plans["baotou-2023-43"].actions
    assert [a.number for a in actions] == list(range(1, 11))
    assert actions[7].title == "实施盲人就业拓展行动" and actions[7].deadline == "全年"
    assert actions[0].departments.startswith("区委组织部")


def test_the_share_of_the_period_elapsed_runs_from_0_to_1() -> None:
    plan = Plan(
        "p",
        "150200",
        "包头市",
        "t",
        date(2022, 1, 1),
        date(2024, 12, 31),
        "s",
        "d",
        None,
        (Target("new_employment", 1, ""),),
    )
    assert plan.elapsed_share(date(2021, 12, 31)) == Decimal("0.000")
    assert plan.elapsed_share(date(2022, 1, 1)) == Decimal("0.001")
    assert plan.elapsed_share(date(2023, 12, 31)) == Decimal("0.666")  # 730 of 1096 days
    assert plan.elapsed_share(date(2024, 12, 31)) == Decimal("1.000")
    assert plan.elapsed_share(date(2030, 1, 1)) == Decimal("1.000")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("jurisdiction: '1502'", "six-digit"),
        ("period_to: '2021-01-01'", "cannot end before"),
        ("report_due: '11-31x'", "MM-DD"),
        ("targets: [{measure: happiness, target: 1}]", "not a measure"),
        ("targets: [{measure: new_employment, target: 0}]", "above zero"),
    ],
)
def test_a_bad_plan_is_refused_naming_what_is_wrong(change: str, problem: str) -> None:
    base = {
        "code": "x",
        "jurisdiction": "'150200'",
        "jurisdiction_name": "包头市",
        "title": "t",
        "period_from": "'2022-01-01'",
        "period_to": "'2024-12-31'",
        "source": "s",
    }
    key = change.split(":")[0]
    lines = [f"    {k}: {v}" for k, v in base.items() if k != key] + [f"    {change}"]
    text = "plans:\n  -\n" + "\n".join(lines) + "\n"
    with pytest.raises(ValueError, match=problem):
        read_plans(text)
