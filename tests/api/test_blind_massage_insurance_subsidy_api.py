"""The blind massage practitioners' insurance subsidy through HTTP with the demo accounts (applicant-c, 王五;
dpf-150203-a): issue 15's "Done when" for it (8000.00 paid → 4000.00 from the city; a physical-disability
certificate refused; a 16th year refused), the register's years, and the refusals."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from subsidy.service.seed import DEMO_BINDINGS
from tests.api.registry_programs_api import Api, api, service_url, skipping_env
from tests.helpers import china_today, new_credit_code, new_resident_id

__all__ = ["api", "service_url", "skipping_env"]

WANG_WU = DEMO_BINDINGS["applicant-c"]
LAST_YEAR = china_today().year - 1


def claim(
    *, id_number: str | None = None, name: str = "王五", category: int = 1, year: int = LAST_YEAR, paid: str = "8000.00"
) -> dict[str, Any]:
    id_number = id_number or WANG_WU.identifier
    cert = WANG_WU.disability_cert_number if id_number == WANG_WU.identifier and category == 1 else None
    return {
        "program": "blind_massage_insurance_subsidy",
        "applicant": {
            "name": name,
            "id_number": id_number,
            "disability_cert_number": cert or f"{id_number}{category}2",
            "hukou_county": "150203",
            "phone": "13800000000",
        },
        "year": year,
        "insurance_paid": paid,
        "workplace": {"name": "包头市示例盲人按摩店", "credit_code": new_credit_code()},
        "bank_account": "6222020200001234567",
    }


def someone() -> str:
    return new_resident_id(born=date(1965, 1, 1) + timedelta(days=random.randrange(0, 9000)))


async def practitioner(api: Api, id_number: str) -> str:
    return await api.account("person", id_number, name="王五", disability_cert_number=f"{id_number}12")


async def test_wang_wu_paid_8000_and_gets_4000_from_the_city(api: Api) -> None:
    created = await api.submit("applicant-c", claim())
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    assert WANG_WU.identifier not in created.text and "6222020200001234567" not in created.text
    task = await api.task("dpf-150203-a", application_id, "review")
    assert (await api.decide("dpf-150204-a", task["id"], values={"insurance_verified": "8000.00"})).status_code in (
        403,
        404,
    )
    missing = await api.decide("dpf-150203-a", task["id"])
    assert missing.status_code == 422 and "insurance_verified" in missing.text
    above = await api.decide("dpf-150203-a", task["id"], values={"insurance_verified": "8000.01"})
    assert above.status_code == 422 and "verified_above_declared" in above.text
    decided = await api.decide("dpf-150203-a", task["id"], values={"insurance_verified": "8000.00"})
    assert decided.status_code == 200, decided.text
    done = await api.reaches("applicant-c", application_id, "completed")
    assert [(r["period"], r["amount"], r["city_share"], r["county_share"], r["status"]) for r in done["schedule"]] == [
        (f"{LAST_YEAR}-12", "4000.00", "4000.00", "0.00", "due")
    ]
    assert (done["totals"]["due"], done["totals"]["city"], done["totals"]["county"]) == ("4000.00", "4000.00", "0.00")
    # The same year again: 409.
    again = await api.submit("applicant-c", claim())
    assert again.status_code == 409 and "already_claimed_this_year" in again.json()["detail"]


async def test_a_physical_disability_certificate_is_refused(api: Api) -> None:
    id_number = someone()
    user = await api.account("person", id_number, name="王五", disability_cert_number=f"{id_number}42")
    created = await api.submit(user, claim(id_number=id_number, category=4))
    assert created.status_code == 201, created.text
    refused = await api.reaches(user, created.json()["id"], "rejected")
    assert refused["eligibility"]["reasons"] == ["not_visual_disability"]


async def test_a_claim_for_a_year_other_than_the_previous_one_is_refused(api: Api) -> None:
    id_number = someone()
    user = await practitioner(api, id_number)
    created = await api.submit(user, claim(id_number=id_number, year=LAST_YEAR - 1))
    refused = await api.reaches(user, created.json()["id"], "rejected")
    assert refused["eligibility"]["reasons"] == ["not_the_previous_year"]


async def test_the_registers_years_count_and_the_16th_year_is_refused(api: Api) -> None:
    fifteen, fourteen = someone(), someone()
    recorded = await api.http.post(
        "/api/v1/person-registry/prior-years",
        json={
            "program": "blind_massage_insurance_subsidy",
            "id_number": fifteen,
            "name": "王五",
            "years": list(range(LAST_YEAR - 15, LAST_YEAR)),
            "source": "第3册第12页",
        },
        headers=await api.auth("dpf-150203-a"),
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["recorded"] == list(range(LAST_YEAR - 15, LAST_YEAR))
    assert recorded.json()["already_held"] == [] and recorded.json()["county"] == "150203"
    user = await practitioner(api, fifteen)
    created = await api.submit(user, claim(id_number=fifteen))
    refused = await api.reaches(user, created.json()["id"], "rejected")
    assert refused["eligibility"]["reasons"] == ["subsidy_years_exhausted"]

    body = {
        "program": "blind_massage_insurance_subsidy",
        "id_number": fourteen,
        "name": "王五",
        "years": list(range(LAST_YEAR - 14, LAST_YEAR)),
        "source": "第3册第13页",
    }
    assert (
        await api.http.post("/api/v1/person-registry/prior-years", json=body, headers=await api.auth("dpf-150203-a"))
    ).status_code == 201
    # Recorded twice: nothing new, each year already held.
    twice = await api.http.post(
        "/api/v1/person-registry/prior-years", json=body, headers=await api.auth("dpf-150204-a")
    )
    assert twice.status_code == 201 and twice.json()["recorded"] == [] and len(twice.json()["already_held"]) == 14
    user = await practitioner(api, fourteen)
    created = await api.submit(user, claim(id_number=fourteen))
    task = await api.task("dpf-150203-a", created.json()["id"], "review")
    await api.decide("dpf-150203-a", task["id"], values={"insurance_verified": "6000.00"})
    paid = await api.reaches(user, created.json()["id"], "completed")
    assert paid["totals"]["due"] == "3000.00"


async def test_the_prior_years_are_for_county_dpf_officials_and_past_years_only(api: Api) -> None:
    body = {
        "program": "blind_massage_insurance_subsidy",
        "id_number": someone(),
        "name": "王五",
        "years": [LAST_YEAR],
        "source": "第1册第1页",
    }
    for user in ("applicant-c", "hr-150203-a", "city-a", "agency-a"):
        refused = await api.http.post("/api/v1/person-registry/prior-years", json=body, headers=await api.auth(user))
        assert refused.status_code == 403, user
    assert (await api.http.post("/api/v1/person-registry/prior-years", json=body)).status_code == 401
    for year in (LAST_YEAR + 1, LAST_YEAR + 2):
        refused = await api.http.post(
            "/api/v1/person-registry/prior-years",
            json={**body, "years": [LAST_YEAR, year]},
            headers=await api.auth("dpf-150203-a"),
        )
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "years", "1"]
    unknown = await api.http.post(
        "/api/v1/person-registry/prior-years", json={**body, "extra": 1}, headers=await api.auth("dpf-150203-a")
    )
    assert unknown.status_code == 422


async def test_another_persons_claim_is_refused_403_and_the_window_files_it(api: Api) -> None:
    id_number = someone()
    refused = await api.submit("applicant-c", claim(id_number=id_number))
    assert refused.status_code == 403 and "not_bound_to_this_person" in refused.text
    assert (await api.submit("dpf-150204-a", claim(id_number=id_number))).status_code == 403
    filed = await api.submit("dpf-150203-a", claim(id_number=id_number))
    assert filed.status_code == 201, filed.text
    task = await api.task("dpf-150203-b", filed.json()["id"], "review")
    # The official who filed it at the window may not decide it.
    own = await api.decide("dpf-150203-a", task["id"], values={"insurance_verified": "8000.00"})
    assert own.status_code == 403


async def test_a_withdrawal_gives_the_year_back(api: Api) -> None:
    id_number = someone()
    user = await practitioner(api, id_number)
    created = await api.submit(user, claim(id_number=id_number))
    await api.reaches(user, created.json()["id"], "under_review")
    withdrawn = await api.event(user, created.json()["id"], type="withdrawn")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    for _ in range(100):
        again = await api.submit(user, claim(id_number=id_number))
        if again.status_code != 409:
            break
    assert again.status_code == 201, again.text
    refused = await api.event(user, again.json()["id"], type="employment_ended", date=china_today().isoformat())
    assert refused.status_code == 422


async def test_the_form_refusals_name_their_fields(api: Api) -> None:
    body = claim(paid="0.00")
    refused = await api.submit("applicant-c", body)
    assert refused.status_code == 422 and ["body", "insurance_paid"] in [e["loc"] for e in refused.json()["detail"]]
    body = claim()
    body["bank_account"] = "12ab"
    refused = await api.submit("applicant-c", body)
    assert refused.status_code == 422 and ["body", "bank_account"] in [e["loc"] for e in refused.json()["detail"]]
