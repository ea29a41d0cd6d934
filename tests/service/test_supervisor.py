"""The supervisor of `subsidy up`'s parts on real processes: the parent-death signal, restarts and their limit,
pid records that only ever name the process they were written for, and the home folder's lock."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from subsidy.service.supervisor import (
    AlreadyRunning,
    Part,
    PartFailed,
    PidRecord,
    RestartBudget,
    Supervisor,
    end_process,
    hold_lock,
)

# Spawns `sleep 300` (with the parent-death signal when asked), prints its pid, then waits to be killed.
SPAWNER = """
import signal, subprocess, sys, time
from subsidy.service.supervisor import die_with_parent
armed = sys.argv[1] == "armed"
child = subprocess.Popen(["sleep", "300"], preexec_fn=die_with_parent(signal.SIGKILL) if armed else None)
print(child.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(("mode", "survives"), [("armed", False), ("plain", True)])
def test_a_child_armed_with_the_parent_death_signal_dies_with_its_parent_and_only_then(
    mode: str, survives: bool
) -> None:
    spawner = subprocess.Popen([sys.executable, "-c", SPAWNER, mode], stdout=subprocess.PIPE, text=True)
    assert spawner.stdout is not None
    child = int(spawner.stdout.readline())
    try:
        assert _alive(child)
        spawner.kill()
        spawner.wait(10)
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _alive(child) is survives
    finally:
        if _alive(child):
            psutil.Process(child).kill()


def test_the_restart_budget_counts_restarts_within_the_window_and_doubles_the_pause() -> None:
    now = [0.0]
    budget = RestartBudget(limit=2, window=600, clock=lambda: now[0])
    assert budget.take() and budget.pause() == 0.5
    now[0] = 1.0
    assert budget.take() and budget.pause() == 1.0
    now[0] = 599.9
    assert not budget.take()  # the third within 600 s
    now[0] = 600.0
    assert budget.take()  # the first one has left the window
    now[0] = 600.5
    assert not budget.take()

    assert not RestartBudget(limit=0, window=600).take()
    many = RestartBudget(limit=9, window=600, clock=lambda: 0.0)
    pauses = []
    for _ in range(9):
        assert many.take()
        pauses.append(many.pause())
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


class Sleeper(Part):
    name = "the sleeper"

    def command(self) -> list[str]:
        return ["sleep", "300"]

    async def wait_ready(self, process: asyncio.subprocess.Process, deadline: float) -> None:
        if process.returncode is not None:
            raise PartFailed("gone")

    def leftover(self) -> psutil.Process | None:
        return None


async def _until(check: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not reached"
        await asyncio.sleep(0.05)


async def test_a_part_that_dies_is_restarted_until_its_limit_then_the_supervisor_fails_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "subsidy.supervisor")
    supervisor = Supervisor(restarts=2, window=600)
    part = Sleeper()
    await supervisor.start(part)
    try:
        pids = [supervisor.pid(part)]
        for _ in range(2):  # two deaths: two restarts, each a new process in a group of its own
            psutil.Process(pids[-1]).kill()
            await _until(lambda: supervisor.pid(part) != pids[-1])
            pids.append(supervisor.pid(part))
            assert _alive(pids[-1]) and psutil.Process(pids[-1]).ppid() == psutil.Process().pid
            assert not supervisor.failed.is_set()
        restarting = [r.getMessage() for r in caplog.records if "restarting" in r.getMessage()]
        assert restarting == [
            "the sleeper exited with code -9; restarting (in 0.5 s)",
            "the sleeper exited with code -9; restarting (in 1.0 s)",
        ]
        assert len([r for r in caplog.records if "the sleeper is back" in r.getMessage()]) == 2
        psutil.Process(pids[-1]).kill()  # the third: one too many
        await asyncio.wait_for(supervisor.failed.wait(), 10)
        assert supervisor.failure == (
            "the sleeper exited with code -9; not restarted again (2 restarts within 600 s is the limit); stopping"
        )
        assert supervisor.pid(part) == pids[-1] and not _alive(pids[-1])
    finally:
        await supervisor.stop()


async def test_stopping_the_supervisor_stops_its_parts_and_restarts_nothing() -> None:
    supervisor = Supervisor(restarts=5, window=600)
    first, second = Sleeper(), Sleeper()
    await supervisor.start(first)
    await supervisor.start(second)
    pids = [supervisor.pid(first), supervisor.pid(second)]
    await supervisor.stop()
    await asyncio.sleep(1)
    assert [_alive(pid) for pid in pids] == [False, False]
    assert not _sleepers_left()


def test_a_pid_record_names_only_the_process_it_was_written_for(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        # Right after the fork the child may not have exec'd `sleep` yet (an empty command line): the service
        # records a part's pid once the part is ready, so wait for the same here.
        deadline = time.monotonic() + 10
        while psutil.Process(sleeper.pid).cmdline() != ["sleep", "300"]:
            assert time.monotonic() < deadline, "sleep did not start"
            time.sleep(0.01)
        record = PidRecord.of(sleeper.pid)
        record.write(tmp_path / "sleep.pid")
        read = PidRecord.read(tmp_path / "sleep.pid")
        assert read == record and read.command == ["sleep", "300"]
        found = read.live_process()
        assert found is not None and found.pid == sleeper.pid
        # The same pid with another start time or command line is another process (a pid used again).
        assert PidRecord(sleeper.pid, record.started - 1, record.command).live_process() is None
        assert PidRecord(sleeper.pid, record.started, ["sleep", "301"]).live_process() is None
        (tmp_path / "broken.pid").write_text("12")
        assert PidRecord.read(tmp_path / "broken.pid") is None
        assert PidRecord.read(tmp_path / "missing.pid") is None
        end_process(found, signal.SIGTERM, 5)
        assert not _alive(sleeper.pid)  # (end_process reaped it: psutil waits for its own children)
        assert record.live_process() is None
    finally:
        sleeper.kill()


def test_the_home_lock_is_held_once_and_dropped_with_its_holder(tmp_path: Path) -> None:
    held = hold_lock(tmp_path / "subsidy-up.lock")
    with pytest.raises(AlreadyRunning) as refused:
        hold_lock(tmp_path / "subsidy-up.lock")
    assert str(refused.value) == str(psutil.Process().pid)
    held.close()
    hold_lock(tmp_path / "subsidy-up.lock").close()


def _sleepers_left() -> list[psutil.Process]:
    """The `sleep 300` children still there (a child of another test may end while it is read: not ours)."""
    left = []
    for child in psutil.Process().children():
        try:
            if child.cmdline() == ["sleep", "300"]:
                left.append(child)
        except psutil.Error:
            continue
    return left
