"""Policy versions loaded as data and approved by a second official, over real HTTP, on a database of their own.

The issue's case: a version raising the rent cap to 1200.00 from next month is loaded, shown as a difference,
approved by a second official, and applies only to applications made on or after its first day. The API's clock
(where a submission takes its date) is set by the test; every date here is relative to it, never a fixed day.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy import settings as settings_module
from subsidy.api import procedures
from subsidy.db.migrate import upgrade
from subsidy.db.models import AuditRecord
from subsidy.db.session import create_engine, session_factory
from subsidy.policy.workdays import china_today
from subsidy.programs.rent_subsidy.rules import add_months
from subsidy.service.embedded import EmbeddedPostgres
from subsidy.service.seed import seed_demo_accounts, seed_policies
from tests.conftest import bearer_login, bound_login, running_service
from tests.helpers import new_resident_id, rent_form

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
async def own_database() -> AsyncIterator[str]:
    """Approving versions changes which one applies: these tests keep that away from every other test."""
    with tempfile.TemporaryDirectory(prefix="subsidy-policy-pg-") as folder:
        postgres = await EmbeddedPostgres.start(Path(folder) / "data")
        try:
            await asyncio.to_thread(upgrade, postgres.url)
            engine = create_engine(postgres.url, pool_size=2)
            await seed_policies(session_factory(engine))
            await seed_policies(session_factory(engine))  # seeding again changes nothing
            await seed_demo_accounts(session_factory(engine))
            await engine.dispose()
            yield postgres.url
        finally:
            await postgres.stop()


@pytest.fixture(scope="module")
async def own_sessions(own_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(own_database, pool_size=2)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="module")
async def api(own_database: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    async with running_service(own_database, dev_server_env) as url, httpx.AsyncClient(base_url=url, timeout=30) as c:
        yield c


class Clock:
    """The day the API gives a submission (`Settings.today()`, which reads `china_today`), set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, day: date) -> None:
        self._monkeypatch.setattr(settings_module, "china_today", lambda: day)
        self._monkeypatch.setattr(procedures, "china_today", lambda: day)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


async def listed(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await api.get("/api/v1/policies")
    assert response.status_code == 200
    return {entry["id"]: entry for entry in response.json()}


def new_version(entry: dict[str, Any], valid_from: date, valid_to: date | None = None, **rent: str) -> dict[str, Any]:
    """A listing entry as a file: a new id and window (and rent parameters)."""
    version = copy.deepcopy(entry)
    version.update(id=f"test-{uuid.uuid4().hex[:12]}", valid_from=valid_from.isoformat())
    version["valid_to"] = valid_to.isoformat() if valid_to else None
    version["parameters"]["rent"].update(rent)
    return version


async def approved_rent_schedule(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], applied_on: date
) -> dict[str, Any]:
    """Submit a rent subsidy (rent 1500.00, licence 13 months before `applied_on`) and have County DPF approve it."""
    login = bearer_login(api)
    form = rent_form(id_number=new_resident_id(), monthly_rent="1500.00", license_date=add_months(applied_on, -13))
    applicant = await bound_login(api, sessions)(form)  # the account bound to this new person
    created = await api.post("/api/v1/applications", json=form, headers=applicant)
    assert created.status_code == 201, created.text
    application = created.json()
    official = await login("dpf-150203-b")
    for _ in range(150):
        tasks = await api.get("/api/v1/tasks", params={"application_id": application["id"]}, headers=official)
        if tasks.json():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no review task appeared")
    decided = await api.post(
        f"/api/v1/tasks/{tasks.json()[0]['id']}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1500.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text
    result: dict[str, Any] = decided.json()["application"]
    return result


async def test_seeded_versions_are_the_shipped_files_approved_by_system(api: httpx.AsyncClient) -> None:
    versions = await listed(api)
    assert set(versions) == {"baotou-2023", "baotou-2025"}
    for code, entry in versions.items():
        assert entry["code"] == code
        assert (entry["status"], entry["loaded_by"], entry["approved_by"]) == ("approved", "system", "system")
        assert entry["source"] == f"{code}.yaml" and entry["approved_at"]
    assert versions["baotou-2025"]["valid_to"] is None
    assert versions["baotou-2025"]["parameters"]["rent"]["monthly_cap"] == "1000.00"


async def test_a_version_that_would_cut_off_an_application_already_pinned_is_refused(
    api: httpx.AsyncClient, own_sessions: async_sessionmaker[AsyncSession]
) -> None:
    login = bearer_login(api)
    admin = await login("admin-a")
    today = china_today()
    body = rent_form(id_number=new_resident_id())
    pinned = await api.post("/api/v1/applications", json=body, headers=await bound_login(api, own_sessions)(body))
    assert pinned.status_code == 201 and pinned.json()["policy_version"] == "baotou-2025"
    entry = (await listed(api))["baotou-2025"]
    cutting = await api.post("/api/v1/policies", json=new_version(entry, today), headers=admin)
    assert cutting.status_code == 409
    assert f"an application made on {today.isoformat()} is pinned to it" in cutting.json()["detail"]
    # From the day after, nothing pinned is cut off: it may be loaded; here its loader withdraws it.
    later = await api.post("/api/v1/policies", json=new_version(entry, today + timedelta(days=1)), headers=admin)
    assert later.status_code == 201, later.text
    withdrawn = await api.post(
        f"/api/v1/policies/{later.json()['id']}/reject", json={"reason": "loaded to test"}, headers=admin
    )
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["status"], withdrawn.json()["rejected_by"]) == ("rejected", "admin-a")
    again = await api.post(f"/api/v1/policies/{later.json()['id']}/approve", headers=await login("city-a"))
    assert again.status_code == 409
    assert (await listed(api))["baotou-2025"]["valid_to"] is None


async def test_rent_cap_1200_from_next_month_applies_only_to_applications_from_that_day(
    api: httpx.AsyncClient, clock: Clock, own_sessions: async_sessionmaker[AsyncSession]
) -> None:
    login = bearer_login(api)
    admin, city = await login("admin-a"), await login("city-a")
    today = china_today()
    first_day = add_months(today.replace(day=1), 1)  # next month
    entry = (await listed(api))["baotou-2025"]
    file = new_version(entry, first_day, monthly_cap="1200.00")
    code = file["id"]

    loaded = await api.post("/api/v1/policies", json=file, headers=admin)
    assert loaded.status_code == 201, loaded.text
    assert loaded.json() == {
        "id": code,
        "status": "pending",
        "compared_with": "baotou-2025",
        "difference": [
            {"path": "code", "in_force": "baotou-2025", "proposed": code},
            {"path": "valid_from", "in_force": "2025-01-01", "proposed": first_day.isoformat()},
            {"path": "rent.monthly_cap", "in_force": "1000.00", "proposed": "1200.00"},
        ],
    }
    pending = (await listed(api))[code]
    assert (pending["status"], pending["loaded_by"], pending["approved_by"]) == ("pending", "admin-a", None)
    assert pending["source"] == "POST /api/v1/policies"

    # Four eyes: not the loader; not a role outside admin and city_dpf.
    assert (await api.post(f"/api/v1/policies/{code}/approve", headers=admin)).status_code == 403
    applicant = await login("applicant-a")
    assert (await api.post(f"/api/v1/policies/{code}/approve", headers=applicant)).status_code == 403
    assert (await api.post(f"/api/v1/policies/{code}/approve", headers=await login("dpf-150203-a"))).status_code == 403
    assert (await api.post(f"/api/v1/policies/{code}/approve")).status_code == 401
    assert (await api.post("/api/v1/policies/no-such-version/approve", headers=city)).status_code == 404
    assert (await api.post("/api/v1/policies/not a code/approve", headers=city)).status_code == 422

    approved = await api.post(f"/api/v1/policies/{code}/approve", headers=city)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", "city-a")
    assert (await api.post(f"/api/v1/policies/{code}/approve", headers=await login("city-b"))).status_code == 409
    versions = await listed(api)
    # The version in force ends the day before; its parameters, as pinned, do not change.
    assert versions["baotou-2025"]["valid_to"] == (first_day - timedelta(days=1)).isoformat()
    assert versions["baotou-2025"]["parameters"] == entry["parameters"]
    assert (versions[code]["valid_from"], versions[code]["valid_to"]) == (first_day.isoformat(), None)
    assert (versions[code]["loaded_by"], versions[code]["approved_by"]) == ("admin-a", "city-a")

    clock.set(first_day - timedelta(days=1))
    before = await approved_rent_schedule(api, own_sessions, first_day - timedelta(days=1))
    assert before["policy_version"] == "baotou-2025"
    assert len(before["schedule"]) == 36 and {row["amount"] for row in before["schedule"]} == {"1000.00"}
    clock.set(first_day)
    after = await approved_rent_schedule(api, own_sessions, first_day)
    assert after["policy_version"] == code
    assert len(after["schedule"]) == 36 and {row["amount"] for row in after["schedule"]} == {"1200.00"}
    assert {(row["city_share"], row["county_share"]) for row in after["schedule"]} == {("600.00", "600.00")}

    # Windows may not overlap an approved version: neither the closed one nor the new one's start.
    overlapping = await api.post("/api/v1/policies", json=new_version(entry, date(2024, 12, 1)), headers=admin)
    assert overlapping.status_code == 409 and "baotou-2023" in overlapping.json()["detail"]
    same_start = await api.post("/api/v1/policies", json=new_version(entry, first_day), headers=admin)
    assert same_start.status_code == 409 and code in same_start.json()["detail"]
    exists = await api.post("/api/v1/policies", json={**file, "valid_from": "2040-01-01"}, headers=admin)
    assert exists.status_code == 409 and "exists already" in exists.json()["detail"]

    async with own_sessions() as session:
        records = (
            await session.scalars(select(AuditRecord).where(AuditRecord.kind.like("policy_%")).order_by(AuditRecord.id))
        ).all()
    mine = [(r.kind, r.actor) for r in records if r.detail["code"] == code]
    assert mine == [("policy_loaded", "admin-a"), ("policy_approved", "city-a")]
    approval = next(r for r in records if r.detail["code"] == code and r.kind == "policy_approved")
    assert approval.detail["closed"] == {"code": "baotou-2025", "valid_to": (first_day - timedelta(days=1)).isoformat()}
    seeded = [(r.kind, r.actor, r.detail["code"]) for r in records[:4]]
    assert seeded == [
        ("policy_loaded", "system", "baotou-2023"),
        ("policy_approved", "system", "baotou-2023"),
        ("policy_loaded", "system", "baotou-2025"),
        ("policy_approved", "system", "baotou-2025"),
    ]
    assert [r.kind for r in records if r.kind == "policy_rejected"] == ["policy_rejected"]


async def test_a_file_with_problems_is_refused_with_each_path(api: httpx.AsyncClient) -> None:
    login = bearer_login(api)
    entry = (await listed(api))["baotou-2023"]
    file = new_version(entry, date(2040, 1, 1))
    file["parameters"]["rent"]["monthly_cap"] = 1200.0
    file["parameters"]["rent"]["montly_cap"] = "1200.00"
    file["parameters"]["training"]["city_share"] = "1.5"
    refused = await api.post("/api/v1/policies", json=file, headers=await login("admin-a"))
    assert refused.status_code == 422
    assert [(item["loc"], item["type"]) for item in refused.json()["detail"]] == [
        (["body", "rent", "montly_cap"], "policy_schema"),
        (["body", "rent", "monthly_cap"], "policy_schema"),
        (["body", "training", "city_share"], "policy_schema"),
    ]


@pytest.mark.parametrize(
    ("user", "status"),
    [("admin-a", 422), ("city-a", 403), ("dpf-150203-a", 403), ("applicant-a", 403), ("auditor-a", 403), (None, 401)],
)
async def test_only_an_administrator_loads(api: httpx.AsyncClient, user: str | None, status: int) -> None:
    headers = await bearer_login(api)(user) if user else {}
    response = await api.post("/api/v1/policies", json={"code": "x"}, headers=headers)
    assert response.status_code == status


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "subsidy.service.cli", "policy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_policy_command_loads_and_a_second_official_approves(
    api: httpx.AsyncClient, own_database: str
) -> None:
    entry = (await listed(api))["baotou-2023"]
    parameters = {**entry["parameters"], "code": f"cli-{uuid.uuid4().hex[:8]}", "valid_to": None}
    parameters.update(valid_from="2045-03-01")
    parameters["rent"] = {**parameters["rent"], "monthly_cap": "1300.00"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rent-1300.json"
        path.write_text(json.dumps(parameters, ensure_ascii=False), encoding="utf-8")
        loaded = await asyncio.to_thread(_cli, own_database, "load", str(path), "--as", "admin-a")
        assert loaded.returncode == 0, loaded.stderr
        assert "rent.monthly_cap: 1200.00 -> 1300.00" in loaded.stdout
        refused = await asyncio.to_thread(_cli, own_database, "load", str(path), "--as", "city-a")
        assert refused.returncode == 1 and "needs the role: admin" in refused.stderr
    code = parameters["code"]
    own = await asyncio.to_thread(_cli, own_database, "approve", code, "--as", "admin-a")
    assert own.returncode == 1 and "four eyes" in own.stderr
    nobody = await asyncio.to_thread(_cli, own_database, "approve", code, "--as", "nobody")
    assert nobody.returncode == 2
    second = await asyncio.to_thread(_cli, own_database, "approve", code, "--as", "city-b")
    assert second.returncode == 0, second.stderr
    entry = (await listed(api))[code]
    assert (entry["status"], entry["loaded_by"], entry["approved_by"], entry["source"]) == (
        "approved",
        "admin-a",
        "city-b",
        "rent-1300.json",
    )
