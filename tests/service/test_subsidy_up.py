"""`subsidy up` as a user runs it: a real process tree, stopped with SIGTERM, started again on the same home."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from subsidy.policy.calendar_file import packaged_years
from subsidy.policy.workdays import china_today
from subsidy.service.embedded import free_port, installed_binary
from tests.helpers import months_ago, own_rent_form

START_TIMEOUT = 120


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "SUBSIDY_JWT_SECRET")}
    env.update(
        SUBSIDY_HOME=str(home),
        SUBSIDY_TEMPORAL_PORT=str(free_port()),
        SUBSIDY_TEMPORAL_UI_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    return env


class Running:
    def __init__(self, home: Path, port: int, env: dict[str, str]) -> None:
        self.home, self.port = home, port
        self.log = home.parent / f"up-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(
            [installed_binary("subsidy"), "up", "--home", str(home), "--port", str(port)],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while "subsidy is running" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"subsidy up did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def login(self, username: str) -> dict[str, str]:
        response = self.client.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def stop(self) -> int:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _leftovers(home: Path) -> list[str]:
    """Processes still holding the home folder: an orphaned postgres or temporal."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(home) in cmdline:
            found.append(f"{process.info['pid']}: {cmdline[:120]}")
    return found


def _wait_for(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.2)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "home"
    yield folder
    for line in _leftovers(folder):  # never leave a server behind, even when the test failed
        os.kill(int(line.split(":")[0]), signal.SIGKILL)


def test_subsidy_up_serves_stops_cleanly_and_keeps_everything_across_restarts(home: Path) -> None:
    env = _environment(home)
    port = free_port()
    service = Running(home, port, env)
    log = service.log.read_text()
    assert f"http://localhost:{port}/docs" in log and "Temporal UI" in log and "dpf-150203-b" in log
    # A fresh data folder knows the packaged years (none with SUBSIDY_CALENDAR_PACKAGED=0): from 1 November the
    # health check warns while next year is not among them.
    today = china_today()
    seeded = [] if env.get("SUBSIDY_CALENDAR_PACKAGED") == "0" else list(packaged_years())
    warns = today.month >= 11 and today.year + 1 not in seeded
    health = service.client.get("/healthz").json()
    assert (health["status"], health["database"], health["temporal"]) == ("ok", "ok", "ok")
    assert health["calendar"] == ("next_year_unknown" if warns else "ok")
    assert (health["calendar_warning"] is not None) == warns
    assert "残疾人就业补贴服务" in service.client.get("/").text

    applicant = service.login("applicant-a")
    created = service.client.post(
        "/api/v1/applications",
        json=own_rent_form("applicant-a", license_date=months_ago(14, days=1)),
        headers=applicant,
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    official = service.login("dpf-150203-b")

    def task_ids() -> list[str]:
        tasks = service.client.get("/api/v1/tasks", params={"application_id": application_id}, headers=official)
        return [t["id"] for t in tasks.json()]

    _wait_for(task_ids)
    decided = service.client.post(
        f"/api/v1/tasks/{task_ids()[0]}/decision",
        json={"decision": "approve", "values": {"monthly_rent": "1200.00"}},
        headers=official,
    )
    assert decided.status_code == 200, decided.text

    def ledger_rows() -> int:
        response = service.client.get("/api/v1/ledger", params={"application_id": application_id}, headers=applicant)
        return int(response.headers["X-Total-Count"])

    _wait_for(lambda: ledger_rows() == 28)
    before = service.client.get(f"/api/v1/applications/{application_id}", headers=applicant).json()

    assert service.stop() == 0
    assert _leftovers(home) == []

    again = Running(home, port, env)
    try:
        applicant = again.login("applicant-a")
        after = again.client.get(f"/api/v1/applications/{application_id}", headers=applicant).json()
        assert after == before
        ledger = again.client.get("/api/v1/ledger", params={"application_id": application_id}, headers=applicant)
        assert ledger.headers["X-Total-Count"] == "28"
        # The workflow is still running: it takes an event and cancels the 22 months not yet paid.
        closed = again.client.post(
            f"/api/v1/applications/{application_id}/events",
            json={"type": "business_closed", "date": months_ago(0).isoformat()},
            headers=applicant,
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "terminated"
        assert [m["status"] for m in closed.json()["schedule"]].count("cancelled") == 22
        # The auditor's attestations, from the command line, against the running service.
        replayed = subprocess.run(
            [installed_binary("subsidy"), "replay", "--all"], env=env, capture_output=True, text=True, timeout=120
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "0 failed" in replayed.stdout
        verified = subprocess.run(
            [installed_binary("subsidy"), "audit", "verify"], env=env, capture_output=True, text=True, timeout=60
        )
        assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
    finally:
        assert again.stop() == 0
    assert _leftovers(home) == []


def test_a_port_in_use_gives_a_one_line_error_and_a_non_zero_exit(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [installed_binary("subsidy"), "up", "--home", str(home), "--port", str(port)],
            env=_environment(home),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and "in use" in lines[0]
    assert _leftovers(home) == []
