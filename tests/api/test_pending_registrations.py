"""Registrations waiting for verification, as the administrator and the County DPF list them (issue 12 part 1), and
registration limited per client address and to one pending registration per number (issue 11 finding 4)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.accounts import client_retry_after
from subsidy.api.registration_limits import REGISTRATION_MAX, REGISTRATION_WINDOW
from tests.api.conftest import Login
from tests.api.test_account_bindings import registration, registration_task
from tests.helpers import new_credit_code

LIST = "/api/v1/registrations"


def by_id(listed: httpx.Response) -> dict[str, dict[str, Any]]:
    assert listed.status_code == 200, listed.text
    return {row["id"]: row for row in listed.json()}


async def task_of(sessions: async_sessionmaker[AsyncSession], registration_id: str) -> str:
    for _ in range(100):
        async with sessions.begin() as db:
            found = await db.scalar(
                text("SELECT id FROM tasks WHERE application_id = CAST(:id AS uuid)"), {"id": registration_id}
            )
        if found is not None:
            return str(found)
        await asyncio.sleep(0.1)
    raise AssertionError("no registration task appeared")


async def set_due(sessions: async_sessionmaker[AsyncSession], task_id: str, due_at: datetime | None) -> None:
    async with sessions.begin() as db:
        await db.execute(
            text("UPDATE tasks SET due_at = :due WHERE id = CAST(:id AS uuid)"), {"due": due_at, "id": task_id}
        )


async def test_admin_sees_every_county_and_county_dpf_its_own(
    http: httpx.AsyncClient, login: Login, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = registration(county="150203")
    employer = registration("employer", county="150204")
    person_id = (await http.post("/api/v1/registrations", json=person)).json()["id"]
    employer_id = (await http.post("/api/v1/registrations", json=employer)).json()["id"]
    admin, dpf_203, dpf_204 = await login("admin-a"), await login("dpf-150203-a"), await login("dpf-150204-a")

    seen = by_id(await http.get(LIST, params={"status": "pending"}, headers=admin))
    row = seen[person_id]
    assert {k: row[k] for k in ("username", "kind", "name", "id_number_masked", "credit_code", "county")} == {
        "username": person["username"],
        "kind": "person",
        "name": "王*",
        "id_number_masked": person["id_number"][:6] + "********" + person["id_number"][-4:],
        "credit_code": None,
        "county": "150203",
    }
    assert person["id_number"] not in str(seen) and person["disability_cert_number"] not in str(seen)
    assert 0 <= row["waited_seconds"] < 120
    assert (row["task_due_at"], row["task_held_by"], row["overdue"]) == (None, None, False)
    assert (seen[employer_id]["name"], seen[employer_id]["credit_code"]) == (
        "包头市某社区服务中心",
        employer["credit_code"],
    )
    assert seen[employer_id]["id_number_masked"] is None

    only_204 = (await http.get(LIST, params={"status": "pending", "county": "150204"}, headers=admin)).json()
    assert employer_id in {r["id"] for r in only_204} and person_id not in {r["id"] for r in only_204}
    assert {r["county"] for r in only_204} == {"150204"}

    own = by_id(await http.get(LIST, headers=dpf_203))
    assert person_id in own and employer_id not in own and {r["county"] for r in own.values()} == {"150203"}
    assert employer_id in by_id(await http.get(LIST, params={"county": "150204"}, headers=dpf_204))
    other = await http.get(LIST, params={"county": "150204"}, headers=dpf_203)
    assert other.status_code == 403
    for user in ("applicant-a", "employer-a", "hr-150203-a", "city-a", "auditor-a"):
        assert (await http.get(LIST, headers=await login(user))).status_code == 403, user
    assert (await http.get(LIST)).status_code == 401
    assert (await http.get(LIST, params={"status": "verified"}, headers=admin)).status_code == 422
    assert (await http.get(LIST, params={"county": "15020"}, headers=admin)).status_code == 422

    # Who holds the task, its due date, and overdue once it has waited past it.
    task = await registration_task(http, dpf_203, person_id)
    assert (await http.post(f"/api/v1/tasks/{task['id']}/claim", headers=dpf_203)).status_code == 200
    later = datetime.now(UTC) + timedelta(days=3)
    await set_due(sessions, task["id"], later)
    row = by_id(await http.get(LIST, headers=admin))[person_id]
    assert (row["task_held_by"], row["overdue"]) == ("dpf-150203-a", False)
    assert datetime.fromisoformat(row["task_due_at"]) == later
    await set_due(sessions, task["id"], datetime.now(UTC) - timedelta(seconds=1))
    assert by_id(await http.get(LIST, headers=admin))[person_id]["overdue"] is True

    # Verified by the County DPF: no longer waiting.
    approved = await http.post(f"/api/v1/tasks/{task['id']}/decision", json={"decision": "approve"}, headers=dpf_203)
    assert approved.status_code == 200, approved.text
    assert person_id not in by_id(await http.get(LIST, headers=admin))


async def test_a_second_pending_registration_of_a_number_is_refused_in_neutral_words(
    http: httpx.AsyncClient, login: Login
) -> None:
    first = registration("employer")
    first_id = (await http.post("/api/v1/registrations", json=first)).json()["id"]
    again = await http.post(
        "/api/v1/registrations", json={**registration("employer"), "credit_code": first["credit_code"]}
    )
    assert again.status_code == 409
    assert again.json() == {
        "detail": "registration_pending: a registration for this number is already waiting for verification; ask "
        "the County Disabled Persons' Federation"
    }
    assert first["username"] not in again.text and first["name"] not in again.text
    # Another kind of account for the same credit code is another registration.
    provider = await http.post(
        "/api/v1/registrations", json={**registration("provider"), "credit_code": first["credit_code"]}
    )
    assert provider.status_code == 201, provider.text
    # Once the County DPF has rejected the first, the number may be registered again.
    official = await login("dpf-150203-b")
    task = await registration_task(http, official, first_id)
    rejected = await http.post(
        f"/api/v1/tasks/{task['id']}/decision", json={"decision": "reject", "reason": "非本单位申请"}, headers=official
    )
    assert rejected.status_code == 200, rejected.text
    anew = await http.post(
        "/api/v1/registrations", json={**registration("employer"), "credit_code": first["credit_code"]}
    )
    assert anew.status_code == 201, anew.text


async def test_parallel_registrations_of_one_number_leave_one_pending(http: httpx.AsyncClient) -> None:
    code = new_credit_code()
    answers = await asyncio.gather(
        *(http.post("/api/v1/registrations", json={**registration("agency"), "credit_code": code}) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409]


async def test_registrations_per_client_are_limited(
    http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # A body or password refused (422) does not count.
    guessable = await http.post("/api/v1/registrations", json={**registration(), "password": "x" * 10})
    assert guessable.status_code == 422
    for n in range(REGISTRATION_MAX):
        created = await http.post("/api/v1/registrations", json=registration())
        assert created.status_code == 201, (n, created.text)
    body = registration()
    refused = await http.post("/api/v1/registrations", json=body)
    now = datetime.now(UTC)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("too_many_registrations:")
    elapsed = (now.minute * 60 + now.second + now.microsecond / 1e6) % REGISTRATION_WINDOW.total_seconds()
    assert abs(int(refused.headers["Retry-After"]) - (3600 - elapsed)) <= 2
    async with sessions.begin() as db:
        counted = await db.scalar(text("SELECT sum(registrations) FROM registration_clients"))
        stored = await db.scalar(text("SELECT count(*) FROM users WHERE username = :u"), {"u": body["username"]})
    assert (counted, stored) == (REGISTRATION_MAX, 0)  # the refused one is neither counted nor stored
    # A refused registration tells nothing about the number either: 429 before any look-up.
    assert (await http.post("/api/v1/registrations", json=registration())).status_code == 429


def test_the_limit_slides_like_sign_in() -> None:
    """The previous hour weighs as it falls: 10 then, at half past, count 5 — refused for one second more."""
    window, limit = REGISTRATION_WINDOW, REGISTRATION_MAX
    assert client_retry_after(10, 0, 1800, window=window, limit=limit) == 1
    assert client_retry_after(10, 0, 1801, window=window, limit=limit) is None
    assert client_retry_after(0, 4, 0, window=window, limit=limit) is None
    assert client_retry_after(0, 5, 600, window=window, limit=limit) == 3001
    assert client_retry_after(4, 4, 2700, window=window, limit=limit) == 1  # 4 × 0.25 + 4 = 5: just at the limit
    assert client_retry_after(4, 4, 2701, window=window, limit=limit) is None


async def cli(database_url: str, *args: str) -> tuple[int, str]:
    root = str(Path(__file__).resolve().parents[2])  # this checkout's code, whatever the environment installed
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": root}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "subsidy.service.cli",
        "accounts",
        "registrations",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_the_cli_lists_registrations_waiting_by_county(
    http: httpx.AsyncClient, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = registration(county="150221")
    person_id = (await http.post("/api/v1/registrations", json=person)).json()["id"]
    task_id = await task_of(sessions, person_id)
    await set_due(sessions, task_id, datetime.now(UTC) - timedelta(hours=1))

    code, output = await cli(database_url, "--county", "150221")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert len(lines) == 2 and lines[-1] == "1 registrations waiting for verification", output
    masked = person["id_number"][:6] + "********" + person["id_number"][-4:]
    for words in (person["username"], "person", "王*", masked, "150221", "not claimed", "OVERDUE: waited past its due"):
        assert words in lines[0], (words, output)
    assert person["id_number"] not in output
    code, output = await cli(database_url)
    assert code == 0 and person["username"] in output
    code, output = await cli(database_url, "--county", "150222")
    assert (code, output.strip()) == (0, "0 registrations waiting for verification")
    code, output = await cli(database_url, "--county", "110105")
    assert code == 1 and "not a county of Baotou" in output
