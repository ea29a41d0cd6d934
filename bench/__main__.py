"""`python -m bench`: the service as users run it, next to bare Temporal on the same server, in one run.

For each topology (`subsidy up` as shipped, then production's `subsidy worker` + `subsidy api`): bare Temporal
(activity, update, activity), then the rent subsidy over HTTP for each case (1 month and 14 months paid at
approval), at the same concurrency, with the ratios to bare and the CPU per application of every process. Then, on
the production stack: storage, inbox latency by table size, replay.

Prints plain-text tables and, as the last line, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import compileall
import contextlib
import json
import math
import os
import platform
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--n", type=int, default=None, help="workflows / applications per part (default 200)")
    parser.add_argument("--concurrency", type=int, default=None, help="in flight at once (default 30)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=40, C=10, inbox sizes 10^3 and 10^4")
    parser.add_argument("--skip-million", action="store_true", help="inbox sizes 10^3 and 10^5 only")
    parser.add_argument(
        "--months",
        default="1,14",
        help="the cases: subsidy months already over at approval, paid at once (comma-separated, 1..24; default "
        "1,14: a lease that began a month ago, and a business and lease that began 14 months ago, as a real "
        "application after its first year)",
    )
    parser.add_argument(
        "--topologies",
        default="up,production",
        help="up: subsidy up as shipped; production: subsidy worker + subsidy api (default both, in that order)",
    )
    parser.add_argument("--api-processes", type=int, default=None, help="SUBSIDY_API_PROCESSES for subsidy up")
    parser.add_argument("--worker-processes", type=int, default=None, help="SUBSIDY_WORKER_PROCESSES for subsidy up")
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=0.25,
        help="first pause between polls of one application (backs off to 2 s)",
    )
    parser.add_argument("--inbox-requests", type=int, default=None, help="requests per inbox size (default 200)")
    parser.add_argument(
        "--seed-applications", type=int, default=5000, help="applications the seeded task rows belong to"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="sample the service's processes with py-spy during each service part (collapsed stacks into DIR; "
        "pip install py-spy)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.n = args.n or (40 if quick else 200)
    args.concurrency = args.concurrency or (10 if quick else 30)
    args.inbox_requests = args.inbox_requests or (50 if quick else 200)
    if quick:
        args.sizes = [10**3, 10**4]
    elif args.skip_million:
        args.sizes = [10**3, 10**5]
    else:
        args.sizes = [10**3, 10**5, 10**6]
    try:
        args.months = sorted({int(m) for m in args.months.split(",")})
    except ValueError:
        parser.error("--months: whole numbers separated by commas, e.g. 1,14")
    if not all(1 <= m <= 24 for m in args.months):
        parser.error("--months: 1..24 each")
    args.topologies = [t.strip() for t in args.topologies.split(",") if t.strip()]
    if not args.topologies or not set(args.topologies) <= {"up", "production"}:
        parser.error("--topologies: up, production or both")
    return args


def compile_bytecode() -> None:
    """Bytecode for the code measured, as `pip install` leaves it in an image.

    With PYTHONDONTWRITEBYTECODE (set on this machine and in our Dockerfile) a checkout never gets __pycache__, and
    Temporal's workflow sandbox imports each workflow module afresh for every workflow it runs: compiling the
    module from source each time was 8 % of the worker's CPU in a py-spy profile of this benchmark. Both parts
    (bare and service) get the same treatment.
    """
    repo = Path(__file__).resolve().parent.parent
    for package in ("subsidy", "bench"):
        compileall.compile_dir(repo / package, quiet=1)


def prepare_environment() -> None:
    """Secrets the service's processes need outside embedded mode, made for this run only (never stored)."""
    os.environ.setdefault("SUBSIDY_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("SUBSIDY_PAYLOAD_KEYS", "bench:" + base64.b64encode(secrets.token_bytes(32)).decode())
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):  # the embedded stack of this run, never another database
        os.environ.pop(name, None)


def say(text: str = "") -> None:
    print(text, flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.topologies import production, server_version, subsidy_up
    from subsidy.service.embedded import installed_binary

    version = await asyncio.create_subprocess_exec(
        installed_binary("temporal"), "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    temporal_version = (await version.communicate())[0].decode().strip()
    say(
        f"subsidy benchmark: N={args.n} C={args.concurrency}, months paid at approval {args.months}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {temporal_version}; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    report: dict[str, Any] = {
        "n": args.n,
        "concurrency": args.concurrency,
        "cores": os.cpu_count(),
        "months": args.months,
        "poll_seconds": args.poll_seconds,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "topologies": {},
    }
    began = time.perf_counter()
    for key in args.topologies:
        opened = subsidy_up(args.api_processes, args.worker_processes) if key == "up" else production()
        async with opened as topology:
            say()
            say(f"==== {topology.title} ====")
            say(
                f"stack: PostgreSQL {await server_version(topology.database_url)}, Temporal dev server (SQLite file), "
                f"in {topology.folder}"
            )
            part, workflow_ids = await measure_topology(topology, args)
            report["topologies"][key] = part
            if key == "production":
                await measure_storage_inbox_replay(topology, args, report, workflow_ids)
    report["wall_s"] = round(time.perf_counter() - began, 1)
    say_targets(args, report)
    say(f"wall time {report['wall_s']:.0f} s; the stacks and their folders are removed")
    return report


def _cpu_snapshot(processes: dict[str, list[tuple[int, bool]]]) -> dict[str, float]:
    from bench.stats import machine_busy_seconds, tree_cpu_seconds

    snapshot = {"bench (load generator; bare: its worker)": tree_cpu_seconds(os.getpid(), descendants=False)}
    for name, pids in processes.items():
        snapshot[name] = sum(tree_cpu_seconds(pid, descendants=tree) for pid, tree in pids)
    snapshot["machine"] = machine_busy_seconds()
    return snapshot


def _cpu_rows(before: dict[str, float], after: dict[str, float], per: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for name in after:
        if name != "machine":
            spent = after[name] - before.get(name, 0.0)
            rows.append([name, spent, spent / per * 1000])
    total = sum(r[1] for r in rows if isinstance(r[1], float) and not math.isnan(r[1]))
    rows.append(["total (this run)", total, total / per * 1000])
    # Other sessions share this machine: what they took meanwhile is part of the figures' context.
    others = after["machine"] - before["machine"] - total
    rows.append(["other processes", others, others / per * 1000])
    return rows


def _cpu_report(rows: list[list[object]]) -> dict[str, dict[str, float]]:
    return {str(r[0]): {"s": round(float(r[1]), 2), "ms_per": round(float(r[2]), 1)} for r in rows}  # type: ignore[arg-type]


async def measure_topology(topology: Any, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """Bare Temporal on the topology's server, then the service over HTTP for each case, at the same concurrency."""
    from bench.bare import run_bare
    from bench.service import WARM_UP, bound_applicants, run_service
    from bench.stats import LATENCY_HEADER, latency_rows, peak_rss_mib, table

    part: dict[str, Any] = {"title": topology.title}
    part.update({k: v for k, v in topology.notes.items() if isinstance(v, int | str)})
    say()
    say(f"[bare] Temporal alone: activity, update, activity; {args.n} workflows at concurrency {args.concurrency}")
    before = _cpu_snapshot(topology.processes())
    bare = await run_bare(topology.client, args.n, args.concurrency)
    bare_cpu = _cpu_rows(before, _cpu_snapshot(topology.processes()), args.n)
    say(
        table(
            f"throughput {bare.throughput:.1f} workflows/s ({bare.n} in {bare.seconds:.1f} s)",
            LATENCY_HEADER,
            latency_rows([("start", bare.start), ("update", bare.update), ("workflow", bare.total)]),
        )
    )
    say(table("CPU during the part", ("process", "CPU s", "CPU ms/workflow"), bare_cpu))
    bare_start_p99 = bare.start.summary()["p99_ms"]
    bare_update_p99 = bare.update.summary()["p99_ms"]
    part["bare"] = {
        "throughput": round(bare.throughput, 2),
        "seconds": round(bare.seconds, 2),
        "start": bare.start.summary(),
        "update": bare.update.summary(),
        "workflow": bare.total.summary(),
        "cpu": _cpu_report(bare_cpu),
    }
    workflow_ids: list[str] = []
    part["cases"] = {}
    for months in args.months:
        say()
        say(
            f"[service, {months} month(s) paid at approval] over HTTP: submit, inbox until the task is there, claim, "
            f"approve, ledger until the {months} month(s) over are posted; {args.n} applications at concurrency "
            f"{args.concurrency}"
        )
        profilers = []
        if args.profile:
            for name, pid in topology.service_pids().items():
                profilers.append(await start_profiler(pid, args.profile / f"{topology.key}-{months}m-{name}.txt"))
        # The accounts are made and signed in before the part: argon2 and binding are not in its CPU figures.
        people = await bound_applicants(topology.database_url, "127.0.0.1", topology.port, WARM_UP + args.n)
        before = _cpu_snapshot(topology.processes())
        try:
            service = await run_service(
                "127.0.0.1",
                topology.port,
                args.n,
                args.concurrency,
                months,
                args.poll_seconds,
                people=people,
            )
        finally:
            for profiler in profilers:
                await stop_profiler(profiler)
        processes = topology.processes()
        service_cpu = _cpu_rows(before, _cpu_snapshot(processes), args.n)
        ratio = service.throughput / bare.throughput
        submit_ratio = service.submit.summary()["p99_ms"] / bare_start_p99
        decision_ratio = service.decision.summary()["p99_ms"] / bare_update_p99
        say(
            table(
                f"throughput {service.throughput:.1f} applications/s ({service.n} in {service.seconds:.1f} s); "
                f"service/bare = {ratio:.2f}; p99 submit / bare start p99 = {submit_ratio:.2f}; p99 decision / "
                f"bare update p99 = {decision_ratio:.2f}; inbox polls {service.inbox_polls}, ledger polls "
                f"{service.ledger_polls}, ledger rows {service.ledger_rows}; decisions refused 409 'not open' and "
                f"retried {service.decision_conflicts}",
                LATENCY_HEADER,
                latency_rows(
                    [
                        ("submit", service.submit),
                        ("inbox list", service.inbox),
                        ("claim", service.claim),
                        ("decision", service.decision),
                        ("ledger list", service.ledger),
                        ("application", service.total),
                    ]
                ),
            )
        )
        say(table("CPU during the part", ("process", "CPU s", "CPU ms/application"), service_cpu))
        part["cases"][str(months)] = {
            "throughput": round(service.throughput, 2),
            "seconds": round(service.seconds, 2),
            "ratio_to_bare": round(ratio, 3),
            "p99_submit_over_bare_start_p99": round(submit_ratio, 2),
            "p99_decision_over_bare_update_p99": round(decision_ratio, 2),
            "submit": service.submit.summary(),
            "inbox": service.inbox.summary(),
            "claim": service.claim.summary(),
            "decision": service.decision.summary(),
            "ledger": service.ledger.summary(),
            "application": service.total.summary(),
            "inbox_polls": service.inbox_polls,
            "ledger_polls": service.ledger_polls,
            "ledger_rows": service.ledger_rows,
            "decision_409_not_open": service.decision_conflicts,
            "cpu": _cpu_report(service_cpu),
            # The service's processes and its engines (everything but the load generator) over the part's wall time.
            "cores_busy": round(
                sum(float(r[1]) for r in service_cpu if str(r[0]) in processes) / service.seconds,  # type: ignore[arg-type]
                2,
            ),
        }
        workflow_ids = service.workflow_ids
    rss = {
        name: max(peak_rss_mib(pid) for pid, _ in pids)
        for name, pids in topology.processes().items()
        if name not in ("postgres", "temporal")
    }
    say(table("peak RSS (VmHWM) of the service's processes", ("process", "peak RSS MiB"), list(map(list, rss.items()))))
    part["peak_rss_mib"] = {name: round(value, 1) for name, value in rss.items()}
    return part, workflow_ids


async def measure_storage_inbox_replay(
    topology: Any, args: argparse.Namespace, report: dict[str, Any], workflow_ids: list[str]
) -> None:
    from bench.inbox import run_inbox_scaling
    from bench.replay import run_replay
    from bench.stats import STORAGE_TABLES, folder_bytes, table
    from subsidy.db.session import create_engine

    engine = create_engine(topology.database_url, pool_size=2)
    try:
        # What the run left in PostgreSQL (heap, indexes and TOAST of each table) and in Temporal's SQLite file:
        # the per-application figures the README's capacity estimate rests on.
        storage: list[list[object]] = []
        async with engine.connect() as connection:
            for name in STORAGE_TABLES:
                rows, size = (
                    await connection.exec_driver_sql(f"SELECT count(*), pg_total_relation_size('{name}') FROM {name}")
                ).one()
                storage.append([name, rows, size / 1024, size / rows if rows else math.nan])
        temporal_bytes = folder_bytes(topology.folder / "temporal")
        say()
        say(
            table(
                f"storage after the production topology's parts; Temporal's SQLite files {temporal_bytes / 2**20:.1f} "
                "MiB",
                ("table", "rows", "KiB", "bytes/row"),
                storage,
            )
        )
        report["storage"] = {
            "tables": {str(r[0]): {"rows": r[1], "bytes": int(float(r[2]) * 1024)} for r in storage},  # type: ignore[arg-type]
            "temporal_sqlite_bytes": temporal_bytes,
        }

        say()
        say(
            f"[inbox] first page (100) for {args.inbox_requests} sequential requests as dpf-150203-a, "
            f"by rows in tasks ({args.seed_applications} seeded applications)"
        )
        points = await run_inbox_scaling(
            engine, "127.0.0.1", topology.port, args.sizes, args.seed_applications, args.inbox_requests
        )
        say(
            table(
                "GET /api/v1/tasks",
                ("task rows", "MiB", "visible", "seed s", "p50 ms", "p95 ms", "p99 ms", "SQL count ms", "SQL page ms"),
                [
                    [
                        f"{p.rows:,}",
                        p.table_bytes / 2**20,
                        p.visible,
                        p.seed_seconds,
                        p.latency.summary()["p50_ms"],
                        p.latency.summary()["p95_ms"],
                        p.latency.summary()["p99_ms"],
                        p.sql_ms.get("count", math.nan),
                        p.sql_ms.get("page", math.nan),
                    ]
                    for p in points
                ],
            )
        )
        say(f"plans at {points[-1].rows:,} rows (EXPLAIN ANALYZE of the SQL the API sends); the page:")
        for line in points[-1].plan:
            say("  " + line)
        say("the count (scans only):")
        for line in points[-1].count_plan:
            if "Scan" in line or "Heap Fetches" in line or "Execution Time" in line:
                say("  " + line)
        report["inbox"] = [
            {
                "rows": p.rows,
                "table_bytes": p.table_bytes,
                "visible": p.visible,
                "seed_s": round(p.seed_seconds, 1),
                **p.latency.summary(),
                "sql_count_ms": p.sql_ms.get("count"),
                "sql_page_ms": p.sql_ms.get("page"),
            }
            for p in points
        ]
    finally:
        await engine.dispose()

    say()
    say(f"[replay] of the last service part's {len(workflow_ids)} histories with today's code")
    replayed = await run_replay(topology.client, workflow_ids)
    say(
        table(
            "Replayer (subsidy.api.audit.replay)",
            ("histories", "events", "KiB JSON each", "fetch s", "replay s", "histories/s", "events/s", "deterministic"),
            [
                [
                    replayed.histories,
                    replayed.events,
                    replayed.json_bytes / max(replayed.histories, 1) / 1024,
                    replayed.fetch_seconds,
                    replayed.replay_seconds,
                    replayed.histories_per_second,
                    replayed.events_per_second,
                    "yes" if replayed.deterministic else f"NO: {replayed.error}",
                ]
            ],
        )
    )
    report["replay"] = {
        "histories": replayed.histories,
        "events": replayed.events,
        "json_bytes": replayed.json_bytes,
        "fetch_s": round(replayed.fetch_seconds, 2),
        "replay_s": round(replayed.replay_seconds, 2),
        "histories_per_s": round(replayed.histories_per_second, 1),
        "events_per_s": round(replayed.events_per_second, 0),
        "deterministic": replayed.deterministic,
    }


def say_targets(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Issue 17's targets, on the shipped default and the realistic case (the most months paid at approval)."""
    from bench.stats import table

    rows: list[list[object]] = []
    summary: list[list[object]] = []
    for key, part in report["topologies"].items():
        for months, case in part["cases"].items():
            summary.append(
                [
                    f"{key}, {months} month(s)",
                    case["throughput"],
                    part["bare"]["throughput"],
                    case["ratio_to_bare"],
                    case["p99_submit_over_bare_start_p99"],
                    case["p99_decision_over_bare_update_p99"],
                    case["inbox"]["p99_ms"],
                    case["cpu"]["total (this run)"]["ms_per"],
                    case["cores_busy"],
                ]
            )
    say()
    say(
        table(
            f"summary at C={args.concurrency} (ratios to bare Temporal on the same server, in the same run)",
            (
                "topology, case",
                "applications/s",
                "bare/s",
                "x bare",
                "p99 submit / start",
                "p99 decision / update",
                "p99 inbox ms",
                "CPU ms/app",
                "cores busy",
            ),
            summary,
        )
    )
    shipped = report["topologies"].get("up")
    if shipped is not None:
        case = shipped["cases"][str(max(args.months))]
        rows += [
            ["service >= 0.8 x bare", f"{case['ratio_to_bare']:.2f} x", case["ratio_to_bare"] >= 0.8],
            [
                "p99 submit <= 1.5 x bare start p99",
                f"{case['p99_submit_over_bare_start_p99']:.2f} x",
                case["p99_submit_over_bare_start_p99"] <= 1.5,
            ],
            [
                "p99 decision <= 1.0 x bare update p99",
                f"{case['p99_decision_over_bare_update_p99']:.2f} x",
                case["p99_decision_over_bare_update_p99"] <= 1.0,
            ],
        ]
    if report.get("inbox"):
        first, last = report["inbox"][0]["p50_ms"], report["inbox"][-1]["p50_ms"]
        # "Flat": the p50 at the largest size within 1.5x (and 5 ms) of the smallest.
        rows.append(
            [
                f"inbox flat {report['inbox'][0]['rows']:,} -> {report['inbox'][-1]['rows']:,} rows",
                f"p50 {first} -> {last} ms",
                last <= max(first * 1.5, first + 5),
            ]
        )
    if rows:
        say()
        say(
            table(
                f"targets (issue 17; shipped default, {max(args.months)} months at approval, C={args.concurrency})",
                ("target", "measured", "met"),
                [[t, m, "yes" if ok else "NO"] for t, m, ok in rows],
            )
        )
    report["targets_met"] = {str(t): bool(ok) for t, _, ok in rows}


async def start_profiler(pid: int, output: Path) -> asyncio.subprocess.Process:
    """py-spy sampling one process from outside (no change to the process measured), as collapsed stacks."""
    output.parent.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).parent / "py-spy"
    return await asyncio.create_subprocess_exec(
        str(py_spy),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "200",
        "--format",
        "raw",
        "--nonblocking",
        "--gil",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def stop_profiler(profiler: asyncio.subprocess.Process) -> None:
    # SIGINT makes py-spy write its output and exit.
    with contextlib.suppress(ProcessLookupError):
        profiler.send_signal(signal.SIGINT)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(profiler.wait(), timeout=30)
    if profiler.returncode is None:
        profiler.kill()
        await profiler.wait()


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    # Ctrl-C and SIGTERM cancel the run, so that every `finally` stops its processes and removes its folder; a
    # second signal is only acknowledged, so that cleaning up is never cut short. Installed here rather than left to
    # asyncio.run, which skips SIGINT when the shell started us with it ignored (a background job).
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()

    def stop() -> None:
        print("bench: stopping; removing what it started", file=sys.stderr, flush=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: print("bench: still stopping", file=sys.stderr, flush=True))
        assert task is not None
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    return await run(args)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prepare_environment()
    compile_bytecode()
    try:
        report = asyncio.run(_main(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print(json.dumps(report, ensure_ascii=False, separators=(",", ":")), flush=True)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
