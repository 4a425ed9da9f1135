"""Time the manager and rep dashboards, each chart's JSON endpoint and the dashboards' API, as a
manager, a rep and an admin, with a cold and a warm figure cache, on the dataset of
benchmarks/analytics_dataset.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_analytics
    .venv/bin/python benchmarks/analytics_dashboards.py --repeat 5 --explain

Requests go through Django's test client (routing, middleware, view, template), signed in with
signed-cookie sessions so nothing is written. Cold: the cache is cleared before each request, so
every figure is computed; warm: the same request again, served from the minute-long cache. The
database's own buffers are warm in both (one untimed request first). The table gives the median
and the slowest of `--repeat` requests and the SQL queries of a cold one. `--explain` prints
EXPLAIN (ANALYZE, BUFFERS) of the revenue (rollup and shared orders) and top-customers (spend and
period orders) queries as the manager runs them. Refresh the order rollup first
(analytics.services.rollups.order_daily_totals_refresh), as the beat would have.
Results go to benchmarks/analytics_dashboards_results.md by hand.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.test")

USERS = {
    "manager": "bench_manager_0",
    "rep": "bench_rep_0_0",
    "admin": "bench_admin",
}


def cases(role: str) -> list[tuple[str, str]]:
    from analytics.selectors.dashboards import MANAGER_CHARTS, REP_CHARTS

    rows = []
    if role != "rep":
        rows.append(("manager dashboard page", "/analytics/"))
        rows += [(f"chart {key}", f"/analytics/charts/{key}/") for key in MANAGER_CHARTS]
        rows.append(("API manager dashboard (all charts)", "/api/v1/dashboards/manager/"))
    rows.append(("rep dashboard page", "/analytics/me/"))
    rows += [(f"chart {key}", f"/analytics/charts/{key}/") for key in REP_CHARTS]
    rows.append(("API rep dashboard (all charts)", "/api/v1/dashboards/rep/"))
    return rows


def timed(client, url: str, *, cold: bool) -> tuple[float, int, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, len(queries)


def time_case(client, url: str, *, repeat: int) -> dict:
    timed(client, url, cold=True)
    cold, warm = [], []
    status = queries = 0
    for _ in range(repeat):
        elapsed, status, queries = timed(client, url, cold=True)
        cold.append(elapsed)
        warm.append(timed(client, url, cold=False)[0])
    return {
        "status": status,
        "queries": queries,
        "cold": statistics.median(cold),
        "cold_max": max(cold),
        "warm": statistics.median(warm),
    }


def explain(user) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the grouped order queries of the revenue and top-customers
    charts, as `user` runs them with the default filters."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.dashboard_filters import dashboard_filter_parse
    from analytics.selectors.dashboards import chart_revenue, chart_top_customers

    filters = dashboard_filter_parse(user=user, params={})
    plans = []
    for build in (chart_revenue, chart_top_customers):
        with CaptureQueriesContext(connection) as queries:
            build(user=user, filters=filters)
        for query in queries.captured_queries:
            reads_orders = '"customers_order"' in query["sql"] and "GROUP BY" in query["sql"]
            reads_rollup = (
                '"analytics_orderdailytotal"' in query["sql"] and "GROUP BY" in query["sql"]
            )
            if reads_orders or reads_rollup or "total_spend" in query["sql"]:
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                plans.append(f"-- {build.__name__}\n{plan}")
    return "\n\n".join(plans)


def data_summary() -> str:
    from customers.models import Customer, Order
    from sales.models import Deal
    from service.models import Ticket

    return (
        f"{Customer.objects.count():,} customers, {Order.objects.count():,} orders, "
        f"{Deal.objects.count():,} deals, {Ticket.objects.count():,} tickets"
    )


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.signals import user_logged_in
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from crm.accounts.models import User

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--users", default="manager,rep,admin")
    parser.add_argument("--explain", action="store_true")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database of analytics_dataset.py.")

    user_logged_in.disconnect(dispatch_uid="update_last_login")
    summary = data_summary()
    print(f"data: {summary}", file=sys.stderr)
    rows = []
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        for role in options.users.split(","):
            user = User.objects.get(username=USERS[role])
            client = Client(raise_request_exception=False)
            client.force_login(user)
            for name, url in cases(role):
                result = time_case(client, url, repeat=options.repeat)
                row = (
                    name,
                    role,
                    result["status"],
                    result["cold"],
                    result["cold_max"],
                    result["warm"],
                    result["queries"],
                )
                print(
                    "| {} | {} | {} | {:.0f} | {:.0f} | {:.1f} | {} |".format(*row),
                    file=sys.stderr,
                    flush=True,
                )
                rows.append(row)
            if options.explain and role == "manager":
                print(explain(user))

    print(f"{summary}; default period (last 12 months)\n")
    print(f"median of {options.repeat} requests; cold = cache cleared before each request\n")
    print("| case | user | status | cold median ms | cold max ms | warm median ms | queries |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| {} | {} | {} | {:.0f} | {:.0f} | {:.1f} | {} |".format(*row))


if __name__ == "__main__":
    main()
