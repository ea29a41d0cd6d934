"""Reason codes in words, per program: a code two programs share may carry each program's own words, and every
page that knows the program reads that program's words."""

from __future__ import annotations

from subsidy.api.pages.words import REASON, reasons_of
from subsidy.programs.registry import DECLARED


def test_each_program_reads_its_own_words_for_a_code_it_shares() -> None:
    assert reasons_of("over_quota_reward")["already_claimed_this_year"].startswith("The employer already has")
    assert reasons_of("blind_massage_insurance_subsidy")["already_claimed_this_year"].startswith("The subsidy for")
    assert "graduate" in reasons_of("graduate_hiring_subsidy")["exclusive_with_public_welfare_post"]
    assert "flexible" in reasons_of("flexible_employment_insurance_subsidy")["exclusive_with_public_welfare_post"]
    for program in DECLARED:
        for code, words in program.reasons.items():
            assert reasons_of(program.code)[code] == words
            assert code in REASON
    assert reasons_of("rent_subsidy")["outside_policy_window"] == REASON["outside_policy_window"]
