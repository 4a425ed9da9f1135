"""The performance suite: seed PostgreSQL at scale, run every scenario, write the results table.

    make bench                                   # the whole suite at 1,000,000 customers
    .venv/bin/python benchmarks/bench.py --scale 0.01 --only api,search   # a quick look

It needs PostgreSQL and Redis (`DATABASE_URL`, `REDIS_URL`; the database is dropped and seeded
again unless `--reuse-seed` finds it already seeded at the same volumes), and wrk for the HTTP
load. The tables go to benchmarks/results/bench-<date>.md and .json.
"""

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.suite.core import ROOT, BenchContext, Measurement, write_report

# Imports run last: they add customers, which the other scenarios should not see.
SCENARIOS = ["seed", "api", "scaleout", "search", "dashboards", "models", "chat", "imports"]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full volumes (1.0: 1M customers)"
    )
    parser.add_argument("--only", default="", help="comma-separated scenarios to run")
    parser.add_argument(
        "--reuse-seed",
        action="store_true",
        help="keep the database when it already holds the seeded volumes",
    )
    parser.add_argument(
        "--fresh-seed",
        action="store_true",
        help="seed again rather than copy the saved seed, and save the new one",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results")
    options = parser.parse_args()

    selected = [name for name in options.only.split(",") if name] or SCENARIOS
    unknown = sorted(set(selected) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgres"):
        parser.error(f"the suite needs PostgreSQL; DATABASE_URL is {database_url!r}")
    workdir = ROOT / "var" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    context = BenchContext(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        scale=options.scale,
        workdir=workdir,
        log=log,
        reuse_seed=options.reuse_seed,
        fresh_seed=options.fresh_seed,
    )
    started = time.perf_counter()
    measurements = []
    failed = []
    for name in SCENARIOS:
        if name not in selected:
            continue
        log(f"scenario {name}")
        scenario_started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.suite.{name}")
        try:
            measurements += module.run(context)
        except Exception:  # noqa: BLE001 - whatever broke, the other scenarios still run
            # One broken scenario should not cost the figures of the others: it is reported.
            failed.append(name)
            log(f"scenario {name} failed:\n{traceback.format_exc()}")
            measurements.append(
                Measurement(scenario=name, case="failed: see the run's log", unit="", value=0)
            )
        log(f"scenario {name} done in {time.perf_counter() - scenario_started:.0f}s")
        # Written after every scenario: a run stopped in its second hour keeps what it measured.
        markdown, json_path = write_report(
            measurements, directory=options.output, context=context, started=started
        )
    log(f"results: {markdown} and {json_path}")
    print(markdown.read_text())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
