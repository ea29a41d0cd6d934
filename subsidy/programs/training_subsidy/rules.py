"""Program T: vocational skills training subsidy (职业技能培训补贴), 包府办发〔2023〕43号 (十) 2 and (六) 3.

A training provider runs a class of at least 5 days and 40 class hours for persons with disabilities and is
reimbursed on average 1500 yuan per person per session (board, travel, course fees and materials); the City
and the County DPF pay half each. A person takes at most 3 subsidised trainings a year, and the same
programme at the same level is not subsidised twice within one year. Rural practical-skills training for
people with hardship, (六) 3, follows the same numbers.

Interpretations (POLICY.md and the choices recorded here):
- a class's reimbursement is min(documented actual cost, 1500 × trainees who attended at least 40 hours);
- a training belongs to the calendar year in which it starts, and "within one year" is measured between
  start dates, in calendar months, in both directions (a class planned for March blocks the same course in
  the following February whichever provider filed first);
- the course dates must lie inside the window of the policy version the plan was filed under.

The per-person rules depend on the person's other enrolments, which only the database knows: the caller loads
them under the person's row lock and passes them in, so the decision itself stays here and pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from subsidy.policy.money import from_fen, split_shares, to_fen, to_money
from subsidy.policy.versions import PolicyVersion, TrainingParams
from subsidy.programs.rent_subsidy.rules import OUTSIDE_POLICY_WINDOW, WRONG_COUNTY, add_months

__all__ = [
    "ANNUAL_TRAINING_LIMIT",
    "COURSE_KINDS",
    "OUTSIDE_POLICY_WINDOW",
    "REASON_ORDER",
    "SAME_COURSE_LEVEL_WITHIN_A_YEAR",
    "TOO_SHORT",
    "WRONG_COUNTY",
    "CoursePlan",
    "TrainingRecord",
    "annual_limit_reached",
    "is_too_short",
    "plan_eligibility",
    "qualifies",
    "reimbursement",
    "reimbursement_shares",
    "same_course_level_within_window",
    "trainee_eligibility",
    "union_of_reasons",
]

TOO_SHORT = "too_short"
ANNUAL_TRAINING_LIMIT = "annual_training_limit"
SAME_COURSE_LEVEL_WITHIN_A_YEAR = "same_course_level_within_a_year"
# Class-level reasons first, then the per-person ones: one order for every list of reasons a class shows.
REASON_ORDER = (OUTSIDE_POLICY_WINDOW, WRONG_COUNTY, TOO_SHORT, ANNUAL_TRAINING_LIMIT, SAME_COURSE_LEVEL_WITHIN_A_YEAR)
COURSE_KINDS = ("vocational", "rural_practical")


@dataclass(frozen=True)
class CoursePlan:
    """What a class plan states about the course itself."""

    code: str
    level: str
    kind: str  # one of COURSE_KINDS
    start_date: date
    end_date: date  # inclusive, the last day of class
    class_days: int
    class_hours: int

    def __post_init__(self) -> None:
        # A malformed plan is a form error, not a policy refusal: it raises instead of giving a reason code.
        if self.end_date < self.start_date:
            raise ValueError("a course cannot end before it starts")
        if self.kind not in COURSE_KINDS:
            raise ValueError(f"course kind must be one of {', '.join(COURSE_KINDS)}")
        if self.class_days < 1 or self.class_hours < 1:
            raise ValueError("a course has at least one day and one class hour")
        if self.class_days > (self.end_date - self.start_date).days + 1:
            raise ValueError("a course cannot have more class days than calendar days")


@dataclass(frozen=True)
class TrainingRecord:
    """One subsidised training of a person, as the limits see it: which course, at which level, when it starts."""

    course_code: str
    level: str
    start_date: date


def is_too_short(class_days: int, class_hours: int, params: TrainingParams) -> bool:
    """ "不少于5天（40课时）": both the days and the class hours must reach the minimum."""
    return class_days < params.min_days or class_hours < params.min_class_hours


def plan_eligibility(plan: CoursePlan, county: str, version: PolicyVersion | None, filed_on: date) -> list[str]:
    """Every reason to refuse the class as a whole, in REASON_ORDER; an empty list means the plan may go on.

    Only `outside_policy_window` for the filing date stands alone: without a version there are no rules.
    """
    if version is None or not version.in_force_on(filed_on):
        return [OUTSIDE_POLICY_WINDOW]
    reasons: list[str] = []
    if not (version.in_force_on(plan.start_date) and version.in_force_on(plan.end_date)):
        reasons.append(OUTSIDE_POLICY_WINDOW)
    if county not in version.counties:
        reasons.append(WRONG_COUNTY)
    if is_too_short(plan.class_days, plan.class_hours, version.training):
        reasons.append(TOO_SHORT)
    return reasons


def annual_limit_reached(start_date: date, earlier: Iterable[TrainingRecord], params: TrainingParams) -> bool:
    """Whether the person already has the year's maximum of subsidised trainings in `start_date`'s calendar year."""
    same_year = sum(1 for record in earlier if record.start_date.year == start_date.year)
    return same_year >= params.max_trainings_per_year


def same_course_level_within_window(
    course: TrainingRecord, earlier: Iterable[TrainingRecord], params: TrainingParams
) -> bool:
    """Whether the same course at the same level starts less than the window (12 months) before or after this one.

    Exactly 12 months apart is allowed: "一年内" ends on the anniversary.
    """
    window = params.same_course_level_window_months
    for record in earlier:
        if record.course_code != course.course_code or record.level != course.level:
            continue
        # Counted forward from the earlier of the two, so the rule is the same whichever was filed first
        # (counting back from the later one would differ around 29 February).
        first, second = sorted((record.start_date, course.start_date))
        if second < add_months(first, window):
            return True
    return False


def trainee_eligibility(course: TrainingRecord, earlier: Sequence[TrainingRecord], params: TrainingParams) -> list[str]:
    """The reasons to exclude one trainee from this class, given their other subsidised trainings; empty = enrol."""
    reasons: list[str] = []
    if annual_limit_reached(course.start_date, earlier, params):
        reasons.append(ANNUAL_TRAINING_LIMIT)
    if same_course_level_within_window(course, earlier, params):
        reasons.append(SAME_COURSE_LEVEL_WITHIN_A_YEAR)
    return reasons


def union_of_reasons(reason_lists: Iterable[Sequence[str]]) -> list[str]:
    """Every reason that occurs in any of the lists, once, in REASON_ORDER (unknown codes last, alphabetically)."""
    seen = {reason for reasons in reason_lists for reason in reasons}
    known = [reason for reason in REASON_ORDER if reason in seen]
    return known + sorted(seen - set(REASON_ORDER))


def qualifies(hours: int, params: TrainingParams) -> bool:
    """A trainee counts for the reimbursement when they attended at least the minimum class hours (40)."""
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValueError("attended hours are a non-negative whole number")
    return hours >= params.min_class_hours


def reimbursement(actual_cost: Decimal, qualified_count: int, params: TrainingParams) -> Decimal:
    """min(documented actual cost, per-person cap × trainees who qualified), exact to the fen."""
    cost = to_money(actual_cost)
    if cost < 0:
        raise ValueError("the actual cost cannot be negative")
    if isinstance(qualified_count, bool) or not isinstance(qualified_count, int) or qualified_count < 0:
        raise ValueError("the number of qualified trainees is a non-negative whole number")
    # Whole fen: multiplication of money by a count stays exact without a decimal context.
    cap = from_fen(to_fen(params.per_person_cap) * qualified_count)
    return min(cost, cap)


def reimbursement_shares(amount: Decimal, params: TrainingParams) -> tuple[Decimal, Decimal]:
    """(city, county): the city's half rounded down to the fen, the county the rest."""
    return split_shares(amount, params.city_share)
