"""`python -m bench`: bare Temporal, the service over HTTP, inbox latency by table size, replay — one stack, one run.

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
    parser.add_argument("--n", type=int, default=None, help="workflows / applications per part (default 500)")
    parser.add_argument("--concurrency", type=int, default=None, help="in flight at once (default 50)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=60, C=10, inbox sizes 10^3 and 10^4")
    parser.add_argument("--skip-million", action="store_true", help="inbox sizes 10^3 and 10^5 only")
    parser.add_argument(
        "--arrears-months",
        type=int,
        default=1,
        help="subsidy months already over at approval, paid at once (1..12; default 1: the lease began a month ago)",
    )
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
        help="sample the worker and API with py-spy during part 2 (collapsed stacks into DIR; pip install py-spy)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.n = args.n or (60 if quick else 500)
    args.concurrency = args.concurrency or (10 if quick else 50)
    args.inbox_requests = args.inbox_requests or (50 if quick else 200)
    if quick:
        args.sizes = [10**3, 10**4]
    elif args.skip_million:
        args.sizes = [10**3, 10**5]
    else:
        args.sizes = [10**3, 10**5, 10**6]
    if not 1 <= args.arrears_months <= 12:
        parser.error("--arrears-months must be 1..12 (the business has run one year: 12 months at most are over)")
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
    from bench.bare import run_bare
    from bench.inbox import run_inbox_scaling
    from bench.replay import run_replay
    from bench.service import WARM_UP, bound_applicants, run_service
    from bench.stack import Child, child_environment, embedded_stack, start_child, wait_ready
    from bench.stats import (
        LATENCY_HEADER,
        STORAGE_TABLES,
        folder_bytes,
        latency_rows,
        machine_busy_seconds,
        peak_rss_mib,
        table,
        tree_cpu_seconds,
    )
    from subsidy.db.session import create_engine
    from subsidy.service.embedded import free_port, installed_binary

    version = await asyncio.create_subprocess_exec(
        installed_binary("temporal"), "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    temporal_version = (await version.communicate())[0].decode().strip()
    say(
        f"subsidy benchmark: N={args.n} C={args.concurrency}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {temporal_version}; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    report: dict[str, Any] = {
        "n": args.n,
        "concurrency": args.concurrency,
        "cores": os.cpu_count(),
        "arrears_months": args.arrears_months,
        "poll_seconds": args.poll_seconds,
    }
    began = time.perf_counter()
    async with embedded_stack() as stack:
        engine = create_engine(stack.database_url, pool_size=2)
        children: list[Child] = []
        try:
            async with engine.connect() as connection:
                postgres_version = (await connection.exec_driver_sql("SHOW server_version")).scalar_one()
            say(f"stack: embedded PostgreSQL {postgres_version}, Temporal dev server (SQLite file), in {stack.folder}")
            pids = {"temporal": stack.temporal_pid(), "postgres": stack.postgres_pid()}

            def cpu_snapshot() -> dict[str, float]:
                snapshot = {"bench": tree_cpu_seconds(os.getpid(), descendants=False)}
                for name, pid in pids.items():
                    snapshot[name] = tree_cpu_seconds(pid) if pid else math.nan
                for child in children:
                    snapshot[child.name] = tree_cpu_seconds(child.pid)
                snapshot["machine"] = machine_busy_seconds()
                return snapshot

            def cpu_rows(before: dict[str, float], after: dict[str, float], per: int) -> list[list[object]]:
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

            # ---- 1. bare -------------------------------------------------------------------------------------
            say()
            say(f"[1] bare Temporal: activity, update, activity; {args.n} workflows at concurrency {args.concurrency}")
            cpu_before = cpu_snapshot()
            bare = await run_bare(stack.temporal.client, args.n, args.concurrency)
            bare_cpu = cpu_rows(cpu_before, cpu_snapshot(), args.n)
            bare_rss = peak_rss_mib(os.getpid())
            say(
                table(
                    f"throughput {bare.throughput:.1f} workflows/s ({bare.n} in {bare.seconds:.1f} s); "
                    f"worker + client process peak RSS {bare_rss:.0f} MiB",
                    LATENCY_HEADER,
                    latency_rows([("start", bare.start), ("update", bare.update), ("workflow", bare.total)]),
                )
            )
            say(table("CPU during the part", ("process", "CPU s", "CPU ms/workflow"), bare_cpu))
            report["bare"] = {
                "throughput": round(bare.throughput, 2),
                "seconds": round(bare.seconds, 2),
                "start": bare.start.summary(),
                "update": bare.update.summary(),
                "workflow": bare.total.summary(),
                "process_peak_rss_mib": round(bare_rss, 1),
                "cpu_s": {str(r[0]): round(float(r[1]), 2) for r in bare_cpu},  # type: ignore[arg-type]
            }

            # ---- 2. service ----------------------------------------------------------------------------------
            say()
            say(
                f"[2] service over HTTP: submit, inbox until the task is there, claim, approve, ledger until the "
                f"{args.arrears_months} month(s) over are posted (polls from {args.poll_seconds} s, backing off); "
                f"{args.n} applications at concurrency {args.concurrency}; worker and API in processes of their own"
            )
            environment = child_environment(stack, "subsidy-bench")
            port = free_port()
            children.append(await start_child(stack, "worker", ["worker"], environment))
            children.append(await start_child(stack, "api", ["api", "--port", str(port)], environment))
            await wait_ready(children[0])
            await wait_ready(children[1], port)
            # Each person applies with an account bound to them: bound and signed in before anything is measured.
            applicants = await bound_applicants(stack.database_url, "127.0.0.1", port, WARM_UP + args.n)
            for child in children:
                child.mark_start()
            profilers = (
                [await start_profiler(child.pid, args.profile / f"{child.name}.txt") for child in children]
                if args.profile
                else []
            )
            cpu_before = cpu_snapshot()
            try:
                service = await run_service(
                    "127.0.0.1", port, args.n, args.concurrency, args.arrears_months, applicants, args.poll_seconds
                )
            finally:
                for profiler in profilers:
                    await stop_profiler(profiler)
            service_cpu = cpu_rows(cpu_before, cpu_snapshot(), args.n)
            for child in children:
                child.measure()
            ratio = service.throughput / bare.throughput
            say(
                table(
                    f"throughput {service.throughput:.1f} applications/s ({service.n} in {service.seconds:.1f} s); "
                    f"service/bare = {ratio:.2f}; inbox polls {service.inbox_polls}, ledger polls "
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
            say(
                table(
                    "peak RSS (VmHWM) of the service's processes",
                    ("process", "peak RSS MiB"),
                    [[child.name, child.peak_rss_mib] for child in children],
                )
            )
            report["service"] = {
                "throughput": round(service.throughput, 2),
                "seconds": round(service.seconds, 2),
                "ratio_to_bare": round(ratio, 3),
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
                "peak_rss_mib": {child.name: round(child.peak_rss_mib, 1) for child in children},
                "cpu_s": {str(r[0]): round(float(r[1]), 2) for r in service_cpu},  # type: ignore[arg-type]
            }

            # What the run left in PostgreSQL (heap, indexes and TOAST of each table) and in Temporal's SQLite file:
            # the per-application figures the README's capacity estimate rests on.
            storage: list[list[object]] = []
            async with engine.connect() as connection:
                for name in STORAGE_TABLES:
                    rows, size = (
                        await connection.exec_driver_sql(
                            f"SELECT count(*), pg_total_relation_size('{name}') FROM {name}"
                        )
                    ).one()
                    storage.append([name, rows, size / 1024, size / rows if rows else math.nan])
            temporal_bytes = folder_bytes(stack.folder / "temporal")
            say(
                table(
                    f"storage after parts 1-2; Temporal's SQLite files {temporal_bytes / 2**20:.1f} MiB "
                    f"(both parts, {args.n + args.n + 10} workflows)",
                    ("table", "rows", "KiB", "bytes/row"),
                    storage,
                )
            )
            report["storage"] = {
                "tables": {str(r[0]): {"rows": r[1], "bytes": int(float(r[2]) * 1024)} for r in storage},  # type: ignore[arg-type]
                "temporal_sqlite_bytes": temporal_bytes,
            }

            # ---- 3. inbox by table size ----------------------------------------------------------------------
            say()
            say(
                f"[3] inbox first page (100) for {args.inbox_requests} sequential requests as dpf-150203-a, "
                f"by rows in tasks ({args.seed_applications} seeded applications)"
            )
            points = await run_inbox_scaling(
                engine, "127.0.0.1", port, args.sizes, args.seed_applications, args.inbox_requests
            )
            say(
                table(
                    "GET /api/v1/tasks",
                    (
                        "task rows",
                        "MiB",
                        "visible",
                        "seed s",
                        "p50 ms",
                        "p95 ms",
                        "p99 ms",
                        "SQL count ms",
                        "SQL page ms",
                    ),
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

            # ---- 4. replay -----------------------------------------------------------------------------------
            say()
            say(f"[4] replay of the service run's {len(service.workflow_ids)} histories with today's code")
            replayed = await run_replay(stack.temporal.client, service.workflow_ids)
            say(
                table(
                    "Replayer (subsidy.api.audit.replay)",
                    (
                        "histories",
                        "events",
                        "KiB JSON each",
                        "fetch s",
                        "replay s",
                        "histories/s",
                        "events/s",
                        "deterministic",
                    ),
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
        except BaseException:
            for child in children:
                if child.process.returncode not in (None, 0) or not isinstance(
                    sys.exc_info()[1], asyncio.CancelledError
                ):
                    print(f"--- last lines of the {child.name}'s log ---\n{child.log_tail()}", file=sys.stderr)
            raise
        finally:
            for child in reversed(children):
                await child.stop()
            await engine.dispose()

    # ---- targets --------------------------------------------------------------------------------------------
    inbox_p99 = report["service"]["inbox"]["p99_ms"]
    submit_p99 = report["service"]["submit"]["p99_ms"]
    first, last = report["inbox"][0]["p50_ms"], report["inbox"][-1]["p50_ms"]
    targets = [
        ("service >= 0.8 x bare", f"{report['service']['ratio_to_bare']:.2f} x", ratio >= 0.8),
        (f"p99 submit < 100 ms at C={args.concurrency}", f"{submit_p99} ms", submit_p99 < 100),
        (f"p99 inbox < 50 ms at C={args.concurrency}", f"{inbox_p99} ms", inbox_p99 < 50),
        # "Flat": the p50 at the largest size within 1.5x (and 5 ms) of the smallest.
        (
            f"inbox flat {report['inbox'][0]['rows']:,} -> {report['inbox'][-1]['rows']:,} rows",
            f"p50 {first} -> {last} ms",
            last <= max(first * 1.5, first + 5),
        ),
    ]
    say()
    say(
        table(
            "targets (issue 7)", ("target", "measured", "met"), [[t, m, "yes" if ok else "NO"] for t, m, ok in targets]
        )
    )
    report["targets_met"] = {t: ok for t, _, ok in targets}
    report["wall_s"] = round(time.perf_counter() - began, 1)
    say(f"wall time {report['wall_s']:.0f} s; the stack and its folder are removed")
    return report


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
