"""The API and the worker of `subsidy up` as supervised child processes, so that the service uses every core.

`subsidy up` keeps the listening socket and hands its descriptor to each API process (`pass_fds`): several uvicorn
servers, each with its own event loop, accept on the one socket and the kernel gives each connection to one of them.
The worker processes each run a Temporal worker on the one task queue. The archiver and the starter run once, in
`subsidy up` itself, however many processes there are.

Each process is a `Part` of `subsidy.service.supervisor`: it dies with `subsidy up` (SIGKILL as the parent-death
signal), is restarted when it dies alone, and says it is ready by writing one line to a pipe it inherits, once its
server accepts or its worker polls (a health check over the shared socket could be answered by another process).

    python -m subsidy.service.processes api --home HOME --socket-fd N --ready-fd M
    python -m subsidy.service.processes worker --home HOME --ready-fd M

The processes read their settings from the environment `subsidy up` gives them (`DATABASE_URL`, `TEMPORAL_ADDRESS`,
`SUBSIDY_EMBEDDED`, `SUBSIDY_HOME`…): the same signing key and payload keys as every other process of the home.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from subsidy.service.supervisor import Part, PartFailed

READY = b"ready\n"


class ServiceProcess(Part):
    """One API or worker process of `subsidy up` (`kind` "api" or "worker", `index` from 1)."""

    death_signal = signal.SIGKILL  # Temporal and the clients' retries cover whatever was in flight
    stop_signal = signal.SIGTERM
    stop_grace = 20.0
    ready_timeout = 90.0  # imports and the first connections, on a loaded 2-core machine

    def __init__(
        self, kind: str, index: int, home: Path, environment: dict[str, str], socket_fd: int | None = None
    ) -> None:
        assert kind in ("api", "worker")
        assert (kind == "api") == (socket_fd is not None), "an API process needs the listening socket, a worker none"
        self.kind, self.index = kind, index
        self.home = home.resolve()
        self.environment = environment
        self.socket_fd = socket_fd
        self.name = f"{'API' if kind == 'api' else 'worker'} process {index}"
        self._ready_read: int | None = None
        self._ready_write: int | None = None

    def command(self) -> list[str]:
        assert self._ready_write is not None, "spawn_options() first"
        command = [sys.executable, "-m", "subsidy.service.processes", self.kind, "--home", str(self.home)]
        command += ["--index", str(self.index), "--ready-fd", str(self._ready_write)]
        if self.socket_fd is not None:
            command += ["--socket-fd", str(self.socket_fd)]
        return command

    def spawn_options(self) -> dict[str, Any]:
        # A new pipe at every (re)start: the child writes one line to it when it serves.
        self._close_pipe()
        self._ready_read, self._ready_write = os.pipe()
        os.set_blocking(self._ready_read, False)
        passed = (self._ready_write,) if self.socket_fd is None else (self._ready_write, self.socket_fd)
        return {"pass_fds": passed, "env": self.environment}

    def _close_pipe(self) -> None:
        for fd in (self._ready_read, self._ready_write):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._ready_read = self._ready_write = None

    def spawned(self, process: asyncio.subprocess.Process) -> None:
        if self._ready_write is not None:  # the child has its own copy: an exit before `ready` reads as end of file
            os.close(self._ready_write)
            self._ready_write = None

    async def wait_ready(self, process: asyncio.subprocess.Process, deadline: float) -> None:
        assert self._ready_read is not None
        said = b""
        try:
            while True:
                try:
                    chunk = os.read(self._ready_read, 64)
                except BlockingIOError:
                    chunk = None
                if chunk:
                    said += chunk
                    if READY in said:
                        return
                if chunk == b"" or process.returncode is not None:
                    await asyncio.sleep(0.2)  # let the exit code arrive
                    code = process.returncode
                    raise PartFailed(f"{self.name} exited with code {code} while starting")
                if time.monotonic() > deadline:
                    raise PartFailed(f"{self.name} did not start in time")
                await asyncio.sleep(0.05)
        finally:
            self._close_pipe()

    def leftover(self) -> psutil.Process | None:
        # It cannot outlive `subsidy up` (SIGKILL as the parent-death signal) and holds nothing the next start needs.
        return None


# ---- in the child --------------------------------------------------------------------------------------------


def _say_ready(ready_fd: int) -> None:
    settle_garbage_collector()
    os.write(ready_fd, READY)
    os.close(ready_fd)


def settle_garbage_collector() -> None:
    """Once started: what the imports and start-up made is kept out of every later collection (`gc.freeze`), and the
    youngest generation is collected after 50,000 allocations rather than 700.

    A worker process holds ~10^6 long-lived objects (modules, the sandbox's copies, pydantic schemas) that every full
    collection walked again, and a request or activation allocates thousands of short-lived ones; py-spy put the
    collector's pauses on whatever allocated at the time (`WeakKeyDictionary.__init__` in SQLAlchemy's session
    begin was 7 % of the worker's samples)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_api(socket_fd: int, ready_fd: int) -> int:
    import uvicorn

    from subsidy.api.app import create_app

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # ours: SIGTERM sets `stop`
            yield

    stop = asyncio.Event()
    _stop_on_signals(stop)
    listening = socket.socket(fileno=socket_fd)
    # The app opens its own engine and Temporal client from the environment in its lifespan, as `subsidy api`.
    server = Server(uvicorn.Config(create_app(), log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started:
        if serving.done():
            return 1
        await asyncio.sleep(0.02)
    _say_ready(ready_fd)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await serving
    stopping.cancel()
    return 0


async def run_worker(ready_fd: int) -> int:
    from subsidy.db.session import create_engine, session_factory
    from subsidy.service.temporal import build_worker
    from subsidy.settings import get_settings
    from subsidy.temporal_client.client import connect

    settings = get_settings()
    assert settings.database_url and settings.temporal_address
    stop = asyncio.Event()
    _stop_on_signals(stop)
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    try:
        client = await connect(settings.temporal_address, settings.temporal_namespace)
        async with build_worker(client, settings.task_queue, session_factory(engine)):
            _say_ready(ready_fd)
            await stop.wait()
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m subsidy.service.processes")
    parser.add_argument("kind", choices=["api", "worker"])
    parser.add_argument("--home", type=Path, required=True, help="the home folder of the subsidy up it belongs to")
    parser.add_argument("--index", type=int, default=1)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--socket-fd", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    if args.kind == "api":
        if args.socket_fd is None:
            parser.error("api needs --socket-fd")
        import uvloop

        # As `subsidy api` (uvicorn's loop="auto" picks uvloop when it is installed).
        return uvloop.run(run_api(args.socket_fd, args.ready_fd))
    return asyncio.run(run_worker(args.ready_fd))


if __name__ == "__main__":
    sys.exit(main())
