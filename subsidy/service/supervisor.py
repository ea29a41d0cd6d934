"""A small supervisor of child processes: `subsidy up` runs its embedded parts through it.

Each part is a child process that
- dies with `subsidy up` (Linux `PR_SET_PDEATHSIG`), even when `subsidy up` itself is killed with SIGKILL;
- is in a process group of its own, so that a Ctrl-C in the terminal reaches `subsidy up` only, which then stops the
  parts in its own order;
- inherits no descriptor but stdin/stdout/stderr (the API's listening socket stays with `subsidy up`);
- leaves a pid record that the next start reads: a process a crashed run left behind is ended, but only once its
  pid, start time and command line show that it is really that part (never by name);
- is restarted when it dies on its own, with the outage logged at WARNING and a growing pause; after
  `restarts` restarts within `window` seconds the supervisor gives up and sets `failed`, naming the part, and
  `subsidy up` exits non-zero.

Parts are spawned from the thread that runs the event loop: the kernel sends the parent-death signal when the
*thread* that forked the child ends, so a child spawned from a short-lived worker thread would be killed at once.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import psutil

log = logging.getLogger("subsidy.supervisor")

PR_SET_PDEATHSIG = 1
# The first pause before a restart; each further restart within the window doubles it, up to the last.
FIRST_PAUSE = 0.5
LAST_PAUSE = 30.0


class PartFailed(RuntimeError):
    """A part did not start, or died more often than the supervisor restarts it."""


def die_with_parent(signal_number: int) -> Callable[[], None]:
    """A `preexec_fn` that has the child receive `signal_number` when the thread that spawned it ends (Linux)."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here, in the parent: the child only calls it
    parent = os.getpid()

    def arm() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died between fork and prctl: nobody would send the signal
            os.kill(os.getpid(), signal_number)

    return arm


@dataclass(frozen=True)
class PidRecord:
    """Who a part's process was: its pid, its start time and its command line (`var/temporal.pid`)."""

    pid: int
    started: float
    command: list[str]

    @classmethod
    def of(cls, pid: int) -> PidRecord:
        process = psutil.Process(pid)
        return cls(pid=pid, started=process.create_time(), command=process.cmdline())

    @classmethod
    def read(cls, path: Path) -> PidRecord | None:
        try:
            raw = json.loads(path.read_text())
            return cls(pid=int(raw["pid"]), started=float(raw["started"]), command=[str(a) for a in raw["command"]])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        written = path.with_name(path.name + ".new")
        written.write_text(json.dumps(asdict(self)))
        written.replace(path)

    def live_process(self) -> psutil.Process | None:
        """The process this record names, if it still runs and is the same one (not a later process on its pid)."""
        try:
            process = psutil.Process(self.pid)
            if abs(process.create_time() - self.started) > 0.1 or process.cmdline() != self.command:
                return None
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            return process
        except psutil.Error:
            return None


def end_process(process: psutil.Process, first_signal: int, grace: float) -> None:
    """Send `first_signal`, give it `grace` seconds, then SIGKILL; also wait for the children it leaves."""
    try:
        children = process.children(recursive=True)
        process.send_signal(first_signal)
        process.wait(grace)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.Error):
            process.kill()
            process.wait(10)
    except psutil.Error:
        return
    gone, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=10)


class Part(abc.ABC):
    """One child process under the supervisor: how to start it, know it is ready, stop it and find a leftover."""

    name: str  # as the log and the exit message name it, e.g. "embedded Temporal"
    death_signal: int = signal.SIGKILL  # what the child gets when `subsidy up` dies
    stop_signal: int = signal.SIGTERM
    stop_grace: float = 30.0
    ready_timeout: float = 60.0

    @abc.abstractmethod
    def command(self) -> list[str]: ...

    def spawn_options(self) -> dict[str, Any]:
        """More `subprocess` options (stdout, user…)."""
        return {}

    async def prepare(self) -> None:  # noqa: B027 - optional hook
        """Called once before the first start, after any leftover is ended (e.g. to create a database cluster)."""

    @abc.abstractmethod
    async def wait_ready(self, process: asyncio.subprocess.Process, deadline: float) -> None:
        """Return once the part serves; raise `PartFailed` if it exits or `deadline` (monotonic) passes."""

    @abc.abstractmethod
    def leftover(self) -> psutil.Process | None:
        """A process of this part that a crashed run left behind, proven by its pid record; None if there is none."""

    def spawned(self, process: asyncio.subprocess.Process) -> None:  # noqa: B027 - optional hook
        """Called as soon as the process runs (e.g. to write its pid record)."""

    def stopped(self) -> None:  # noqa: B027 - optional hook
        """Called once the part has been stopped on purpose."""


class RestartBudget:
    """At most `limit` restarts within `window` seconds; the pause before each grows with the restarts before it."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.restarts: deque[float] = deque()

    def take(self) -> bool:
        """Count one restart now; False when the budget is spent (the restart must not happen)."""
        now = self.clock()
        while self.restarts and now - self.restarts[0] >= self.window:
            self.restarts.popleft()
        if len(self.restarts) >= self.limit:
            return False
        self.restarts.append(now)
        return True

    def pause(self) -> float:
        """Seconds to wait before the restart just taken."""
        return min(LAST_PAUSE, FIRST_PAUSE * 2 ** max(0, len(self.restarts) - 1))


@dataclass
class _Running:
    part: Part
    process: asyncio.subprocess.Process
    budget: RestartBudget
    watcher: asyncio.Task[None] | None = None


class Supervisor:
    def __init__(self, *, restarts: int, window: float) -> None:
        self.restarts, self.window = restarts, window
        self.failed = asyncio.Event()
        self.failure: str | None = None
        self._running: list[_Running] = []
        self._stopping = False

    async def end_leftover(self, part: Part) -> None:
        """End what a crashed run left of this part, if its pid record proves it is that part.

        Only for a caller that knows no other supervisor runs the same part (`subsidy up` holds the home's lock)."""
        leftover = part.leftover()
        if leftover is not None:
            log.warning("%s of an earlier run is still running (pid %d); ending it", part.name, leftover.pid)
            await asyncio.to_thread(end_process, leftover, part.stop_signal, part.stop_grace)

    async def start(self, part: Part) -> None:
        """Start the part, wait until it serves and watch it from then on."""
        await part.prepare()
        process = await self._spawn_ready(part)
        running = _Running(part, process, RestartBudget(self.restarts, self.window))
        running.watcher = asyncio.create_task(self._watch(running), name=f"watch {part.name}")
        self._running.append(running)

    def pid(self, part: Part) -> int:
        return next(r.process.pid for r in self._running if r.part is part)

    async def _spawn_ready(self, part: Part) -> asyncio.subprocess.Process:
        options = part.spawn_options()
        try:
            process = await asyncio.create_subprocess_exec(
                *part.command(),
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent(part.death_signal),
                process_group=0,
                close_fds=True,
                **options,
            )
        finally:
            for value in options.values():  # the child has its own copy of a log file opened for it
                if hasattr(value, "fileno") and hasattr(value, "close"):
                    value.close()
        part.spawned(process)
        try:
            await part.wait_ready(process, time.monotonic() + part.ready_timeout)
        except BaseException:
            await _stop(process, signal.SIGKILL, 10)
            raise
        return process

    async def _watch(self, running: _Running) -> None:
        part = running.part
        while True:
            code = await running.process.wait()
            if self._stopping:
                return
            down_since = time.monotonic()
            what = f"exited with code {code}"
            while True:
                if not running.budget.take():
                    self.failure = (
                        f"{part.name} {what}; not restarted again ({self.restarts} restarts within "
                        f"{self.window:.0f} s is the limit); stopping"
                    )
                    log.error("%s", self.failure)
                    self.failed.set()
                    return
                pause = running.budget.pause()
                log.warning("%s %s; restarting (in %.1f s)", part.name, what, pause)
                await asyncio.sleep(pause)
                if self._stopping:
                    return
                try:
                    running.process = await self._spawn_ready(part)
                except (PartFailed, OSError) as error:
                    what = f"did not start again ({error})"
                    continue
                log.warning(
                    "%s is back (pid %d) after an outage of %.1f s",
                    part.name,
                    running.process.pid,
                    time.monotonic() - down_since,
                )
                break

    async def stop(self) -> None:
        """Stop watching, then stop the parts in the reverse order of their start."""
        self._stopping = True
        for running in reversed(self._running):
            if running.watcher is not None:
                running.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running.watcher
            await _stop(running.process, running.part.stop_signal, running.part.stop_grace)
            running.part.stopped()
        self._running.clear()


async def _stop(process: asyncio.subprocess.Process, first_signal: int, grace: float) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(first_signal)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


class AlreadyRunning(RuntimeError):
    """Another process holds the lock; its text is the pid that process wrote."""


def hold_lock(path: Path) -> IO[str]:
    """An exclusive lock on `path` for as long as the returned file stays open (the kernel drops it when the process
    dies, however it dies); `AlreadyRunning(pid)` if another process holds it."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise AlreadyRunning(holder) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
