"""What the forms refuse that their documented patterns refuse (issue 11, finding 7), both sides of every limit.

Dates are relative to today (China time), as the forms' own rules are; nothing depends on which day that is.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from subsidy.policy.ages import MAX_TRAINEE_AGE, MIN_WORKING_AGE, age_on
from subsidy.policy.identifiers import resident_id_check_character
from subsidy.programs.public_welfare.form import (
    FlexibleInsuranceForm,
    PublicWelfarePlacementForm,
    PublicWelfarePostForm,
)
from subsidy.programs.rent_subsidy.form import RentSubsidyForm
from subsidy.programs.training_subsidy.form import TrainingSubsidyForm
from tests.helpers import china_today, new_resident_id, new_resident_id_of, rent_form, training_body


def _errors(model: type, body: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [(tuple(error["loc"]), error["type"]) for error in caught.value.errors()]


def _birthday(years_before: date, years: int) -> date:
    """The day `years` years before `years_before` (28 February for a 29 February that the year lacks)."""
    try:
        return years_before.replace(year=years_before.year - years)
    except ValueError:
        return years_before.replace(year=years_before.year - years, day=28)


# --- money -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rent", ["1e3", "1E3", "٣٠٠٠", "۳۰۰۰", "1,200.00", "+800", "10000000", "Infinity"])
def test_rent_that_the_money_pattern_refuses_is_refused(rent: str) -> None:
    assert _errors(RentSubsidyForm, rent_form(monthly_rent=rent)) == [(("lease", "monthly_rent"), "money_format")]


@pytest.mark.parametrize(("rent", "stored"), [("１２００", "1200.00"), ("1200.5", "1200.50"), (" 800 ", "800.00")])
def test_rent_in_ascii_or_full_width_digits_is_stored_normalised(rent: str, stored: str) -> None:
    assert RentSubsidyForm.model_validate(rent_form(monthly_rent=rent)).lease.monthly_rent == stored


def test_post_wages_and_class_costs_refuse_exponents_and_other_digits_too() -> None:
    post = {
        "program": "public_welfare_post",
        "employer": {"name": "包头市某公司", "credit_code": "91150203MA0N12345B"},
        "county": "150203",
        "year": 2026,
        "posts": [{"title": "保洁", "category": "public_service", "count": 1, "monthly_wage": "2e3"}],
    }
    assert _errors(PublicWelfarePostForm, post) == [(("posts", 0, "monthly_wage"), "money_format")]
    plan = training_body([new_resident_id(born=date(1985, 7, 1))], planned_cost="٦٠٠٠")
    assert _errors(TrainingSubsidyForm, plan) == [(("planned_cost",), "money_format")]


# --- resident IDs: region, birth date, age ------------------------------------------------------------------------


def _id(region: str, born: date) -> str:
    first17 = f"{region}{born:%Y%m%d}135"
    return first17 + resident_id_check_character(first17)


def test_an_id_of_region_999999_is_refused() -> None:
    errors = _errors(RentSubsidyForm, rent_form(id_number=_id("999999", date(1990, 5, 17))))
    assert ((("applicant", "id_number"), "id_region")) in errors


def test_an_id_born_tomorrow_is_refused_and_born_today_is_not_for_that_reason() -> None:
    today = china_today()
    tomorrow = _errors(RentSubsidyForm, rent_form(id_number=_id("150203", today + timedelta(days=1))))
    assert (("applicant", "id_number"), "id_birth_date_future") in tomorrow
    born_today = _errors(RentSubsidyForm, rent_form(id_number=_id("150203", today)))
    assert [code for _, code in born_today] == ["age_below_minimum"]  # too young to own a business, not unborn


def test_an_id_born_2030_is_refused() -> None:
    errors = _errors(RentSubsidyForm, rent_form(id_number=_id("150203", date(2030, 1, 1))))
    assert (("applicant", "id_number"), "id_birth_date_future") in errors


def test_a_business_owner_is_16_on_the_licence_date_the_day_before_is_refused() -> None:
    licence = china_today() - timedelta(days=400)
    sixteen = _birthday(licence, MIN_WORKING_AGE)
    assert age_on(sixteen, licence) == 16
    ok = rent_form(id_number=_id("150203", sixteen), license_date=licence)
    assert RentSubsidyForm.model_validate(ok).business.license_date == licence
    young = rent_form(id_number=_id("150203", sixteen + timedelta(days=1)), license_date=licence)
    assert _errors(RentSubsidyForm, young) == [(("applicant", "id_number"), "age_below_minimum")]


def test_a_business_owner_born_in_2020_is_refused() -> None:
    errors = _errors(RentSubsidyForm, rent_form(id_number=_id("150203", date(2020, 3, 1))))
    assert errors == [(("applicant", "id_number"), "age_below_minimum")]


def _trainee_plan(born: date, start: date) -> dict[str, Any]:
    return training_body([_id("150203", born)], start=start)


def test_a_trainee_is_16_to_62_on_the_first_day_of_the_course() -> None:
    start = china_today() - timedelta(days=9)
    youngest, oldest = _birthday(start, MIN_WORKING_AGE), _birthday(start, MAX_TRAINEE_AGE) + timedelta(days=1)
    assert (age_on(youngest, start), age_on(oldest, start)) == (16, 62)
    for born in (youngest, oldest):
        assert len(TrainingSubsidyForm.model_validate(_trainee_plan(born, start)).trainees) == 1
    too_young = _errors(TrainingSubsidyForm, _trainee_plan(youngest + timedelta(days=1), start))
    assert too_young == [(("trainees", 0, "id_number"), "age_below_minimum")]
    too_old = _errors(TrainingSubsidyForm, _trainee_plan(oldest - timedelta(days=1), start))
    assert too_old == [(("trainees", 0, "id_number"), "age_above_maximum")]


def _person(born: date, sex: str = "M") -> dict[str, Any]:
    id_number = new_resident_id_of(sex, born)
    return {
        "name": "王五",
        "id_number": id_number,
        "disability_cert_number": id_number + "43",
        "sex": sex,
        "birth_date": born.isoformat(),
    }


def test_a_placed_or_insured_person_is_16_on_the_start_date() -> None:
    start = china_today() + timedelta(days=30)
    sixteen = _birthday(start, MIN_WORKING_AGE)
    bodies = {
        PublicWelfarePlacementForm: lambda someone: {
            "program": "public_welfare_placement",
            "post_application_id": "00000000-0000-4000-8000-000000000000",
            "person": someone,
            "start_date": start.isoformat(),
        },
        FlexibleInsuranceForm: lambda someone: {
            "program": "flexible_employment_insurance_subsidy",
            "person": someone,
            "start_date": start.isoformat(),
        },
    }
    for model, body in bodies.items():
        assert model.model_validate(body(_person(sixteen))).start_date == start
        assert _errors(model, body(_person(sixteen + timedelta(days=1)))) == [
            (("person", "birth_date"), "age_below_minimum")
        ]


# --- dates not in the future --------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["started_on", "license_date"])
def test_a_business_started_or_licensed_tomorrow_is_refused_today_is_not(field: str) -> None:
    today = china_today()
    body = rent_form(license_date=today - timedelta(days=30))
    body["business"][field] = today.isoformat()  # type: ignore[index]
    assert RentSubsidyForm.model_validate(body).business.started_on <= today
    body["business"][field] = (today + timedelta(days=1)).isoformat()  # type: ignore[index]
    assert _errors(RentSubsidyForm, body) == [(("business", field), "date_in_future")]


def test_dates_in_other_scripts_digits_are_refused() -> None:
    body = rent_form()
    body["business"]["started_on"] = "٢٠٢٥-٠١-٠١"  # type: ignore[index]
    assert _errors(RentSubsidyForm, body) == [(("business", "started_on"), "date_format")]


# --- names with visible letters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["\u3164", "\u115f\u1160", "\uffa0\uffa0", "\u2800\u2800", "\u0301\u0302", "\u3164\u0301"]
)
def test_names_of_fillers_blank_braille_or_combining_marks_alone_are_refused(name: str) -> None:
    body = rent_form()
    body["applicant"]["name"] = name  # type: ignore[index]
    body["business"]["name"] = name  # type: ignore[index]
    assert _errors(RentSubsidyForm, body) == [
        (("applicant", "name"), "name_letters"),
        (("business", "name"), "name_letters"),
    ]


@pytest.mark.parametrize("name", ["张三", "é", "e\u0301", "\u3164张", "Ａ", "3"])
def test_a_name_with_one_visible_letter_or_digit_is_accepted(name: str) -> None:
    body = rent_form()
    body["applicant"]["name"] = name  # type: ignore[index]
    assert RentSubsidyForm.model_validate(body).applicant.name == name


def test_trainee_and_post_titles_need_visible_letters_too() -> None:
    plan = training_body([new_resident_id(born=date(1985, 7, 1))])
    plan["trainees"][0]["name"] = "\u2800"
    plan["course"]["title"] = "\u3164"
    assert _errors(TrainingSubsidyForm, plan) == [
        (("course", "title"), "name_letters"),
        (("trainees", 0, "name"), "name_letters"),
    ]
