"""The graduate hiring subsidy through HTTP with the demo accounts: issue 15's "Done when" for it, and its refusals.

The service runs on the time-skipping test server (as the program P API tests): a contract that began more than a
year ago opens its first year's check at once, so no year needs to pass here (the workflow tests run them all).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.programs.graduate_hiring_subsidy.rules import add_months, add_years
from tests.api.test_public_welfare_api import (  # noqa: F401 - the fixtures of the program P API tests
    COUNTY,
    Api,
    declared_and_approved,
    person,
    placement,
    service_url,
    skipping_env,
)
from tests.conftest import account_for
from tests.helpers import china_today, new_credit_code

NAME = "包头稀土科技有限公司"


@pytest.fixture
async def api(
    service_url: str,  # noqa: F811 - the module's service, from the program P API tests' fixture
    skipping_env: WorkflowEnvironment,  # noqa: F811
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=service_url, timeout=30) as http:
        yield Api(http, skipping_env, sessions)


async def employer(api: Api) -> tuple[str, str]:
    credit_code = new_credit_code()
    return await account_for(api.sessions, "employer", credit_code, name=NAME), credit_code


def hire(credit_code: str, someone: dict[str, Any], *, start: date, graduated_on: date | None = None) -> dict[str, Any]:
    return {
        "program": "graduate_hiring_subsidy",
        "employer": {"name": NAME, "credit_code": credit_code},
        "county": COUNTY,
        "person": {k: someone[k] for k in ("name", "id_number", "disability_cert_number")},
        "graduated_on": (graduated_on or start - timedelta(days=40)).isoformat(),
        "contract": {"start_date": start.isoformat(), "end_date": add_years(start, 3).isoformat()},
        "social_insurance_from": start.isoformat(),
    }


async def active(api: Api, username: str, body: dict[str, Any]) -> str:
    created = await api.submit(username, body)
    assert created.status_code == 201, created.text
    application_id: str = created.json()["id"]
    await api.reaches(username, application_id, "under_review")
    review = await api.task("dpf-150203-a", application_id=application_id)
    assert review["step"] == "review" and review["role"] == "county_dpf"
    decided = await api.decide("dpf-150203-a", review["id"])
    assert decided.status_code == 200, decided.text
    assert decided.json()["application"]["status"] == "active"
    return application_id


def code_of(response: httpx.Response) -> str:
    return str(response.json()["detail"]).split(":", 1)[0]


async def test_done_when_a_graduate_hire_is_paid_its_first_year_after_the_check_and_stops_on_employment_ended(
    api: Api,
) -> None:
    username, credit_code = await employer(api)
    start = add_months(china_today(), -13)
    application_id = await active(api, username, hire(credit_code, person(age=24), start=start))

    # The first year ended a month ago: the employer confirms it, the County DPF checks it.
    year_end = add_years(start, 1) - timedelta(days=1)
    confirmed = await api.event(username, application_id, type="employment_confirmed", date=china_today().isoformat())
    assert confirmed.status_code == 200, confirmed.text
    check = await api.task("dpf-150203-b", application_id=application_id, step="year_check")
    # Not the official who decided the review, nor another county's.
    same = await api.decide("dpf-150203-a", check["id"])
    assert same.status_code == 403, same.text
    other = await api.decide("dpf-150204-a", check["id"])
    assert other.status_code == 403, other.text
    paid = await api.decide("dpf-150203-b", check["id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["application"]["status"] == "active"
    application = await api.application(username, application_id)
    period = f"{year_end.year:04d}-{year_end.month:02d}"
    assert [
        (row["period"], row["amount"], row["city_share"], row["county_share"], row["status"])
        for row in application["schedule"]
    ] == [(period, "9900.00", "4950.00", "4950.00", "due")]

    # The second year has not ended: its confirmation is refused.
    early = await api.event(username, application_id, type="employment_confirmed", date=china_today().isoformat())
    assert early.status_code == 409, early.text
    # Another employer may not end it.
    stranger, _ = await employer(api)
    refused = await api.event(stranger, application_id, type="employment_ended", date=china_today().isoformat())
    assert refused.status_code in (403, 404), refused.text

    ended = await api.event(username, application_id, type="employment_ended", date=china_today().isoformat())
    assert ended.status_code == 200, ended.text
    await api.reaches(username, application_id, "terminated")
    application = await api.application(username, application_id)
    assert [(row["period"], row["status"]) for row in application["schedule"]] == [(period, "due")]


async def test_a_second_subsidy_while_one_is_pending_is_refused_409(api: Api) -> None:
    username, credit_code = await employer(api)
    someone = person(age=23)
    start = china_today() - timedelta(days=10)
    first = await api.submit(username, hire(credit_code, someone, start=start))
    assert first.status_code == 201, first.text
    other, other_code = await employer(api)
    second = await api.submit(other, hire(other_code, someone, start=start))
    assert second.status_code == 409, second.text
    assert code_of(second) == "already_has_graduate_hiring_subsidy"


async def test_refusals_by_rule_by_party_and_by_field(api: Api) -> None:
    username, credit_code = await employer(api)
    today = china_today()
    # Graduated two years and a day before the contract: rejected with the reason code.
    start = today - timedelta(days=5)
    created = await api.submit(
        username, hire(credit_code, person(age=25), start=start, graduated_on=add_years(start, -2) - timedelta(days=1))
    )
    assert created.status_code == 201, created.text
    rejected = await api.reaches(username, created.json()["id"], "rejected")
    assert rejected["eligibility"]["reasons"] == ["not_a_fresh_graduate"]
    # An account that does not act for the employer named.
    other, _ = await employer(api)
    forbidden = await api.submit(other, hire(credit_code, person(age=25), start=start))
    assert forbidden.status_code == 403, forbidden.text
    # A person is not an employer.
    someone = person(age=25)
    as_person = await api.submit(await api.person_account(someone), hire(credit_code, someone, start=start))
    assert as_person.status_code == 403, as_person.text
    # Bad input names the field.
    body = hire(credit_code, person(age=25), start=start)
    body["contract"]["end_date"] = (start - timedelta(days=1)).isoformat()
    invalid = await api.submit(username, body)
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["detail"][0]["loc"][-1] == "end_date"
    future = hire(credit_code, person(age=25), start=today + timedelta(days=3))
    assert (await api.submit(username, future)).status_code == 422
    # An event it does not take.
    active_id = await active(api, username, hire(credit_code, person(age=24), start=start))
    wrong = await api.event(username, active_id, type="business_closed", date=today.isoformat())
    assert wrong.status_code == 422, wrong.text
    # A confirmation before the year ends.
    early = await api.event(username, active_id, type="employment_confirmed", date=today.isoformat())
    assert early.status_code == 409, early.text
    # Withdrawn only during the review.
    late = await api.event(username, active_id, type="withdrawn")
    assert late.status_code == 409, late.text


async def test_a_graduate_on_a_public_welfare_post_is_refused_and_the_other_way_round(api: Api) -> None:
    post = await declared_and_approved(api, places=(3,))
    post_employer = api.employer
    start = china_today() - timedelta(days=10)

    # A placement that holds its place (publicity) refuses the graduate hire.
    placed = person(age=24)
    created = await api.submit(post_employer, placement(post, placed))
    assert created.status_code == 201, created.text
    review = await api.task("hr-150203-a", application_id=created.json()["id"])
    assert (await api.decide("hr-150203-a", review["id"])).json()["application"]["status"] == "publicity"
    username, credit_code = await employer(api)
    refused = await api.submit(username, hire(credit_code, placed, start=start))
    assert refused.status_code == 409, refused.text
    assert code_of(refused) == "exclusive_with_public_welfare_post"

    # A running graduate hiring subsidy refuses a placement.
    hired = person(age=24)
    await active(api, username, hire(credit_code, hired, start=start))
    refused = await api.submit(post_employer, placement(post, hired))
    assert refused.status_code == 409, refused.text
    assert code_of(refused) == "exclusive_with_graduate_hiring_subsidy"

    # A placement proposed first, whose person's graduate hire is approved before County HR decides: the place is not
    # taken (409 naming the rule), and County HR rejects it.
    both = person(age=24)
    proposed = await api.submit(post_employer, placement(post, both))
    assert proposed.status_code == 201, proposed.text
    await active(api, username, hire(credit_code, both, start=start))
    review = await api.task("hr-150203-a", application_id=proposed.json()["id"])
    taken = await api.decide("hr-150203-a", review["id"])
    assert taken.status_code == 409, taken.text
    assert "exclusive_with_graduate_hiring_subsidy" in taken.text
