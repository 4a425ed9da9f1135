"""Scale-out: the customer API served by one web process, then by two behind a balancer.

Each web process is a web host as docker-compose.yml runs one (`gunicorn crm.asgi:application -c
crm/gunicorn.conf.py`), here with one Uvicorn worker, so "two web processes" is two hosts of one
worker each. The balancer is the load generator itself: half of the 16 wrk connections go to each
process, as a round-robin balancer would spread them, and the two rates add up. Both cases run
side by side in one run on the same database, so their ratio is this machine's throughput growth
from a second web process; PostgreSQL, Redis and wrk share the same cores, which caps it, so
each case also records how busy the machine's cores were.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.chat_load import stop_server
from benchmarks.suite.api import CLIENTS, _rep_token_and_paths, production_server, wrk_run
from benchmarks.suite.core import BenchContext, Measurement, django_setup

CASES = {
    "minimal": "minimal Django JSON view",
    "list": "GET /api/v1/customers/ (50, filtered, sorted)",
    "detail": "GET /api/v1/customers/<id>/",
}


def _cpu_ticks() -> tuple[int, int]:
    """The machine's CPU time since boot, all cores: (total, idle including I/O wait)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks), ticks[3] + ticks[4]


def _load(context, base_urls: list[str], paths: list[str], *, token: str, seconds: int) -> dict:
    """wrk against every base URL at once, CLIENTS connections in all: the summed rate, the
    worst p50 and p99, and how busy the machine's cores were meanwhile."""
    clients = CLIENTS // len(base_urls)
    total_before, idle_before = _cpu_ticks()

    def one(base_url: str) -> dict:
        return wrk_run(
            base_url, paths, token=token, seconds=seconds, workdir=context.workdir, clients=clients
        )

    with ThreadPoolExecutor(len(base_urls)) as pool:
        one_each = list(pool.map(one, base_urls))
    total_after, idle_after = _cpu_ticks()
    return {
        "busy": round(1 - (idle_after - idle_before) / (total_after - total_before), 2),
        "rate": sum(result["rate"] for result in one_each),
        "p50": max(result["p50"] for result in one_each),
        "p99": max(result["p99"] for result in one_each),
        "rates": [round(result["rate"], 1) for result in one_each],
    }


def run(context: BenchContext) -> list[Measurement]:
    django_setup(context)
    token, list_paths, detail_paths = _rep_token_and_paths()
    paths = {"minimal": ["/bench/minimal"], "list": list_paths, "detail": detail_paths}
    seconds = 20 if context.scale >= 0.5 else 5
    results: dict[int, dict[str, dict]] = {}
    servers = [production_server(context, workers=1, name=f"web{number}") for number in (1, 2)]
    try:
        base_urls = [base_url for _process, base_url, _log in servers]
        for count in (1, 2):
            results[count] = {}
            for case in CASES:
                context.log(f"scaleout: {case} on {count} web process(es), {CLIENTS} clients")
                _load(context, base_urls[:count], paths[case], token=token, seconds=3)
                results[count][case] = _load(
                    context, base_urls[:count], paths[case], token=token, seconds=seconds
                )
    finally:
        for process, _base_url, _log in servers:
            stop_server(process)

    measurements = []
    for case, label in CASES.items():
        one, two = results[1][case], results[2][case]
        measurements.append(
            Measurement(
                scenario="scaleout",
                case=f"{label}: two web processes",
                unit="req/s",
                value=two["rate"],
                p99=two["p99"],
                baseline_case="one web process",
                baseline_value=one["rate"],
                baseline_p99=one["p99"],
                higher_is_better=True,
                details={
                    "clients": CLIENTS,
                    "seconds": seconds,
                    "growth": round(two["rate"] / one["rate"], 2),
                    "rate_per_process": two["rates"],
                    "p50_ms": {"one": one["p50"], "two": two["p50"]},
                    "cores_busy": {"one": one["busy"], "two": two["busy"]},
                },
            )
        )
    return measurements
