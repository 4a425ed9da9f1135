"""Time the customer analytics charts (each chart's JSON endpoint, the top customers table and the
API of every chart) as an admin, a manager and a rep with a cold figure cache, and the nightly
refresh of the customer values, on the dataset of benchmarks/analytics_dataset.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_analytics
    .venv/bin/python benchmarks/customer_analytics.py --repeat 3 --refresh

Requests go through Django's test client (routing, middleware, view), signed in with
signed-cookie sessions so nothing is written; the cache is cleared before each request, so every
figure is computed. The database's own buffers are warm (one untimed request first). The table
gives the median and the slowest of `--repeat` requests and the SQL queries of one. `--refresh`
first times customer_values_refresh(). Results go to benchmarks/customer_analytics_results.md by
hand.
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
    "admin": "bench_admin",
    "manager": "bench_manager_0",
    "rep": "bench_rep_0_0",
}


def cases() -> list[tuple[str, str]]:
    from analytics.selectors.customer_analytics import CUSTOMER_CHARTS

    rows = [(f"chart {key}", f"/analytics/customers/charts/{key}/") for key in CUSTOMER_CHARTS]
    rows.append(("top customers table", "/analytics/customers/top-customers/"))
    rows.append(("API every chart", "/api/v1/customer-analytics/"))
    return rows


def timed(client, url: str) -> tuple[float, int, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, len(queries)


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.signals import user_logged_in
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from analytics.services.customer_values import customer_values_refresh
    from crm.accounts.models import User
    from customers.models import Customer, Order

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--users", default="admin,manager,rep")
    parser.add_argument("--refresh", action="store_true")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database of analytics_dataset.py.")

    user_logged_in.disconnect(dispatch_uid="update_last_login")
    summary = f"{Customer.objects.count():,} customers, {Order.objects.count():,} orders"
    print(f"data: {summary}", file=sys.stderr)
    if options.refresh:
        started = time.perf_counter()
        written = customer_values_refresh()
        print(f"customer_values_refresh: {written:,} rows in {time.perf_counter() - started:.1f} s")
    rows = []
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        for role in options.users.split(","):
            client = Client(raise_request_exception=False)
            client.force_login(User.objects.get(username=USERS[role]))
            for name, url in cases():
                timed(client, url)
                runs = [timed(client, url) for _ in range(options.repeat)]
                times = [elapsed for elapsed, _status, _queries in runs]
                row = (name, role, runs[-1][1], statistics.median(times), max(times), runs[-1][2])
                print("| {} | {} | {} | {:.0f} | {:.0f} | {} |".format(*row), file=sys.stderr)
                rows.append(row)

    print(f"{summary}; default period (last 12 months); cache cleared before each request\n")
    print("| case | user | status | cold median ms | cold max ms | queries |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| {} | {} | {} | {:.0f} | {:.0f} | {} |".format(*row))


if __name__ == "__main__":
    main()
