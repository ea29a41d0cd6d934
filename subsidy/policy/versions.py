"""Policy versions: every number of the rules, with the window in which it is in force.

The dataclasses are the schema of every program's parameters and their defaults; the versions themselves are
files (subsidy/policy/shipped/*.yaml, and what an administrator loads). A workflow pins the version in force on
the application date and keeps it to the end, so a version is plain data that travels as JSON (`version_to_json`
/ `version_from_json`) into workflow histories, the database and the audit trail, and comes back identical.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from subsidy.policy.money import to_money

__all__ = [
    "BlindMassageParams",
    "DispatchReferralParams",
    "GraduateHiringParams",
    "OverQuotaParams",
    "PlacementParams",
    "PolicyVersion",
    "RentSubsidyParams",
    "RetirementRule",
    "TrainingParams",
    "version_by_code",
    "version_from_json",
    "version_in_force",
    "version_to_json",
    "with_defaults",
]

_PLAN = "包府办发〔2023〕43号"


def _require_fraction(value: Decimal, name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"{name} must be a Decimal between 0 and 1")


def _require_not_negative(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer")


@dataclass(frozen=True)
class RentSubsidyParams:
    """Program R, start-up premises rent subsidy (自主创业场地租金补贴)."""

    monthly_cap: Decimal = Decimal("1000.00")
    max_months: int = 36
    min_operating_months: int = 12
    apply_within_years: int = 3
    excluded_business_types: tuple[str, ...] = ("blind_massage",)
    city_share: Decimal = Decimal("0.5")
    # Interpretation (POLICY.md): a month the lease covers only in part is paid by days.
    pro_rata_partial_months: bool = True
    review_due_working_days: int = 10
    clause: str = f"{_PLAN} (九) 2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "monthly_cap", to_money(self.monthly_cap))
        # A list passed in would stay mutable through the caller's reference to it.
        object.__setattr__(self, "excluded_business_types", tuple(self.excluded_business_types))
        _require_fraction(self.city_share, "rent city_share")
        _require_not_negative(
            max_months=self.max_months,
            min_operating_months=self.min_operating_months,
            apply_within_years=self.apply_within_years,
            review_due_working_days=self.review_due_working_days,
        )


@dataclass(frozen=True)
class RetirementRule:
    """One group's statutory retirement age under the national gradual reform in force from 2025-01-01.

    全国人大常委会关于实施渐进式延迟法定退休年龄的决定 (2024-09-13): people born before `first_cohort`'s month keep
    the baseline; from that month on, the age rises by one month for every `birth_months_per_step` months of birth
    (the first cohort already gets one month), until it reaches the target.
    """

    baseline_years: int
    target_years: int
    first_cohort: date  # the first birth month the reform touches (day 1)
    birth_months_per_step: int

    def __post_init__(self) -> None:
        _require_not_negative(
            baseline_years=self.baseline_years,
            target_years=self.target_years,
            birth_months_per_step=self.birth_months_per_step,
        )
        if self.birth_months_per_step == 0 or self.target_years < self.baseline_years:
            raise ValueError("a retirement rule needs a positive step and a target not below its baseline")


def _national_retirement_rules() -> dict[str, RetirementRule]:
    return {
        # Men: 60 -> 63, one month every four months, from those born in January 1965.
        "male_60": RetirementRule(60, 63, date(1965, 1, 1), 4),
        # Women with the 55 baseline (female cadres): 55 -> 58, one month every four months, from January 1970.
        "female_55": RetirementRule(55, 58, date(1970, 1, 1), 4),
        # Women with the 50 baseline (female workers): 50 -> 55, one month every two months, from January 1975.
        "female_50": RetirementRule(50, 55, date(1975, 1, 1), 2),
    }


@dataclass(frozen=True)
class PlacementParams:
    """Program P, public-welfare post placement (公益性岗位)."""

    # Interpretation (POLICY.md): counts the first placement; a third needs a two-official city override.
    max_placements: int = 2
    subsidy_years: int = 3
    retirement_extension_within_years: int = 5
    # Interpretation (POLICY.md): the plan names publicity (公示) but not its length.
    publicity_working_days: int = 5
    # The plan leaves the amounts to the HR bureaux' rules for hardship public-welfare posts, so the
    # seeds give none: a deployment fills these per county code.
    monthly_post_subsidy_by_county: dict[str, Decimal] = field(default_factory=dict)
    monthly_social_insurance_subsidy_by_county: dict[str, Decimal] = field(default_factory=dict)
    # Interpretation: POLICY.md does not say who pays for program P; like R and T, the City DPF pays half.
    city_share: Decimal = Decimal("0.5")
    # Interpretation, as for R: a month cut short by retirement is paid by days.
    pro_rata_partial_months: bool = True
    # "Statutory retirement age is a parameter": keyed by group (male_60, female_55, female_50).
    retirement_rules: dict[str, RetirementRule] = field(default_factory=_national_retirement_rules)
    # Interpretation: a woman on a public-welfare post is a worker (女职工, baseline 50) unless her form says 55.
    default_female_retirement_category: str = "female_50"
    clause: str = f"{_PLAN} (一) 2"

    def __post_init__(self) -> None:
        for name in ("monthly_post_subsidy_by_county", "monthly_social_insurance_subsidy_by_county"):
            amounts: dict[str, Decimal] = getattr(self, name)
            # A private copy, so that a caller's later change to its dict cannot alter a pinned version.
            object.__setattr__(self, name, {county: to_money(amount) for county, amount in amounts.items()})
        object.__setattr__(self, "retirement_rules", dict(self.retirement_rules))
        _require_fraction(self.city_share, "placement city_share")
        if self.default_female_retirement_category not in self.retirement_rules:
            raise ValueError("default_female_retirement_category must name one of the retirement rules")
        _require_not_negative(
            max_placements=self.max_placements,
            subsidy_years=self.subsidy_years,
            retirement_extension_within_years=self.retirement_extension_within_years,
            publicity_working_days=self.publicity_working_days,
        )


@dataclass(frozen=True)
class TrainingParams:
    """Program T, vocational skills training subsidy (职业技能培训补贴).

    Rural practical-skills training, (六) 3, uses the same numbers.
    """

    # "On average" per person per session: POLICY.md reads it as a cap per completing trainee.
    per_person_cap: Decimal = Decimal("1500.00")
    min_days: int = 5
    min_class_hours: int = 40
    max_trainings_per_year: int = 3
    same_course_level_window_months: int = 12
    city_share: Decimal = Decimal("0.5")
    completion_report_deadline_days: int = 90
    clause: str = f"{_PLAN} (十) 2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_person_cap", to_money(self.per_person_cap))
        _require_fraction(self.city_share, "training city_share")
        _require_not_negative(
            min_days=self.min_days,
            min_class_hours=self.min_class_hours,
            max_trainings_per_year=self.max_trainings_per_year,
            same_course_level_window_months=self.same_course_level_window_months,
            completion_report_deadline_days=self.completion_report_deadline_days,
        )


@dataclass(frozen=True)
class OverQuotaParams:
    """Over-quota employment reward (超比例安排残疾人就业奖励), 包府办发〔2023〕43号 (三) 2."""

    quota_ratio: Decimal = Decimal("0.015")
    # 财税〔2015〕72号: a person with a grade 1 or 2 certificate counts as two.
    severe_grades: tuple[int, ...] = (1, 2)
    severe_counts_as: int = 2
    # How the part of a person above the ratio is treated: "whole_persons" counts only whole persons above the
    # required number (counted 7 − required 3.0 → 4; 7 − 3.2 → 3); "exact" would reward the fraction too.
    fraction_rule: str = "whole_persons"
    reward_minimum_wage_months: int = 5
    excluded_unit_kinds: tuple[str, ...] = ("state_funded", "concentrated_placement")
    # Interpretation: the plan does not say who pays; like R and T, the City DPF pays half.
    city_share: Decimal = Decimal("0.5")
    clause: str = f"{_PLAN} (三) 2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "severe_grades", tuple(self.severe_grades))
        object.__setattr__(self, "excluded_unit_kinds", tuple(self.excluded_unit_kinds))
        _require_fraction(self.quota_ratio, "over_quota quota_ratio")
        _require_fraction(self.city_share, "over_quota city_share")
        if self.fraction_rule not in ("whole_persons", "exact"):
            raise ValueError("over_quota fraction_rule must be whole_persons or exact")
        _require_not_negative(
            severe_counts_as=self.severe_counts_as, reward_minimum_wage_months=self.reward_minimum_wage_months
        )


@dataclass(frozen=True)
class GraduateHiringParams:
    """Subsidy for employing a fresh graduate with a disability (安置残疾人应届高校毕业生), (三) 2."""

    # Interpretation (POLICY.md): many local rules use the two-year job-seeking period (择业期) after graduation.
    hire_within_years_of_graduation: int = 2
    min_contract_months: int = 12
    # Interpretation: "with social insurance" is read as insured from the contract's start; the employer registers a
    # new employee within the month, so the insurance may start up to this many days after the contract does.
    social_insurance_within_days: int = 31
    subsidy_years: int = 3
    yearly_minimum_wage_months: int = 5
    # Interpretation: the plan does not say who pays; like R and T, the City DPF pays half.
    city_share: Decimal = Decimal("0.5")
    clause: str = f"{_PLAN} (三) 2"

    def __post_init__(self) -> None:
        _require_fraction(self.city_share, "graduate_hiring city_share")
        _require_not_negative(
            hire_within_years_of_graduation=self.hire_within_years_of_graduation,
            min_contract_months=self.min_contract_months,
            social_insurance_within_days=self.social_insurance_within_days,
            subsidy_years=self.subsidy_years,
            yearly_minimum_wage_months=self.yearly_minimum_wage_months,
        )


@dataclass(frozen=True)
class DispatchReferralParams:
    """Reward to a labour dispatch agency for a referral into employment (推荐残疾人就业), (三) 2."""

    reward: Decimal = Decimal("500.00")
    min_employment_months: int = 12
    # Interpretation: the plan does not say who pays; like R and T, the City DPF pays half.
    city_share: Decimal = Decimal("0.5")
    clause: str = f"{_PLAN} (三) 2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "reward", to_money(self.reward))
        _require_fraction(self.city_share, "dispatch_referral city_share")
        _require_not_negative(min_employment_months=self.min_employment_months)


@dataclass(frozen=True)
class BlindMassageParams:
    """Social insurance subsidy for blind massage practitioners (盲人按摩从业人员社会保险补贴), (八) 2."""

    insurance_paid_share: Decimal = Decimal("0.5")
    max_years_per_person: int = 15
    # The certificate's category digit: 1 is visual disability.
    eligible_categories: tuple[int, ...] = (1,)
    # "Paid by the city": all of it.
    city_share: Decimal = Decimal("1")
    clause: str = f"{_PLAN} (八) 2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "eligible_categories", tuple(self.eligible_categories))
        _require_fraction(self.insurance_paid_share, "blind_massage insurance_paid_share")
        _require_fraction(self.city_share, "blind_massage city_share")
        _require_not_negative(max_years_per_person=self.max_years_per_person)


@dataclass(frozen=True)
class PolicyVersion:
    """One version: what it is and where it applies, which a version must state, and each program's parameters.

    Without a default, so stated by every version (a file or a stored row without one is refused): `code` (its id,
    pinned by applications), `jurisdiction`, `valid_from` and `valid_to` (null for no end: the window chooses the
    applications it governs, so no default may make it govern days nobody chose), `counties` (where it applies and
    whose officials decide: no county list fits every jurisdiction), `title`, `description` and `source` (what it
    is and which text its numbers come from, for auditors), and each retirement rule's four values (a rule is the
    law's, stated whole; the set of rules has the national default). Every program parameter, and each program
    as a whole, has a default, so that a version stored or written before a parameter existed still loads
    (`version_from_json`, `subsidy.policy.files`) and `with_defaults` can bring a stored version up to date.
    The defaults are the plan's numbers (包府办发〔2023〕43号), or POLICY.md's interpretation where it names one;
    the amounts the plan does not give (placement amounts by county) default to none: a county without an amount
    is refused (`no_subsidy_amount_for_county`) rather than paid an invented one.

    A default never changes once released: a workflow pinned to a version stored without the parameter reads the
    default whenever it is replayed, so a changed default would change running workflows. A new number is a new
    version (or a new parameter with its own default).
    """

    code: str
    jurisdiction: str
    title: str
    description: str
    valid_from: date
    valid_to: date | None  # inclusive; None means no end date
    source: str
    counties: dict[str, str]
    rent: RentSubsidyParams = field(default_factory=RentSubsidyParams)
    placement: PlacementParams = field(default_factory=PlacementParams)
    training: TrainingParams = field(default_factory=TrainingParams)
    over_quota: OverQuotaParams = field(default_factory=OverQuotaParams)
    graduate_hiring: GraduateHiringParams = field(default_factory=GraduateHiringParams)
    dispatch_referral: DispatchReferralParams = field(default_factory=DispatchReferralParams)
    blind_massage: BlindMassageParams = field(default_factory=BlindMassageParams)

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("a policy version needs a code")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("a policy version cannot end before it starts")
        object.__setattr__(self, "counties", dict(self.counties))

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


# The versions themselves are data: subsidy/policy/shipped/*.yaml, read by subsidy.policy.files (the loader that
# `subsidy policy load` and the admin page use too) and seeded into the database, where loaded versions join them.
# BAOTOU_2023, BAOTOU_2025 and POLICY_VERSIONS are those shipped files, read on first use.
_SHIPPED = {"BAOTOU_2023": "baotou-2023", "BAOTOU_2025": "baotou-2025"}


def __getattr__(name: str) -> Any:
    if name == "POLICY_VERSIONS":
        return _shipped()
    if name in _SHIPPED:
        return version_by_code(_SHIPPED[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _shipped() -> tuple[PolicyVersion, ...]:
    from subsidy.policy.files import shipped_versions

    return tuple(version for _, version in shipped_versions())


def version_in_force(day: date, versions: Sequence[PolicyVersion] | None = None) -> PolicyVersion | None:
    """The version that governs an application made on `day`, or None (refuse with `outside_policy_window`).

    `versions` defaults to the shipped ones; the service itself chooses among the approved versions in its database
    (`subsidy.api.procedures.policy_in_force`).

    Should windows overlap, the version that took effect last wins: a new plan replaces the old one
    from its own start date.
    """
    in_force = [version for version in (_shipped() if versions is None else versions) if version.in_force_on(day)]
    if not in_force:
        return None
    return max(in_force, key=lambda version: version.valid_from)


def version_by_code(code: str, versions: Sequence[PolicyVersion] | None = None) -> PolicyVersion:
    for version in _shipped() if versions is None else versions:
        if version.code == code:
            return version
    raise KeyError(code)


def version_to_json(v: PolicyVersion) -> dict[str, Any]:
    """JSON-ready data: Decimals as strings ("1000.00"), dates in ISO form, tuples as lists."""
    result = _to_json(v)
    assert isinstance(result, dict)
    return result


def version_from_json(data: Mapping[str, Any]) -> PolicyVersion:
    """The inverse of `version_to_json`; strict, so that a mistyped stored version fails loudly.

    Unknown keys are refused (a misspelt parameter would otherwise silently take its default); a missing
    parameter that has a default takes it, so versions stored before a parameter existed still load.
    """
    version = _from_json(data, PolicyVersion, "version")
    assert isinstance(version, PolicyVersion)
    return version


def with_defaults(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A stored version's data with every missing parameter that has a default filled in, and the filled paths.

    Only keys are added, as `version_to_json` writes their defaults: a value that is there is never changed (not
    even reformatted), unknown keys stay for the loader to refuse, and the entries of a parameter that is a mapping
    (amounts by county, retirement rules) are its value, not keys to fill. A key without a default that is missing
    stays missing (`version_from_json` names it). Migration 0012 brings the stored versions up to date with it.
    """
    filled: list[str] = []
    result = _with_defaults(data, PolicyVersion, "", filled)
    return result, filled


def _with_defaults(data: Mapping[str, Any], kind: type[Any], where: str, filled: list[str]) -> dict[str, Any]:
    hints = _type_hints(kind)
    result = copy.deepcopy(dict(data))
    for spec in dataclasses.fields(kind):
        path = f"{where}.{spec.name}" if where else spec.name
        nested = hints[spec.name]
        if spec.name in result:
            if isinstance(nested, type) and dataclasses.is_dataclass(nested) and isinstance(result[spec.name], Mapping):
                result[spec.name] = _with_defaults(result[spec.name], nested, path, filled)
        elif spec.default is not dataclasses.MISSING:
            result[spec.name] = _to_json(spec.default)
            filled.append(path)
        elif spec.default_factory is not dataclasses.MISSING:
            result[spec.name] = _to_json(spec.default_factory())
            filled.append(path)
    return result


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _from_json(value: Any, kind: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _dataclass_from_json(value, kind, where)
    if origin is types.UnionType or origin is typing.Union:
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        (non_null,) = [option for option in options if option is not type(None)]
        return _from_json(value, non_null, where)
    if origin is tuple:
        item_kind = typing.get_args(kind)[0]
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list")
        return tuple(_from_json(item, item_kind, f"{where}[{index}]") for index, item in enumerate(value))
    if origin is dict:
        _, item_kind = typing.get_args(kind)
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected an object")
        return {str(key): _from_json(item, item_kind, f"{where}.{key}") for key, item in value.items()}
    if kind is Decimal:
        # A float would already have lost the exact value, so only text and integers are accepted.
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"{where}: expected a decimal number as text")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{where}: not a decimal number") from None
        if not number.is_finite():
            raise ValueError(f"{where}: not a finite number")
        return number
    if kind is date:
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise ValueError(f"{where}: expected a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{where}: not a valid date") from None
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected text")
        return value
    raise TypeError(f"{where}: no JSON conversion for {kind!r}")


@functools.cache
def _type_hints(kind: type[Any]) -> dict[str, Any]:
    # Resolving the annotations (strings under `from __future__ import annotations`) is most of the cost of
    # loading a version, and every workflow loads its pinned version when its worker builds it (bench/ profile).
    return typing.get_type_hints(kind)


def _dataclass_from_json(value: Any, kind: type[Any], where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object")
    hints = _type_hints(kind)
    known = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")
    arguments: dict[str, Any] = {}
    for name, spec in known.items():
        if name in value:
            arguments[name] = _from_json(value[name], hints[name], f"{where}.{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}: missing key {name!r}")
    return kind(**arguments)
