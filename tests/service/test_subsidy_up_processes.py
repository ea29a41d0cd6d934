"""`subsidy up` with several API and worker processes: one process tree, the archiver and the starter once, and an
API process killed alone is survived (the others answer meanwhile, the supervisor starts it again)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from subsidy.service.embedded import free_port
from subsidy.service.seed import DEMO_BINDINGS
from tests.helpers import rent_form
from tests.service.test_subsidy_up import Running, _environment, _leftovers, _wait_for
from tests.service.test_subsidy_up_faults import _connect, _tasks

# The person the demo account applicant-a is bound to (subsidy/service/seed.py): it applies for itself only.
APPLICANT_A_PERSON = DEMO_BINDINGS["applicant-a"].identifier


@pytest.fixture(name="home")
def _home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "home"
    yield folder
    for line in _leftovers(folder):  # never leave a server behind, even when the test failed
        os.kill(int(line.split(":")[0]), signal.SIGKILL)


def _service_processes(service: Running) -> dict[str, list[int]]:
    """The API and worker processes under `subsidy up`, by kind, from their command lines."""
    found: dict[str, list[int]] = {"api": [], "worker": []}
    for child in psutil.Process(service.process.pid).children():
        command = child.cmdline()
        if "subsidy.service.processes" in command:
            found[command[command.index("subsidy.service.processes") + 1]].append(child.pid)
    return found


def _archived(home: Path, workflow_id: str) -> int:
    async def count() -> int:
        connection = await _connect(home)
        try:
            return int(
                await connection.fetchval("SELECT count(*) FROM workflow_histories WHERE workflow_id = $1", workflow_id)
            )
        finally:
            await connection.close()

    return asyncio.run(count())


@pytest.mark.timeout(300)
def test_three_api_and_two_worker_processes_one_archiver_and_an_api_process_killed_alone(home: Path) -> None:
    env = {**_environment(home), "SUBSIDY_API_PROCESSES": "3", "SUBSIDY_WORKER_PROCESSES": "2"}
    env["SUBSIDY_SWEEP_SECONDS"] = "1"
    service = Running(home, free_port(), env)
    try:
        processes = _service_processes(service)
        assert [len(processes["api"]), len(processes["worker"])] == [3, 2]
        assert "3 API process(es) and 2 worker process(es) run" in service.log.read_text()
        # Nothing else runs the archiver and the starter: no other Python process under subsidy up.
        pythons = [
            child
            for child in psutil.Process(service.process.pid).children()
            if "python" in Path(child.cmdline()[0]).name
        ]
        assert sorted(p.pid for p in pythons) == sorted(processes["api"] + processes["worker"])

        applicant, official = service.login("applicant-a"), service.login("dpf-150203-b")
        created = service.client.post(
            "/api/v1/applications", json=rent_form(id_number=APPLICANT_A_PERSON), headers=applicant
        )
        assert created.status_code == 201, created.text
        application = created.json()
        _wait_for(lambda: _tasks(service, official, application["id"]))
        withdrawn = service.client.post(
            f"/api/v1/applications/{application['id']}/events", json={"type": "withdrawn"}, headers=applicant
        )
        assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn", withdrawn.text
        # The archiver copies the closed history once, in the one process that runs it (every second here).
        workflow_id = f"application-{application['id']}"
        _wait_for(lambda: _archived(home, workflow_id) == 1, 60)
        time.sleep(3)  # three more rounds
        assert _archived(home, workflow_id) == 1
        assert service.log.read_text().count("archived the histories of 1 closed application(s)") == 1

        # One API process killed alone: the other two answer all the while, and it is started again.
        killed = processes["api"][0]
        os.kill(killed, signal.SIGKILL)
        answers = []
        with httpx.Client(base_url=f"http://127.0.0.1:{service.port}", timeout=10) as http:
            for _ in range(40):  # a new connection each time: each goes to whichever process accepts it
                answers.append(http.get("/healthz", headers={"Connection": "close"}).status_code)
                time.sleep(0.05)
        assert answers == [200] * 40
        _wait_for(lambda: "API process 1 is back" in service.log.read_text(), 60)
        assert "API process 1 exited with code -9; restarting" in service.log.read_text()
        again = _service_processes(service)
        assert len(again["api"]) == 3 and killed not in again["api"] and again["worker"] == processes["worker"]
        # And the service still works end to end.
        fresh = service.client.post(
            "/api/v1/applications", json=rent_form(id_number=APPLICANT_A_PERSON), headers=applicant
        )
        assert fresh.status_code == 201, fresh.text
        _wait_for(lambda: _tasks(service, official, fresh.json()["id"]))
    finally:
        assert service.stop() == 0
    assert _leftovers(home) == []
