"""Age limits that a form's birth date (the resident ID's) must meet, whatever the policy version says.

These are plausibility rules of the law, not subsidy parameters: they refuse a form that cannot be right (a business
owner born after the licence, a trainee of six), while the eligibility rules of each version decide the rest (a
placement's retirement age, for example, with its own reason code).
"""

from __future__ import annotations

from datetime import date

# Labour Law of the PRC, art. 15: no employer may recruit a minor under 16; at 16 a minor who lives on their own
# labour income has full civil capacity (Civil Code, art. 18) and can register a business. The youngest age at which
# a person can own the business of a rent subsidy, be placed in a post, insure flexible employment or be trained
# for work.
MIN_WORKING_AGE = 16
# Working age ends at the statutory retirement age: under the NPC Standing Committee's 2024 decision it rises to 63
# for men by 2040, the highest of all categories. The training form cannot know a woman's category or the policy
# version, so it refuses only who is past working age in every category: 63 or older on the course's first day.
MAX_TRAINEE_AGE = 63

AGE_BELOW_MINIMUM = "age_below_minimum"
AGE_ABOVE_MAXIMUM = "age_above_maximum"


def age_on(born: date, day: date) -> int:
    """Whole years of age on `day` (a person born on 29 February has a birthday on 1 March in other years)."""
    years = day.year - born.year
    return years - 1 if (day.month, day.day) < (born.month, born.day) else years


def age_refusal(born: date, day: date, *, minimum: int, maximum: int | None = None) -> str | None:
    """None if the age on `day` is at least `minimum` and (with `maximum`) below it, else the reason code."""
    age = age_on(born, day)
    if age < minimum:
        return AGE_BELOW_MINIMUM
    if maximum is not None and age >= maximum:
        return AGE_ABOVE_MAXIMUM
    return None
