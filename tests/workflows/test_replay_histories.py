"""Every recorded history replays with today's workflow code: a change that would break running workflows fails here.

The histories in tests/histories were recorded from the workflow tests (`RECORD_HISTORIES=1 pytest tests/workflows`),
sealed with the tests' payload key, so they are replayed exactly as the worker would: same converter, same codec.
A deliberate change to workflow logic goes behind `workflow.patched(...)`, and these old histories keep passing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory

from subsidy.api.audit import replay
from subsidy.programs.registry import WORKFLOW_CLASSES

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def test_histories_cover_every_branch_that_matters() -> None:
    names = {path.name for path in HISTORIES}
    for branch in (
        "RentSubsidyWorkflow.test_rent_1200_runs_36_months_to_completed",  # approved, continued as new, completed
        "RentSubsidyWorkflow.test_ineligible_application_is_rejected",
        "RentSubsidyWorkflow.test_return_and_correction",
        "RentSubsidyWorkflow.test_overdue_review_is_marked_and_escalated",
        "RentSubsidyWorkflow.test_business_closed_after_20_paid_months",  # terminated early
        "RentSubsidyWorkflow.test_withdrawal_during_review",
        "TrainingSubsidyWorkflow.",
        "PublicWelfarePlacementWorkflow.",
        # Collected and approved with a post rejected (.json); collected and rejected by County HR (.2.json).
        "PublicWelfarePostWorkflow.test_declaration_to_the_end_of_a_36_month_subsidy",
        "PublicWelfarePostWorkflow.test_a_second_declaration_of_the_same_employer",  # ineligible; withdrawn
        "PublicWelfarePostWorkflow.test_a_refused_collection",  # the collection refused it; the next round's approved
        "PostCollectionWorkflow.test_declaration_to_the_end_of_a_36_month_subsidy",  # reported; still open (idle)
        "PostCollectionWorkflow.test_a_refused_collection",  # refused, reopened for a later one, closed at the year end
        "FlexibleEmploymentInsuranceWorkflow.test_neither_subsidy_starts",  # ineligible; approved, active, terminated
        "FlexibleEmploymentInsuranceWorkflow.test_county_hr_rejects",  # rejected with a reason; withdrawn in review
        "FlexibleEmploymentInsuranceWorkflow.test_the_exclusivity_race",  # approval refused (409), then rejected
        "AccountRegistrationWorkflow.test_a_verified_registration",  # verified: the account bound
        "AccountRegistrationWorkflow.test_a_rejected_registration",  # rejected with a reason
        "AccountRegistrationWorkflow.test_a_second_account",  # approval refused (409: already bound), then rejected
        "AnnualReportRoundWorkflow.test_the_round_opens",  # opens each county's report; the second round opens none
        "CountyAnnualReportWorkflow.test_a_submitted_report",  # refusals, then submitted in time and frozen
        "CountyAnnualReportWorkflow.test_an_overdue_report",  # overdue, the city's reminder recorded, then submitted
        "CountyAnnualReportWorkflow.test_an_overdue_reminder_left_open",  # submitted with the reminder still open
        "OverQuotaRewardWorkflow.test_200_staff_and_five_employees",  # approved, held, paid once, completed
        "OverQuotaRewardWorkflow.test_excluded_units_are_refused",  # refused as a whole, no task
        "OverQuotaRewardWorkflow.test_an_excess_of_exactly_0",  # counted, no excess: rejected
        "OverQuotaRewardWorkflow.test_a_year_without_a_minimum_wage_standard",  # no minimum wage: rejected
        "OverQuotaRewardWorkflow.test_an_employee_counted_by_the_first_approved",  # approved with fewer counted
        "OverQuotaRewardWorkflow.test_an_approval_left_without_excess",  # approval refused (409), then rejected
        "OverQuotaRewardWorkflow.test_the_employer_withdraws",  # withdrawn under review
        "OverQuotaRewardWorkflow.test_a_rejection_needs_a_reason",  # rejected with a reason
        "DispatchReferralWorkflow.test_the_reward_is_500_paid_once_after_the_year",  # the year's timer, paid once
        "DispatchReferralWorkflow.test_employment_ended_at_month_7",  # terminated during the year, unpaid
        "DispatchReferralWorkflow.test_a_contract_begun_over_a_year_ago",  # checked at once, rejected
        "DispatchReferralWorkflow.test_a_contract_of_one_year_less_a_day",  # ineligible; the other still active
        "DispatchReferralWorkflow.test_a_referral_withdrawn_during_its_year",  # withdrawn while the year runs
        "BlindMassageInsuranceWorkflow.test_8000_paid_gives_4000",  # verified, paid once by the city
        "BlindMassageInsuranceWorkflow.test_15_register_years_and_the_16th_is_refused",  # ineligible: years exhausted
        "BlindMassageInsuranceWorkflow.test_a_physical_disability_certificate",  # ineligible: not visual
        "BlindMassageInsuranceWorkflow.test_a_rejection_gives_the_year_back",  # rejected with a reason
        "BlindMassageInsuranceWorkflow.test_a_claim_withdrawn_in_review",  # withdrawn in review
        "GraduateHiringSubsidyWorkflow.test_three_years_run_to_their_end",  # three yearly checks paid, completed
        "GraduateHiringSubsidyWorkflow.test_employment_ended_at_month_18",  # a year paid, then terminated
        "GraduateHiringSubsidyWorkflow.test_a_rejected_check",  # terminated unpaid, the employment released
        "GraduateHiringSubsidyWorkflow.test_graduated_too_long_ago",  # ineligible
        "GraduateHiringSubsidyWorkflow.test_a_placement_that_took_a_post",  # approval refused (409), then rejected
        "GraduateHiringSubsidyWorkflow.test_withdrawn_during_the_review",  # withdrawn
    ):
        assert any(name.startswith(branch) for name in names), branch


def test_every_workflow_type_of_the_program_registry_has_recorded_histories() -> None:
    """A program added to the registry fails here until its workflow's histories are recorded and replayed."""
    recorded = {path.name.split(".")[0] for path in HISTORIES}
    for workflow_class in WORKFLOW_CLASSES:
        name = workflow._Definition.must_from_class(workflow_class).name
        assert name in recorded, name


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_history_replays_deterministically(path: Path) -> None:
    document = json.loads(path.read_text())
    runs = [WorkflowHistory.from_json(document["workflow_id"], run["history"]) for run in document["runs"]]
    report = await replay(runs)
    assert report.deterministic, report.error
    assert report.events == sum(len(run.events) for run in runs)
