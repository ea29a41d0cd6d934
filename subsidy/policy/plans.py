"""The plans' targets and actions as data: what the annual report measures the figures against.

A plan has a jurisdiction (division code), a period, its source document, measures with targets (each measure one
of the report's figures: `new_employment`, `persons_trained`), the day its counties report each year, and actions
(seed 002's breakdown: action × target × responsible departments × deadline) whose status officials track. The
shipped plans are `subsidy/policy/shipped/plans.yaml` (seeded by `subsidy migrate`); this module is the pure part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

MEASURES = ("new_employment", "persons_trained")
ACTION_STATUSES = ("not_started", "in_progress", "done")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DIVISION = re.compile(r"^\d{6}$")
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


@dataclass(frozen=True)
class Target:
    measure: str
    target: int
    text: str  # the plan's own words for it


@dataclass(frozen=True)
class Action:
    number: int
    title: str
    target_text: str
    departments: str
    deadline: str  # the plan's words: 全年 (every year), a date...


@dataclass(frozen=True)
class Plan:
    code: str
    jurisdiction: str
    jurisdiction_name: str
    title: str
    period_from: date
    period_to: date
    source: str
    description: str
    # The day (MM-DD) each year by which counties report to the city; None when the plan names none.
    report_due: str | None
    targets: tuple[Target, ...] = ()
    actions: tuple[Action, ...] = ()

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code):
            raise ValueError(f"code: {self.code!r} is not a plan's code")
        if not _DIVISION.fullmatch(self.jurisdiction):
            raise ValueError(f"jurisdiction: {self.jurisdiction!r} is not a six-digit division code")
        if self.period_to < self.period_from:
            raise ValueError("period_to: a plan cannot end before it starts")
        if self.report_due is not None and not _MONTH_DAY.fullmatch(self.report_due):
            raise ValueError("report_due: MM-DD, e.g. 11-30")
        for target in self.targets:
            if target.measure not in MEASURES:
                raise ValueError(f"targets: {target.measure!r} is not a measure ({', '.join(MEASURES)})")
            if target.target <= 0:
                raise ValueError("targets: a target is a whole number above zero")

    def elapsed_share(self, on: date) -> Decimal:
        """The share of the plan's period that has passed on `on` (0 before it, 1 after it), to 0.001."""
        if on < self.period_from:
            return Decimal("0.000")
        if on >= self.period_to:
            return Decimal("1.000")
        days = (self.period_to - self.period_from).days + 1
        return (Decimal((on - self.period_from).days + 1) / Decimal(days)).quantize(Decimal("0.001"))

    def report_due_on(self, year: int) -> date | None:
        if self.report_due is None:
            return None
        month, day = (int(part) for part in self.report_due.split("-"))
        return date(year, month, day)


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError(f"{where}: a date, YYYY-MM-DD")


def plan_from_data(data: Mapping[str, Any]) -> Plan:
    return Plan(
        code=str(data["code"]),
        jurisdiction=str(data["jurisdiction"]),
        jurisdiction_name=str(data["jurisdiction_name"]),
        title=str(data["title"]),
        period_from=_date(data["period_from"], "period_from"),
        period_to=_date(data["period_to"], "period_to"),
        source=str(data["source"]),
        description=str(data.get("description", "")),
        report_due=str(data["report_due"]) if data.get("report_due") else None,
        targets=tuple(
            Target(str(t["measure"]), int(t["target"]), str(t.get("text", ""))) for t in data.get("targets") or ()
        ),
        actions=tuple(
            Action(
                int(a["number"]),
                str(a["title"]),
                str(a.get("target_text", "")),
                str(a.get("departments", "")),
                str(a.get("deadline", "")),
            )
            for a in data.get("actions") or ()
        ),
    )


def read_plans(text: str) -> tuple[Plan, ...]:
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping) or not isinstance(data.get("plans"), list):
        raise ValueError("a plans file has a list of `plans`")
    return tuple(plan_from_data(item) for item in data["plans"])


def shipped_plans() -> tuple[Plan, ...]:
    return read_plans((resources.files("subsidy.policy") / "shipped" / "plans.yaml").read_text(encoding="utf-8"))
