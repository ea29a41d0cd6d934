"""The over-quota employment reward in words for the County DPF's task page: the employer and the year, each
employee line (ID masked, grade, counts as 1 or 2, counted or why not), the figures, and the preview of an approval.

The lines and figures are worked out again here from the registry as it is now, with the same pure rules the workflow
uses (`rules.py`) on the pinned policy version and the minimum wage the claim's check read: an employee whom another
employer's approved claim of the year counts meanwhile shows as not counted, and the preview shows the lower amount
the approval will then pay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.api.pages.task_views import Preview, Section, Table, disability_words, money, pinned_version
from subsidy.api.pages.words import REASON
from subsidy.api.read_model import mask_id_number
from subsidy.db.models import Application, Person, Task
from subsidy.db.person_records import held_records, year_key
from subsidy.policy.versions import OverQuotaParams
from subsidy.programs.model import N_
from subsidy.programs.over_quota_reward import rules
from subsidy.programs.over_quota_reward.contracts import OVER_QUOTA_PROGRAM

Gettext = Callable[[str], str]

UNIT_KIND = {
    "enterprise": N_("Enterprise"),
    "state_funded": N_("Unit funded by the state budget"),
    "concentrated_placement": N_("Concentrated-placement institution"),
}


@dataclass(frozen=True)
class Line:
    line: int
    name: str
    id_number: str
    cert: str
    counts_as: int
    counted: bool
    reason: str | None


@dataclass(frozen=True)
class Count:
    """A claim's employee lines and figures as they stand now (None figures: no minimum wage to price them)."""

    lines: list[Line]
    figures: rules.Figures | None
    wage: dict[str, str] | None
    params: OverQuotaParams


async def current_count(db: AsyncSession, application: Application) -> Count:
    form: dict[str, Any] = application.form or {}
    eligibility: dict[str, Any] = application.eligibility or {}
    version = await pinned_version(db, application)
    params = version.over_quota if version is not None else OverQuotaParams()
    employees: list[dict[str, str]] = form.get("employees", [])
    approved = eligibility.get("approved")
    if approved is not None:  # what the approval used, held in the registry: final
        taken = {int(e["line"]) for e in approved["employees"] if not e["counted"]}
    else:
        taken = await _taken_lines(db, application, employees)
    lines = [
        Line(
            line=number,
            name=employee.get("name", ""),
            id_number=employee.get("id_number", ""),
            cert=employee.get("disability_cert_number", ""),
            counts_as=rules.counts_as(_grade(employee), params),
            counted=number not in taken,
            reason=rules.COUNTED_BY_ANOTHER_EMPLOYER if number in taken else None,
        )
        for number, employee in enumerate(employees, start=1)
    ]
    wage = eligibility.get("minimum_wage")
    figures = (
        rules.figures(
            (line.counts_as for line in lines if line.counted),
            int(form.get("staff_total", 1)),
            Decimal(wage["monthly"]),
            params,
        )
        if wage
        else None
    )
    return Count(lines, figures, wage, params)


def _grade(employee: dict[str, str]) -> int:
    cert = employee.get("disability_cert_number", "")
    return int(cert[19]) if len(cert) == 20 and cert[19].isdigit() else 4


async def _taken_lines(db: AsyncSession, application: Application, employees: list[dict[str, str]]) -> set[int]:
    """The lines another application of the year holds `counted` now (granted by its approval)."""
    numbers = [employee["id_number"] for employee in employees]
    if not numbers:
        return set()
    person_of = dict((await db.execute(select(Person.id_number, Person.id).where(Person.id_number.in_(numbers)))).all())
    year = int((application.form or {}).get("year", 0))
    held = await held_records(
        db,
        list(person_of.values()),
        OVER_QUOTA_PROGRAM,
        keys=[year_key(year)],
        statuses=("granted",),
        exclude_application=application.id,
    )
    held_people = {record.person_id for record in held}
    return {line for line, number in enumerate(numbers, start=1) if person_of.get(number) in held_people}


def employee_table(_: Gettext, count: Count) -> Table:
    rows = []
    for line in count.lines:
        counted = _("Counted") if line.counted else _("Not counted")
        if line.reason:
            counted += f" ({_(REASON.get(line.reason, line.reason))})"
        rows.append(
            [
                str(line.line),
                line.name,
                mask_id_number(line.id_number),
                disability_words(_, line.cert),
                str(line.counts_as),
                counted,
            ]
        )
    head = [_("Line"), _("Name"), _("Resident ID number"), _("Disability"), _("Counts as (persons)"), _("Counted")]
    return Table(_("Employees with disabilities"), head, rows, id="employees")


def figure_rows(_: Gettext, count: Count, staff_total: int) -> list[tuple[str, str]]:
    params = count.params
    rows: list[tuple[str, str]] = []
    figures = count.figures
    if figures is not None:
        rows += [
            (_("Persons counted"), str(figures.counted)),
            (
                _("Persons required by the quota"),
                _("%(ratio)s %% × %(staff)s staff = %(required)s")
                % {
                    "ratio": rules.persons_text(params.quota_ratio * 100),
                    "staff": staff_total,
                    "required": rules.required_text(figures.required),
                },
            ),
            (_("Excess (whole persons above the quota)"), rules.persons_text(figures.excess)),
        ]
    wage = count.wage
    if wage:
        rows.append(
            (
                _("Monthly minimum wage used"),
                _("%(monthly)s yuan (tier %(tier)s, standard %(standard)s, in force on %(day)s)")
                % {
                    "monthly": money(wage["monthly"]),
                    "tier": wage["tier"],
                    "standard": wage["standard"],
                    "day": wage["day"],
                },
            )
        )
    else:
        rows.append((_("Monthly minimum wage used"), _(REASON[rules.NO_MINIMUM_WAGE_FOR_DATE])))
    if figures is not None:
        rows += [
            (
                _("Reward (yuan)"),
                _("%(excess)s × %(months)s × %(monthly)s = %(amount)s")
                % {
                    "excess": rules.persons_text(figures.excess),
                    "months": params.reward_minimum_wage_months,
                    "monthly": money(wage["monthly"]) if wage else "–",
                    "amount": money(figures.amount),
                },
            ),
            (
                _("Shares (yuan)"),
                _("%(city)s city + %(county)s county")
                % {"city": money(figures.city_share), "county": money(figures.county_share)},
            ),
        ]
    return rows


def claim_rows(_: Gettext, form: dict[str, Any], county_name: Callable[[str], str]) -> list[tuple[str, str]]:
    employer = form.get("employer") or {}
    unit_kind = str(form.get("unit_kind", ""))
    return [
        (_("Employer"), employer.get("name", "–")),
        (_("Unified social credit code"), employer.get("credit_code", "–")),
        (_("County"), county_name(str(form.get("county", "")))),
        (_("Year claimed"), str(form.get("year", "–"))),
        (_("Kind of unit"), _(UNIT_KIND[unit_kind]) if unit_kind in UNIT_KIND else unit_kind),
        (_("Total staff"), str(form.get("staff_total", "–"))),
    ]


async def sections(
    db: AsyncSession, _: Gettext, application: Application, task: Task, county_name: Callable[[str], str]
) -> list[Section]:
    form: dict[str, Any] = application.form or {}
    count = await current_count(db, application)
    return [
        Section(_("The claim"), claim_rows(_, form, county_name)),
        Section(_("The employees"), tables=[employee_table(_, count)]),
        Section(
            _("The figures"),
            figure_rows(_, count, int(form.get("staff_total", 1))),
            notes=[
                _(
                    "A grade 1 or 2 certificate counts as two persons. A person counts for one employer's claim a "
                    "year: the first approved."
                )
            ],
        ),
    ]


# The decision letter says the reward is paid once (`letter_pages`).
PAID_ONCE = True


def letter_inputs(_: Gettext, application: Application, values: dict[str, Any]) -> list[tuple[str, str]]:
    """What the decision used, from its recorded values: the figures and the minimum wage."""
    if "counted" not in values:
        return []
    rows = [
        (_("Persons counted"), str(values["counted"])),
        (_("Persons required by the quota"), str(values.get("required", "–"))),
        (_("Excess (whole persons above the quota)"), str(values.get("excess", "–"))),
    ]
    if "minimum_wage_monthly" in values:
        rows.append(
            (
                _("Monthly minimum wage used"),
                _("%(monthly)s yuan (tier %(tier)s, standard %(standard)s, in force on %(day)s)")
                % {
                    "monthly": money(values["minimum_wage_monthly"]),
                    "tier": values.get("minimum_wage_tier", "–"),
                    "standard": values.get("minimum_wage_standard", "–"),
                    "day": values.get("minimum_wage_day", "–"),
                },
            )
        )
    rows += [
        (_("Reward (yuan)"), money(values.get("amount"))),
        (
            _("Shares (yuan)"),
            _("%(city)s city + %(county)s county")
            % {"city": money(values.get("city_share")), "county": money(values.get("county_share"))},
        ),
    ]
    return rows


def summary(_: Gettext, task: Task, application: Application | None) -> str:
    form: dict[str, Any] = (application.form if application is not None else None) or {}
    return _("Over-quota reward for %(year)s: %(employees)s employees with disabilities, %(staff)s staff") % {
        "year": form.get("year", "–"),
        "employees": len(form.get("employees", [])),
        "staff": form.get("staff_total", "–"),
    }


async def preview(
    db: AsyncSession,
    _: Gettext,
    application: Application,
    task: Task,
    decision: str,
    values: dict[str, str],
    today: Any,
) -> Preview:
    form: dict[str, Any] = application.form or {}
    count = await current_count(db, application)
    figures = count.figures
    employer = (form.get("employer") or {}).get("name", application.submitted_by)
    if figures is None or figures.excess <= 0:
        return Preview(
            [
                _(
                    "No excess remains: employees of this claim are counted for another employer's approved claim. "
                    "The approval will be refused; reject the claim with a reason."
                )
            ],
            tables=[employee_table(_, count)],
        )
    not_counted = [line for line in count.lines if not line.counted]
    lines = [
        _("Paid once to the employer %(employer)s for %(year)s (period %(period)s).")
        % {"employer": employer, "year": form.get("year", ""), "period": rules.period_of(int(form.get("year", 0)))},
        *(f"{label}: {value}" for label, value in figure_rows(_, count, int(form.get("staff_total", 1)))),
    ]
    if not_counted:
        lines.append(
            _("Not counted (counted for another employer's approved claim of the year): lines %(lines)s")
            % {"lines": ", ".join(str(line.line) for line in not_counted)}
        )
    return Preview(lines)
