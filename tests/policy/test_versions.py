import dataclasses
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from subsidy.policy.counties import BAOTOU_COUNTIES, BAOTOU_COUNTIES_EN
from subsidy.policy.versions import (
    BAOTOU_2023,
    POLICY_VERSIONS,
    PlacementParams,
    PolicyVersion,
    RentSubsidyParams,
    TrainingParams,
    version_by_code,
    version_from_json,
    version_in_force,
    version_to_json,
)


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (date(2023, 3, 23), None),  # publication day
        (date(2023, 4, 21), None),
        (date(2023, 4, 22), "baotou-2023"),  # 30 days after publication
        (date(2024, 12, 31), "baotou-2023"),
        (date(2025, 1, 1), "baotou-2025"),
        (date(2030, 6, 1), "baotou-2025"),
    ],
)
def test_version_windows(day: date, code: str | None) -> None:
    version = version_in_force(day)
    assert (version.code if version else None) == code


def test_in_force_on_is_inclusive_at_both_ends() -> None:
    assert not BAOTOU_2023.in_force_on(date(2023, 4, 21))
    assert BAOTOU_2023.in_force_on(date(2023, 4, 22))
    assert BAOTOU_2023.in_force_on(date(2024, 12, 31))
    assert not BAOTOU_2023.in_force_on(date(2025, 1, 1))


def test_seeded_versions() -> None:
    assert [v.code for v in POLICY_VERSIONS] == ["baotou-2023", "baotou-2025"]
    first, second = POLICY_VERSIONS
    assert (first.valid_from, first.valid_to) == (date(2023, 4, 22), date(2024, 12, 31))
    assert (second.valid_from, second.valid_to) == (date(2025, 1, 1), None)
    assert first.jurisdiction == second.jurisdiction == "150200"
    assert first.source == second.source == "003_6ec9e7e32de9443d.txt"
    assert "assumption" in second.description.lower()
    # The same parameters: only the window and the words differ.
    assert (first.rent, first.placement, first.training) == (second.rent, second.placement, second.training)
    assert first.counties == second.counties == BAOTOU_COUNTIES


def test_parameters_are_the_seed_numbers() -> None:
    rent = BAOTOU_2023.rent
    assert rent.monthly_cap == Decimal("1000.00")
    assert (rent.max_months, rent.min_operating_months, rent.apply_within_years) == (36, 12, 3)
    assert rent.excluded_business_types == ("blind_massage",)
    assert rent.city_share == Decimal("0.5")
    assert rent.pro_rata_partial_months is True
    assert rent.review_due_working_days == 10
    assert rent.clause == "包府办发〔2023〕43号 (九) 2"
    placement = BAOTOU_2023.placement
    assert (placement.max_placements, placement.subsidy_years) == (2, 3)
    assert (placement.retirement_extension_within_years, placement.publicity_working_days) == (5, 5)
    # The plan gives no amounts: the seeded versions carry DEMO amounts for every county, marked as such.
    assert placement.monthly_post_subsidy_by_county.keys() == BAOTOU_COUNTIES.keys()
    assert placement.monthly_social_insurance_subsidy_by_county.keys() == BAOTOU_COUNTIES.keys()
    assert "DEMO ASSUMPTIONS" in BAOTOU_2023.description
    assert placement.clause == "包府办发〔2023〕43号 (一) 2"
    training = BAOTOU_2023.training
    assert training.per_person_cap == Decimal("1500.00")
    assert (training.min_days, training.min_class_hours, training.max_trainings_per_year) == (5, 40, 3)
    assert training.same_course_level_window_months == 12
    assert training.city_share == Decimal("0.5")
    assert training.completion_report_deadline_days == 90
    assert training.clause == "包府办发〔2023〕43号 (十) 2"


def test_version_by_code() -> None:
    assert version_by_code("baotou-2025").valid_from == date(2025, 1, 1)
    with pytest.raises(KeyError):
        version_by_code("baotou-1999")


def test_counties() -> None:
    assert len(BAOTOU_COUNTIES) == 10
    assert BAOTOU_COUNTIES["150203"] == "昆都仑区"
    assert BAOTOU_COUNTIES["150271"] == "稀土高新区"
    assert BAOTOU_COUNTIES_EN.keys() == BAOTOU_COUNTIES.keys()


def _deployment_version() -> PolicyVersion:
    # A version a deployment might load: amounts filled in, a different interpretation switched.
    return dataclasses.replace(
        BAOTOU_2023,
        code="baotou-2026-test",
        valid_from=date(2026, 1, 1),
        valid_to=None,
        rent=RentSubsidyParams(monthly_cap=Decimal("800"), pro_rata_partial_months=False),
        placement=PlacementParams(
            monthly_post_subsidy_by_county={"150203": Decimal("1980.00")},
            monthly_social_insurance_subsidy_by_county={"150203": Decimal("876.54"), "150271": Decimal("12")},
        ),
        training=TrainingParams(city_share=Decimal("0.60")),
    )


@pytest.mark.parametrize("version", [*POLICY_VERSIONS, _deployment_version()], ids=lambda v: v.code)
def test_json_round_trip_is_exact(version: PolicyVersion) -> None:
    data = version_to_json(version)
    through_text = json.loads(json.dumps(data, ensure_ascii=False))
    restored = version_from_json(through_text)
    assert restored == version
    # Equal Decimals may still print differently; the pinned copy must print the same.
    assert version_to_json(restored) == data


def test_json_shapes() -> None:
    data = version_to_json(_deployment_version())
    assert data["valid_from"] == "2026-01-01"
    assert data["valid_to"] is None
    assert data["rent"]["monthly_cap"] == "800.00"  # money is normalized to the fen
    assert data["rent"]["excluded_business_types"] == ["blind_massage"]
    assert data["placement"]["monthly_social_insurance_subsidy_by_county"] == {
        "150203": "876.54",
        "150271": "12.00",
    }
    assert data["training"]["city_share"] == "0.60"
    assert version_to_json(BAOTOU_2023)["rent"]["monthly_cap"] == "1000.00"
    assert version_to_json(BAOTOU_2023)["valid_to"] == "2024-12-31"


def _mutated(change: dict[str, Any]) -> dict[str, Any]:
    data = version_to_json(BAOTOU_2023)
    for path, value in change.items():
        target = data
        *parents, last = path.split(".")
        for parent in parents:
            target = target[parent]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return data


@pytest.mark.parametrize(
    "change",
    [
        {"rent.monthly_cap": 1000.0},  # a float has already lost exactness
        {"rent.monthly_cap": "1000.005"},
        {"rent.monthly_cap": "lots"},
        {"rent.max_months": "36"},
        {"rent.max_months": True},
        {"rent.pro_rata_partial_months": 1},
        {"rent.city_share": "1.5"},
        {"rent.montly_cap": "1000.00"},  # a misspelt key must not silently take the default
        {"surprise": 1},
        {"valid_from": "2023/04/22"},
        {"valid_from": "20230422"},
        {"valid_to": "2023-02-30"},
        {"valid_to": "2023-01-01"},  # before valid_from
        {"code": KeyError},
        {"counties": KeyError},  # a missing program is its defaults (test_version_defaults), a missing county list not
        {"rent": None},
        {"counties": ["150203"]},
        {"rent.excluded_business_types": "blind_massage"},
    ],
)
def test_version_from_json_refuses_bad_data(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        version_from_json(_mutated(change))


def test_a_parameter_missing_from_an_older_stored_version_takes_its_default() -> None:
    restored = version_from_json(_mutated({"rent.review_due_working_days": KeyError}))
    assert restored.rent.review_due_working_days == 10


def test_overlapping_versions_the_later_start_wins() -> None:
    newer = dataclasses.replace(BAOTOU_2023, code="newer", valid_from=date(2024, 7, 1), valid_to=None)
    versions = (BAOTOU_2023, newer)
    assert version_in_force(date(2024, 6, 30), versions) is BAOTOU_2023
    assert version_in_force(date(2024, 7, 1), versions) is newer
    assert version_in_force(date(2023, 1, 1), versions) is None
    assert version_in_force(date(2024, 7, 1), ()) is None


def test_a_version_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(BAOTOU_2023, valid_to=date(2023, 4, 21))
    assert dataclasses.replace(BAOTOU_2023, valid_to=date(2023, 4, 22)).in_force_on(date(2023, 4, 22))


def test_a_pinned_version_does_not_share_mutable_data_with_its_input() -> None:
    counties = {"150203": "昆都仑区"}
    amounts = {"150203": Decimal("100.00")}
    version = dataclasses.replace(
        BAOTOU_2023, counties=counties, placement=PlacementParams(monthly_post_subsidy_by_county=amounts)
    )
    counties["150204"] = "青山区"
    amounts["150203"] = Decimal("1.00")
    assert version.counties == {"150203": "昆都仑区"}
    assert version.placement.monthly_post_subsidy_by_county == {"150203": Decimal("100.00")}
    assert BAOTOU_2023.counties is not BAOTOU_COUNTIES


def test_parameters_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        RentSubsidyParams(max_months=-1)
    with pytest.raises(ValueError):
        RentSubsidyParams(monthly_cap=Decimal("1000.001"))
    with pytest.raises(ValueError):
        TrainingParams(city_share=Decimal("-0.5"))
    with pytest.raises(ValueError):
        PlacementParams(monthly_post_subsidy_by_county={"150203": Decimal("NaN")})
