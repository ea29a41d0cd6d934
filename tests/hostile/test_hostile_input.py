"""Hostile input aimed at every text field: oversized and deeply nested bodies, invisible Unicode, NUL bytes and lone
surrogates, SQL and HTML injection. Each gets a 4xx or is stored as typed and shown escaped; never a 500, never run."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subsidy.db.models import Application, LedgerEntry, Person, Task
from subsidy.forms.text import TEXT_CHARACTERS
from tests.helpers import new_resident_id, rent_form
from tests.hostile.conftest import Acting, Login
from tests.hostile.pages import csrf_token, page_login

pytestmark = pytest.mark.timeout(120)

MIB = 1024 * 1024
SQL_INJECTIONS = (
    "'; DROP TABLE applications; --",
    "' OR '1'='1",
    "1; DELETE FROM ledger WHERE true; --",
    "\\'; SELECT pg_sleep(10); --",
)
HTML_INJECTION = "<script>alert('x')</script><img src=x onerror=alert(1)>"
INVISIBLE = {
    "right-to-left override": "张\u202e三",
    "zero-width space": "张\u200b三",
    "zero-width joiner": "张\u200d三",
    "byte order mark": "\ufeff张三",
    "left-to-right isolate": "张\u2066三\u2069",
    "NUL": "张\x00三",
    "escape": "张\x1b[31m三",
}
# Every text field of the rent subsidy form, as a path into the body.
RENT_TEXT_FIELDS = (
    ("applicant", "name"),
    ("applicant", "id_number"),
    ("applicant", "disability_cert_number"),
    ("applicant", "hukou_county"),
    ("applicant", "phone"),
    ("business", "name"),
    ("business", "credit_code"),
    ("business", "license_date"),
    ("business", "started_on"),
    ("lease", "monthly_rent"),
    ("lease", "start_date"),
    ("lease", "end_date"),
    ("bank_account",),
)


def with_field(form: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(form))
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Application, Task, LedgerEntry, Person)
        }


async def open_task_of(http: httpx.AsyncClient, official: dict[str, str], application_id: str) -> dict[str, Any]:
    for _ in range(150):
        tasks = await http.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
        if tasks.json():
            task: dict[str, Any] = tasks.json()[0]
            return task
        await asyncio.sleep(0.1)
    raise AssertionError("no task appeared")


@pytest.fixture
async def applicant(login: Login) -> dict[str, str]:
    return await login("applicant-a")


async def test_oversized_bodies_are_refused_with_413_before_anything_reads_them(
    http: httpx.AsyncClient, applicant: dict[str, str], hostile_sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await counts(hostile_sessions)
    padding = "x" * MIB
    big = json.dumps({**rent_form(), "padding": padding}).encode()
    declared = await http.post(
        "/api/v1/applications", content=big, headers={**applicant, "content-type": "application/json"}
    )
    assert declared.status_code == 413 and "detail" in declared.json()

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit counts what arrives
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = await http.post(
        "/api/v1/applications", content=chunks(), headers={**applicant, "content-type": "application/json"}
    )
    assert streamed.status_code == 413
    sign_in = await http.post("/api/v1/auth/token", data={"username": "applicant-a", "password": padding})
    assert sign_in.status_code == 413
    page = await http.post("/login", data={"username": "applicant-a", "password": padding})
    assert page.status_code == 413
    # Just under the limit the body is read and judged on its content (an unknown field: 422).
    small = json.dumps({**rent_form(), "padding": "x" * (MIB - 4096)}).encode()
    assert len(small) < MIB
    judged = await http.post(
        "/api/v1/applications", content=small, headers={**applicant, "content-type": "application/json"}
    )
    assert judged.status_code == 422
    assert await counts(hostile_sessions) == before


async def test_deeply_nested_json_is_a_4xx(http: httpx.AsyncClient, applicant: dict[str, str]) -> None:
    depth = 100_000  # at most 600 KiB: under the size limit, far over any parser's recursion limit
    arrays = "[" * depth + "]" * depth
    objects = '{"a":' * depth + "1" + "}" * depth
    for nested in (arrays, objects, f'{{"program": "rent_subsidy", "applicant": {arrays}}}'):
        response = await http.post(
            "/api/v1/applications", content=nested, headers={**applicant, "content-type": "application/json"}
        )
        assert response.status_code in (400, 422), response.text[:300]
    # Nested just deep enough to parse: refused by the form's shape.
    shallow = {"decision": "approve", "values": {"monthly_rent": {"a": [[[[{"b": 1}]]]]}}}
    decided = await http.post(f"/api/v1/tasks/{uuid.uuid4()}/decision", json=shallow, headers=applicant)
    assert decided.status_code == 422


async def test_invisible_and_control_characters_in_names_are_refused_field_by_field(
    http: httpx.AsyncClient,
    applicant: dict[str, str],
    acting: Acting,
    hostile_sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = await counts(hostile_sessions)
    for trick, text in INVISIBLE.items():
        for path in (("applicant", "name"), ("business", "name")):
            response = await http.post(
                "/api/v1/applications", json=with_field(rent_form(), path, text), headers=applicant
            )
            assert response.status_code == 422, (trick, path, response.text)
            errors = response.json()["detail"]
            assert [e["loc"] for e in errors] == [["body", *path]], (trick, errors)
            assert errors[0]["type"] in (TEXT_CHARACTERS, "string_type"), errors
            # The refusal does not repeat what was sent.
            assert text not in response.text
    # A lone surrogate is not text: refused as well (sent as the JSON escape it must travel as).
    body = json.dumps(with_field(rent_form(), ("applicant", "name"), "LONE")).replace('"LONE"', '"\\ud800x"')
    lone = await http.post(
        "/api/v1/applications", content=body, headers={**applicant, "content-type": "application/json"}
    )
    assert lone.status_code == 422
    assert await counts(hostile_sessions) == before
    # What people do write is kept: a minority name with the middle dot, rare characters, Latin letters.
    for name in ("买买提·艾力", "𠮷野家", "Zoë O'Neil-Åström"):
        body = with_field(rent_form(id_number=new_resident_id()), ("applicant", "name"), name)
        created = await http.post("/api/v1/applications", json=body, headers=await acting(body))
        assert created.status_code == 201, created.text
        assert created.json()["applicant"]["name"] == name


async def test_nul_bytes_and_injection_strings_in_every_text_field_and_query_are_4xx_or_stored_as_typed(
    http: httpx.AsyncClient,
    login: Login,
    applicant: dict[str, str],
    acting: Acting,
    hostile_sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = await counts(hostile_sessions)
    for path in RENT_TEXT_FIELDS:
        for value in ("\x00", "a\x00b", *SQL_INJECTIONS):
            body = with_field(rent_form(), path, value)
            # Names take any visible text; every other field has a format that these strings do not have.
            expected = (201,) if path[-1] == "name" and "\x00" not in value else (422,)
            # A stored one is submitted by the account bound to its person; the others are refused before that.
            headers = await acting(body) if expected == (201,) else applicant
            response = await http.post("/api/v1/applications", json=body, headers=headers)
            assert response.status_code in expected, (path, value, response.status_code, response.text[:300])
            if response.status_code == 201:
                assert response.json()["applicant"]["name"] == value or path[0] == "business"
    names_stored = sum(1 for path in RENT_TEXT_FIELDS if path[-1] == "name") * len(SQL_INJECTIONS)
    after = await counts(hostile_sessions)
    assert after["applications"] == before["applications"] + names_stored
    assert after["ledger"] == before["ledger"]  # nothing was deleted, nothing else was written

    official = await login("dpf-150203-a")
    auditor = await login("auditor-a")
    hostile_queries: list[tuple[str, dict[str, str], dict[str, str]]] = []
    for value in ("\x00", *SQL_INJECTIONS):
        hostile_queries += [
            ("/api/v1/applications", {"program": value}, applicant),
            ("/api/v1/applications", {"status": value}, official),
            ("/api/v1/applications", {"county": value}, auditor),
            ("/api/v1/tasks", {"program": value}, official),
            ("/api/v1/tasks", {"application_id": value}, official),
            ("/api/v1/ledger", {"program": value}, auditor),
            ("/api/v1/ledger", {"application_id": value}, auditor),
            ("/api/v1/public-welfare-posts", {"county": value}, official),
        ]
    for url, params, headers in hostile_queries:
        response = await http.get(url, params=params, headers=headers)
        assert response.status_code == 422, (url, params, response.status_code, response.text[:300])
    for value in ("%00", "' OR '1'='1", "..%2F..%2Fetc%2Fpasswd", "1 UNION SELECT 1"):
        for url in (f"/api/v1/applications/{value}", f"/api/v1/tasks/{value}/claim"):
            method = "GET" if "claim" not in url else "POST"
            response = await http.request(method, url, headers=official)
            assert response.status_code in (404, 422), (url, response.status_code, response.text[:300])
    for username in ("\x00", "' OR 1=1 --", "admin'--", "x" * 200, "a\u202eb"):
        response = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 401, (username, response.status_code)
    # The pages' inbox filter is a query too.
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, "dpf-150203-a")).status_code == 303
        for value in ("\x00", "' OR '1'='1"):
            assert (await browser.get("/inbox", params={"program": value})).status_code == 422
    assert (await counts(hostile_sessions))["applications"] == after["applications"]


async def test_decision_and_event_text_with_nul_or_invisible_characters_is_refused_and_the_procedure_goes_on(
    http: httpx.AsyncClient, login: Login, acting: Acting
) -> None:
    """Before the check, NUL in a decision's values reached the workflow, whose activity could never store it:
    it retried for ever with the workflow waiting on it, and the request hung."""
    body = rent_form()
    applicant = await acting(body)
    created = await http.post("/api/v1/applications", json=body, headers=applicant)
    assert created.status_code == 201, created.text
    official = await login("dpf-150203-a")
    task = await open_task_of(http, official, created.json()["id"])
    decide = f"/api/v1/tasks/{task['id']}/decision"
    refused_bodies = [
        {"decision": "reject", "reason": "no\x00reason"},
        {"decision": "reject", "reason": "reason \u202ereversed"},
        {"decision": "approve", "values": {"monthly_rent": "1200.00", "note": "a\x00b"}},
        {"decision": "approve", "values": {"monthly_rent": "1200.00", "NOTE; DROP TABLE x": "1"}},
        {"decision": "approve", "values": {f"value_{chr(97 + i)}": "1" for i in range(21)}},
    ]
    for body in refused_bodies:
        response = await http.post(decide, json=body, headers=official)
        assert response.status_code == 422, (body, response.text)
    for body in ({"type": "withdrawn", "note": "\x00"}, {"type": "withdrawn", "note": "\u200b"}):
        event = await http.post(f"/api/v1/applications/{created.json()['id']}/events", json=body, headers=applicant)
        assert event.status_code == 422, event.text
    # The pages send the same decision without the JSON model in between: refused the same way.
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, "dpf-150203-a")).status_code == 303
        page = await browser.get(f"/tasks/{task['id']}")
        posted = await browser.post(
            f"/tasks/{task['id']}/decision",
            data={"decision": "reject", "reason": "bad\x00reason", "csrf_token": csrf_token(page.text)},
        )
        assert posted.status_code == 422
    # Nothing got stuck: a proper decision goes through at once.
    approved = await http.post(
        decide, json={"decision": "approve", "values": {"monthly_rent": "1200.00"}}, headers=official
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["application"]["status"] == "active"


async def test_a_stored_script_name_is_shown_escaped_on_the_pages_and_never_run(
    http: httpx.AsyncClient, login: Login, applicant: dict[str, str], acting: Acting
) -> None:
    form = with_field(
        with_field(rent_form(), ("applicant", "name"), HTML_INJECTION[:64]), ("business", "name"), HTML_INJECTION
    )
    created = await http.post("/api/v1/applications", json=form, headers=await acting(form))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    # JSON carries it as data (the masked name keeps the first character only).
    assert created.json()["applicant"]["name"] == HTML_INJECTION[:64]
    task = await open_task_of(http, await login("dpf-150203-a"), application_id)
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, f"p-{form['applicant']['id_number'].lower()}")).status_code == 303
        mine = await browser.get(f"/my/applications/{application_id}")
        assert mine.status_code == 200
        assert "&lt;script&gt;alert(" in mine.text and "<script>alert(" not in mine.text
        assert "<img src=x" not in mine.text
        assert "script-src 'self'" in mine.headers["content-security-policy"]
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        assert (await page_login(browser, "dpf-150203-a")).status_code == 303
        page = await browser.get(f"/tasks/{task['id']}")
        assert page.status_code == 200
        assert page.text.count("&lt;script&gt;alert(") >= 2 and "<script>alert(" not in page.text  # the names, escaped
    # The same text in the sign-in form's user name comes back escaped too.
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        refused = await page_login(browser, HTML_INJECTION[:60], "wrong")
        assert refused.status_code == 400
        assert "<script>alert(" not in refused.text and "&lt;script&gt;" in refused.text


async def test_page_queries_with_nul_or_injection_are_answered_without_a_server_error(http: httpx.AsyncClient) -> None:
    pages = {"dpf-150203-a": ("/inbox", "program"), "auditor-a": ("/audit", "reference")}
    for user, (path, name) in pages.items():
        async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
            assert (await page_login(browser, user)).status_code == 303
            for value in ("\x00", "%", "' OR '1'='1", HTML_INJECTION):
                response = await browser.get(path, params={name: value})
                assert response.status_code in (200, 422), (path, value, response.status_code)
                assert "<script>alert(" not in response.text
    for value in ("\x00", "//evil.example", HTML_INJECTION):
        response = await http.get("/login", params={"next": value})
        assert response.status_code == 200 and "<script>alert(" not in response.text
        assert 'value="//evil.example"' not in response.text  # never an open redirect
