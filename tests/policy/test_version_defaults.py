"""A version stored or written before a parameter existed: the missing key reads its default, a present key keeps
its value, unknown keys are still refused, and `with_defaults` fills exactly the missing keys (migration 0012)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from subsidy.policy.files import VersionFileError, parse_version_file, read_version
from subsidy.policy.versions import (
    PlacementParams,
    RetirementRule,
    TrainingParams,
    version_by_code,
    version_from_json,
    version_to_json,
    with_defaults,
)

NATIONAL_RULES_JSON = {
    "male_60": {"baseline_years": 60, "target_years": 63, "first_cohort": "1965-01-01", "birth_months_per_step": 4},
    "female_55": {"baseline_years": 55, "target_years": 58, "first_cohort": "1970-01-01", "birth_months_per_step": 4},
    "female_50": {"baseline_years": 50, "target_years": 55, "first_cohort": "1975-01-01", "birth_months_per_step": 2},
}
# Every default as released. A workflow pinned to a version stored without a key reads its default on every
# replay: changing one of these changes running workflows (make a new version or a new parameter instead).
DEFAULTS_AS_RELEASED = {
    "rent": {
        "monthly_cap": "1000.00",
        "max_months": 36,
        "min_operating_months": 12,
        "apply_within_years": 3,
        "excluded_business_types": ["blind_massage"],
        "city_share": "0.5",
        "pro_rata_partial_months": True,
        "review_due_working_days": 10,
        "clause": "包府办发〔2023〕43号 (九) 2",
    },
    "placement": {
        "max_placements": 2,
        "subsidy_years": 3,
        "retirement_extension_within_years": 5,
        "publicity_working_days": 5,
        "monthly_post_subsidy_by_county": {},
        "monthly_social_insurance_subsidy_by_county": {},
        "city_share": "0.5",
        "pro_rata_partial_months": True,
        "retirement_rules": NATIONAL_RULES_JSON,
        "default_female_retirement_category": "female_50",
        "clause": "包府办发〔2023〕43号 (一) 2",
    },
    "training": {
        "per_person_cap": "1500.00",
        "min_days": 5,
        "min_class_hours": 40,
        "max_trainings_per_year": 3,
        "same_course_level_window_months": 12,
        "city_share": "0.5",
        "completion_report_deadline_days": 90,
        "clause": "包府办发〔2023〕43号 (十) 2",
    },
    "over_quota": {
        "quota_ratio": "0.015",
        "severe_grades": [1, 2],
        "severe_counts_as": 2,
        "fraction_rule": "whole_persons",
        "reward_minimum_wage_months": 5,
        "excluded_unit_kinds": ["state_funded", "concentrated_placement"],
        "city_share": "0.5",
        "clause": "包府办发〔2023〕43号 (三) 2",
    },
    "graduate_hiring": {
        "hire_within_years_of_graduation": 2,
        "min_contract_months": 12,
        "social_insurance_within_days": 31,
        "subsidy_years": 3,
        "yearly_minimum_wage_months": 5,
        "city_share": "0.5",
        "clause": "包府办发〔2023〕43号 (三) 2",
    },
    "dispatch_referral": {
        "reward": "500.00",
        "min_employment_months": 12,
        "city_share": "0.5",
        "clause": "包府办发〔2023〕43号 (三) 2",
    },
    "blind_massage": {
        "insurance_paid_share": "0.5",
        "max_years_per_person": 15,
        "eligible_categories": [1],
        "city_share": "1",
        "clause": "包府办发〔2023〕43号 (八) 2",
    },
}


def shipped_2025() -> dict[str, Any]:
    """The real shipped version as JSON, the shape a row of `policy_versions` stores."""
    text = (resources.files("subsidy.policy") / "shipped" / "baotou-2025.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(json.dumps(version_to_json(read_version(parse_version_file(text)))))
    return data


def without(data: dict[str, Any], *paths: str) -> dict[str, Any]:
    stripped = copy.deepcopy(data)
    for path in paths:
        *parents, key = path.split(".")
        holder = stripped
        for parent in parents:
            holder = holder[parent]
        del holder[key]
    return stripped


def test_the_defaults_are_the_released_ones() -> None:
    assert with_defaults({}) == (DEFAULTS_AS_RELEASED, list(DEFAULTS_AS_RELEASED))


@pytest.mark.parametrize(
    ("path", "read", "default"),
    [
        ("rent.review_due_working_days", lambda v: v.rent.review_due_working_days, 10),
        ("rent.pro_rata_partial_months", lambda v: v.rent.pro_rata_partial_months, True),
        ("placement.city_share", lambda v: v.placement.city_share, Decimal("0.5")),
        ("placement.pro_rata_partial_months", lambda v: v.placement.pro_rata_partial_months, True),
        (
            "placement.default_female_retirement_category",
            lambda v: v.placement.default_female_retirement_category,
            "female_50",
        ),
        (
            "placement.retirement_rules",
            lambda v: v.placement.retirement_rules["female_50"],
            RetirementRule(50, 55, date(1975, 1, 1), 2),
        ),
        ("training.completion_report_deadline_days", lambda v: v.training.completion_report_deadline_days, 90),
        ("training", lambda v: v.training, TrainingParams()),
        ("placement", lambda v: v.placement, PlacementParams()),
    ],
)
def test_a_version_stored_without_a_later_parameter_reads_its_default(path: str, read: Any, default: Any) -> None:
    stored = without(shipped_2025(), path)
    assert read(version_from_json(stored)) == default
    assert read(read_version(stored)) == default  # the administrator's loader too
    if path != "placement":  # the shipped version states the DEMO amounts, the default has none
        assert version_from_json(stored) == version_by_code("baotou-2025")


def test_a_present_key_keeps_its_value_beside_a_missing_one() -> None:
    stored = without(shipped_2025(), "training.min_days", "rent.review_due_working_days", "placement.retirement_rules")
    stored["training"]["completion_report_deadline_days"] = 60
    stored["rent"]["monthly_cap"] = "800.00"
    stored["placement"]["default_female_retirement_category"] = "female_55"
    version = version_from_json(stored)
    assert (version.training.min_days, version.training.completion_report_deadline_days) == (5, 60)
    assert (version.rent.review_due_working_days, version.rent.monthly_cap) == (10, Decimal("800.00"))
    assert version.placement.default_female_retirement_category == "female_55"
    assert version.placement.retirement_rules["female_55"] == RetirementRule(55, 58, date(1970, 1, 1), 4)


def test_unknown_keys_are_still_refused_and_keys_without_a_default_still_needed() -> None:
    stored = without(shipped_2025(), "training.completion_report_deadline_days", "counties", "valid_to")
    stored["training"]["completion_report_deadline_dayz"] = 60  # misspelt: must not silently take the default
    with pytest.raises(VersionFileError) as refused:
        read_version(stored)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("valid_to", "missing"),
        ("counties", "missing"),
        ("training.completion_report_deadline_dayz", "unknown key"),
    ]
    with pytest.raises(ValueError, match=r"unknown keys \['completion_report_deadline_dayz'\]"):
        version_from_json({**stored, "valid_to": None, "counties": {}})
    with pytest.raises(ValueError, match="missing key 'counties'"):
        version_from_json(without(shipped_2025(), "counties"))
    rule = without(shipped_2025(), "placement.retirement_rules.male_60.first_cohort")
    with pytest.raises(ValueError, match="missing key 'first_cohort'"):
        version_from_json(rule)  # a retirement rule is stated whole


def test_with_defaults_fills_only_the_missing_keys() -> None:
    stored = without(
        shipped_2025(),
        "rent.review_due_working_days",
        "placement.retirement_rules",
        "placement.default_female_retirement_category",
        "training",
        "counties",  # no default: stays missing
    )
    stored["rent"]["city_share"] = "0.50"  # not reformatted to the default's "0.5"
    stored["rent"]["max_months"] = 24
    stored["placement"]["monthly_post_subsidy_by_county"] = {"150203": "1980"}  # its entries are its value
    stored["placement"]["clauze"] = "x"  # unknown: left for the loader to refuse
    before = copy.deepcopy(stored)
    completed, filled = with_defaults(stored)
    assert stored == before  # the argument is not changed
    assert filled == [
        "rent.review_due_working_days",
        "placement.retirement_rules",
        "placement.default_female_retirement_category",
        "training",
    ]
    expected = copy.deepcopy(before)
    expected["rent"]["review_due_working_days"] = 10
    expected["placement"]["retirement_rules"] = NATIONAL_RULES_JSON
    expected["placement"]["default_female_retirement_category"] = "female_50"
    expected["training"] = DEFAULTS_AS_RELEASED["training"]
    assert completed == expected
    assert with_defaults(completed) == (completed, [])  # a second run fills nothing


def test_with_defaults_leaves_a_partial_set_of_retirement_rules_as_it_is() -> None:
    stored = shipped_2025()
    stored["placement"]["retirement_rules"] = {"female_50": NATIONAL_RULES_JSON["female_50"]}
    assert with_defaults(stored) == (stored, [])
    assert list(version_from_json(stored).placement.retirement_rules) == ["female_50"]


def test_a_full_version_is_unchanged_by_with_defaults() -> None:
    stored = shipped_2025()
    assert with_defaults(stored) == (stored, [])
