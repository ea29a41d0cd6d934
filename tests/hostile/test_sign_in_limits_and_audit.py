"""Failed sign-ins are rate-limited per user name (five in 15 minutes, then 429 with Retry-After) and logged without
the password; refused authentication and authorisation (401, 429, 403) go to the audit log with the actor, the
method and the path, and never a secret."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.activities.audit import verify_chain
from subsidy.api.accounts import FAILURE_WINDOW, MAX_FAILURES
from subsidy.api.security import Identity, hash_password, issue_token
from subsidy.db.models import AuditRecord, SignInFailure, User
from tests.helpers import rent_form
from tests.hostile.conftest import Login
from tests.hostile.pages import csrf_token, page_login

pytestmark = pytest.mark.timeout(120)

TOKEN_PATH = "/api/v1/auth/token"
PASSWORD = "correct horse battery staple"
SIGNING_KEY = "x" * 48  # the one `running_service` gives the service


async def new_account(sessions: async_sessionmaker[AsyncSession]) -> str:
    username = f"guess-{uuid.uuid4().hex[:10]}"
    async with sessions.begin() as session:
        session.add(
            User(username=username, display_name="测试", password_hash=hash_password(PASSWORD), roles=["applicant"])
        )
    return username


async def failures(sessions: async_sessionmaker[AsyncSession], username: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(SignInFailure).where(SignInFailure.username == username)
        )
        return int(count or 0)


async def refusals(sessions: async_sessionmaker[AsyncSession], actor: str | None = None) -> list[AuditRecord]:
    async with sessions() as session:
        query = select(AuditRecord).where(AuditRecord.kind.in_(("auth_failed", "forbidden")))
        if actor is not None:
            query = query.where(AuditRecord.actor == actor)
        return list((await session.scalars(query.order_by(AuditRecord.id))).all())


def token_attempt(http: httpx.AsyncClient, username: str, password: str) -> Any:
    return http.post(TOKEN_PATH, data={"username": username, "password": password})


async def test_five_failures_close_the_user_name_until_the_oldest_is_fifteen_minutes_old(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    username = await new_account(hostile_sessions)
    guesses = [f"guess-number-{n}" for n in range(MAX_FAILURES)]
    with caplog.at_level(logging.WARNING, logger="subsidy.api.accounts"):
        for guess in guesses:
            assert (await token_attempt(http, username, guess)).status_code == 401
        # Closed now: not even the right password is checked.
        closed = await token_attempt(http, username, PASSWORD)
        assert closed.status_code == 429, closed.text
        retry_after = int(closed.headers["Retry-After"])
        assert FAILURE_WINDOW.total_seconds() - 60 < retry_after <= FAILURE_WINDOW.total_seconds()
        assert "detail" in closed.json() and PASSWORD not in closed.text
    # Logged with the user name, never a password.
    logged = [record.getMessage() for record in caplog.records if record.name == "subsidy.api.accounts"]
    assert sum(username in line for line in logged) == MAX_FAILURES + 1
    assert not any(secret in line for line in logged for secret in (*guesses, PASSWORD))
    # Stored: the user name and the time, nothing else.
    assert await failures(hostile_sessions, username) == MAX_FAILURES
    async with hostile_sessions() as session:
        columns = await session.run_sync(
            lambda sync: {c["name"] for c in inspect(sync.connection()).get_columns("sign_in_failures")}
        )
    assert columns == {"id", "username", "at"}
    # Audited: five 401 and one 429, each with the method and path only.
    records = await refusals(hostile_sessions, username)
    assert [(r.kind, r.detail) for r in records] == [
        ("auth_failed", {"method": "POST", "path": TOKEN_PATH, "status": 401})
    ] * MAX_FAILURES + [("auth_failed", {"method": "POST", "path": TOKEN_PATH, "status": 429})]
    assert not any(secret in json.dumps(r.detail) for r in records for secret in (*guesses, PASSWORD))
    # Another user name is not affected.
    assert (await token_attempt(http, "applicant-b", "demo")).status_code == 200
    # Fifteen minutes later (the failures are made older), the right password works and the count starts again.
    async with hostile_sessions.begin() as session:
        await session.execute(
            text("UPDATE sign_in_failures SET at = at - interval '15 minutes' WHERE username = :u"), {"u": username}
        )
    assert (await token_attempt(http, username, PASSWORD)).status_code == 200
    assert await failures(hostile_sessions, username) == 0


async def test_guesses_sent_at_the_same_moment_cannot_slip_past_the_count(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions)
    responses = await asyncio.gather(*(token_attempt(http, username, f"guess-{n}") for n in range(8)))
    assert sorted(r.status_code for r in responses) == [401] * MAX_FAILURES + [429] * 3
    assert await failures(hostile_sessions, username) == MAX_FAILURES


async def test_the_sign_in_page_counts_with_the_api_and_says_how_long_to_wait(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions)
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        for n in range(MAX_FAILURES - 1):
            assert (await page_login(browser, username, f"wrong-{n}")).status_code == 400
        assert (await token_attempt(http, username, "wrong-api")).status_code == 401
        locked = await page_login(browser, username, PASSWORD)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["Retry-After"]) <= 900
        assert "Too many failed sign-ins" in locked.text or "登录失败次数过多" in locked.text
        assert "wrong-" not in locked.text and PASSWORD not in locked.text
    assert (await token_attempt(http, username, PASSWORD)).status_code == 429
    kinds = [(r.detail["path"], r.detail["status"]) for r in await refusals(hostile_sessions, username)]
    assert kinds == [("/login", 401)] * (MAX_FAILURES - 1) + [(TOKEN_PATH, 401), ("/login", 429), (TOKEN_PATH, 429)]


async def test_refused_requests_are_audited_with_the_actor_method_and_path_and_no_secret(
    http: httpx.AsyncClient, login: Login, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = len(await refusals(hostile_sessions))
    forged = "Bearer not.a.token-secret-value"
    expired = issue_token(Identity("applicant-a", ("applicant",), None), SIGNING_KEY, minutes=-5)
    applicant = await login("applicant-a")
    other_county = await login("dpf-150204-a")
    # Any application with a County DPF task: one filed at the service window by an official of the county.
    created = await http.post("/api/v1/applications", json=rent_form(), headers=await login("dpf-150203-b"))
    assert created.status_code == 201
    for _ in range(150):
        tasks = await http.get(
            "/api/v1/tasks", params={"application_id": created.json()["id"]}, headers=await login("dpf-150203-a")
        )
        if tasks.json():
            break
        await asyncio.sleep(0.1)
    task_id = tasks.json()[0]["id"]
    before = len(await refusals(hostile_sessions))

    requests: list[tuple[str, str, dict[str, str], int]] = [
        ("GET", "/api/v1/me", {}, 401),
        ("GET", "/api/v1/me", {"Authorization": forged}, 401),
        ("GET", "/api/v1/me", {"Authorization": f"Bearer {expired}"}, 401),
        ("GET", "/api/v1/applications/%00x", {}, 401),
        ("GET", "/api/v1/audit/log/verify", applicant, 403),
        ("POST", f"/api/v1/tasks/{task_id}/claim", other_county, 403),
        ("POST", f"/api/v1/tasks/{task_id}/decision", applicant, 403),
    ]
    for method, path, headers, status in requests:
        kwargs: dict[str, Any] = {"json": {"decision": "approve"}} if path.endswith("decision") else {}
        response = await http.request(method, path, headers=headers, **kwargs)
        assert response.status_code == status, (path, response.text)
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, "applicant-a")).status_code == 303
        assert (await browser.get("/inbox")).status_code == 403
        form = await browser.get("/my/applications")
        # A form posted with a token that is not the one of its cookie.
        refused = await browser.post("/logout", data={"csrf_token": csrf_token(form.text)[::-1]})
        assert refused.status_code == 403

    records = (await refusals(hostile_sessions))[before:]
    assert [(r.kind, r.actor, r.detail["method"], r.detail["path"], r.detail["status"]) for r in records] == [
        ("auth_failed", "anonymous", "GET", "/api/v1/me", 401),
        ("auth_failed", "anonymous", "GET", "/api/v1/me", 401),
        ("auth_failed", "anonymous", "GET", "/api/v1/me", 401),
        ("auth_failed", "anonymous", "GET", "/api/v1/applications/\ufffdx", 401),
        ("forbidden", "applicant-a", "GET", "/api/v1/audit/log/verify", 403),
        ("forbidden", "dpf-150204-a", "POST", f"/api/v1/tasks/{task_id}/claim", 403),
        ("forbidden", "applicant-a", "POST", f"/api/v1/tasks/{task_id}/decision", 403),
        ("forbidden", "applicant-a", "GET", "/inbox", 403),
        ("forbidden", "applicant-a", "POST", "/logout", 403),
    ]
    stored = json.dumps([r.detail for r in records])
    assert "secret-value" not in stored and expired not in stored and "Bearer" not in stored
    async with hostile_sessions() as session:
        assert (await verify_chain(session)).ok
