"""The local monthly minimum wage (当地月最低工资标准), as dated data: several rewards are multiples of it.

Inner Mongolia sets one standard for the whole region at a time, by tier (档) of banner or county; each standard has
its document, the day it takes effect, an amount per tier and the tier of every county it names. A claim uses the
standard in force on the day its rule names (each program says which day); a day before every standard, or a
county no standard in force names, has none, and the claim is refused rather than paid an invented amount.

Standards live in the database (`minimum_wage_standards`, seeded by migration 0016 with the shipped file below and
loaded by `subsidy minimum-wage load FILE`), so a later adjustment applies to every claim dated after it, including
the later years of a subsidy approved before it was published. This module is the pure part: the file's schema and
the choice of the standard in force.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from subsidy.policy.money import to_money

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_COUNTY = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class MinimumWageStandard:
    code: str
    region: str  # the division code of the region that sets it, e.g. 150000 (Inner Mongolia)
    document: str
    valid_from: date
    # What it is and what in it is an assumption, for auditors.
    description: str
    monthly_by_tier: Mapping[int, Decimal]
    county_tiers: Mapping[str, int]

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code):
            raise ValueError(f"code: {self.code!r} is not a standard's code (letters, digits, . _ -)")
        if not self.document.strip():
            raise ValueError("document: name the document that sets the standard")
        object.__setattr__(self, "monthly_by_tier", {int(t): to_money(a) for t, a in self.monthly_by_tier.items()})
        object.__setattr__(self, "county_tiers", {str(c): int(t) for c, t in self.county_tiers.items()})
        for amount in self.monthly_by_tier.values():
            if amount <= 0:
                raise ValueError("monthly_by_tier: every amount is above zero")
        for county, tier in self.county_tiers.items():
            if not _COUNTY.fullmatch(county):
                raise ValueError(f"county_tiers: {county!r} is not a six-digit county code")
            if tier not in self.monthly_by_tier:
                raise ValueError(f"county_tiers: county {county} is in tier {tier}, which has no amount")


@dataclass(frozen=True)
class MinimumWage:
    """The standard a claim used: shown with every decision that multiplies it."""

    county: str
    on: date
    tier: int
    monthly: Decimal
    standard: str
    document: str
    valid_from: date


def minimum_wage_on(standards: Iterable[MinimumWageStandard], county: str, day: date) -> MinimumWage | None:
    """The county's monthly minimum wage on `day`: the newest standard in force that day which names the county."""
    in_force = [s for s in standards if s.valid_from <= day and county in s.county_tiers]
    if not in_force:
        return None
    standard = max(in_force, key=lambda s: s.valid_from)
    tier = standard.county_tiers[county]
    return MinimumWage(
        county=county,
        on=day,
        tier=tier,
        monthly=standard.monthly_by_tier[tier],
        standard=standard.code,
        document=standard.document,
        valid_from=standard.valid_from,
    )


def standard_from_data(data: Mapping[str, Any]) -> MinimumWageStandard:
    """A standard from a file's mapping; every key named, money as text, dates as YYYY-MM-DD."""
    known = {"code", "region", "document", "valid_from", "description", "monthly_by_tier", "county_tiers"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown}")
    missing = sorted(known - set(data))
    if missing:
        raise ValueError(f"missing keys {missing}")
    amounts = data["monthly_by_tier"]
    if not isinstance(amounts, Mapping) or any(isinstance(a, float) for a in amounts.values()):
        raise ValueError("monthly_by_tier: amounts are quoted text, e.g. '1980.00'")
    valid_from = data["valid_from"]
    if isinstance(valid_from, str):
        valid_from = date.fromisoformat(valid_from)
    if not isinstance(valid_from, date):
        raise ValueError("valid_from: a date, YYYY-MM-DD")
    return MinimumWageStandard(
        code=str(data["code"]),
        region=str(data["region"]),
        document=str(data["document"]),
        valid_from=valid_from,
        description=str(data["description"]),
        monthly_by_tier={int(tier): to_money(str(amount)) for tier, amount in amounts.items()},
        county_tiers={str(county): int(tier) for county, tier in dict(data["county_tiers"]).items()},
    )


def read_standards(text: str) -> tuple[MinimumWageStandard, ...]:
    """The standards of a YAML file: a list under `standards`."""
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping) or not isinstance(data.get("standards"), list):
        raise ValueError("a minimum wage file has a list of `standards`")
    return tuple(standard_from_data(item) for item in data["standards"])


def standard_to_json(standard: MinimumWageStandard) -> dict[str, Any]:
    return {
        "code": standard.code,
        "region": standard.region,
        "document": standard.document,
        "valid_from": standard.valid_from.isoformat(),
        "description": standard.description,
        "monthly_by_tier": {str(tier): str(amount) for tier, amount in standard.monthly_by_tier.items()},
        "county_tiers": dict(standard.county_tiers),
    }


def shipped_standards() -> tuple[MinimumWageStandard, ...]:
    text = (resources.files("subsidy.policy") / "shipped" / "minimum-wage.yaml").read_text(encoding="utf-8")
    return read_standards(text)
