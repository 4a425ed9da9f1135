"""What every scenario of the suite shares: its context, its measurements and the report.

A scenario is a module with `run(context: BenchContext) -> list[Measurement]`. Each measurement
is one case with its baseline measured in the same run, so the report can give ratios rather
than absolute figures, which this machine is too noisy for.
"""

import base64
import hashlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable

# The volumes the issue asks for at scale 1.0; `--scale` multiplies every one of them.
FULL_VOLUMES = {
    "customers": 1_000_000,
    "orders": 3_000_000,
    "interactions": 5_000_000,
    "deals": 200_000,
    "tickets": 1_000_000,
}


# One secret for every process of the suite, so the seed, the servers and the in-process
# scenarios read each other's encrypted fields and signed sessions.
BENCH_SECRET_KEY = "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
BENCH_FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(BENCH_SECRET_KEY.encode()).digest()
).decode()
BENCH_ENVIRONMENT = {
    "SECRET_KEY": BENCH_SECRET_KEY,
    "CRM_FIELD_ENCRYPTION_KEYS": BENCH_FIELD_ENCRYPTION_KEY,
    # As in production: with DEBUG on, Django keeps the text of every query in memory.
    "DEBUG": "false",
}


def _bench_secrets() -> dict[str, str]:
    """The suite's secret and key, unless the caller gave the ones its database was seeded with."""
    return {
        **BENCH_ENVIRONMENT,
        **{
            name: os.environ[name]
            for name in ("SECRET_KEY", "CRM_FIELD_ENCRYPTION_KEYS")
            if os.environ.get(name)
        },
    }


@dataclass
class BenchContext:
    database_url: str
    redis_url: str
    scale: float
    workdir: Path
    log: Callable[[str], None] = print
    reuse_seed: bool = False
    fresh_seed: bool = False
    volumes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        if not self.volumes:
            self.volumes = {
                kind: max(1, round(count * self.scale)) for kind, count in FULL_VOLUMES.items()
            }

    def environment(self, **overrides: str) -> dict[str, str]:
        """The environment of a child process pointed at the suite's database and Redis."""
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "PYTHONPATH": str(ROOT),
            **_bench_secrets(),
        }
        env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
        env.update(overrides)
        return env


@dataclass
class Measurement:
    """One case of a scenario: its figure and, where there is one, its baseline's."""

    scenario: str
    case: str
    unit: str
    value: float
    p99: float | None = None
    baseline_case: str = ""
    baseline_value: float | None = None
    baseline_p99: float | None = None
    # Whether a higher figure is the better one (throughput) or a lower one (latency, time).
    higher_is_better: bool = False
    target: str = ""
    target_met: bool | None = None
    details: dict = field(default_factory=dict)

    @classmethod
    def latency(
        cls,
        *,
        scenario: str,
        case: str,
        samples: Sequence[float],
        baseline_case: str = "",
        baseline_samples: Sequence[float] = (),
        p99_target_ms: float | None = None,
        details: dict | None = None,
    ) -> "Measurement":
        """A case timed in milliseconds: its median and p99, its baseline's, and whether its p99
        is under `p99_target_ms`."""
        p99 = percentile(samples, 0.99)
        return cls(
            scenario=scenario,
            case=case,
            unit="ms",
            value=percentile(samples, 0.5),
            p99=p99,
            baseline_case=baseline_case,
            baseline_value=percentile(baseline_samples, 0.5) if baseline_samples else None,
            baseline_p99=percentile(baseline_samples, 0.99) if baseline_samples else None,
            target=f"p99 < {p99_target_ms:g} ms" if p99_target_ms is not None else "",
            target_met=p99 < p99_target_ms if p99_target_ms is not None else None,
            details=details or {},
        )

    def summary(self) -> str:
        """One line for the run's log."""
        line = f"{self.scenario}: {self.case}: p50 {self.value:.1f} ms, p99 {self.p99:.1f} ms"
        if self.baseline_value is not None:
            line += f" ({self.baseline_case} p50 {self.baseline_value:.1f} ms)"
        return line

    @property
    def ratio(self) -> float | None:
        """The figure over its baseline's (median over median)."""
        if self.baseline_value in (None, 0):
            return None
        return self.value / self.baseline_value


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `samples` (fraction 0.5 for the median, 0.99 for p99)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    # The tolerance keeps 0.99 × 100 (99.00000000000001 in floating point) at rank 99.
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def timed_samples(action: Callable[[], object], *, repeat: int, warmup: int = 1) -> list[float]:
    """Milliseconds of `repeat` calls of `action` after `warmup` unmeasured ones."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def peak_memory_mib() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_measured(command: Sequence[str], *, env: dict, timeout: float) -> tuple[float, float, str]:
    """Run `command`; its wall seconds, its peak resident MiB (GNU time) and its output."""
    report = Path(env.get("TMPDIR", "/tmp")) / f"crm-bench-time-{os.getpid()}-{time.time_ns()}"
    started = time.perf_counter()
    completed = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {completed.returncode}:\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
        )
    peak_kib = float(report.read_text().strip().splitlines()[-1])
    report.unlink()
    return elapsed, peak_kib / 1024, completed.stdout


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    postgres = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gib:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {postgres}"
    )


def django_setup(context: BenchContext) -> None:
    """Set Django up in this process against the suite's database and Redis (once)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.update(
        {
            "DATABASE_URL": context.database_url,
            "REDIS_URL": context.redis_url,
            "DJANGO_SETTINGS_MODULE": "crm.settings.local",
            **_bench_secrets(),
        }
    )
    django.setup()


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("rows/s", "req/s", "msg/s", "MiB") or value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def write_report(
    measurements: list[Measurement],
    *,
    directory: Path,
    context: BenchContext,
    started: float,
    notes: Sequence[str] = (),
) -> tuple[Path, Path]:
    """Write the results as markdown and JSON, named by date; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    today = date.today().isoformat()
    elapsed = time.perf_counter() - started
    machine = machine_description()
    stem = directory / f"bench-{today}"
    payload = {
        "date": today,
        "machine": machine,
        "scale": context.scale,
        "volumes": context.volumes,
        "wall_seconds": round(elapsed, 1),
        "measurements": [
            {**asdict(measurement), "ratio": measurement.ratio} for measurement in measurements
        ],
    }
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")

    lines = [
        f"# `make bench`, {today}",
        "",
        f"Machine: {machine}.",
        "",
        "Data: "
        + ", ".join(f"{count:,} {kind}" for kind, count in context.volumes.items())
        + f" (scale {context.scale:g}). The whole run took {elapsed / 60:.1f} minutes.",
        "",
        "Each figure is a median (p50) with its p99 where there are samples; each baseline was "
        "measured in the same run, and the ratio is the figure over its baseline's median.",
        "",
        "| scenario | case | unit | p50 / value | p99 | baseline | baseline p50 | baseline p99 "
        "| ratio | target |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for item in measurements:
        ratio = item.ratio
        verdict = ""
        if item.target:
            verdict = item.target + (
                "" if item.target_met is None else (" ✅" if item.target_met else " ❌")
            )
        lines.append(
            f"| {item.scenario} | {item.case} | {item.unit} | {_figure(item.value, item.unit)} "
            f"| {_figure(item.p99, item.unit)} | {item.baseline_case or '—'} "
            f"| {_figure(item.baseline_value, item.unit)} "
            f"| {_figure(item.baseline_p99, item.unit)} "
            f"| {'—' if ratio is None else f'{ratio:.2f}×'} | {verdict} |"
        )
    if notes:
        lines += ["", *notes]
    markdown_path = stem.with_suffix(".md")
    markdown_path.write_text("\n".join(lines) + "\n")
    return markdown_path, json_path
