"""The benchmark suite's own parts: what it computes and reports must be right before its figures
can be trusted. The scenarios themselves run at scale in `make bench`, not here."""

import importlib
import json
import re
from pathlib import Path

import pytest

from benchmarks import bench
from benchmarks.suite.api import wrk_figures
from benchmarks.suite.core import BenchContext, Measurement, percentile, write_report

WRK_REPORT = """Running 20s test @ http://127.0.0.1:40000
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.40ms    5.02ms  80.11ms   75.00%
    Req/Sec   374.20     40.10   450.00     70.00%
  Latency Distribution
     50%   20.50ms
     75%   23.00ms
     90%   27.10ms
     99%    1.20s
  14962 requests in 20.01s, 9.31MB read
Requests/sec:    747.72
Transfer/sec:    476.30KB
"""


def test_percentile_takes_the_nearest_rank():
    samples = list(range(1, 101))
    assert percentile(samples, 0.5) == 50
    assert percentile(samples, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3, 1, 2], 0.5) == 2


def test_the_scale_shrinks_every_volume_and_keeps_at_least_one_row(tmp_path):
    context = BenchContext(
        database_url="postgres://x", redis_url="redis://x", scale=0.001, workdir=tmp_path
    )
    assert context.volumes == {
        "customers": 1_000,
        "orders": 3_000,
        "interactions": 5_000,
        "deals": 200,
        "tickets": 1_000,
    }
    tiny = BenchContext(
        database_url="postgres://x", redis_url="redis://x", scale=1e-9, workdir=tmp_path
    )
    assert set(tiny.volumes.values()) == {1}


def test_wrk_figures_reads_rate_and_percentiles_in_milliseconds():
    figures = wrk_figures(WRK_REPORT)
    assert figures == {"rate": 747.72, "p50": 20.5, "p99": 1200.0}


def test_wrk_figures_refuses_a_run_with_failed_requests():
    failed = WRK_REPORT.replace("Requests/sec", "  Non-2xx or 3xx responses: 3\nRequests/sec")
    with pytest.raises(RuntimeError, match="failed requests"):
        wrk_figures(failed)
    broken = WRK_REPORT.replace(
        "Requests/sec", "  Socket errors: connect 0, read 2, write 0, timeout 0\nRequests/sec"
    )
    with pytest.raises(RuntimeError, match="failed requests"):
        wrk_figures(broken)


def test_the_report_gives_each_figure_its_baseline_ratio_and_target(tmp_path):
    context = BenchContext(
        database_url="postgres://x", redis_url="redis://x", scale=0.5, workdir=tmp_path
    )
    measurements = [
        Measurement(
            scenario="api",
            case="list",
            unit="req/s",
            value=300.0,
            baseline_case="minimal",
            baseline_value=1200.0,
            higher_is_better=True,
            target="≥ 0.5× minimal view",
            target_met=False,
        ),
        Measurement(
            scenario="search",
            case="phone",
            unit="ms",
            value=12.0,
            p99=40.0,
            baseline_case="bare SQL",
            baseline_value=4.0,
            baseline_p99=9.0,
            target="p99 < 50 ms",
            target_met=True,
        ),
        Measurement(scenario="models", case="churn: training", unit="s", value=42.0),
    ]
    markdown_path, json_path = write_report(
        measurements, directory=tmp_path, context=context, started=0.0
    )
    markdown = markdown_path.read_text()
    assert (
        "| api | list | req/s | 300 | — | minimal | 1,200 | — | 0.25× | ≥ 0.5× minimal view ❌ |"
        in markdown
    )
    assert (
        "| search | phone | ms | 12.0 | 40.0 | bare SQL | 4.00 | 9.00 | 3.00× | p99 < 50 ms ✅ |"
        in markdown
    )
    assert "| models | churn: training | s | 42.0 | — | — | — | — | — |  |" in markdown
    assert "500,000 customers" in markdown
    payload = json.loads(json_path.read_text())
    assert payload["volumes"]["tickets"] == 500_000
    assert [item["ratio"] for item in payload["measurements"]] == [0.25, 3.0, None]


def test_every_scenario_the_runner_names_is_a_module_with_run():
    for name in bench.SCENARIOS:
        module = importlib.import_module(f"benchmarks.suite.{name}")
        assert callable(module.run), name


def test_the_runner_refuses_an_unknown_scenario(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["bench.py", "--only", "api,nonsense"])
    with pytest.raises(SystemExit):
        bench.main()
    assert "unknown scenarios: nonsense" in capsys.readouterr().err


@pytest.mark.urls("benchmarks.urls")
def test_the_baseline_view_answers_json_through_the_same_middleware(client):
    response = client.get("/bench/minimal")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "Content-Security-Policy" in response.headers


def test_the_suite_is_documented_where_make_bench_is():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "make bench" in readme


def test_every_result_the_readme_quotes_is_committed():
    root = Path(__file__).resolve().parents[2]
    quoted = set(re.findall(r"\((benchmarks/results/[^)\s]+)\)", (root / "README.md").read_text()))
    assert quoted
    for path in quoted:
        assert (root / path).is_file(), path
        assert (root / path).with_suffix(".json").is_file(), path


def test_a_latency_measurement_takes_its_figures_from_the_samples():
    measurement = Measurement.latency(
        scenario="search",
        case="phone",
        samples=list(range(1, 101)),
        baseline_case="bare SQL",
        baseline_samples=[2.0, 4.0, 6.0],
        p99_target_ms=50,
    )
    assert (measurement.value, measurement.p99) == (50, 99)
    assert (measurement.baseline_value, measurement.baseline_p99) == (4.0, 6.0)
    assert measurement.target == "p99 < 50 ms"
    assert measurement.target_met is False
    assert measurement.summary() == "search: phone: p50 50.0 ms, p99 99.0 ms (bare SQL p50 4.0 ms)"
    alone = Measurement.latency(scenario="chat", case="x", samples=[1.0])
    assert (alone.baseline_value, alone.target, alone.target_met) == (None, "", None)


def test_the_seed_fingerprint_changes_with_the_volumes_and_with_the_seed_code(
    tmp_path, monkeypatch
):
    # given a project whose seed code is one demo module
    from benchmarks.suite import seed

    (tmp_path / "customers").mkdir()
    demo = tmp_path / "customers" / "demo.py"
    demo.write_text("CUSTOMERS_PER_COMPANY = 20\n")
    (tmp_path / "customers" / "views.py").write_text("VIEWS = 1\n")
    monkeypatch.setattr(seed, "ROOT", tmp_path)
    first = seed.seed_fingerprint({"customers": 100})

    # when nothing changes, or only code the seed does not run, it is the same
    (tmp_path / "customers" / "views.py").write_text("VIEWS = 2\n")
    assert seed.seed_fingerprint({"customers": 100}) == first

    # then other volumes, or a changed demo module, give another
    assert seed.seed_fingerprint({"customers": 200}) != first
    demo.write_text("CUSTOMERS_PER_COMPANY = 30\n")
    assert seed.seed_fingerprint({"customers": 100}) != first


@pytest.mark.postgres
def test_a_saved_seed_is_copied_with_its_record_and_replaces_the_suites_database():
    # given a database holding a table, saved as the suite's seed with its record
    from django.db import connection
    from psycopg2 import sql

    from benchmarks.suite import seed

    server = connection.settings_dict
    url = (
        f"postgres://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"
        "/crm_bench_suite_test"
    )
    record = {"fingerprint": "abc", "date": "2026-11-24", "seconds": 12.5, "details": {}}
    try:
        seed._database_recreate(url)
        _run_sql(url, "CREATE TABLE seeded (n int); INSERT INTO seeded VALUES (7)")
        seed._snapshot_save(url, record)
        assert seed._snapshot_record(url) == record

        # when the suite's database changes and is then made again from the saved seed
        _run_sql(url, "DELETE FROM seeded")
        seed._database_recreate(url, template=seed._snapshot_name(url))

        # then it holds the saved rows again
        assert _run_sql(url, "SELECT n FROM seeded") == [(7,)]
    finally:
        seed._maintenance(
            url,
            [
                (
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
                    None,
                )
                for name in ("crm_bench_suite_test", "crm_bench_suite_test_seed")
            ],
        )


def _run_sql(url: str, statement: str) -> list | None:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else None
    finally:
        connection.close()
