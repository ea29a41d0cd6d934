"""The access matrix: every demo role (and nobody signed in) × own county / other county × every endpoint and every
kind of decision. Each allowed cell succeeds; each forbidden cell gets 403, or 404 where the existence of another's
application must not show; nobody signed in gets 401. Every cell is tried and all misses are reported together.

Not reachable in real time here (the dev server's clock is the wall clock): the City DPF escalation of an overdue
review, and the region filing and City override of repeated placements, which follow a five-working-day publicity.
Their roles are checked by the same `check_decision` and are tested on the time-skipping server in
tests/workflows and tests/api/test_public_welfare_api.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Application
from subsidy.policy.identifiers import validate_resident_id
from subsidy.programs.registry import APPLIED_FOR, PROGRAMS
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.seed import DEMO_ACCOUNTS, DEMO_BINDINGS, DemoBinding
from tests.helpers import (
    china_today,
    months_ago,
    new_credit_code,
    new_resident_id,
    new_resident_id_of,
    own_rent_form,
    rent_form,
    training_body,
)
from tests.hostile.conftest import Login
from tests.hostile.pages import page_login

pytestmark = pytest.mark.timeout(180)

ANONYMOUS = "anonymous"
USERS = (
    "applicant-a",
    "applicant-b",
    "applicant-c",
    "employer-a",
    "provider-a",
    "agency-a",
    "dpf-150203-a",
    "dpf-150203-b",
    "dpf-150204-a",
    "hr-150203-a",
    "city-a",
    "city-b",
    "region-a",
    "auditor-a",
)
EVERYONE = (*USERS, ANONYMOUS)
CITY_WIDE = {"city-a", "city-b", "region-a", "auditor-a"}
APPLYING = {"applicant-a", "applicant-b", "applicant-c", "employer-a", "provider-a", "agency-a"}
DPF = {"dpf-150203-a", "dpf-150203-b", "dpf-150204-a", "city-a", "city-b"}
OFFICIALS = {"dpf-150203-a", "dpf-150203-b", "dpf-150204-a", "hr-150203-a", "city-a", "city-b", "region-a"}
# Who sees an application of county 150203 submitted by applicant-a, and one of 150204 by applicant-b.
SEES = {
    "150203": {"applicant-a", "dpf-150203-a", "dpf-150203-b", "hr-150203-a", *CITY_WIDE},
    "150204": {"applicant-b", "dpf-150204-a", *CITY_WIDE},
}


def expect(allowed: Iterable[str], ok: int, otherwise: int, *, anonymous: int = 401) -> dict[str, int]:
    permitted = set(allowed)
    return {user: (anonymous if user == ANONYMOUS else ok if user in permitted else otherwise) for user in EVERYONE}


@dataclass
class Matrix:
    http: httpx.AsyncClient
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    cells: int = 0

    def headers(self, user: str) -> dict[str, str]:
        return {} if user == ANONYMOUS else self.tokens[user]

    async def call(self, user: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, headers=self.headers(user), **kwargs)

    def record(self, row: str, user: str, expected: int, response: httpx.Response) -> None:
        self.cells += 1
        if response.status_code != expected:
            self.misses.append(
                f"{row} as {user}: expected {expected}, got {response.status_code} {response.text[:160]}"
            )

    async def row(self, row: str, method: str, path: str, expected: dict[str, int], **kwargs: Any) -> None:
        """One request per user, at once (none of them changes anything the others depend on)."""
        users = list(expected)
        responses = await asyncio.gather(*(self.call(user, method, path, **kwargs) for user in users))
        for user, response in zip(users, responses, strict=True):
            self.record(row, user, expected[user], response)

    async def decide(self, row: str, user: str, task_id: str, expected: int, **body: Any) -> httpx.Response:
        """A decision; a task written a moment before its workflow knows it answers 409 "not open": retried."""
        payload = {"decision": "approve", **body}
        for _ in range(60):
            response = await self.call(user, "POST", f"/api/v1/tasks/{task_id}/decision", json=payload)
            if response.status_code != 409 or "not open" not in response.text:
                break
            await asyncio.sleep(0.1)
        self.record(row, user, expected, response)
        return response

    async def decision_row(
        self, row: str, task_id: str, allowed: str, *, body: dict[str, Any] | None = None, peers: Iterable[str] = ()
    ) -> httpx.Response:
        """Every user but `allowed` and its `peers` (who could decide as well) is refused (403, 401 nobody signed
        in); then `allowed` decides, and succeeds."""
        payload = body or {}
        for user in EVERYONE:
            if user != allowed and user not in peers:
                await self.decide(row, user, task_id, 401 if user == ANONYMOUS else 403, **payload)
        return await self.decide(row, allowed, task_id, 200, **payload)

    async def collection_task(self, year: int) -> dict[str, Any]:
        """The County DPF's collection task of the declarations of one year (an application of its own)."""
        for _ in range(150):
            response = await self.call(
                "dpf-150203-a", "GET", "/api/v1/tasks", params={"program": "public_welfare_post_collection"}
            )
            found = [t for t in response.json() if str(year) in t["summary"]]
            if found:
                task: dict[str, Any] = found[0]
                return task
            await asyncio.sleep(0.1)
        raise AssertionError(f"no collection task for {year}")

    async def submit(self, user: str, body: dict[str, Any]) -> httpx.Response:
        return await self.call(user, "POST", "/api/v1/applications", json=body)

    async def task(self, user: str, application_id: str, step: str | None = None) -> dict[str, Any]:
        for _ in range(150):
            response = await self.call(user, "GET", "/api/v1/tasks", params={"application_id": application_id})
            found = [t for t in response.json() if step is None or t["step"] == step]
            if found:
                task: dict[str, Any] = found[0]
                return task
            await asyncio.sleep(0.1)
        raise AssertionError(f"no task for {user} on {application_id}")

    async def status(self, application_id: str, wanted: str) -> dict[str, Any]:
        for _ in range(150):
            response = await self.call("auditor-a", "GET", f"/api/v1/applications/{application_id}")
            if response.json()["status"] == wanted:
                found: dict[str, Any] = response.json()
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"{application_id} never became {wanted}")


def referral_form(agency: DemoBinding) -> dict[str, Any]:
    person = new_resident_id(born=date(1990, 4, 2))
    start = add_months(china_today(), -2)
    return {
        "program": "dispatch_referral_reward",
        "agency": {"name": agency.name, "credit_code": agency.identifier},
        "county": "150203",
        "person": {"name": "赵六", "id_number": person, "disability_cert_number": person + "43"},
        "employer": {"name": "包头市示例用人单位", "credit_code": new_credit_code()},
        "contract": {"start_date": start.isoformat(), "end_date": add_months(start, 24).isoformat()},
    }


def massage_form(practitioner: DemoBinding, year: int) -> dict[str, Any]:
    return {
        "program": "blind_massage_insurance_subsidy",
        "applicant": {
            "name": practitioner.name,
            "id_number": practitioner.identifier,
            "disability_cert_number": practitioner.disability_cert_number,
            "hukou_county": practitioner.county,
            "phone": "13800000000",
        },
        "year": year,
        "insurance_paid": "8000.00",
        "workplace": {"name": "包头市示例盲人按摩店", "credit_code": new_credit_code()},
        "bank_account": "6222020200001234567",
    }


def declaration(year: int, credit_code: str = DEMO_BINDINGS["employer-a"].identifier) -> dict[str, Any]:
    return {
        "program": "public_welfare_post",
        "employer": {"name": "包头市某社区服务中心", "credit_code": credit_code},
        "county": "150203",
        "year": year,
        "posts": [{"title": "社区服务岗", "category": "public_service", "count": 2, "monthly_wage": "2200.00"}],
    }


def over_quota_claim(credit_code: str = DEMO_BINDINGS["employer-a"].identifier) -> dict[str, Any]:
    employees = [new_resident_id(born=date(1983, 5, 20)) for _ in range(5)]
    return {
        "program": "over_quota_reward",
        "employer": {"name": "包头市某社区服务中心", "credit_code": credit_code},
        "county": "150203",
        "year": china_today().year - 1,
        "unit_kind": "enterprise",
        "staff_total": 200,
        "employees": [
            {"name": "职工", "id_number": number, "disability_cert_number": f"{number}4{grade}"}
            for number, grade in zip(employees, (2, 2, 4, 4, 4), strict=True)
        ],
    }


def person() -> dict[str, Any]:
    born = add_months(china_today(), -12 * 40)
    id_number = new_resident_id_of("M", born)
    return {
        "name": "王五",
        "id_number": id_number,
        "disability_cert_number": f"{id_number}43",
        "sex": "M",
        "birth_date": born.isoformat(),
        "severe_disability": False,
        "special_hardship": False,
    }


def bound_person(bound: DemoBinding) -> dict[str, Any]:
    """The `person` part of a form for a demo applicant's bound person: sex, birth and severity from the numbers."""
    resident = validate_resident_id(bound.identifier)
    assert bound.disability_cert_number is not None
    return {
        "name": bound.name,
        "id_number": bound.identifier,
        "disability_cert_number": bound.disability_cert_number,
        "sex": resident.sex,
        "birth_date": resident.birth_date.isoformat(),
        "severe_disability": int(bound.disability_cert_number[19]) <= 2,
        "special_hardship": False,
    }


def flexible_form(bound: DemoBinding) -> dict[str, Any]:
    return {
        "program": "flexible_employment_insurance_subsidy",
        "county": bound.county,
        "person": bound_person(bound),
        "start_date": china_today().isoformat(),
    }


def graduate_hire() -> dict[str, Any]:
    """employer-a's claim for a graduate it hired ten days ago (a person nobody else applies for)."""
    id_number = new_resident_id(born=date(2002, 9, 1))
    start = china_today() - timedelta(days=10)
    return {
        "program": "graduate_hiring_subsidy",
        "employer": {"name": DEMO_BINDINGS["employer-a"].name, "credit_code": DEMO_BINDINGS["employer-a"].identifier},
        "county": "150203",
        "person": {"name": "钱八", "id_number": id_number, "disability_cert_number": id_number + "42"},
        "graduated_on": (start - timedelta(days=30)).isoformat(),
        "contract": {"start_date": start.isoformat(), "end_date": (start + timedelta(days=800)).isoformat()},
        "social_insurance_from": start.isoformat(),
    }


def registration_body(kind: str = "person") -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": f"reg-{uuid.uuid4().hex[:12]}",
        "password": "correct horse battery",
        "kind": kind,
        "name": "赵六",
        "phone": "13800000002",
        "county": "150203",
    }
    if kind == "person":
        id_number = new_resident_id()
        return {**body, "id_number": id_number, "disability_cert_number": id_number + "42"}
    return {**body, "credit_code": new_credit_code()}


# County DPF officials may file rent and flexible-insurance applications at the service window for persons of their
# county: in the submission rows they are tried in a row of their own, with a person nobody else applies for.
WINDOW = {"150203": {"dpf-150203-a", "dpf-150203-b"}, "150204": {"dpf-150204-a"}}


@pytest.fixture
async def matrix(http: httpx.AsyncClient) -> Matrix:
    found = Matrix(http)
    for user in USERS:
        response = await http.post("/api/v1/auth/token", data={"username": user, "password": "demo"})
        assert response.status_code == 200, response.text
        found.tokens[user] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return found


async def test_every_role_and_county_against_every_endpoint_and_decision(
    matrix: Matrix, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    m = matrix
    past = months_ago(14, days=1)
    # ---- submissions: each program by its applicant role only ------------------------------------------
    submitter = {"150203": "applicant-a", "150204": "applicant-b"}
    rent_rows = {county: own_rent_form(user, license_date=past) for county, user in submitter.items()}
    rent: dict[str, str] = {}
    for county, body in rent_rows.items():
        for user in EVERYONE:
            # The other applicant too: 403 not_bound_to_this_person, whatever that person's status.
            if user != submitter[county] and user not in WINDOW[county]:
                m.record(
                    f"submit rent_subsidy ({county})",
                    user,
                    401 if user == ANONYMOUS else 403,
                    await m.submit(user, body),
                )
        created = await m.submit(submitter[county], body)
        m.record(f"submit rent_subsidy ({county})", submitter[county], 201, created)
        rent[county] = created.json()["id"]
    programs = {
        "training_subsidy": (
            training_body([new_resident_id(born=date(1985, 7, 1))], planned_cost="1500.00"),
            "provider-a",
        ),
        "public_welfare_post": (declaration(china_today().year + 1), "employer-a"),
        "flexible_employment_insurance_subsidy": (flexible_form(DEMO_BINDINGS["applicant-a"]), "applicant-a"),
        "over_quota_reward": (over_quota_claim(), "employer-a"),
        "dispatch_referral_reward": (referral_form(DEMO_BINDINGS["agency-a"]), "agency-a"),
        # Two years back: accepted, then refused by its workflow (not_the_previous_year), so that the demo
        # practitioner's previous year stays free for the tests of the program.
        "blind_massage_insurance_subsidy": (
            massage_form(DEMO_BINDINGS["applicant-c"], china_today().year - 2),
            "applicant-c",
        ),
        "graduate_hiring_subsidy": (graduate_hire(), "employer-a"),
    }
    # Every program people apply for is in this matrix (the placement below, once a post is approved), each
    # submitted by an account of a role its declaration names: a program added to the registry fails here until it is.
    roles_of = {account.username: account.roles for account in DEMO_ACCOUNTS}
    assert {program.code for program in APPLIED_FOR} == {"rent_subsidy", "public_welfare_placement", *programs}
    for code, (_, allowed) in {"rent_subsidy": (None, submitter["150203"]), **programs}.items():
        assert set(roles_of[allowed]) & set(PROGRAMS[code].applicant_roles), code
    created_of: dict[str, str] = {}
    for program, (body, allowed) in programs.items():
        for user in EVERYONE:
            party = PROGRAMS[program].bound_party
            at_window = party is not None and party.window_county is not None and user in WINDOW["150203"]
            if user != allowed and not at_window:
                m.record(f"submit {program}", user, 401 if user == ANONYMOUS else 403, await m.submit(user, body))
        created = await m.submit(allowed, body)
        m.record(f"submit {program}", allowed, 201, created)
        created_of[program] = created.json()["id"]
    # Declarations and class plans under someone else's credit code: 403 for the employer and the provider.
    other_code = await m.submit("employer-a", declaration(china_today().year + 1, new_credit_code()))
    m.record("submit public_welfare_post (another credit code)", "employer-a", 403, other_code)
    other_claim = await m.submit("employer-a", over_quota_claim(new_credit_code()))
    m.record("submit over_quota_reward (another credit code)", "employer-a", 403, other_claim)
    other_provider = training_body([new_resident_id(born=date(1985, 7, 1))], planned_cost="1500.00")
    other_provider["provider"] = {"name": "另一培训机构", "credit_code": new_credit_code()}
    m.record(
        "submit training_subsidy (another provider)", "provider-a", 403, await m.submit("provider-a", other_provider)
    )
    # Filing at the service window: the County DPF of the person's county only.
    window_body = rent_form(license_date=past)
    for user in ("dpf-150204-a", "hr-150203-a", "city-a"):
        m.record("window filing rent_subsidy (150203)", user, 403, await m.submit(user, window_body))
    filed = await m.submit("dpf-150203-a", window_body)
    m.record("window filing rent_subsidy (150203)", "dpf-150203-a", 201, filed)

    # ---- reads of one application per county: its own people and county, the city, the auditor -----------
    for county, application_id in rent.items():
        sees = SEES[county]
        await m.row(
            f"GET application ({county})", "GET", f"/api/v1/applications/{application_id}", expect(sees, 200, 404)
        )
        listed = {user: await m.call(user, "GET", "/api/v1/applications", params={"limit": 500}) for user in EVERYONE}
        for user, response in listed.items():
            m.cells += 1
            visible = response.status_code == 200 and application_id in {a["id"] for a in response.json()}
            if (response.status_code, visible) != ((401, False) if user == ANONYMOUS else (200, user in sees)):
                m.misses.append(f"list applications ({county}) as {user}: {response.status_code}, listed={visible}")
        for name, method in (("timeline", "GET"), ("history", "GET"), ("replay", "POST")):
            path = f"/api/v1/audit/applications/{application_id}/{name}"
            await m.row(f"audit {name} ({county})", method, path, expect({"auditor-a"}, 200, 403))
        # The inbox: the County DPF of the application's county, nobody else (role and county).
        dpf = {"150203": {"dpf-150203-a", "dpf-150203-b"}, "150204": {"dpf-150204-a"}}[county]
        task = await m.task(next(iter(dpf)), application_id)
        for user in EVERYONE:
            response = await m.call(user, "GET", "/api/v1/tasks", params={"application_id": application_id})
            m.cells += 1
            ids = [t["id"] for t in response.json()] if response.status_code == 200 else None
            if ids != (None if user == ANONYMOUS else [task["id"]] if user in dpf else []):
                m.misses.append(f"inbox ({county}) as {user}: {response.status_code} {ids}")
        # Claim and release: the task's county and role only; a release by another official is a conflict.
        claimant = sorted(dpf)[0]
        for user in EVERYONE:
            if user not in dpf:
                response = await m.call(user, "POST", f"/api/v1/tasks/{task['id']}/claim")
                m.record(f"claim ({county})", user, 401 if user == ANONYMOUS else 403, response)
        m.record(
            f"claim ({county})", claimant, 200, await m.call(claimant, "POST", f"/api/v1/tasks/{task['id']}/claim")
        )
        for user in dpf - {claimant}:
            m.record(
                f"release another's claim ({county})",
                user,
                409,
                await m.call(user, "POST", f"/api/v1/tasks/{task['id']}/release"),
            )
        m.record(
            f"release ({county})", claimant, 200, await m.call(claimant, "POST", f"/api/v1/tasks/{task['id']}/release")
        )

    await m.row("GET me", "GET", "/api/v1/me", expect(USERS, 200, 200))
    await m.row("GET policies", "GET", "/api/v1/policies", expect(USERS, 200, 200, anonymous=200))
    await m.row("GET public-welfare posts", "GET", "/api/v1/public-welfare-posts", expect(USERS, 200, 200))
    await m.row("audit log verify", "GET", "/api/v1/audit/log/verify", expect({"auditor-a"}, 200, 403))
    await m.row(
        "audit codec decode",
        "POST",
        "/api/v1/audit/codec/decode",
        expect({"auditor-a"}, 200, 403),
        json={"payloads": []},
    )

    # ---- registrations: anyone may register; the County DPF of its county verifies; until then nothing ------
    registered = registration_body()
    created = await m.call(ANONYMOUS, "POST", "/api/v1/registrations", json=registered)
    m.record("register", ANONYMOUS, 201, created)
    registration_id = created.json()["id"]
    m.record(
        "register (user name taken)",
        ANONYMOUS,
        409,
        await m.call(
            ANONYMOUS, "POST", "/api/v1/registrations", json={**registration_body(), "username": registered["username"]}
        ),
    )
    pending = await m.http.post(
        "/api/v1/auth/token", data={"username": registered["username"], "password": registered["password"]}
    )
    m.tokens["pending"] = {"Authorization": f"Bearer {pending.json()['access_token']}"}
    for method, path, body in (
        ("GET", "/api/v1/applications", None),
        ("POST", "/api/v1/applications", rent_form(id_number=registered["id_number"])),
        ("GET", f"/api/v1/applications/{registration_id}", None),
        ("GET", "/api/v1/ledger", None),
        ("GET", "/api/v1/tasks", None),
        ("GET", "/api/v1/public-welfare-posts", None),
        ("GET", "/api/v1/audit/log/verify", None),
    ):
        m.record(
            f"{method} {path} (account not verified)", "pending", 403, await m.call("pending", method, path, json=body)
        )
    m.record("GET me (account not verified)", "pending", 200, await m.call("pending", "GET", "/api/v1/me"))
    path = f"/api/v1/registrations/{registration_id}"
    m.record("GET own registration", "pending", 200, await m.call("pending", "GET", path))
    await m.row("GET registration (150203)", "GET", path, expect({*WINDOW["150203"], *CITY_WIDE}, 200, 404))
    # Registrations waiting for verification: the administrator every county, the County DPF its own, else 403.
    county_dpf = {*WINDOW["150203"], *WINDOW["150204"]}
    listing = "/api/v1/registrations?status=pending"
    await m.row("GET pending registrations", "GET", listing, expect(county_dpf, 200, 403))
    await m.row(
        "GET pending registrations (150204)", "GET", listing + "&county=150204", expect(WINDOW["150204"], 200, 403)
    )
    m.record("GET pending registrations (not verified)", "pending", 403, await m.call("pending", "GET", listing))
    admin = await m.http.post("/api/v1/auth/token", data={"username": "admin-a", "password": "demo"})
    m.tokens["admin-a"] = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    for query in ("", "&county=150203", "&county=150204"):
        m.record(f"GET pending registrations{query}", "admin-a", 200, await m.call("admin-a", "GET", listing + query))
    waiting = {row["id"] for row in (await m.call("dpf-150203-a", "GET", listing)).json()}
    elsewhere = {row["id"] for row in (await m.call("dpf-150204-a", "GET", listing)).json()}
    if registration_id not in waiting or registration_id in elsewhere:
        m.misses.append("GET pending registrations: the 150203 registration not listed for 150203 only")
    check = await m.task("dpf-150203-b", registration_id)
    await m.decision_row("registration check County DPF (150203)", check["id"], "dpf-150203-b", peers=["dpf-150203-a"])

    # ---- decisions: each kind of task by its role and county only -----------------------------------------
    window_task = await m.task("dpf-150203-b", filed.json()["id"])
    # The official who filed it at the window may not decide it (separation of duties); a colleague may.
    await m.decision_row(
        "window-filed rent county review (150203)",
        window_task["id"],
        "dpf-150203-b",
        body={"values": {"monthly_rent": "1200.00"}},
    )
    task_203 = await m.task("dpf-150203-a", rent["150203"])
    # Round 1 returned by dpf-150203-a; the corrected application's round 2 may not be approved by the same official.
    await m.decision_row(
        "rent county review (150203)",
        task_203["id"],
        "dpf-150203-a",
        body={"decision": "return", "reason": "补充材料"},
        peers=["dpf-150203-b"],
    )
    corrected = await m.call(
        "applicant-a",
        "POST",
        f"/api/v1/applications/{rent['150203']}/events",
        json={"type": "corrected", "corrected": {"hukou_county": "150203"}},
    )
    m.record("corrected event", "applicant-a", 200, corrected)
    round_2 = await m.task("dpf-150203-a", rent["150203"])
    await m.decision_row(
        "rent county review round 2 (150203)",
        round_2["id"],
        "dpf-150203-b",
        body={"values": {"monthly_rent": "1200.00"}},  # dpf-150203-a, who returned round 1, is refused 403
    )
    task_204 = await m.task("dpf-150204-a", rent["150204"])
    await m.decision_row(
        "rent county review (150204)", task_204["id"], "dpf-150204-a", body={"values": {"monthly_rent": "900.00"}}
    )
    plan = await m.task("dpf-150203-b", created_of["training_subsidy"])
    await m.decision_row("training plan review (150203)", plan["id"], "dpf-150203-b", peers=["dpf-150203-a"])
    flexible = await m.task("hr-150203-a", created_of["flexible_employment_insurance_subsidy"])
    await m.decision_row("flexible insurance County HR (150203)", flexible["id"], "hr-150203-a")
    collection = await m.collection_task(china_today().year + 1)
    await m.decision_row(
        "post collection County DPF (150203)", collection["id"], "dpf-150203-a", peers=["dpf-150203-b"]
    )
    # Rejected, so that employer-a may claim the same year again in the next run (one claim per employer and year).
    over_quota = await m.task("dpf-150203-a", created_of["over_quota_reward"])
    await m.decision_row(
        "over-quota reward County DPF (150203)",
        over_quota["id"],
        "dpf-150203-a",
        body={"decision": "reject", "reason": "access matrix"},
        peers=["dpf-150203-b"],
    )
    post_review = await m.task("hr-150203-a", created_of["public_welfare_post"], step="hr_approval")
    await m.decision_row("post declaration County HR (150203)", post_review["id"], "hr-150203-a")
    await m.status(created_of["public_welfare_post"], "approved")
    placement = {
        "program": "public_welfare_placement",
        "post_application_id": created_of["public_welfare_post"],
        "person": person(),
        "start_date": china_today().isoformat(),
    }
    for user in EVERYONE:
        if user != "employer-a":
            m.record(
                "submit public_welfare_placement",
                user,
                401 if user == ANONYMOUS else 403,
                await m.submit(user, placement),
            )
    proposed = await m.submit("employer-a", placement)
    m.record("submit public_welfare_placement", "employer-a", 201, proposed)
    placement_review = await m.task("hr-150203-a", proposed.json()["id"])
    await m.decision_row("placement County HR (150203)", placement_review["id"], "hr-150203-a")

    # ---- money: the ledger of the paid months, scoped like the applications --------------------------------
    for county, application_id in rent.items():
        await m.status(application_id, "active")
        for _ in range(100):
            rows = await m.call("auditor-a", "GET", "/api/v1/ledger", params={"application_id": application_id})
            if rows.headers["X-Total-Count"] == "28":
                break
            await asyncio.sleep(0.1)
        for user in EVERYONE:
            response = await m.call(user, "GET", "/api/v1/ledger", params={"application_id": application_id})
            m.cells += 1
            got = (response.status_code, response.headers.get("X-Total-Count"))
            wanted = (401, None) if user == ANONYMOUS else (200, "28" if user in SEES[county] else "0")
            if got != wanted:
                m.misses.append(f"ledger ({county}) as {user}: {got}, expected {wanted}")

    # ---- one page per person: the county's officials and the city-wide ones; another county's: 404 ---------
    county_officials = {"150203": {"dpf-150203-a", "dpf-150203-b", "hr-150203-a"}, "150204": {"dpf-150204-a"}}
    for county, application_id in rent.items():
        async with hostile_sessions() as session:
            person_id = await session.scalar(
                select(Application.person_id).where(Application.id == uuid.UUID(application_id))
            )
        sees = county_officials[county] | {"city-a", "city-b", "auditor-a"}
        elsewhere = {"dpf-150203-a", "dpf-150203-b", "dpf-150204-a", "hr-150203-a"} - sees
        await m.row(
            f"person ({county})",
            "GET",
            f"/api/v1/people/{person_id}",
            {
                user: 401 if user == ANONYMOUS else 200 if user in sees else 404 if user in elsewhere else 403
                for user in EVERYONE
            },
        )

    # ---- events: the applicant's own, the county's officials', nobody else's --------------------------------
    closed = {"type": "business_closed", "date": china_today().isoformat()}
    path = f"/api/v1/applications/{rent['150203']}/events"
    # The applicant and both County DPF officials of 150203 may record it; dpf-150203-a does.
    for user in EVERYONE:
        if user not in ("applicant-a", "dpf-150203-a", "dpf-150203-b"):
            refused = 401 if user == ANONYMOUS else 403 if user in SEES["150203"] else 404
            m.record("business_closed (150203)", user, refused, await m.call(user, "POST", path, json=closed))
    m.record("business_closed (150203)", "dpf-150203-a", 200, await m.call("dpf-150203-a", "POST", path, json=closed))
    withdrawable = await m.submit("applicant-b", flexible_form(DEMO_BINDINGS["applicant-b"]))
    path = f"/api/v1/applications/{withdrawable.json()['id']}/events"
    for user in EVERYONE:
        if user != "applicant-b":
            refused = 401 if user == ANONYMOUS else 403 if user in SEES["150204"] else 404
            m.record("withdrawn (150204)", user, refused, await m.call(user, "POST", path, json={"type": "withdrawn"}))
    m.record(
        "withdrawn (150204)", "applicant-b", 200, await m.call("applicant-b", "POST", path, json={"type": "withdrawn"})
    )

    print(f"access matrix: {m.cells} cells")
    assert m.misses == [], "\n".join(m.misses)
    assert m.cells > 500


async def test_the_pages_follow_the_same_matrix(
    http: httpx.AsyncClient, login: Login, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Officials' inbox and task pages, applicants' pages: the same rules through the session cookie."""
    applicant = await login("applicant-a")
    created = await http.post("/api/v1/applications", json=own_rent_form("applicant-a"), headers=applicant)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    official = await login("dpf-150203-a")
    for _ in range(150):
        tasks = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)).json()
        if tasks:
            break
        await asyncio.sleep(0.1)
    task_id = tasks[0]["id"]
    provider = await login("provider-a")
    filed = await http.post("/api/v1/applications", json=training_body([new_resident_id()]), headers=provider)
    assert filed.status_code == 201, filed.text
    class_id = filed.json()["id"]
    task_page = {"dpf-150203-a", "dpf-150203-b"}
    async with hostile_sessions() as session:
        person_id = await session.scalar(
            select(Application.person_id).where(Application.id == uuid.UUID(application_id))
        )
    person_page = {"dpf-150203-a", "dpf-150203-b", "hr-150203-a", "city-a", "city-b", "auditor-a"}
    applicants = ("applicant-a", "applicant-b", "applicant-c")
    misses = []

    async def visit(user: str) -> None:
        async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
            if user != ANONYMOUS:
                assert (await page_login(browser, user)).status_code == 303
            wanted = {
                "/inbox": 200 if user in OFFICIALS else 403,
                f"/tasks/{task_id}": 200 if user in task_page else 403,
                # Everyone who applies for something sees their own list (an employer its declarations...).
                "/my/applications": 200 if user in APPLYING else 403,
                f"/my/applications/{application_id}": 200
                if user == "applicant-a"
                else 404
                if user in APPLYING
                else 403,
                # The person's and the training provider's own pages.
                "/apply/rent-subsidy/before-you-start": 200 if user in applicants else 403,
                "/apply/flexible-insurance": 200 if user in applicants else 403,
                "/training/classes": 200 if user == "provider-a" else 403,
                "/training/classes/new": 200 if user == "provider-a" else 403,
                f"/training/classes/{class_id}": 200 if user == "provider-a" else 403,
                f"/training/classes/{class_id}/withdraw": 200 if user == "provider-a" else 403,
                "/employer/graduate-hires": 200 if user == "employer-a" else 403,
                "/employer/graduate-hires/new": 200 if user == "employer-a" else 403,
                # The payee's bank account form: the payee only; another who may read the application is refused.
                f"/my/applications/{application_id}/bank-account": 200
                if user == "applicant-a"
                else 403
                if user in SEES["150203"]
                else 404,
                # One page per person: the county's officials and the city-wide ones; another county's 404.
                f"/people/{person_id}": 200 if user in person_page else 404 if user == "dpf-150204-a" else 403,
                # The finance pages: finance officers (none of these users) act, auditors read; recoveries also for
                # the County and City DPF, who settle them.
                "/finance": 200 if user == "auditor-a" else 403,
                "/finance/reconciliation": 200 if user == "auditor-a" else 403,
                "/finance/recoveries": 200 if user in DPF | {"auditor-a"} else 403,
            }
            for path, status in wanted.items():
                response = await browser.get(path)
                expected = 303 if user == ANONYMOUS else status  # to the sign-in page
                if response.status_code != expected:
                    misses.append(f"{path} as {user}: expected {expected}, got {response.status_code}")

    await asyncio.gather(*(visit(user) for user in EVERYONE))
    # Withdrawn, so that the person bound to applicant-a may apply again in other tests.
    withdrawn = await http.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "withdrawn"}, headers=applicant
    )
    assert withdrawn.status_code == 200, withdrawn.text
    withdrawn = await http.post(f"/api/v1/applications/{class_id}/events", json={"type": "withdrawn"}, headers=provider)
    assert withdrawn.status_code == 200, withdrawn.text
    assert misses == [], "\n".join(misses)
