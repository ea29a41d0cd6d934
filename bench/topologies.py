"""The two ways the service runs, as the benchmark starts them, each with its own PostgreSQL and Temporal dev server:

- *shipped default*: `subsidy up` itself, exactly as a user starts it (its own embedded PostgreSQL and Temporal,
  its API and worker processes as `SUBSIDY_API_PROCESSES` / `SUBSIDY_WORKER_PROCESSES` or their defaults, the
  archiver and the starter in its own process), on a temporary home folder;
- *production*: the bench's embedded stack (`bench.stack`) with one `subsidy worker` and one `subsidy api` process
  (`bench.serve`), as `docker-compose.yml` runs them.

Either way the bare part runs its worker in the bench's process against the same Temporal server, and every process
is named so that the CPU it spends per application can be told apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from temporalio.client import Client

from bench.stack import REPO, Child, child_environment, embedded_stack, start_child, wait_ready
from subsidy.db.session import create_engine
from subsidy.service.embedded import DATABASE_NAME, free_port
from subsidy.service.supervisor import die_with_parent

# name -> [(pid, with its descendants)]
Processes = dict[str, list[tuple[int, bool]]]


@dataclass
class Topology:
    key: str  # "up" / "production"
    title: str
    port: int
    client: Client  # a plain client of the topology's Temporal server, for the bare part
    processes: Callable[[], Processes]
    service_pids: Callable[[], dict[str, int]]  # the service's own Python processes, for py-spy
    database_url: str
    folder: Path
    notes: dict[str, object] = field(default_factory=dict)


def _classify(root: psutil.Process) -> Processes:
    """The processes under `subsidy up`, by role."""
    found: Processes = {"subsidy up (archiver, starter, supervisor)": [(root.pid, False)]}
    for child in root.children():
        with contextlib.suppress(psutil.Error):
            command = child.cmdline()
            text = " ".join(command)
            if "subsidy.service.processes" in text:
                name = "api" if " api " in f" {text} " else "worker"
            elif command and Path(command[0]).name == "postgres":
                name = "postgres"
            elif command and "temporal" in Path(command[0]).name:
                name = "temporal"
            else:
                name = "other"
            found.setdefault(name, []).append((child.pid, True))
    return found


@contextlib.asynccontextmanager
async def subsidy_up(api_processes: int | None, worker_processes: int | None) -> AsyncIterator[Topology]:
    """`subsidy up` on a temporary home folder, stopped with SIGTERM at the end (as Ctrl-C would)."""
    folder = Path(tempfile.mkdtemp(prefix="subsidy-bench-up-"))
    port, temporal_port, ui_port = free_port(), free_port(), free_port()
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "SUBSIDY_JWT_SECRET")
    }
    environment.update(
        SUBSIDY_TEMPORAL_PORT=str(temporal_port),
        SUBSIDY_TEMPORAL_UI_PORT=str(ui_port),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), environment.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )
    for name, value in (("SUBSIDY_API_PROCESSES", api_processes), ("SUBSIDY_WORKER_PROCESSES", worker_processes)):
        if value is not None:
            environment[name] = str(value)
    log = folder / "up.log"
    home = folder / "home"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "subsidy.service.cli",
            "up",
            "--home",
            str(home),
            "--port",
            str(port),
            cwd=REPO,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            # A killed bench takes `subsidy up` with it, and `subsidy up` its parts.
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
    client: Client | None = None
    try:
        deadline = asyncio.get_running_loop().time() + 180
        while "subsidy is running" not in log.read_text(errors="replace"):
            if process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"subsidy up did not start:\n{log.read_text(errors='replace')[-3000:]}")
            await asyncio.sleep(0.2)
        client = await Client.connect(f"127.0.0.1:{temporal_port}")
        lines = (home / "postgres" / "postmaster.pid").read_text().splitlines()
        database_url = f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={lines[4].strip()}"
        root = psutil.Process(process.pid)

        def service_pids() -> dict[str, int]:
            pids: dict[str, int] = {"up": root.pid}
            for child in root.children():
                with contextlib.suppress(psutil.Error):
                    command = child.cmdline()
                    if "subsidy.service.processes" in command:
                        kind = command[command.index("subsidy.service.processes") + 1]
                        pids[f"{kind}-{command[command.index('--index') + 1]}"] = child.pid
            return pids

        counts = {name: len(pids) for name, pids in _classify(root).items()}
        yield Topology(
            "up",
            f"shipped default: subsidy up ({counts.get('api', 0)} API, {counts.get('worker', 0)} worker processes)",
            port,
            client,
            lambda: _classify(root),
            service_pids,
            database_url,
            folder,
            {"api_processes": counts.get("api", 0), "worker_processes": counts.get("worker", 0)},
        )
    finally:
        await asyncio.shield(_stop_up(process, folder))


async def _stop_up(process: asyncio.subprocess.Process, folder: Path) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 90)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def production() -> AsyncIterator[Topology]:
    """The bench's embedded stack with `subsidy worker` and `subsidy api` in processes of their own."""
    async with embedded_stack() as stack:
        children: list[Child] = []
        try:
            environment = child_environment(stack, "subsidy-bench")
            port = free_port()
            children.append(await start_child(stack, "worker", ["worker"], environment))
            children.append(await start_child(stack, "api", ["api", "--port", str(port)], environment))
            await wait_ready(children[0])
            await wait_ready(children[1], port)
            pids = {"temporal": stack.temporal_pid(), "postgres": stack.postgres_pid()}

            def processes() -> Processes:
                found: Processes = {child.name: [(child.pid, True)] for child in children}
                for name, pid in pids.items():
                    if pid:
                        found[name] = [(pid, True)]
                return found

            yield Topology(
                "production",
                "production: subsidy worker + subsidy api, one process each",
                port,
                stack.temporal.client,
                processes,
                lambda: {child.name: child.pid for child in children},
                stack.database_url,
                stack.folder,
                {"children": children},
            )
        except BaseException:
            for child in children:
                if child.process.returncode not in (None, 0):
                    print(f"--- last lines of the {child.name}'s log ---\n{child.log_tail()}", file=sys.stderr)
            raise
        finally:
            for child in reversed(children):
                await child.stop()


async def server_version(database_url: str) -> str:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return str((await connection.exec_driver_sql("SHOW server_version")).scalar_one())
    finally:
        await engine.dispose()
