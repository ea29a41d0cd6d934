"""`subsidy replay` and `subsidy audit verify`: the auditor's attestations from the command line.

They run against the service's own database and Temporal: the ones in DATABASE_URL / TEMPORAL_ADDRESS, or those of a
running `subsidy up` under SUBSIDY_HOME.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowHistory

from subsidy.api import audit
from subsidy.db.audit_chain import verify_chain
from subsidy.db.models import Application
from subsidy.db.session import create_engine, session_factory
from subsidy.settings import Settings
from subsidy.temporal_client.client import connect


def embedded_database_url(settings: Settings) -> str:
    from subsidy.service.embedded import DATABASE_NAME

    pgdata = (settings.home / "postgres").resolve()
    socket_dir = pgdata if (pgdata / ".s.PGSQL.5432").exists() else None
    if socket_dir is None:
        raise SystemExit(f"no running `subsidy up` under {settings.home} (set DATABASE_URL, or start it)")
    return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={socket_dir}"


def histories_in_file(path: Path) -> list[WorkflowHistory]:
    """A history as `temporal workflow show -o json` writes it, or the service's export of all runs."""
    document: dict[str, Any] = json.loads(path.read_text())
    if "runs" in document:
        workflow_id = document.get("workflow_id") or path.stem
        return [WorkflowHistory.from_json(workflow_id, run["history"]) for run in document["runs"]]
    return [WorkflowHistory.from_json(path.stem, document)]


def _print_report(label: str, report: audit.ReplayReport) -> None:
    verdict = "deterministic" if report.deterministic else "NOT deterministic"
    print(f"{label}: {verdict}, {report.runs} run(s), {report.events} events")
    if report.error:
        print(f"  first divergence: {report.error}")


async def replay_command(settings: Settings, *, file: Path | None, application: str | None, every: bool) -> int:
    if file is not None:
        report = await audit.replay(histories_in_file(file))
        _print_report(str(file), report)
        return 0 if report.deterministic else 1
    database_url = settings.database_url or embedded_database_url(settings)
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    engine = create_engine(database_url, pool_size=2)
    temporal = await connect(address, settings.temporal_namespace)
    sessions = session_factory(engine)
    failures = checked = 0
    try:
        async with sessions() as session:
            query = select(Application).order_by(Application.submitted_at)
            if not every:
                key = audit.application_key(application or "")
                if key is None:
                    print("subsidy replay: --application needs an application id", file=sys.stderr)
                    return 2
                query = query.where(Application.id == key)
            applications = (await session.scalars(query)).all()
        for found in applications:
            async with sessions.begin() as session:
                report = await audit.replay(await audit.histories(session, temporal, found))
            checked += 1
            if not report.deterministic:
                failures += 1
            if not every or not report.deterministic:
                _print_report(f"application {found.id}", report)
        if every:
            print(f"replayed {checked} application(s): {checked - failures} deterministic, {failures} failed")
        elif not applications:
            print("subsidy replay: no such application", file=sys.stderr)
            return 2
        return 0 if failures == 0 else 1
    finally:
        await engine.dispose()


async def verify_command(settings: Settings) -> int:
    engine = create_engine(settings.database_url or embedded_database_url(settings), pool_size=1)
    try:
        async with session_factory(engine)() as session:
            check = await verify_chain(session)
    finally:
        await engine.dispose()
    if check.ok:
        print(f"audit log intact: {check.rows} rows, every hash matches")
        return 0
    print(f"audit log BROKEN at row {check.first_bad_row} (after {check.rows - 1} good rows)")
    return 1
