"""The dispatch referral reward through HTTP with the demo accounts (agency-a, dpf-150203-a): issue 15's "Done when"
for it (500.00 once after the year; employment ended at month 7 refused), and its refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.seed import DEMO_BINDINGS
from tests.api.registry_programs_api import Api, api, service_url, skipping_env
from tests.helpers import china_today, new_credit_code, new_resident_id

__all__ = ["api", "service_url", "skipping_env"]

AGENCY = DEMO_BINDINGS["agency-a"]


def referral(
    start: date, *, id_number: str | None = None, employer: str | None = None, agency: str | None = None
) -> dict[str, Any]:
    someone = id_number or new_resident_id(born=date(1990, 4, 2))
    return {
        "program": "dispatch_referral_reward",
        "agency": {"name": AGENCY.name, "credit_code": agency or AGENCY.identifier},
        "county": "150203",
        "person": {"name": "赵六", "id_number": someone, "disability_cert_number": someone + "43"},
        "employer": {"name": "包头市示例用人单位", "credit_code": employer or new_credit_code()},
        "contract": {"start_date": start.isoformat(), "end_date": add_months(start, 36).isoformat()},
    }


async def test_a_referral_pays_500_once_after_the_year(api: Api) -> None:
    today = china_today()
    start = add_months(today, -11)
    body = referral(start)
    created = await api.submit("agency-a", body)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    assert body["person"]["id_number"] not in created.text
    await api.reaches("agency-a", application_id, "active")
    await api.env.sleep(add_months(start, 12) - today + timedelta(days=1))
    task = await api.task("dpf-150203-a", application_id, "employment_check")
    assert (await api.decide("dpf-150204-a", task["id"])).status_code in (403, 404)
    decided = await api.decide("dpf-150203-a", task["id"])
    assert decided.status_code == 200, decided.text
    done = await api.reaches("agency-a", application_id, "completed")
    end = add_months(start, 12)
    assert [
        (row["period"], row["amount"], row["city_share"], row["county_share"], row["status"])
        for row in done["schedule"]
    ] == [(f"{end.year:04d}-{end.month:02d}", "500.00", "250.00", "250.00", "due")]
    assert done["totals"]["due"] == "500.00"
    # A second claim of the same employment, after it was paid: 409.
    again = await api.submit("agency-a", {**body, "agency": body["agency"]})
    assert again.status_code == 409 and "referral_already_claimed" in again.json()["detail"]


async def test_employment_ended_at_month_7_is_refused_the_reward(api: Api) -> None:
    start = add_months(china_today(), -7)
    created = await api.submit("agency-a", referral(start))
    application_id = created.json()["id"]
    await api.reaches("agency-a", application_id, "active")
    ended = await api.event("agency-a", application_id, type="employment_ended", date=add_months(start, 7).isoformat())
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"
    found = await api.application("agency-a", application_id)
    assert found["schedule"] == [] and found["totals"]["due"] == "0.00"
    timeline = await api.http.get(
        f"/api/v1/audit/applications/{application_id}/timeline", headers=await api.auth("auditor-a")
    )
    assert "employment_shorter_than_one_year" in timeline.text


async def test_a_second_agency_claiming_the_same_employment_is_refused_with_409(api: Api) -> None:
    start = add_months(china_today(), -3)
    someone, employer = new_resident_id(born=date(1992, 1, 5)), new_credit_code()
    first = await api.submit("agency-a", referral(start, id_number=someone, employer=employer))
    assert first.status_code == 201, first.text
    other_code = new_credit_code()
    other = await api.account("agency", other_code, name="另一劳务派遣公司")
    refused = await api.submit(other, referral(start, id_number=someone, employer=employer, agency=other_code))
    assert refused.status_code == 409 and "referral_already_claimed" in refused.json()["detail"]
    assert someone not in refused.text
    await api.reaches("agency-a", first.json()["id"], "active")
    withdrawn = await api.event("agency-a", first.json()["id"], type="withdrawn")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    for _ in range(100):  # the claim is given back as the run's last step
        second = await api.submit(other, referral(start, id_number=someone, employer=employer, agency=other_code))
        if second.status_code != 409:
            break
    assert second.status_code == 201, second.text
    # The same person with another employer is another employment.
    another = await api.submit("agency-a", referral(start, id_number=someone))
    assert another.status_code == 201, another.text


async def test_an_agency_filing_under_another_credit_code_is_refused_403(api: Api) -> None:
    refused = await api.submit("agency-a", referral(add_months(china_today(), -2), agency=new_credit_code()))
    assert refused.status_code == 403 and "not_bound_to_this_organisation" in refused.text
    for user in ("applicant-a", "employer-a", "dpf-150203-a"):
        assert (await api.submit(user, referral(add_months(china_today(), -2)))).status_code == 403


async def test_the_form_refusals_name_their_fields(api: Api) -> None:
    body = referral(china_today() + timedelta(days=3))
    refused = await api.submit("agency-a", body)
    assert refused.status_code == 422
    assert ["body", "contract", "start_date"] in [error["loc"] for error in refused.json()["detail"]]
    body = referral(add_months(china_today(), -2))
    body["contract"]["end_date"] = add_months(china_today(), -3).isoformat()
    refused = await api.submit("agency-a", body)
    assert refused.status_code == 422
    assert ["body", "contract", "end_date"] in [error["loc"] for error in refused.json()["detail"]]
    created = await api.submit("agency-a", referral(add_months(china_today(), -2)))
    refused = await api.event("agency-a", created.json()["id"], type="employment_confirmed")
    assert refused.status_code == 422
