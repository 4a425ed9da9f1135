"""Scenario 1 and 7: the customer API under 16 concurrent clients, and a web worker's memory.

The server is the production one as docker-compose.yml starts it (`gunicorn crm.asgi:application
-c crm/gunicorn.conf.py`: Uvicorn workers, as many as gunicorn.conf.py picks for this machine)
with the production settings plus one URL, `/bench/minimal` (benchmarks/urls.py), a Django view
that answers `{"ok": true}` through the same middleware: the baseline. The load generator is wrk
(C, epoll), which costs a fraction of a core at these rates, so the server is what is measured.

Every request carries a demo rep's API token, so the visibility rules, throttling (at a rate the
load cannot reach) and authentication run as they do for an integrator. The list requests rotate
over filtered and sorted first pages and the detail requests over customers the rep may see.
"""

import multiprocessing
import re
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.chat_load import free_port, start_server, stop_server, worker_rss_mib
from benchmarks.suite.core import PYTHON, ROOT, BenchContext, Measurement, django_setup

CLIENTS = 16
# gunicorn.conf.py's own default, which docker-compose.yml leaves in place.
WEB_WORKERS = multiprocessing.cpu_count() * 2
THROUGHPUT_TARGET_RATIO = 0.5
P99_TARGET_MS = 100
DETAIL_SAMPLE = 500
LIST_QUERIES = [
    {"status": "customer", "ordering": "-created_at"},
    {"tier": "vip", "ordering": "name"},
    {"ordering": "-total_spend"},
    {"status": "lead", "ordering": "-last_contact_at"},
    {"tier": "premium", "status": "customer", "ordering": "-total_spend"},
    {"never_contacted": "false", "ordering": "created_at"},
]
LATENCY_LINE = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
RATE_LINE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
ERRORS_LINE = re.compile(r"Non-2xx or 3xx responses: (\d+)")
SOCKET_ERRORS_LINE = re.compile(r"Socket errors: (.*)")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
ROTATING_SCRIPT = """
paths = {%s}
counter = 0
failed = ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

response = function(status, headers, body)
  if status >= 300 and #failed < 2000 then
    failed = failed .. status .. " " .. string.sub(body, 1, 200) .. "\\n"
  end
end

done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(thread:get("failed"))
  end
end
"""


def _rep_token_and_paths() -> tuple[str, list[str], list[str]]:
    """A fresh API token of the demo rep, the list paths, and detail paths the rep may see."""
    from crm.accounts.models import User
    from crm.accounts.services import api_token_create
    from customers.selectors.customers import customer_list_visible

    rep = User.objects.get(username="rep")
    _token, plain = api_token_create(user=rep, name=f"benchmark {time.strftime('%H:%M:%S')}")
    visible_ids = list(
        customer_list_visible(user=rep).order_by().values_list("pk", flat=True)[:DETAIL_SAMPLE]
    )
    list_paths = [
        "/api/v1/customers/?" + urlencode({"page_size": 50, **query}) for query in LIST_QUERIES
    ]
    detail_paths = [f"/api/v1/customers/{pk}/" for pk in visible_ids]
    return plain, list_paths, detail_paths


def server_environment(context: BenchContext) -> dict:
    """The production settings with the suite's baseline URL and throttling out of reach, the
    static files collected as the Dockerfile does at build."""
    environment = context.environment(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CRM_API_RATE_TOKEN="100000000/minute",
        CRM_API_RATE_USER="100000000/minute",
    )
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
    return environment


def production_server(
    context: BenchContext, *, workers: int = WEB_WORKERS, name: str = "gunicorn"
) -> tuple[subprocess.Popen, str, Path]:
    """gunicorn as docker-compose.yml runs it, with `workers` Uvicorn workers: the process, its
    base URL and its log."""
    port = free_port()
    log_path = context.workdir / f"{name}.log"
    process = start_server(port, workers, log_path=log_path, env=server_environment(context))
    return process, f"http://127.0.0.1:{port}", log_path


def wrk_run(
    base_url: str,
    paths: list[str],
    *,
    token: str,
    seconds: int,
    workdir: Path,
    clients: int = CLIENTS,
) -> dict[str, float]:
    """wrk with `clients` connections over `paths` in turn: requests/s, p50 and p99 in ms."""
    script = ROTATING_SCRIPT % ", ".join(f'"{path}"' for path in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=workdir, delete=False) as file:
        file.write(script)
    try:
        completed = subprocess.run(
            [
                *("wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "10s"),
                *("-s", file.name, "-H", f"Authorization: Token {token}"),
                *("-H", "X-Forwarded-Proto: https", base_url),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        Path(file.name).unlink()
    return wrk_figures(completed.stdout)


def wrk_figures(output: str) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) from wrk's `--latency` report; an error if any failed."""
    failures = ERRORS_LINE.search(output)
    if failures or SOCKET_ERRORS_LINE.search(output):
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    latencies = {
        percent: float(value) * UNIT_MS[unit]
        for percent, value, unit in LATENCY_LINE.findall(output)
    }
    return {
        "rate": float(RATE_LINE.search(output).group(1)),
        "p50": latencies["50"],
        "p99": latencies["99"],
    }


def run(context: BenchContext) -> list[Measurement]:
    django_setup(context)
    token, list_paths, detail_paths = _rep_token_and_paths()
    seconds = 20 if context.scale >= 0.5 else 5
    server, base_url, log_path = production_server(context)
    try:
        idle_rss = worker_rss_mib(server)
        cases = {
            "minimal": ["/bench/minimal"],
            "list": list_paths,
            "detail": detail_paths,
        }
        results = {}
        for name, paths in cases.items():
            context.log(f"api: {name}, {CLIENTS} clients, {seconds}s after a warm-up")
            try:
                wrk_run(base_url, paths, token=token, seconds=3, workdir=context.workdir)
                results[name] = wrk_run(
                    base_url, paths, token=token, seconds=seconds, workdir=context.workdir
                )
            except RuntimeError as error:
                log_tail = log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"{error}\nThe server's log ends:\n{log_tail}") from None
        loaded_rss = worker_rss_mib(server)
    finally:
        stop_server(server)

    baseline = results["minimal"]
    measurements = []
    for name, label in (
        ("list", "GET /api/v1/customers/ (50, filtered, sorted)"),
        ("detail", "GET /api/v1/customers/<id>/"),
    ):
        result = results[name]
        meets_rate = result["rate"] >= THROUGHPUT_TARGET_RATIO * baseline["rate"]
        measurements.append(
            Measurement(
                scenario="api",
                case=f"{label}: throughput",
                unit="req/s",
                value=result["rate"],
                baseline_case="minimal Django JSON view",
                baseline_value=baseline["rate"],
                higher_is_better=True,
                target=f"≥ {THROUGHPUT_TARGET_RATIO}× minimal view" if name == "list" else "",
                target_met=meets_rate if name == "list" else None,
            )
        )
        measurements.append(
            Measurement(
                scenario="api",
                case=f"{label}: latency",
                unit="ms",
                value=result["p50"],
                p99=result["p99"],
                baseline_case="minimal Django JSON view",
                baseline_value=baseline["p50"],
                baseline_p99=baseline["p99"],
                target=f"p99 < {P99_TARGET_MS} ms",
                target_met=result["p99"] < P99_TARGET_MS,
                details={"clients": CLIENTS, "seconds": seconds},
            )
        )
    largest = max(loaded_rss.values())
    measurements.append(
        Measurement(
            scenario="memory",
            case="largest web worker after the API load",
            unit="MiB",
            value=largest,
            baseline_case="largest web worker idle after start",
            baseline_value=max(idle_rss.values()),
            details={"workers_after": loaded_rss, "workers_idle": idle_rss},
        )
    )
    return measurements
