"""Part 3: the inbox's first page with 10^3, 10^5 and 10^6 task rows in the database.

Rows are made in bulk with set-based SQL (`INSERT ... SELECT generate_series`), a few thousand applications with
many review rounds each, spread like a province's history: most tasks closed, a few percent open or claimed,
over nine counties, three roles and three years. The official (`dpf-150203-a`, County DPF 150203) sees the open
and claimed County DPF tasks of 150203 and the city-wide ones of the role: 150 of them are seeded first, so that the
first page is full (100 tasks) at every size and only the table grows, plus their county's share of the rest (a
backlog that grows with the table: ~4,000 open tasks at 10^6 rows).
The query measured is the API's own: its SQL is captured while `subsidy.api.inbox.list_inbox` runs, and explained.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.http import Connection
from bench.service import login
from bench.stats import Latencies
from subsidy.api.inbox import InboxFilter, list_inbox
from subsidy.api.security import Identity
from subsidy.db.session import session_factory

OFFICIAL = "dpf-150203-a"
OFFICIAL_IDENTITY = Identity(OFFICIAL, ("county_dpf",), "150203")
SEED_USER = "bench-seed"
# Baotou's nine county-level divisions; the official's county is one of them.
COUNTIES = ("150202", "150203", "150204", "150205", "150206", "150207", "150221", "150222", "150223")

SEED_APPLICATIONS = """
INSERT INTO applications (id, program, status, county, policy_version, submitted_by, workflow_id, form)
SELECT gen_random_uuid(), 'rent_subsidy', 'under_review', (CAST(:counties AS text[]))[1 + g % 9], 'baotou-2025', :user,
       'bench-seed-' || g, '{}'::jsonb
FROM generate_series(0, :n - 1) AS g
"""

# The official's own inbox, the same at every size: 120 open and 30 claimed review tasks of County DPF 150203, due
# over the coming month, on seeded applications of that county (those with g % 9 = 1).
SEED_OWN_INBOX = """
INSERT INTO tasks (id, application_id, workflow_id, program, step, round, role, county, status, overdue,
                   claimed_by, summary, created_at, due_at)
SELECT gen_random_uuid(), a.id, a.workflow_id, 'rent_subsidy', 'own_inbox', 1, 'county_dpf', '150203',
       CASE WHEN a.n % 5 = 0 THEN 'claimed' ELSE 'open' END, false,
       CASE WHEN a.n % 5 = 0 THEN 'dpf-150203-b' END,
       'rent 1200.00 / month, licence 2024-09-15, lease 2024-09-15 to 2028-09-14',
       now() - make_interval(hours => a.n), now() + make_interval(hours => 5 * a.n)
FROM (SELECT id, workflow_id, (row_number() OVER (ORDER BY workflow_id))::int AS n
      FROM applications WHERE submitted_by = :user AND county = '150203' LIMIT 150) AS a
"""

# Task g belongs to seeded application g % A in round g / A + 1: (application_id, step, round) stays distinct.
# Three independent draws per row from hashes of g (deterministic, so every run seeds the same rows):
# role (70 % County DPF, 20 % County HR, 10 % City DPF escalations with no county and no due date),
# status (4 % open, 1 % claimed, 90 % done, 5 % cancelled) and age (up to three years).
SEED_TASKS = """
WITH apps AS (
    SELECT id, county, workflow_id, (row_number() OVER (ORDER BY workflow_id) - 1)::bigint AS k
    FROM applications WHERE submitted_by = :user
), draws AS (
    SELECT g,
           abs(hashint8extended(g, 1)) % 1000 AS r_role,
           abs(hashint8extended(g, 2)) % 1000 AS r_status,
           abs(hashint8extended(g, 3)) % (3 * 365 * 24 * 3600) AS age_s
    FROM generate_series(:first, :last - 1) AS g
), rows AS (
    SELECT d.*, a.id AS application_id, a.county AS app_county, a.workflow_id, (d.g / :a + 1)::int AS round,
           CASE WHEN r_role < 700 THEN 'county_dpf' WHEN r_role < 900 THEN 'county_hr' ELSE 'city_dpf' END AS role,
           CASE WHEN r_status < 40 THEN 'open' WHEN r_status < 50 THEN 'claimed'
                WHEN r_status < 950 THEN 'done' ELSE 'cancelled' END AS status,
           now() - make_interval(secs => age_s) AS created
    FROM draws d JOIN apps a ON a.k = d.g % :a
)
INSERT INTO tasks (id, application_id, workflow_id, program, step, round, role, county, status, overdue,
                   claimed_by, decided_by, decision, summary, created_at, due_at, closed_at)
SELECT gen_random_uuid(), application_id, workflow_id, 'rent_subsidy',
       CASE WHEN role = 'city_dpf' THEN 'city_escalation' ELSE 'county_review' END, round, role,
       CASE WHEN role = 'city_dpf' THEN NULL ELSE app_county END, status,
       status IN ('open', 'claimed') AND created + interval '14 days' < now(),
       CASE WHEN status = 'claimed' THEN 'dpf-' || app_county || '-x' END,
       CASE WHEN status = 'done' THEN 'dpf-' || app_county || '-y' END,
       CASE WHEN status = 'done' THEN 'approve' END,
       'rent 1200.00 / month, licence 2024-09-15, lease 2024-09-15 to 2028-09-14',
       created,
       CASE WHEN role = 'city_dpf' THEN NULL ELSE created + interval '14 days' END,
       CASE WHEN status IN ('done', 'cancelled') THEN created + interval '7 days' END
FROM rows
"""


@dataclass
class InboxPoint:
    rows: int
    visible: int
    seed_seconds: float
    table_bytes: int = 0
    latency: Latencies = field(default_factory=Latencies)
    sql_ms: dict[str, float] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)
    count_plan: list[str] = field(default_factory=list)


async def seed_applications(engine: AsyncEngine, n: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(SEED_APPLICATIONS), {"counties": list(COUNTIES), "user": SEED_USER, "n": n})
        await connection.execute(text(SEED_OWN_INBOX), {"user": SEED_USER})


async def grow_tasks(engine: AsyncEngine, target: int, applications: int) -> float:
    """Add seeded tasks until the table holds `target` rows in all; returns the seconds it took (incl. VACUUM)."""
    began = time.perf_counter()
    async with engine.begin() as connection:
        total = int((await connection.execute(text("SELECT count(*) FROM tasks"))).scalar_one())
        seeded = int(
            (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM tasks t JOIN applications a ON a.id = t.application_id "
                        "WHERE a.submitted_by = :user AND t.step <> 'own_inbox'"
                    ),
                    {"user": SEED_USER},
                )
            ).scalar_one()
        )
        if target > total:
            # One statement, committed synchronously: with an asynchronous commit the VACUUM below could not yet
            # mark the new pages all-visible, and the count would read the heap (an artefact of seeding, not of use).
            await connection.execute(
                text(SEED_TASKS),
                {"user": SEED_USER, "first": seeded, "last": seeded + target - total, "a": applications},
            )
    # What autovacuum would have done by the time a table has grown this much: statistics and the visibility map.
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) tasks"))
    return time.perf_counter() - began


async def explain_inbox(engine: AsyncEngine) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Run the API's inbox function, capture the SQL it sends, and EXPLAIN ANALYZE each statement.

    Returns the execution time and the plan of each statement (count, page).
    """
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with session_factory(engine)() as session:
            await list_inbox(session, OFFICIAL_IDENTITY, InboxFilter(), 100, 0)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    times: dict[str, float] = {}
    plans: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for statement, parameters in captured:
            if not statement.lstrip(" \n(").upper().startswith("SELECT"):
                continue
            kind = "count" if "count(*)" in statement.lower() else "page"
            explained = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [str(row[0]) for row in explained]
            for line in lines:
                if line.startswith("Execution Time:"):
                    times[kind] = float(line.split()[2])
            plans[kind] = lines
    return times, plans


async def visible_tasks(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        _, total = await list_inbox(session, OFFICIAL_IDENTITY, InboxFilter(), 1, 0)
    return total


async def measure_inbox(host: str, port: int, requests: int) -> Latencies:
    """The first page (100 tasks, the API's default), one request at a time: latency without queueing."""
    latencies = Latencies()
    async with Connection(host, port) as http:
        official = await login(http, OFFICIAL)
        for index in range(requests + 10):
            began = time.perf_counter()
            response = await http.get("/api/v1/tasks", headers=official)
            elapsed = time.perf_counter() - began
            response.raise_for_status()
            if index >= 10:  # the first ones warm the caches of the new table size
                latencies.add(elapsed)
    return latencies


async def run_inbox_scaling(
    engine: AsyncEngine, host: str, port: int, sizes: list[int], applications: int, requests: int
) -> list[InboxPoint]:
    await seed_applications(engine, applications)
    points: list[InboxPoint] = []
    for size in sizes:
        seconds = await grow_tasks(engine, size, applications)
        point = InboxPoint(size, await visible_tasks(engine), seconds)
        async with engine.connect() as connection:
            point.table_bytes = int(
                (await connection.exec_driver_sql("SELECT pg_total_relation_size('tasks')")).scalar_one()
            )
        point.latency = await measure_inbox(host, port, requests)
        point.sql_ms, plans = await explain_inbox(engine)
        point.plan, point.count_plan = plans.get("page", []), plans.get("count", [])
        points.append(point)
    return points
