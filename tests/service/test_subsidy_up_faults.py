"""`subsidy up` broken on purpose, as real processes: its own Python process killed with SIGKILL while submissions
are in flight, its embedded Temporal killed alone, its embedded PostgreSQL killed alone, and parts a crashed run
left behind found by their pid records at the next start."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from temporalio.client import WorkflowExecutionStatus

from subsidy.db.audit_chain import _CHAIN_LOCK
from subsidy.db.session import create_engine, session_factory
from subsidy.service.embedded import EmbeddedPostgres, free_port, installed_binary
from subsidy.service.parts import TemporalPart
from subsidy.service.supervisor import PidRecord
from subsidy.temporal_client.client import connect
from tests.conftest import account_for, party_of
from tests.helpers import months_ago, rent_form
from tests.service.test_subsidy_up import Running, _environment, _leftovers, _wait_for

TABLES = ("applications", "tasks", "ledger")


@pytest.fixture(name="home")
def _home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "home"
    yield folder
    for line in _leftovers(folder):  # never leave a server behind, even when the test failed
        os.kill(int(line.split(":")[0]), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _temporal_pid(home: Path) -> int:
    pid: int = json.loads((home / "temporal.pid").read_text())["pid"]
    return pid


def _postmaster(home: Path) -> tuple[int, str]:
    """The postmaster's pid and socket folder, from its own `postmaster.pid`."""
    lines = (home / "postgres" / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), lines[4].strip()


async def _connect(home: Path) -> asyncpg.Connection:
    connection: asyncpg.Connection = await asyncpg.connect(
        user="postgres", host=_postmaster(home)[1], database="subsidy"
    )
    return connection


def _counts(home: Path) -> dict[str, int]:
    async def count() -> dict[str, int]:
        connection = await _connect(home)
        try:
            return {table: int(await connection.fetchval(f"SELECT count(*) FROM {table}")) for table in TABLES}
        finally:
            await connection.close()

    return asyncio.run(count())


def _applicant(service: Running, home: Path, body: dict[str, Any]) -> dict[str, str]:
    """The token of the account bound to the person a rent form names (made through `create_bound_account`, as the
    County DPF's verification binds one): an account applies only for its own person."""

    async def bind() -> str:
        engine = create_engine(f"postgresql://postgres@/subsidy?host={_postmaster(home)[1]}", pool_size=1)
        try:
            kind, identifier, name, cert, county = party_of(body)
            return await account_for(
                session_factory(engine), kind, identifier, name=name, disability_cert_number=cert, county=county
            )
        finally:
            await engine.dispose()

    return service.login(asyncio.run(bind()))


def _kill(service: Running) -> None:
    service.client.close()
    service.process.send_signal(signal.SIGKILL)
    service.process.wait(timeout=30)


def _tasks(service: Running, official: dict[str, str], application_id: str) -> list[str]:
    response = service.client.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
    return [task["id"] for task in response.json()] if response.status_code == 200 else []


def _application_waiting_for_review(service: Running, home: Path, official: dict[str, str]) -> str:
    """A new person's rent application, sent from the account bound to them, once its review task is in the inbox."""
    body = rent_form()
    application_id: str = service.client.post(
        "/api/v1/applications", json=body, headers=_applicant(service, home, body)
    ).json()["id"]
    _wait_for(lambda: _tasks(service, official, application_id))
    return application_id


def _ledger_rows(service: Running, applicant: dict[str, str], application_id: str) -> int:
    response = service.client.get("/api/v1/ledger", params={"application_id": application_id}, headers=applicant)
    return int(response.headers["X-Total-Count"]) if response.status_code == 200 else -1


def _approve(service: Running, official: dict[str, str], task_id: str) -> None:
    decided = service.client.post(
        f"/api/v1/tasks/{task_id}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text


def _healthy(service: Running) -> bool:
    try:
        health = service.client.get("/healthz").json()
        return (health["status"], health["database"], health["temporal"]) == ("ok", "ok", "ok")
    except httpx.TransportError:
        return False


@pytest.mark.timeout(300)
def test_subsidy_up_killed_with_sigkill_mid_submission_starts_again_on_the_same_folder(home: Path) -> None:
    # The test counts the rows the kill leaves: no county report opened by the start itself.
    env = {**_environment(home), "SUBSIDY_SWEEP_SECONDS": "2", "SUBSIDY_ANNUAL_REPORT_CATCH_UP": "0"}
    port = free_port()
    service = Running(home, port, env)
    official = service.login("dpf-150203-b")
    # Every process under it (Temporal, the postmaster and its backends) must end with it.
    parts = [child.pid for child in psutil.Process(service.process.pid).children(recursive=True)]
    assert len(parts) >= 3

    # Decided before the crash: 14 months paid, 28 ledger rows.
    paid_body = rent_form(license_date=months_ago(14, days=1))
    applicant = _applicant(service, home, paid_body)
    paid = service.client.post("/api/v1/applications", json=paid_body, headers=applicant).json()["id"]
    _wait_for(lambda: _tasks(service, official, paid))
    _approve(service, official, _tasks(service, official, paid)[0])
    _wait_for(lambda: _ledger_rows(service, applicant, paid) == 28)

    # One person per key, applying with the account bound to them; a retry sends the same body from that account.
    bodies: dict[str, dict[str, Any]] = {}
    tokens: dict[str, dict[str, str]] = {}

    def submission(key: str) -> tuple[dict[str, Any], dict[str, str]]:
        if key not in bodies:
            bodies[key] = rent_form(license_date=months_ago(14, days=1))
            tokens[key] = _applicant(service, home, bodies[key])
        return bodies[key], {**tokens[key], "Idempotency-Key": key}

    # Three submitted, their workflows waiting on the County DPF's review.
    done_keys = [f"crash-{uuid.uuid4()}" for _ in range(3)]
    done = {}
    for key in done_keys:
        body, headers = submission(key)
        created = service.client.post("/api/v1/applications", json=body, headers=headers)
        assert created.status_code == 201, created.text
        done[key] = created.json()["id"]
    for application_id in done.values():
        _wait_for(lambda a=application_id: _tasks(service, official, a))
    before = _counts(home)
    assert before == {"applications": 4, "tasks": 4, "ledger": 28}

    # Three more in flight, held inside their transactions (the audit log's chain lock is ours), when the kill lands.
    cut_keys = [f"crash-{uuid.uuid4()}" for _ in range(3)]
    for key in cut_keys:
        submission(key)  # their people's accounts, made before the requests go out

    def send(key: str) -> int | str:
        body, headers = submission(key)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            try:
                return http.post("/api/v1/applications", json=body, headers=headers).status_code
            except httpx.TransportError as error:
                return type(error).__name__

    async def hold_and_kill() -> list[int | str]:
        holder = await _connect(home)
        await holder.execute("SELECT pg_advisory_lock($1)", _CHAIN_LOCK)
        with ThreadPoolExecutor(3) as pool:
            sent: list[Future[int | str]] = [pool.submit(send, key) for key in cut_keys]
            deadline = time.monotonic() + 30
            while (
                await holder.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE $1",
                    "SELECT pg_advisory_xact_lock%",
                )
                < 3
            ):
                assert time.monotonic() < deadline, "the three submissions did not reach the audit record"
                await asyncio.sleep(0.1)
            _kill(service)
            answers = [future.result(timeout=60) for future in sent]
        holder.terminate()
        return answers

    answers = asyncio.run(hold_and_kill())
    killed_at = time.monotonic()
    assert all(isinstance(answer, str) for answer in answers), answers  # cut off: no answer

    # The parts die with their parent: nothing of the first run is left, nothing holds a port.
    _wait_for(lambda: not any(_alive(pid) for pid in parts), timeout=15)
    _wait_for(lambda: _leftovers(home) == [], timeout=15)

    again = Running(home, port, env)
    try:
        assert time.monotonic() - killed_at < 60
        assert _healthy(again)
        official = again.login("dpf-150203-b")
        assert _counts(home) == before  # the cut-off ones were never committed; nothing lost
        for key in done_keys:  # the client's retries: the kept ones are found, the cut-off ones created now
            body, headers = submission(key)
            retried = again.client.post("/api/v1/applications", json=body, headers=headers)
            assert retried.status_code == 200 and retried.json()["id"] == done[key], retried.text
        cut = []
        for key in cut_keys:
            body, headers = submission(key)
            retried = again.client.post("/api/v1/applications", json=body, headers=headers)
            assert retried.status_code == 201, retried.text
            cut.append(retried.json()["id"])
        for application_id in [*done.values(), *cut]:
            _wait_for(lambda a=application_id: _tasks(again, official, a))
        # The workflows that waited across the crash still take their decision and pay.
        _approve(again, official, _tasks(again, official, done[done_keys[0]])[0])
        _wait_for(lambda: _ledger_rows(again, tokens[done_keys[0]], done[done_keys[0]]) == 28)
        time.sleep(1)  # a doubled workflow would have opened a second task by now
        assert [len(_tasks(again, official, a)) for a in [*done.values()][1:] + cut] == [1] * 5
        assert _counts(home) == {"applications": 7, "tasks": 7, "ledger": 56}
        assert _ledger_rows(again, applicant, paid) == 28
    finally:
        assert again.stop() == 0
    assert _leftovers(home) == []


@pytest.mark.timeout(300)
def test_the_embedded_temporal_killed_alone_comes_back_and_a_second_death_within_the_limit_stops_subsidy_up(
    home: Path,
) -> None:
    env = {**_environment(home), "SUBSIDY_PART_RESTARTS": "1"}
    service = Running(home, free_port(), env)
    try:
        official = service.login("dpf-150203-b")
        waiting = _application_waiting_for_review(service, home, official)
        first = _temporal_pid(home)
        os.kill(first, signal.SIGKILL)

        _wait_for(lambda: "embedded Temporal exited with code -9; restarting" in service.log.read_text(), 30)
        _wait_for(lambda: _temporal_pid(home) != first and _alive(_temporal_pid(home)) and _healthy(service), 60)
        _wait_for(lambda: "embedded Temporal is back" in service.log.read_text())
        # Decided afterwards: the workflow that waited across the outage completes.
        rejected = service.client.post(
            f"/api/v1/tasks/{_tasks(service, official, waiting)[0]}/decision",
            json={"decision": "reject", "reason": "材料不实"},
            headers=official,
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["application"]["status"] == "rejected"

        async def status() -> WorkflowExecutionStatus | None:
            client = await connect(f"127.0.0.1:{env['SUBSIDY_TEMPORAL_PORT']}")
            return (await client.get_workflow_handle(f"application-{waiting}").describe()).status

        _wait_for(lambda: asyncio.run(status()) == WorkflowExecutionStatus.COMPLETED)
        # Started afterwards: the worker polls the new server.
        started_body = rent_form(license_date=months_ago(14, days=1))
        applicant = _applicant(service, home, started_body)
        started = service.client.post("/api/v1/applications", json=started_body, headers=applicant)
        assert started.status_code == 201, started.text
        fresh = started.json()["id"]
        _wait_for(lambda: _tasks(service, official, fresh))
        _approve(service, official, _tasks(service, official, fresh)[0])
        _wait_for(lambda: _ledger_rows(service, applicant, fresh) == 28)

        # SUBSIDY_PART_RESTARTS=1: the second death within ten minutes is one too many.
        os.kill(_temporal_pid(home), signal.SIGKILL)
        assert service.process.wait(timeout=60) == 3
        output = service.log.read_text()
        assert output.count("embedded Temporal exited with code -9; restarting") == 1
        stderr_line = next(line for line in output.splitlines() if line.startswith("subsidy up: "))
        assert stderr_line.startswith("subsidy up: embedded Temporal exited with code -9; not restarted again")
        assert _leftovers(home) == []
    finally:
        if service.process.poll() is None:
            service.stop()


@pytest.mark.timeout(300)
def test_the_embedded_postgres_killed_alone_is_restarted_and_the_service_works_again(home: Path) -> None:
    env = {**_environment(home), "SUBSIDY_SWEEP_SECONDS": "2"}
    service = Running(home, free_port(), env)
    try:
        official = service.login("dpf-150203-b")
        _application_waiting_for_review(service, home, official)
        before = _counts(home)
        first, _ = _postmaster(home)
        os.kill(first, signal.SIGKILL)

        _wait_for(lambda: "embedded PostgreSQL exited with code -9; restarting" in service.log.read_text(), 30)
        _wait_for(lambda: _postmaster(home)[0] != first and _healthy(service), 60)
        _wait_for(lambda: "embedded PostgreSQL is back" in service.log.read_text())
        assert _counts(home) == before
        created_body = rent_form(license_date=months_ago(14, days=1))
        applicant = _applicant(service, home, created_body)
        created = service.client.post("/api/v1/applications", json=created_body, headers=applicant)
        assert created.status_code == 201, created.text
        fresh = created.json()["id"]
        _wait_for(lambda: _tasks(service, official, fresh))
        _approve(service, official, _tasks(service, official, fresh)[0])
        _wait_for(lambda: _ledger_rows(service, applicant, fresh) == 28)
        assert _counts(home) == {
            "applications": before["applications"] + 1,
            "tasks": before["tasks"] + 1,
            "ledger": before["ledger"] + 28,
        }
    finally:
        assert service.stop() == 0
    assert _leftovers(home) == []


@pytest.mark.timeout(300)
def test_parts_a_crashed_run_left_are_found_by_their_pid_records_and_ended_and_only_they(
    home: Path, tmp_path: Path
) -> None:
    """As if the parent-death signal had not reached them: a PostgreSQL detached by pg_ctl on the home's cluster and a
    dev server with its `temporal.pid`, both holding what the next start needs; and a stranger that is left alone."""
    env = _environment(home)
    home.mkdir(parents=True)
    postgres = asyncio.run(EmbeddedPostgres.start(home.resolve() / "postgres"))
    left_postgres = _postmaster(home)[0]
    part = TemporalPart(
        home, host="127.0.0.1", port=int(env["SUBSIDY_TEMPORAL_PORT"]), ui_port=int(env["SUBSIDY_TEMPORAL_UI_PORT"])
    )
    left_temporal = subprocess.Popen(
        part.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    PidRecord.of(left_temporal.pid).write(part.pid_file)
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        _wait_for(lambda: _listening(int(env["SUBSIDY_TEMPORAL_PORT"])))

        service = Running(home, free_port(), env)
        try:
            log = service.log.read_text()
            assert f"embedded Temporal of an earlier run is still running (pid {left_temporal.pid}); ending it" in log
            assert f"embedded PostgreSQL of an earlier run is still running (pid {left_postgres}); ending it" in log
            assert left_temporal.poll() is not None and not _alive(left_postgres)
            assert _healthy(service)
            # A second `subsidy up` on the same folder is refused before it touches anything of the running one.
            parts = [_temporal_pid(home), _postmaster(home)[0]]
            second = subprocess.run(
                [installed_binary("subsidy"), "up", "--home", str(home), "--port", str(free_port())],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 2
            refusal = [line for line in second.stderr.splitlines() if line.startswith("subsidy up:")]
            assert refusal == [
                f"subsidy up: another subsidy up (pid {service.process.pid}) runs on {home}; stop it first"
            ]
            assert [_temporal_pid(home), _postmaster(home)[0]] == parts and all(_alive(pid) for pid in parts)
            assert _healthy(service)
        finally:
            assert service.stop() == 0
        assert _leftovers(home) == []

        # A record whose pid now belongs to another process (same pid, other command and start time): left alone.
        PidRecord(stranger.pid, time.time() - 3600, part.command()).write(part.pid_file)
        service = Running(home, free_port(), env)
        try:
            assert "of an earlier run" not in service.log.read_text()
            assert stranger.poll() is None
        finally:
            assert service.stop() == 0
        assert stranger.poll() is None
        assert _leftovers(home) == []
    finally:
        stranger.kill()
        left_temporal.kill()
        asyncio.run(postgres.stop())  # (ended already: this only has embedded-postgres forget its handle)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
