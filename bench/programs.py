"""`python -m bench.programs`: Temporal's CPU per training application and per placement application.

The rent subsidy's figures come from `python -m bench`; this measures the two other long procedures the same way,
on one embedded stack (PostgreSQL + Temporal dev server) with the worker and the API in processes of their own, all
over real HTTP:

- *training*: provider-a files a class plan of 3 new trainees (a 5-day, 40-hour course that ended 3 days ago),
  dpf-150203-a approves it, the provider reports 40 hours each and 6000.00, dpf-150203-b approves the completion,
  until the ledger has its 2 rows (4500.00: 2250.00 city, 2250.00 county);
- *placement*: on one approved post (declared, collected and approved first, not counted), employer-a proposes a new
  person, hr-150203-a approves it on the day of the application, which the API takes to be 45 days ago
  (`SUBSIDY_TODAY`, so that the 5 working days of publicity are over), until the ledger has the first month's 4 rows.

The figure that matters is the Temporal server's CPU time per application (psutil, user + system of the dev server
over the part, divided by N): other sessions share this machine, and CPU time is far less sensitive to that than
throughput or latency, which are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from bench.http import Connection, Response

COUNTY = "150203"
PASSWORD = "demo"
# The API's "today" for the placement part: the application, its approval and its start are this many days before
# the machine's today, so publicity (5 working days) is over at once and the first month (ended) is paid at once.
PLACEMENT_DAYS_AGO = 45
POLL_FIRST, POLL_MAX, POLL_WINDOW = 0.25, 2.0, 120.0
_serial = itertools.count()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.programs", description=__doc__)
    parser.add_argument("--n", type=int, default=None, help="applications per program (default 200)")
    parser.add_argument("--concurrency", type=int, default=None, help="in flight at once (default 20)")
    parser.add_argument("--quick", action="store_true", help="N=60, C=10, as `python -m bench --quick`")
    parser.add_argument(
        "--programs", default="training,placement", help="comma-separated: training, placement (default both)"
    )
    args = parser.parse_args(argv)
    args.n = args.n or (60 if args.quick else 200)
    args.concurrency = args.concurrency or (10 if args.quick else 20)
    args.programs = [p.strip() for p in args.programs.split(",") if p.strip()]
    unknown = set(args.programs) - {"training", "placement"}
    if unknown:
        parser.error(f"unknown program(s): {', '.join(sorted(unknown))}")
    return args


class Unexpected(RuntimeError):
    pass


def expect(response: Response, *codes: int) -> Any:
    if response.status_code not in codes:
        raise Unexpected(f"{response.method} {response.path}: {response.status_code} {response.text[:500]}")
    return response.json()


def resident_id(born: date, male: bool) -> str:
    """A valid resident ID of county 150203 that no other application of this run has."""
    from subsidy.policy.identifiers import resident_id_check_character

    n = next(_serial)
    born = born + timedelta(days=n // 400)
    serial = 100 + 2 * (n % 400) + (1 if male else 0)  # the 17th digit is odd for a man
    first17 = f"{COUNTY}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + resident_id_check_character(first17)


async def poll(probe: Callable[[], Awaitable[Any]]) -> Any:
    """`probe()` until it returns something truthy, pausing 0.25 s growing to 2 s, for two minutes at most."""
    waited, pause = 0.0, POLL_FIRST
    while waited < POLL_WINDOW:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(pause)
        waited += pause
        pause = min(pause * 1.5, POLL_MAX)
    raise Unexpected("not reached within two minutes")


class Session:
    """One user's connection with the tokens of the accounts the procedures need."""

    def __init__(self, http: Connection, tokens: dict[str, dict[str, str]]) -> None:
        self.http = http
        self.tokens = tokens

    async def submit(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {**self.tokens[user], "Idempotency-Key": f"bench-{uuid.uuid4()}"}
        created: dict[str, Any] = expect(
            await self.http.post("/api/v1/applications", json_body=body, headers=headers), 201
        )
        if created["status"] == "rejected":
            raise Unexpected(f"{body['program']} {created['id']} was rejected: {created.get('eligibility')}")
        return created

    async def task(self, user: str, application_id: str, step: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            response = await self.http.get(
                "/api/v1/tasks", params={"application_id": application_id}, headers=self.tokens[user]
            )
            return next((t for t in expect(response, 200) if t["step"] == step), None)

        found: dict[str, Any] = await poll(probe)
        return found

    async def decide(self, user: str, task_id: str, values: dict[str, str] | None = None) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            response = await self.http.post(
                f"/api/v1/tasks/{task_id}/decision",
                json_body={"decision": "approve", "values": values or {}},
                headers=self.tokens[user],
            )
            # The task row is committed before the workflow has taken in its id: try again, as `bench` does.
            if response.status_code == 409 and "not open" in response.text:
                return None
            decided: dict[str, Any] = expect(response, 200)
            return decided

        found: dict[str, Any] = await poll(probe)
        return found

    async def ledger_rows(self, user: str, application_id: str, rows: int) -> None:
        async def probe() -> bool:
            response = await self.http.get(
                "/api/v1/ledger", params={"application_id": application_id}, headers=self.tokens[user]
            )
            expect(response, 200)
            return int(response.headers["x-total-count"]) >= rows

        await poll(probe)


# ---- the procedures ------------------------------------------------------------------------------------------


async def one_training(session: Session, today: date) -> None:
    start = today - timedelta(days=9)
    trainees = [resident_id(date(1985, 1, 1), male=i % 2 == 0) for i in range(3)]
    body = {
        "program": "training_subsidy",
        "county": COUNTY,
        "course": {
            "code": "6-18-02-04",
            "title": "焊工（初级）",
            "level": "初级",
            "kind": "vocational",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=6)).isoformat(),
            "class_days": 5,
            "class_hours": 40,
        },
        "trainees": [
            {"name": name, "id_number": number, "disability_cert_number": number + "42"}
            for name, number in zip(("王一", "李二", "赵三"), trainees, strict=True)
        ],
        "planned_cost": "6000.00",
    }
    application_id = (await session.submit("provider-a", body))["id"]
    plan = await session.task("dpf-150203-a", application_id, "plan_review")
    await session.decide("dpf-150203-a", plan["id"])
    report = {
        "type": "completion_report",
        "attendance": [{"id_number": number, "hours": 40} for number in trainees],
        "actual_cost": "6000.00",
    }
    expect(
        await session.http.post(
            f"/api/v1/applications/{application_id}/events", json_body=report, headers=session.tokens["provider-a"]
        ),
        200,
    )
    review = await session.task("dpf-150203-b", application_id, "completion_review")
    await session.decide("dpf-150203-b", review["id"])
    await session.ledger_rows("provider-a", application_id, 2)


def placement_person(male: bool) -> dict[str, Any]:
    """A new person of about 40, the birth date and sex as the resident ID says."""
    id_number = resident_id(date(1986, 3, 1), male)
    return {
        "name": "王五",
        "id_number": id_number,
        "disability_cert_number": f"{id_number}43",
        "sex": "M" if male else "F",
        "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
        "severe_disability": False,
        "special_hardship": False,
    }


async def approved_post(session: Session, api_today: date, places: int) -> str:
    """employer-a declares one post of `places` places, dpf-150203-a reports it, hr-150203-a approves it."""
    body = {
        "program": "public_welfare_post",
        "employer": {"name": "包头市某社区服务中心", "credit_code": "91150203MA0E00001Y"},
        "county": COUNTY,
        "year": api_today.year,
        "posts": [{"title": "社区服务岗", "category": "public_service", "count": places, "monthly_wage": "2200.00"}],
    }
    declaration = (await session.submit("employer-a", body))["id"]
    collection = await poll(lambda: _collection_task(session))
    await session.decide("dpf-150203-a", collection["id"])
    review = await session.task("hr-150203-a", declaration, "hr_approval")
    await session.decide("hr-150203-a", review["id"])
    return str(declaration)


async def _collection_task(session: Session) -> dict[str, Any] | None:
    response = await session.http.get(
        "/api/v1/tasks", params={"program": "public_welfare_post_collection"}, headers=session.tokens["dpf-150203-a"]
    )
    return next(iter(expect(response, 200)), None)


async def one_placement(session: Session, api_today: date, post: str) -> None:
    someone = placement_person(male=next(_serial) % 2 == 0)
    body = {
        "program": "public_welfare_placement",
        "post_application_id": post,
        "post_number": 1,
        "person": someone,
        "start_date": api_today.isoformat(),
    }
    application_id = (await session.submit("employer-a", body))["id"]
    review = await session.task("hr-150203-a", application_id, "hr_approval")
    await session.decide("hr-150203-a", review["id"], {"approved_on": api_today.isoformat()})
    await session.ledger_rows("employer-a", application_id, 4)  # the first month: post and insurance, city and county


# ---- one part ------------------------------------------------------------------------------------------------


async def run_part(
    name: str,
    port: int,
    n: int,
    concurrency: int,
    users: tuple[str, ...],
    one: Callable[[Session], Awaitable[None]],
    prepare: Callable[[Session], Awaitable[Any]] | None,
    cpu: Callable[[], dict[str, float]],
) -> dict[str, Any]:
    async with Connection("127.0.0.1", port) as http:
        tokens = {}
        for user in users:
            response = await http.post("/api/v1/auth/token", form={"username": user, "password": PASSWORD})
            tokens[user] = {"Authorization": f"Bearer {expect(response, 200)['access_token']}"}
        if prepare is not None:
            await prepare(Session(http, tokens))
        # Warm-up (not counted): the worker's and the API's first requests import and cache.
        await asyncio.gather(*(_warm(port, tokens, one) for _ in range(3)))
    remaining = iter(range(n))
    latencies: list[float] = []

    async def user() -> None:
        async with Connection("127.0.0.1", port) as http:
            session = Session(http, tokens)
            for _ in remaining:
                began = time.perf_counter()
                await one(session)
                latencies.append(time.perf_counter() - began)

    before = cpu()
    began = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    after = cpu()
    spent = {k: after[k] - before[k] for k in after}
    ours = sum(v for k, v in spent.items() if k != "machine" and not math.isnan(v))
    latencies.sort()
    return {
        "program": name,
        "n": n,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "throughput": round(n / seconds, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "cpu_ms_per_application": {k: round(v / n * 1000, 1) for k, v in spent.items() if k != "machine"},
        "other_processes_ms_per_application": round((spent["machine"] - ours) / n * 1000, 1),
    }


async def _warm(port: int, tokens: dict[str, dict[str, str]], one: Callable[[Session], Awaitable[None]]) -> None:
    async with Connection("127.0.0.1", port) as http:
        await one(Session(http, tokens))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.stack import Child, child_environment, embedded_stack, start_child, wait_ready
    from bench.stats import machine_busy_seconds, table, tree_cpu_seconds
    from subsidy.db.calendar import seed_calendar
    from subsidy.db.session import create_engine, session_factory
    from subsidy.policy.workdays import china_today
    from subsidy.service.embedded import free_port

    report: dict[str, Any] = {"n": args.n, "concurrency": args.concurrency, "cores": os.cpu_count(), "parts": []}
    print(
        f"subsidy programs benchmark: N={args.n} C={args.concurrency} per program, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    today = china_today()
    api_today = today - timedelta(days=PLACEMENT_DAYS_AGO)
    async with embedded_stack() as stack:
        # Publicity counts official working days: the calendar years the installed package knows, as `subsidy up`.
        engine = create_engine(stack.database_url, pool_size=2)
        try:
            await seed_calendar(session_factory(engine))
        finally:
            await engine.dispose()
        pids = {"temporal": stack.temporal_pid(), "postgres": stack.postgres_pid()}
        for program in args.programs:
            environment = child_environment(stack, f"subsidy-bench-{program}")
            if program == "placement":
                environment["SUBSIDY_TODAY"] = api_today.isoformat()
            port = free_port()
            children: list[Child] = [
                await start_child(stack, f"worker-{program}", ["worker"], environment),
                await start_child(stack, f"api-{program}", ["api", "--port", str(port)], environment),
            ]
            try:
                await wait_ready(children[0])
                await wait_ready(children[1], port)

                def cpu(children: list[Child] = children) -> dict[str, float]:
                    snapshot = {name: tree_cpu_seconds(pid) if pid else math.nan for name, pid in pids.items()}
                    snapshot["worker"] = tree_cpu_seconds(children[0].pid)
                    snapshot["api"] = tree_cpu_seconds(children[1].pid)
                    snapshot["machine"] = machine_busy_seconds()
                    return snapshot

                if program == "training":
                    part = await run_part(
                        program,
                        port,
                        args.n,
                        args.concurrency,
                        ("provider-a", "dpf-150203-a", "dpf-150203-b"),
                        lambda session: one_training(session, today),
                        None,
                        cpu,
                    )
                else:
                    post: list[str] = []

                    async def prepare(session: Session, post: list[str] = post) -> None:
                        post.append(await approved_post(session, api_today, args.n + 10))

                    part = await run_part(
                        program,
                        port,
                        args.n,
                        args.concurrency,
                        ("employer-a", "dpf-150203-a", "hr-150203-a"),
                        lambda session, post=post: one_placement(session, api_today, post[0]),
                        prepare,
                        cpu,
                    )
            except BaseException:
                for child in children:
                    print(f"--- {child.name} log ---\n{child.log_tail()}", file=sys.stderr)
                raise
            finally:
                for child in reversed(children):
                    await child.stop()
            report["parts"].append(part)
            cpu_ms = part["cpu_ms_per_application"]
            print(
                table(
                    f"[{program}] {part['n']} applications in {part['seconds']:.1f} s at C={part['concurrency']}: "
                    f"{part['throughput']:.2f}/s, p50 {part['p50_ms']:.0f} ms per application",
                    ("process", "CPU ms/application"),
                    [[name, value] for name, value in cpu_ms.items()]
                    + [["other processes (not ours)", part["other_processes_ms_per_application"]]],
                ),
                flush=True,
            )
    return report


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import compile_bytecode, prepare_environment

    args = parse_args(argv)
    compile_bytecode()
    prepare_environment()
    report = asyncio.run(run(args))
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
