"""Sign-in throttling that no stranger can turn against an official, server-side sessions and tokens checked against
the account on every request, CSRF bound to the session; refused requests in the audit log without a secret, and
anonymous failures counted per client, not a row each."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.api.accounts import CLIENT_MAX_FAILURES, CLIENT_WINDOW, account_delay
from subsidy.api.security import hash_password, issue_token, new_session_secret
from subsidy.db.audit_chain import verify_chain
from subsidy.db.auth_models import AuthSession, SignInAccount, SignInClient
from subsidy.db.models import AuditRecord, User
from tests.helpers import rent_form
from tests.hostile.conftest import Login
from tests.hostile.pages import csrf_token, page_login

pytestmark = pytest.mark.timeout(120)

TOKEN_PATH = "/api/v1/auth/token"
PASSWORD = "correct horse battery staple"
SIGNING_KEY = "x" * 48  # the one `running_service` gives the service
WINDOW = int(CLIENT_WINDOW.total_seconds())


async def new_account(
    sessions: async_sessionmaker[AsyncSession], roles: tuple[str, ...] = ("applicant",), county: str | None = None
) -> str:
    username = f"guess-{uuid.uuid4().hex[:10]}"
    async with sessions.begin() as session:
        session.add(
            User(
                username=username,
                display_name="测试",
                password_hash=hash_password(PASSWORD),
                roles=list(roles),
                county=county,
            )
        )
    return username


async def account_failures(sessions: async_sessionmaker[AsyncSession], username: str) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(SignInAccount.failures).where(SignInAccount.username == username))


async def client_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, int, int, int]]:
    async with sessions() as session:
        rows = await session.scalars(select(SignInClient).order_by(SignInClient.window_start))
        return [(r.failures, r.anonymous, r.refused, r.audited) for r in rows]


async def refusals(sessions: async_sessionmaker[AsyncSession], actor: str | None = None) -> list[AuditRecord]:
    async with sessions() as session:
        query = select(AuditRecord).where(AuditRecord.kind.in_(("auth_failed", "forbidden")))
        if actor is not None:
            query = query.where(AuditRecord.actor == actor)
        return list((await session.scalars(query.order_by(AuditRecord.id))).all())


def token_attempt(http: httpx.AsyncClient, username: str, password: str) -> Any:
    return http.post(TOKEN_PATH, data={"username": username, "password": password})


async def bearer(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await token_attempt(http, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def clear_of_window_edge() -> None:
    """The client's fixed windows are aligned to multiples of 15 minutes: a test that counts one window's rows
    starts at least 20 s before the next edge."""
    left = WINDOW - time.time() % WINDOW
    if left < 20:
        await asyncio.sleep(left + 1)


def test_the_account_delay_grows_from_the_third_failure_and_stops_at_thirty_seconds() -> None:
    assert [account_delay(n) for n in range(10)] == [0, 0, 0, 1, 2, 4, 8, 16, 30, 30]


async def test_a_strangers_wrong_passwords_slow_an_account_down_but_never_refuse_the_right_password(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    username = await new_account(hostile_sessions)
    guesses = [f"guess-number-{n}" for n in range(5)]
    with caplog.at_level(logging.WARNING, logger="subsidy.api.accounts"):
        for guess in guesses[:3]:
            assert (await token_attempt(http, username, guess)).status_code == 401
        # From the third failure on, each attempt waits: 1 s, then 2 s, then 4 s, and one inside it is not checked.
        for guess, wait in ((guesses[3], 1), (guesses[4], 2)):
            early = await token_attempt(http, username, guess)
            assert early.status_code == 429 and int(early.headers["Retry-After"]) == wait, early.text
            await asyncio.sleep(wait)
            assert (await token_attempt(http, username, guess)).status_code == 401
        assert await account_failures(hostile_sessions, username) == 5
        # The official comes along with the right password: at most 4 s to wait, never a lock.
        early = await token_attempt(http, username, PASSWORD)
        assert early.status_code == 429 and int(early.headers["Retry-After"]) == 4
        assert PASSWORD not in early.text
        await asyncio.sleep(4)
        signed_in = await token_attempt(http, username, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
    assert await account_failures(hostile_sessions, username) is None
    # Logged with the user name, never a password: five failures and three attempts not checked.
    logged = [record.getMessage() for record in caplog.records if record.name == "subsidy.api.accounts"]
    assert sum(username in line for line in logged) == 8
    assert not any(secret in line for line in logged for secret in (*guesses, PASSWORD))
    # Stored: a counter per account, nothing else.
    async with hostile_sessions() as session:
        columns = await session.run_sync(
            lambda sync: {c["name"] for c in inspect(sync.connection()).get_columns("sign_in_accounts")}
        )
    assert columns == {"username", "failures", "last_failure_at"}
    # Audited: each failure of an existing account; the refused early attempts are counted for the client only.
    records = await refusals(hostile_sessions, username)
    assert [(r.kind, r.detail) for r in records] == [
        ("auth_failed", {"method": "POST", "path": TOKEN_PATH, "status": 401})
    ] * 5
    assert await client_rows(hostile_sessions) == [(5, 0, 3, 0)]
    # Another user name is not affected.
    assert (await token_attempt(http, "applicant-b", "demo")).status_code == 200


async def test_guesses_sent_at_the_same_moment_cannot_slip_past_the_delay(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions)
    responses = await asyncio.gather(*(token_attempt(http, username, f"guess-{n}") for n in range(8)))
    assert sorted(r.status_code for r in responses) == [401] * 3 + [429] * 5
    assert await account_failures(hostile_sessions, username) == 3


async def test_forty_names_from_one_client_get_429_after_twenty_with_one_aggregated_audit_record(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await clear_of_window_edge()
    before = len(await refusals(hostile_sessions))
    names = [f"nobody-{uuid.uuid4().hex[:8]}" for _ in range(40)]
    answers = [await token_attempt(http, name, "whatever") for name in names[:CLIENT_MAX_FAILURES]]
    assert [a.status_code for a in answers] == [401] * CLIENT_MAX_FAILURES
    # Twenty anonymous failures: counted in one row, not one audit record each.
    assert await client_rows(hostile_sessions) == [(20, 20, 0, 0)]
    assert len(await refusals(hostile_sessions)) == before
    expected_wait = WINDOW - time.time() % WINDOW
    refused = [await token_attempt(http, name, "whatever") for name in names[CLIENT_MAX_FAILURES:]]
    assert [r.status_code for r in refused] == [429] * 20
    assert all(abs(int(r.headers["Retry-After"]) - expected_wait) <= 3 for r in refused), refused[0].headers
    # The client's limit stops the right password too, for this client only.
    assert (await token_attempt(http, "applicant-b", "demo")).status_code == 429
    assert await client_rows(hostile_sessions) == [(20, 20, 21, 21)]
    records = (await refusals(hostile_sessions))[before:]
    assert [(r.actor, r.detail["status"], r.detail["failures"], r.detail["unknown_names"]) for r in records] == [
        ("anonymous", 429, 20, 20)
    ]
    assert records[0].detail["refused"] == 1 and records[0].detail["client"] == "127.0.0.1"
    assert not any(name in json.dumps(r.detail) for r in records for name in names)
    # A window later (the rows are made older) the count has slid below the limit; the window left behind is
    # summed up in one more record.
    async with hostile_sessions.begin() as session:
        await session.execute(text("UPDATE sign_in_clients SET window_start = window_start - interval '15 minutes'"))
    assert (await token_attempt(http, "applicant-b", "demo")).status_code == 200
    records = (await refusals(hostile_sessions))[before:]
    assert [(r.detail["status"], r.detail["refused"]) for r in records] == [(429, 1), (401, 21)]
    async with hostile_sessions() as session:
        assert (await verify_chain(session)).ok


async def test_the_sign_in_page_counts_with_the_api_and_says_how_long_to_wait(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions)
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        for n in range(2):
            assert (await page_login(browser, username, f"wrong-{n}")).status_code == 400
        assert (await token_attempt(http, username, "wrong-api")).status_code == 401
        waiting = await page_login(browser, username, PASSWORD)
        assert waiting.status_code == 429
        assert int(waiting.headers["Retry-After"]) == 1
        assert "Try again in 1 seconds" in waiting.text or "请 1 秒后再试" in waiting.text
        assert "wrong-" not in waiting.text and PASSWORD not in waiting.text
        await asyncio.sleep(1)
        assert (await page_login(browser, username, PASSWORD)).status_code == 303
    kinds = [(r.detail["path"], r.detail["status"]) for r in await refusals(hostile_sessions, username)]
    assert kinds == [("/login", 401)] * 2 + [(TOKEN_PATH, 401)]


async def test_signing_out_ends_the_page_session_and_the_bearer_token_at_once(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions, ("county_dpf",), "150203")
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, username, PASSWORD)).status_code == 303
        old_cookie = browser.cookies["subsidy_session"]
        inbox = await browser.get("/inbox")
        assert inbox.status_code == 200
        signed_out = await browser.post("/logout", data={"csrf_token": csrf_token(inbox.text)})
        assert signed_out.status_code == 303
    async with httpx.AsyncClient(
        base_url=str(http.base_url), timeout=30, cookies={"subsidy_session": old_cookie}
    ) as replay:
        again = await replay.get("/inbox")
        assert again.status_code == 303 and again.headers["location"] == "/login?next=/inbox"
    headers = await bearer(http, username)
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await http.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await http.post("/api/v1/auth/logout", headers=headers)).status_code == 401
    async with hostile_sessions() as session:
        rows = (await session.scalars(select(AuthSession).where(AuthSession.username == username))).all()
    assert sorted((r.kind, r.revoked_at is not None) for r in rows) == [("api", True), ("page", True)]
    # Only the digest of each secret is kept.
    assert old_cookie not in {r.id_hash for r in rows} and all(len(r.id_hash) == 64 for r in rows)


async def test_a_token_lasts_thirty_minutes_and_names_no_role(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions)
    token = (await bearer(http, username))["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"sub", "sid", "iat", "exp"} and claims["exp"] - claims["iat"] == 30 * 60
    async with hostile_sessions() as session:
        row = await session.scalar(select(AuthSession).where(AuthSession.username == username))
    assert row is not None and (row.expires_at - row.created_at).total_seconds() == 30 * 60


async def test_validly_signed_tokens_without_a_live_session_are_refused(http: httpx.AsyncClient) -> None:
    ghost = issue_token("nobody-at-all", new_session_secret(), SIGNING_KEY, minutes=5)
    unknown_session = issue_token("applicant-a", new_session_secret(), SIGNING_KEY, minutes=5)
    # A token of the old kind: roles and county in the token itself, no session.
    old_kind = jwt.encode(
        {"sub": "region-a", "roles": ["region_hr"], "county": None, "exp": int(time.time()) + 300},
        SIGNING_KEY,
        algorithm="HS256",
    )
    for token in (ghost, unknown_session, old_kind):
        response = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, response.text


async def test_disabling_an_account_ends_its_tokens_and_page_sessions_at_once(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions, ("county_dpf",), "150203")
    headers = await bearer(http, username)
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, username, PASSWORD)).status_code == 303
        inbox = await browser.get("/inbox")
        assert inbox.status_code == 200
        assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
        stale_cookie = browser.cookies["subsidy_session"]
        async with hostile_sessions.begin() as session:
            await session.execute(text("UPDATE users SET disabled_at = now() WHERE username = :u"), {"u": username})
        assert (await http.get("/api/v1/me", headers=headers)).status_code == 401
        # A form of the page left open leads to the sign-in page, and so does any page.
        posted = await browser.post("/language", data={"csrf_token": csrf_token(inbox.text), "lang": "en", "next": "/"})
        assert posted.status_code == 303 and posted.headers["location"] == "/login?next=/language"
        browser.cookies.set("subsidy_session", stale_cookie, domain="127.0.0.1")
        refused = await browser.get("/inbox")
        assert refused.status_code == 303 and refused.headers["location"] == "/login?next=/inbox"
    # The right password does not open it either, and says nothing more than a wrong one.
    wrong = await token_attempt(http, username, PASSWORD)
    assert wrong.status_code == 401 and wrong.json() == {"detail": "wrong user name or password"}


async def test_roles_and_county_changed_in_the_database_count_from_the_next_request(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = await new_account(hostile_sessions)
    headers = await bearer(http, username)
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, username, PASSWORD)).status_code == 303
        verify = "/api/v1/audit/log/verify"  # auditors only
        assert (await http.get(verify, headers=headers)).status_code == 403
        assert (await browser.get("/inbox")).status_code == 403
        async with hostile_sessions.begin() as session:
            await session.execute(
                text("UPDATE users SET roles = '{county_dpf,auditor}', county = '150204' WHERE username = :u"),
                {"u": username},
            )
        me = await http.get("/api/v1/me", headers=headers)
        assert me.json() == {
            "username": username,
            "roles": ["county_dpf", "auditor"],
            "county": "150204",
            "must_change_password": False,
            "acts_for": None,
        }
        assert (await http.get(verify, headers=headers)).status_code == 200
        assert (await browser.get("/inbox")).status_code == 200
        async with hostile_sessions.begin() as session:
            await session.execute(text("UPDATE users SET roles = '{applicant}' WHERE username = :u"), {"u": username})
        assert (await http.get(verify, headers=headers)).status_code == 403
        assert (await browser.get("/inbox")).status_code == 403


async def test_a_csrf_token_of_another_session_is_refused(
    http: httpx.AsyncClient, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with (
        httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as first,
        httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as second,
    ):
        assert (await page_login(first, "applicant-a")).status_code == 303
        assert (await page_login(second, "applicant-a")).status_code == 303
        token_of_first = csrf_token((await first.get("/my/applications")).text)
        token_of_second = csrf_token((await second.get("/my/applications")).text)
        assert token_of_first != token_of_second
        # Every page of a signed-in browser carries its session's token, the sign-in page too.
        anonymous_token = csrf_token((await second.get("/login")).text)
        assert anonymous_token == token_of_second
        refused = await second.post("/logout", data={"csrf_token": token_of_first})
        assert refused.status_code == 403
        assert (await second.get("/my/applications")).status_code == 200  # still signed in
        # A token with its CSRF cookie from another browser, planted in this one (cookie tossing), is refused too.
        async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as attacker:
            planted_token = csrf_token((await attacker.get("/login")).text)
            second.cookies.delete("subsidy_csrf")
            second.cookies.set("subsidy_csrf", attacker.cookies["subsidy_csrf"], domain="127.0.0.1")
        assert (await second.post("/logout", data={"csrf_token": planted_token})).status_code == 403
        assert (await second.post("/logout", data={"csrf_token": token_of_second})).status_code == 303
        assert (await first.get("/my/applications")).status_code == 200  # the other session lives on
        # Signed in again, the browser has a new session: the token of its last one is refused.
        assert (await page_login(second, "applicant-a")).status_code == 303
        assert (await second.post("/logout", data={"csrf_token": token_of_second})).status_code == 403


async def test_refused_requests_are_audited_with_the_actor_method_and_path_and_no_secret(
    http: httpx.AsyncClient, login: Login, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = len(await refusals(hostile_sessions))
    forged = "Bearer not.a.token-secret-value"
    expired = issue_token("applicant-a", new_session_secret(), SIGNING_KEY, minutes=-5)
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
        # A form posted with a token that is not the one of its session.
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
        assert await session.scalar(select(func.count()).select_from(AuthSession)) > 0
