"""Every program of the service, one line each: the one list the worker, the API, the pages and the tests read."""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any

from pydantic import Field

from subsidy.programs.account_registration import program as account_registration
from subsidy.programs.blind_massage_insurance_subsidy import program as blind_massage_insurance_subsidy
from subsidy.programs.county_annual_report import program as county_annual_report
from subsidy.programs.dispatch_referral_reward import program as dispatch_referral_reward
from subsidy.programs.graduate_hiring_subsidy import program as graduate_hiring_subsidy
from subsidy.programs.model import Program
from subsidy.programs.over_quota_reward import program as over_quota_reward
from subsidy.programs.public_welfare import program as public_welfare
from subsidy.programs.rent_subsidy import program as rent_subsidy
from subsidy.programs.training_subsidy import program as training_subsidy

DECLARED: tuple[Program, ...] = (
    rent_subsidy.PROGRAM,
    training_subsidy.PROGRAM,
    public_welfare.POST,
    public_welfare.POST_COLLECTION,
    public_welfare.PLACEMENT,
    public_welfare.FLEXIBLE_EMPLOYMENT_INSURANCE,
    account_registration.PROGRAM,
    over_quota_reward.PROGRAM,
    dispatch_referral_reward.PROGRAM,
    blind_massage_insurance_subsidy.PROGRAM,
    graduate_hiring_subsidy.PROGRAM,
    county_annual_report.PROGRAM,
)

PROGRAMS: dict[str, Program] = {program.code: program for program in DECLARED}


def is_terminal(program: str, status: str) -> bool:
    found = PROGRAMS.get(program)
    return found is not None and status in found.terminal_statuses


def _unique(items: Any) -> list[Any]:
    return list(dict.fromkeys(items))


# What the worker runs and the database holds, gathered from the declarations (shared ones once).
WORKFLOW_CLASSES: list[type] = _unique(cls for program in DECLARED for cls in program.workflow_classes)
ACTIVITY_CLASSES: list[type] = _unique(cls for program in DECLARED for cls in program.activities)

# The body of POST /api/v1/applications: one form per program that people apply for, told apart by `program`.
APPLIED_FOR = tuple(program for program in DECLARED if program.applicant_roles)
ApplicationForm = Annotated[
    functools.reduce(operator.or_, (program.form for program in APPLIED_FOR)),  # type: ignore[valid-type]
    Field(discriminator="program"),
]
