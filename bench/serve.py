"""The service's two processes for the benchmark, configured by environment as in production:

    python -m bench.serve worker          # build_worker + the history archiver, as `subsidy worker`
    python -m bench.serve api --port P    # create_app() on uvicorn, as `subsidy api` (without the access log)

Each stops on SIGTERM, and also when the benchmark that started it has gone (so no child outlives a killed run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

import uvicorn

from subsidy.settings import get_settings


async def _orphan_watch(stop: asyncio.Event) -> None:
    parent = os.getppid()
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_worker() -> int:
    from subsidy.db.session import create_engine, session_factory
    from subsidy.service.archiver import run_archiver
    from subsidy.service.temporal import build_worker
    from subsidy.temporal_client.client import connect

    settings = get_settings()
    assert settings.database_url and settings.temporal_address
    stop = asyncio.Event()
    _stop_on_signals(stop)
    engine = create_engine(settings.database_url)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    sessions = session_factory(engine)
    watching = asyncio.create_task(_orphan_watch(stop))
    try:
        async with build_worker(client, settings.task_queue, sessions):
            archiving = asyncio.create_task(run_archiver(sessions, client, stop))
            print("ready", flush=True)
            await stop.wait()
            await archiving
    finally:
        stop.set()
        await watching
        await engine.dispose()
    return 0


class _Server(uvicorn.Server):
    """Signals are ours: SIGTERM sets the stop event, which ends the server."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


async def run_api(port: int) -> int:
    from subsidy.api.app import create_app

    stop = asyncio.Event()
    _stop_on_signals(stop)
    # The production app: it opens its own engine and Temporal client from the environment in its lifespan.
    server = _Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve())
    watching = asyncio.create_task(_orphan_watch(stop))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stop.set()
    await serving
    await watching
    stopping.cancel()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("part", choices=["worker", "api"])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.part == "worker":
        return asyncio.run(run_worker())  # as `subsidy worker`
    import uvloop

    # `subsidy api` is uvicorn.run, whose loop="auto" picks uvloop when installed (uvicorn[standard]).
    return uvloop.run(run_api(args.port))


if __name__ == "__main__":
    sys.exit(main())
