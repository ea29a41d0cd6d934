"""Administrators' accounts (issue 12, part 1): an `admin` creates an official's account with roles and county, whose
one-time password allows nothing but choosing a new one; lists, disables, enables and resets accounts, each change
audited with the admin who made it, never on their own account. Over real HTTP, and the `subsidy accounts` CLI."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import AuditRecord
from tests.helpers import new_resident_id, rent_form
from tests.hostile.conftest import Acting, Login
from tests.hostile.pages import csrf_token, page_login

pytestmark = pytest.mark.timeout(180)

ONE_TIME = re.compile(r"^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$")
NEW_PASSWORD = "Jiuyuan-river-lamp-42"


async def audit_of(sessions: async_sessionmaker[AsyncSession], username: str) -> list[tuple[str, str]]:
    async with sessions() as session:
        records = await session.scalars(
            select(AuditRecord)
            .where(AuditRecord.kind.like("account_%") | (AuditRecord.kind == "password_changed"))
            .order_by(AuditRecord.id)
        )
        return [(r.kind, r.actor) for r in records if r.detail.get("username") == username]


async def token_of(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def wait_for_tasks(http: httpx.AsyncClient, headers: dict[str, str], application_id: str) -> list[dict]:
    for _ in range(150):
        found = (await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=headers)).json()
        if found:
            return list(found)
        await asyncio.sleep(0.1)
    return []


async def test_admin_creates_a_jiuyuan_official_who_changes_the_one_time_password_sees_jiuyuan_only_and_is_disabled(
    http: httpx.AsyncClient, login: Login, acting: Acting, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = await login("admin-a")
    created = await http.post(
        "/api/v1/accounts",
        json={"username": "dpf-150207-a", "roles": ["county_dpf"], "county": "150207"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "dpf-150207-a"
    one_time = created.json()["one_time_password"]
    assert ONE_TIME.match(one_time)

    # With the one-time password, the API allows nothing but the change (and who one is).
    otp_token = await token_of(http, "dpf-150207-a", one_time)
    me = await http.get("/api/v1/me", headers=otp_token)
    assert me.json() == {
        "username": "dpf-150207-a",
        "roles": ["county_dpf"],
        "county": "150207",
        "must_change_password": True,
        "acts_for": None,
    }
    refused = await http.get("/api/v1/tasks", headers=otp_token)
    assert refused.status_code == 403 and "password_change_required" in refused.text

    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        signed_in = await page_login(browser, "dpf-150207-a", one_time)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account/password"
        inbox = await browser.get("/inbox")
        assert inbox.status_code == 303 and inbox.headers["location"] == "/account/password"
        form = await browser.get("/account/password")
        assert form.status_code == 200
        weak = await browser.post(
            "/account/password", data={"csrf_token": csrf_token(form.text), "old": one_time, "new": "password1234"}
        )
        assert weak.status_code == 422
        changed = await browser.post(
            "/account/password", data={"csrf_token": csrf_token(weak.text), "old": one_time, "new": NEW_PASSWORD}
        )
        assert changed.status_code == 303 and changed.headers["location"] == "/inbox"
        # The change ended the account's other sessions: the one-time password's token.
        assert (await http.get("/api/v1/me", headers=otp_token)).status_code == 401
        assert (
            await http.post("/api/v1/auth/token", data={"username": "dpf-150207-a", "password": one_time})
        ).status_code == 401

        # 九原区's inbox only: a task of 150207 is there, one of 150203 is not.
        # Each by the account bound to its person.
        jiuyuan_body = rent_form(id_number=new_resident_id("150207"), hukou_county="150207")
        jiuyuan = await http.post("/api/v1/applications", json=jiuyuan_body, headers=await acting(jiuyuan_body))
        kundulun_body = rent_form()
        kundulun = await http.post("/api/v1/applications", json=kundulun_body, headers=await acting(kundulun_body))
        assert jiuyuan.status_code == kundulun.status_code == 201
        official = await token_of(http, "dpf-150207-a", NEW_PASSWORD)
        assert len(await wait_for_tasks(http, official, jiuyuan.json()["id"])) == 1
        assert len(await wait_for_tasks(http, await login("dpf-150203-a"), kundulun.json()["id"])) == 1
        assert await wait_for_tasks(http, official, kundulun.json()["id"]) == []
        listed = (await http.get("/api/v1/tasks", headers=official)).json()
        assert listed and {task["county"] for task in listed} == {"150207"}
        page = await browser.get("/inbox")
        assert page.status_code == 200 and jiuyuan.json()["id"][:8].upper() in page.text
        assert kundulun.json()["id"][:8].upper() not in page.text

        # Disabled by admin-a: the open page session and the token end at once.
        disabled = await http.post("/api/v1/accounts/dpf-150207-a/disable", headers=admin)
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True
        gone = await browser.get("/inbox")
        assert gone.status_code == 303 and gone.headers["location"] == "/login?next=/inbox"
        assert (await http.get("/api/v1/me", headers=official)).status_code == 401
    assert await audit_of(hostile_sessions, "dpf-150207-a") == [
        ("account_created", "admin-a"),
        ("password_changed", "dpf-150207-a"),
        ("account_disabled", "admin-a"),
    ]


async def test_accounts_are_listed_searched_enabled_and_reset_and_no_admin_acts_on_their_own(
    http: httpx.AsyncClient, login: Login, acting: Acting, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = await login("admin-a")
    username = f"hr-150205-{uuid.uuid4().hex[:6]}"
    body = {"username": username, "roles": ["county_hr"], "county": "150205", "display_name": "东河区人社局 审核员"}
    one_time = (await http.post("/api/v1/accounts", json=body, headers=admin)).json()["one_time_password"]
    assert (await http.post("/api/v1/accounts", json=body, headers=admin)).status_code == 409
    found = await http.get("/api/v1/accounts", params={"q": username[-6:]}, headers=admin)
    assert found.status_code == 200 and found.headers["X-Total-Count"] == "1"
    assert found.json()[0] | {"created_at": None} == {
        "username": username,
        "display_name": "东河区人社局 审核员",
        "roles": ["county_hr"],
        "county": "150205",
        "disabled": False,
        "must_change_password": True,
        "created_at": None,
    }
    by_name = await http.get("/api/v1/accounts", params={"q": "东河区人社"}, headers=admin)
    assert [a["username"] for a in by_name.json()] == [username]
    assert (await http.get("/api/v1/accounts", params={"q": "%"}, headers=admin)).headers["X-Total-Count"] == "0"

    # Disable and enable: the old password works again after enabling, not while disabled.
    assert (await http.post(f"/api/v1/accounts/{username}/disable", headers=admin)).json()["disabled"] is True
    sign_in = {"username": username, "password": one_time}
    assert (await http.post("/api/v1/auth/token", data=sign_in)).status_code == 401
    assert (await http.post(f"/api/v1/accounts/{username}/enable", headers=admin)).json()["disabled"] is False
    token = await token_of(http, username, one_time)
    # A reset: a new one-time password, the old one and its token end.
    reset = await http.post(f"/api/v1/accounts/{username}/reset-password", headers=admin)
    assert reset.status_code == 200 and ONE_TIME.match(reset.json()["one_time_password"])
    assert reset.json()["one_time_password"] != one_time
    assert (await http.get("/api/v1/me", headers=token)).status_code == 401
    assert (await http.post("/api/v1/auth/token", data=sign_in)).status_code == 401
    token = await token_of(http, username, reset.json()["one_time_password"])
    # The change over the API: the old one must be right, the new one strong and different.
    change = "/api/v1/auth/change-password"
    old = reset.json()["one_time_password"]
    for wrong, field in (({"old": "nope", "new": NEW_PASSWORD}, "old"), ({"old": old, "new": "qwertyuiop12"}, "new")):
        refused = await http.post(change, json=wrong, headers=token)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", field], refused.text
    assert (await http.post(change, json={"old": old, "new": old}, headers=token)).status_code == 422
    assert (await http.post(change, json={"old": old, "new": NEW_PASSWORD}, headers=token)).status_code == 204
    assert (await http.get("/api/v1/me", headers=token)).json()["must_change_password"] is False
    assert (await http.get("/api/v1/tasks", headers=token)).status_code == 200

    # Never on one's own account.
    for action in ("disable", "enable", "reset-password"):
        own = await http.post(f"/api/v1/accounts/admin-a/{action}", headers=admin)
        assert own.status_code == 403, (action, own.text)
    own = {"username": "admin-a", "roles": ["admin", "auditor"]}
    assert (await http.post("/api/v1/accounts", json=own, headers=admin)).status_code == 403
    # Only administrators.
    for user in ("dpf-150203-a", "auditor-a", "city-a"):
        headers = await login(user)
        assert (await http.get("/api/v1/accounts", headers=headers)).status_code == 403
        assert (await http.post(f"/api/v1/accounts/{username}/disable", headers=headers)).status_code == 403
    assert (await http.get("/api/v1/accounts")).status_code == 401
    assert await audit_of(hostile_sessions, username) == [
        ("account_created", "admin-a"),
        ("account_disabled", "admin-a"),
        ("account_enabled", "admin-a"),
        ("account_password_reset", "admin-a"),
        ("password_changed", username),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "dpf-x-1", "roles": ["county_dpf"]}, "county"),
        ({"username": "city-x-1", "roles": ["city_dpf"], "county": "150203"}, "county"),
        ({"username": "dpf-x-2", "roles": ["county_dpf"], "county": "110101"}, "county"),
        ({"username": "dpf-x-3", "roles": ["county_dpf", "county_dpf"], "county": "150203"}, "roles"),
        ({"username": "Has Space", "roles": ["auditor"]}, "username"),
        ({"username": "root-1", "roles": ["superuser"]}, "roles"),
        ({"username": "root-2", "roles": []}, "roles"),
    ],
)
async def test_roles_and_county_must_fit_together(
    http: httpx.AsyncClient, login: Login, body: dict[str, object], field: str
) -> None:
    response = await http.post("/api/v1/accounts", json=body, headers=await login("admin-a"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


async def test_the_cli_creates_an_account_for_the_admin_named_and_refuses_anyone_else(
    http: httpx.AsyncClient, hostile_database_url: str, hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    username = f"city-{uuid.uuid4().hex[:6]}"
    root = str(Path(__file__).resolve().parents[2])  # this checkout's code, whatever the environment installed
    env = {**os.environ, "DATABASE_URL": hostile_database_url, "PYTHONPATH": root}

    async def cli(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "subsidy.service.cli",
            "accounts",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        return process.returncode or 0, output.decode()

    code, output = await cli("create", username, "--role", "city_dpf", "--as", "dpf-150203-a")
    assert code == 2 and "not an enabled administrator" in output
    code, output = await cli("create", username, "--role", "city_dpf", "--as", "admin-a")
    assert code == 0, output
    one_time = output.strip().rsplit(" ", 1)[-1]
    assert ONE_TIME.match(one_time), output
    await token_of(http, username, one_time)
    code, output = await cli("list", username)
    assert code == 0 and f"{username} " in output and "must-change" in output and "1 accounts" in output
    code, output = await cli("disable", username, "--as", "admin-a")
    assert code == 0 and output.strip().endswith(f"{username}: disabled")
    code, output = await cli("disable", "admin-a", "--as", "admin-a")
    assert code == 1 and "own account" in output
    assert await audit_of(hostile_sessions, username) == [
        ("account_created", "admin-a"),
        ("account_disabled", "admin-a"),
    ]
