"""Percentiles, plain-text tables, and what the operating system says about a process (peak RSS, CPU time)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually observed, never an interpolation between two."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass
class Latencies:
    """Seconds per request of one kind; reported in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def summary(self) -> dict[str, float | int]:
        return {
            "count": len(self.samples),
            "p50_ms": round(percentile(self.samples, 50) * 1000, 1),
            "p95_ms": round(percentile(self.samples, 95) * 1000, 1),
            "p99_ms": round(percentile(self.samples, 99) * 1000, 1),
            "max_ms": round(max(self.samples, default=math.nan) * 1000, 1),
        }


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width table: first column left-aligned (names), the others right-aligned (numbers)."""
    cells = [[str(c) for c in header], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            (cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])) for i, cell in enumerate(row)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([title, line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def latency_rows(named: Sequence[tuple[str, Latencies]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for name, latencies in named:
        s = latencies.summary()
        rows.append([name, s["count"], s["p50_ms"], s["p95_ms"], s["p99_ms"], s["max_ms"]])
    return rows


LATENCY_HEADER = ("request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms")


def peak_rss_mib(pid: int) -> float:
    """The kernel's high-water mark of the resident set (VmHWM): the true peak, not a sample of it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def tree_cpu_seconds(pid: int, *, descendants: bool = True) -> float:
    """User + system CPU of a process, its live descendants and its exited (reaped) children.

    The difference of two readings is what the process tree spent in between, even when children (Postgres
    backends) come and go meanwhile.
    """
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)] if descendants else [root]
        reaped = root.cpu_times()
    except psutil.Error:
        return math.nan
    total = reaped.children_user + reaped.children_system if descendants else 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores together spent not idle since boot (every process, ours or not)."""
    times = psutil.cpu_times()
    # guest time is already inside user time on Linux; steal is time the hypervisor gave to someone else.
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


STORAGE_TABLES = (
    "applications",
    "people",
    "tasks",
    "decisions",
    "schedule",
    "ledger",
    "audit_log",
    "workflow_histories",
)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
