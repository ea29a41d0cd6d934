"""Real parts for the tests: embedded PostgreSQL (migrated and seeded), Temporal servers from the wheels, and the
service itself over real HTTP (uvicorn on a free port, with its worker)."""

from __future__ import annotations

import os

# A fixed keyring for the tests' Temporal payloads (the recorded histories in tests/histories are sealed with it).
os.environ.setdefault("SUBSIDY_PAYLOAD_KEYS", "test1:" + "dGVzdC1vbmx5LXBheWxvYWQta2V5LTMyLWJ5dGVzISE=")

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from subsidy.api.app import create_app
from subsidy.api.deps import Resources
from subsidy.api.security import hash_password
from subsidy.db.bindings_lookup import verified_holder
from subsidy.db.migrate import upgrade
from subsidy.db.session import create_engine, session_factory
from subsidy.programs.account_registration.activities import create_bound_account
from subsidy.service.embedded import EmbeddedPostgres, free_port, installed_binary
from subsidy.service.seed import seed_demo_accounts, seed_policies
from subsidy.service.temporal import build_worker
from subsidy.settings import Settings
from subsidy.temporal_client.client import DATA_CONVERTER
from tests.calendars import seed_calendars_for_tests


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="subsidy-pg-") as folder:
        postgres = await EmbeddedPostgres.start(Path(folder) / "data")
        try:
            await asyncio.to_thread(upgrade, postgres.url)
            engine = create_engine(postgres.url, pool_size=2)
            await seed_policies(session_factory(engine))
            await seed_demo_accounts(session_factory(engine))
            await seed_calendars_for_tests(session_factory(engine))  # tests/calendars
            await engine.dispose()
            yield postgres.url
        finally:
            await postgres.stop()


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@contextlib.asynccontextmanager
async def running_service(
    database_url: str, temporal: WorkflowEnvironment, *, worker: bool = True, **settings_values: object
) -> AsyncIterator[str]:
    """The service on a free port, with its own worker (unless `worker=False`) and task queue; yields its base URL."""
    task_queue = f"api-{uuid.uuid4()}"
    settings = Settings(SUBSIDY_TASK_QUEUE=task_queue, SUBSIDY_JWT_SECRET="x" * 48, **settings_values)  # type: ignore[arg-type]
    engine = create_engine(database_url)
    sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
    resources = Resources(settings, engine, sessions, temporal.client, settings.signing_key())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(resources), host="127.0.0.1", port=port, log_level="warning"))
    try:
        async with build_worker(temporal.client, task_queue, sessions) if worker else contextlib.nullcontext():
            serving = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
            server.should_exit = True
            await serving
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def base_url(database_url: str, dev_server_env: WorkflowEnvironment) -> AsyncIterator[str]:
    async with running_service(database_url, dev_server_env) as url:
        yield url


if os.environ.get("RECORD_HISTORIES") == "1":
    from tests.histories.recorder import install

    install()


Login = Callable[[str], Awaitable[dict[str, str]]]


def bearer_login(http: httpx.AsyncClient) -> Login:
    """Signs a demo account in (password 'demo') and gives its Authorization header."""

    async def token_for(username: str) -> dict[str, str]:
        response = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return token_for


_DEMO_HASH: list[str] = []
ROLE_PREFIX = {"person": "p", "employer": "e", "provider": "t", "agency": "g"}


async def account_for(
    sessions: async_sessionmaker[AsyncSession],
    kind: str,
    identifier: str,
    *,
    name: str = "张三",
    disability_cert_number: str | None = None,
    county: str = "150203",
) -> str:
    """The user name of the verified account (password 'demo') bound to this person or organisation: the one there is,
    or a new one bound through `create_bound_account`, the function the County DPF's verification ends in."""
    if not _DEMO_HASH:
        _DEMO_HASH.append(hash_password("demo"))
    async with sessions.begin() as session:
        holder = await verified_holder(session, kind, identifier)
        if holder is not None:
            return holder
        username = f"{ROLE_PREFIX[kind]}-{identifier.lower()}"
        refused = await create_bound_account(
            session,
            username=username,
            password_hash=_DEMO_HASH[0],
            kind=kind,
            name=name,
            identifier=identifier,
            county=county,
            disability_cert_number=disability_cert_number or (identifier + "42" if kind == "person" else None),
        )
        assert not refused, refused
        return username


def party_of(body: dict[str, Any]) -> tuple[str, str, str, str | None, str]:
    """Whom an application body names: (kind, identifier, name, certificate number, county)."""
    program = body["program"]
    if program == "rent_subsidy":
        person = body["applicant"]
        return "person", person["id_number"], person["name"], person["disability_cert_number"], person["hukou_county"]
    if program == "flexible_employment_insurance_subsidy":
        person = body["person"]
        county = body.get("county") or person["id_number"][:6]
        return "person", person["id_number"], person["name"], person["disability_cert_number"], county
    if program in ("public_welfare_post", "over_quota_reward"):
        return "employer", body["employer"]["credit_code"], body["employer"]["name"], None, body["county"]
    if program == "training_subsidy":
        provider = body["provider"]
        return "provider", provider["credit_code"], provider["name"], None, body["county"]
    if program == "dispatch_referral_reward":
        agency = body["agency"]
        return "agency", agency["credit_code"], agency["name"], None, body["county"]
    if program == "blind_massage_insurance_subsidy":
        person = body["applicant"]
        return "person", person["id_number"], person["name"], person["disability_cert_number"], person["hukou_county"]
    raise AssertionError(f"{program} names no party of its own")


Acting = Callable[[dict[str, Any]], Awaitable[dict[str, str]]]


def bound_login(http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> Acting:
    """The Authorization header of the account bound to whom an application body names (made if need be)."""
    login = bearer_login(http)

    async def headers_for(body: dict[str, Any]) -> dict[str, str]:
        kind, identifier, name, cert, county = party_of(body)
        username = await account_for(sessions, kind, identifier, name=name, disability_cert_number=cert, county=county)
        return await login(username)

    return headers_for


async def forget_failed_sign_ins(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Failed sign-ins are counted per account and per client (every test client is 127.0.0.1); one test's
    deliberate failures must not slow down or refuse the sign-ins of the tests after it."""
    async with sessions.begin() as session:
        await session.execute(text("DELETE FROM sign_in_accounts"))
        await session.execute(text("DELETE FROM sign_in_clients"))
        await session.execute(text("DELETE FROM registration_clients"))  # every test client is 127.0.0.1 here too
