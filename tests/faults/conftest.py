"""Real parts to break: an embedded PostgreSQL and a Temporal dev server of their own (so that stopping them disturbs
no other test), and the service as production runs it — `subsidy worker` and `subsidy api` processes that can be
killed with SIGKILL and started again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from subsidy.db.migrate import upgrade
from subsidy.db.models import Application, LedgerEntry, Task
from subsidy.db.session import create_engine, session_factory
from subsidy.service.embedded import EmbeddedPostgres, free_port, installed_binary
from subsidy.service.seed import seed_demo_accounts, seed_policies
from subsidy.temporal_client.client import DATA_CONVERTER, connect
from tests.calendars import seed_calendars_for_tests
from tests.conftest import account_for, party_of

START_TIMEOUT = 60


class Postgres:
    """The embedded PostgreSQL of the fault tests, which one of them stops and starts again on the same folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server: EmbeddedPostgres | None = None

    async def start(self) -> None:
        self.server = await EmbeddedPostgres.start(self.data_dir)

    async def stop(self) -> None:
        assert self.server is not None
        await self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def connect(self) -> asyncpg.Connection:
        """A plain connection of the test's own, e.g. to hold a lock that makes an activity wait."""
        url = make_url(self.url)
        connection: asyncpg.Connection = await asyncpg.connect(
            user="postgres", host=url.query["host"], database=url.database
        )
        return connection

    async def counts(self) -> dict[str, int]:
        """Applications, tasks and ledger rows in the whole database."""
        engine = create_engine(self.url, pool_size=1)
        try:
            async with session_factory(engine)() as session:
                return {
                    model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
                    for model in (Application, Task, LedgerEntry)
                }
        finally:
            await engine.dispose()

    async def waiting_on_locks(self, statement_start: str) -> int:
        """How many other sessions wait on a lock in a statement beginning with `statement_start`."""
        connection = await self.connect()
        try:
            found: int = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE $1",
                f"{statement_start}%",
            )
            return found
        finally:
            await connection.close()


class DevServer:
    """The Temporal dev server on a fixed port and SQLite file, so that it can be stopped and started again."""

    def __init__(self, db_file: Path) -> None:
        self.db_file = db_file
        self.port = free_port()
        self.env: WorkflowEnvironment | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.env = await WorkflowEnvironment.start_local(
            data_converter=DATA_CONVERTER,
            ip="127.0.0.1",
            port=self.port,
            ui=False,
            dev_server_existing_path=installed_binary("temporal"),
            dev_server_database_filename=str(self.db_file),
            dev_server_log_level="error",
        )

    async def stop(self) -> None:
        assert self.env is not None
        await self.env.shutdown()
        self.env = None

    def process(self) -> psutil.Process:
        """The dev server's own process (to pause it with SIGSTOP)."""
        for child in psutil.Process().children(recursive=True):
            cmdline = " ".join(child.cmdline())
            if "start-dev" in cmdline and f"--port {self.port}" in cmdline:
                return child
        raise AssertionError("the dev server process was not found")

    async def client(self) -> Client:
        """A client of the test's own, independent of the server's lifetime (it reconnects after a restart)."""
        return await connect(self.address)


@dataclass
class ServiceProcess:
    """`subsidy worker` or `subsidy api` in a process of its own, as production runs them."""

    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [installed_binary("subsidy"), *self.command],
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, whatever it was doing is cut off."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class Service:
    """The worker and the API of one fault test, on a task queue of their own."""

    postgres: Postgres
    temporal: DevServer
    folder: Path
    task_queue: str = field(default_factory=lambda: f"faults-{uuid.uuid4()}")
    api_port: int = field(default_factory=free_port)
    workers: list[ServiceProcess] = field(default_factory=list)
    apis: list[ServiceProcess] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUBSIDY_") or k == "SUBSIDY_PAYLOAD_KEYS"}
        env.update(
            DATABASE_URL=self.postgres.url,
            TEMPORAL_ADDRESS=self.temporal.address,
            SUBSIDY_TASK_QUEUE=self.task_queue,
            SUBSIDY_JWT_SECRET="f" * 48,
            SUBSIDY_HOME=str(self.folder),
            PYTHONUNBUFFERED="1",
            SUBSIDY_SWEEP_SECONDS="2",
            # The tests count the rows their faults leave: no county report opened by the worker's start.
            SUBSIDY_ANNUAL_REPORT_CATCH_UP="0",
        )
        return env

    def start_worker(self) -> ServiceProcess:
        worker = ServiceProcess(["worker"], self.environment(), self.folder / f"worker-{len(self.workers)}.log")
        worker.start()
        self.workers.append(worker)
        return worker

    async def start_api(self) -> ServiceProcess:
        api = ServiceProcess(
            ["api", "--host", "127.0.0.1", "--port", str(self.api_port)],
            self.environment(),
            self.folder / f"api-{len(self.apis)}.log",
        )
        api.start()
        self.apis.append(api)
        await self.healthy(api)
        return api

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    async def healthy(self, api: ServiceProcess | None = None) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if api is not None and api.process is not None and api.process.poll() is not None:
                    raise AssertionError(f"subsidy api exited:\n{api.output()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"the API did not become healthy:\n{api.output() if api else ''}")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        for process in (*self.apis, *self.workers):
            process.stop()


@pytest.fixture(scope="package")
async def fault_postgres() -> AsyncIterator[Postgres]:
    with tempfile.TemporaryDirectory(prefix="subsidy-faults-pg-") as folder:
        postgres = Postgres(Path(folder) / "data")
        await postgres.start()
        try:
            await asyncio.to_thread(upgrade, postgres.url)
            engine = create_engine(postgres.url, pool_size=1)
            await seed_policies(session_factory(engine))
            await seed_demo_accounts(session_factory(engine))
            await seed_calendars_for_tests(session_factory(engine))  # tests/calendars
            await engine.dispose()
            yield postgres
        finally:
            await postgres.stop()


@pytest.fixture(scope="package")
async def fault_temporal() -> AsyncIterator[DevServer]:
    with tempfile.TemporaryDirectory(prefix="subsidy-faults-temporal-") as folder:
        server = DevServer(Path(folder) / "temporal.db")
        await server.start()
        try:
            yield server
        finally:
            if server.env is not None:
                await server.stop()


@pytest.fixture
def service(fault_postgres: Postgres, fault_temporal: DevServer, tmp_path: Path) -> Iterator[Service]:
    running = Service(fault_postgres, fault_temporal, tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def http(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service.base_url, timeout=60) as client:
        yield client


async def token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def applicant_of(service: Service, http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, str]:
    """The token of the account bound to the person an application body names (made for the test)."""
    engine = create_engine(service.postgres.url, pool_size=1)
    try:
        kind, identifier, name, cert, county = party_of(body)
        username = await account_for(
            session_factory(engine), kind, identifier, name=name, disability_cert_number=cert, county=county
        )
    finally:
        await engine.dispose()
    return await token(http, username)


async def eventually(check: Any, seconds: float, what: str) -> Any:
    """Poll an async check until it returns something true; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.2)
