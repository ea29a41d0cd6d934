"""The values an official may give with a decision, step by step, checked before the workflow sees them.

Each step of each program reads its own values and no others: the rent subsidy's reviews the verified monthly rent,
County HR's review of a post declaration the posts it rejects, County HR's approval of a placement the day it was
approved on paper. A value another step reads, or one nobody reads, is refused (422 `unknown_value`, naming it)
rather than recorded and ignored; amounts are read as the forms read them. These checks need no authority and tell
nothing about the application, so they come first, like the body's schema. A verified rent above the declared one
(422 `verified_above_declared`) is the rent workflow's validator's to refuse, after it has checked who may decide:
it knows the declared (or corrected) rent, and only someone who may decide learns it from the refusal.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic_core import PydanticCustomError

from subsidy.api.errors import Invalid
from subsidy.api.value_formats import APPROVED_ON_PATTERN, REJECTED_POSTS_PATTERN
from subsidy.db.models import Application, Task
from subsidy.programs.registry import DECLARED
from subsidy.programs.rent_subsidy.form import money_text

MONTHLY_RENT = "monthly_rent"
REJECTED_POSTS = "rejected_posts"
APPROVED_ON = "approved_on"

# (program, step) -> the value names the step reads, from the programs' declarations; a step not listed reads none.
STEP_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    (program.code, step.code): tuple(value.name for value in step.values)
    for program in DECLARED
    for step in program.steps
    if step.values
}
# (program, step) -> the money values of the newer programs' steps, each with whether approving needs it (the
# rent's verified rent keeps its own words above).
MONEY_VALUES: dict[tuple[str, str], tuple[tuple[str, bool], ...]] = {
    (program.code, step.code): tuple(
        (value.name, value.required_to_approve)
        for value in step.values
        if value.kind == "money" and value.name != MONTHLY_RENT
    )
    for program in DECLARED
    for step in program.steps
    if step.values
}


def checked_values(application: Application, task: Task, decision: str, values: dict[str, str]) -> dict[str, str]:
    """The values as the workflow should get them (amounts normalised), or `Invalid` naming the first wrong one."""
    allowed = STEP_VALUES.get((task.program, task.step), ())
    for name in values:
        if name not in allowed:
            takes = ", ".join(allowed) if allowed else "no values"
            raise Invalid(
                f"values.{name}",
                f"{name} is not a value of this step ({task.program} {task.step} takes {takes})",
                code="unknown_value",
            )
    checked = dict(values)
    if MONTHLY_RENT in allowed:
        if MONTHLY_RENT in values:
            checked[MONTHLY_RENT] = _verified_rent(values[MONTHLY_RENT])
        elif decision == "approve":
            raise Invalid(
                f"values.{MONTHLY_RENT}",
                "the verified monthly rent is required to approve, e.g. 1200.00",
                code="value_required",
            )
    for name, required in MONEY_VALUES.get((task.program, task.step), ()):
        if name in values:
            checked[name] = _money_value(name, values[name])
        elif required and decision == "approve":
            raise Invalid(f"values.{name}", f"{name} is required to approve, e.g. 8000.00", code="value_required")
    if REJECTED_POSTS in values and not re.fullmatch(REJECTED_POSTS_PATTERN, values[REJECTED_POSTS]):
        raise Invalid(
            f"values.{REJECTED_POSTS}",
            "the numbers of the rejected posts, separated by commas, e.g. 2,3",
            code="rejected_posts_format",
        )
    if APPROVED_ON in values:
        try:
            if not re.fullmatch(APPROVED_ON_PATTERN, values[APPROVED_ON]):
                raise ValueError
            date.fromisoformat(values[APPROVED_ON])
        except ValueError:
            raise Invalid(f"values.{APPROVED_ON}", "a date as YYYY-MM-DD", code="date_format") from None
    return checked


def _verified_rent(text: str) -> str:
    try:
        return money_text(text)
    except PydanticCustomError as error:
        raise Invalid(f"values.{MONTHLY_RENT}", error.message(), code=error.type) from None


def _money_value(name: str, text: str) -> str:
    try:
        return money_text(text)
    except PydanticCustomError as error:
        raise Invalid(f"values.{name}", error.message(), code=error.type) from None
