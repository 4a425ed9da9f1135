"""Time the deal board, its column pages, the deal list and the forecast, per role, at 100,000
open deals, and show how PostgreSQL plans the board's queries.

    createdb -h 127.0.0.1 -U postgres crm_bench_sales
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_sales
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/sales_board_forecast.py --setup --customers 200000
    .venv/bin/python benchmarks/sales_board_forecast.py --repeat 20 --explain

`--setup` seeds the demo (`seed_demo`) when the database has no customers yet, then adds deals
through `sales.demo.seed_deals` (COPY, indexes built after the load) until there are about
`--open-deals` open ones (outcomes are drawn, so give or take a few hundred), with one closed
deal for every ten open ones added, and ANALYZEs the sales tables (autovacuum may be off).

Requests go through Django's test client (routing, middleware, view, template), signed in with
signed-cookie sessions so nothing is written. Each case is requested `--warmup` times, then
`--repeat` times; the table gives the median, the 95th percentile and the SQL queries of one
request. A page still served by its placeholder module is skipped and said so. With `--explain`
the board's totals query and its first column's cards query, as the rep's board ran them, are
printed with EXPLAIN (ANALYZE, BUFFERS). Results go to benchmarks/results/ by hand.
"""

import argparse
import math
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.test")

CLOSED_PER_OPEN = 0.1
FORECAST_API = "/api/v1/forecasts/"
HTMX = {"HTTP_HX_REQUEST": "true"}
# A "load more" link of a board column, whatever its query string.
COLUMN_LINK = re.compile(r'(?:hx-get|href)="([^"]*/board/\d+/stages/\d+/cards/[^"]*)"')


def setup(*, customers: int, open_deals: int, seed: int) -> None:
    import random

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from crm.demo import DemoContext
    from customers.models import Customer
    from sales.demo import customers_sample, seed_deals
    from sales.models import Deal, Stage

    if not Customer.objects.exists():
        call_command("seed_demo", customers=customers, seed=seed)
    existing = Deal.objects.filter(stage__kind=Stage.Kind.OPEN).count()
    missing = open_deals - existing
    if missing > 0:
        count = math.ceil(missing / (1 - CLOSED_PER_OPEN / (1 + CLOSED_PER_OPEN)))
        context = DemoContext(
            rng=random.Random(seed + 1),
            customers=0,
            today=timezone.localdate(),
            log=lambda message: print(message, file=sys.stderr),
        )
        sample = customers_sample(using="default", rng=context.rng, after_pk=0, count=count)
        seed_deals(
            context,
            customers=sample,
            closed_share=CLOSED_PER_OPEN / (1 + CLOSED_PER_OPEN),
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE sales_deal, sales_dealstagechange, sales_dealline, sales_stage, "
            "sales_pipeline, sales_salestarget, accounts_teammembership, accounts_team"
        )


def is_placeholder(module_name: str) -> bool:
    from importlib import import_module

    return hasattr(import_module(module_name), "_placeholder")


def forecast_api_exists() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(FORECAST_API)
    except Resolver404:
        return False
    return True


def cases(*, rep, pipeline, board_html: str, period: str) -> tuple[list, list[str]]:
    """(name, url, params, headers) of every case that can run now, and why the others cannot."""
    from django.urls import reverse

    board = reverse("sales:board")
    runnable = [
        ("board", board, {}, {}),
        ("board, owner filter (the rep)", board, {"owner": rep.pk}, {}),
        ("board, other pipeline", reverse("sales:board_pipeline", args=[pipeline.pk]), {}, {}),
    ]
    skipped = []
    column_links = COLUMN_LINK.findall(board_html)
    if column_links:
        link = column_links[0].replace("&amp;", "&")
        runnable.append(("board column, load more (htmx)", link, {}, HTMX))
    else:
        skipped.append("board column 'load more': the board page shows no column link")
    runnable.append(("deal list", reverse("sales:deal_list"), {}, {}))
    if is_placeholder("sales.views.forecasts"):
        skipped.append("forecast page: sales/views/forecasts.py is still the placeholder")
    else:
        runnable.append(("forecast page", reverse("sales:forecast"), {"period": period}, {}))
    if forecast_api_exists():
        for group in ("rep", "team"):
            params = {"period": period, "group": group}
            runnable.append((f"forecast API, by {group}", FORECAST_API, params, {}))
    else:
        skipped.append(f"forecast API: {FORECAST_API} is not routed yet")
    return runnable, skipped


def time_case(client, url, params, headers, *, warmup: int, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        client.get(url, params, **headers)
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params, **headers)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)]
    return response, statistics.median(timings), p95, len(queries)


def board_queries(client, url: str) -> tuple[str | None, str | None]:
    """The totals query and the first cards query the board page ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    totals = cards = None
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or '"sales_deal"' not in sql:
            continue
        if totals is None and "GROUP BY" in sql and "SUM(" in sql:
            totals = sql
        elif (
            cards is None and "LIMIT" in sql and "expected_close_date" in sql.split("ORDER BY")[-1]
        ):
            cards = sql
    return totals, cards


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def data_summary(rep) -> str:
    from crm.accounts.selectors import records_visible_to
    from customers.models import Customer
    from sales.models import Deal, Stage

    open_deals = Deal.objects.filter(stage__kind=Stage.Kind.OPEN)
    return (
        f"{Customer.objects.count():,} customers, {Deal.objects.count():,} deals "
        f"({open_deals.count():,} open); the rep sees "
        f"{records_visible_to(user=rep, queryset=open_deals).count():,} open deals"
    )


def this_quarter() -> str:
    from django.utils import timezone

    today = timezone.localdate()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.signals import user_logged_in
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from crm.accounts.models import User
    from sales.models import Pipeline

    parser = argparse.ArgumentParser()
    parser.add_argument("--setup", action="store_true", help="seed and load deals first")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--open-deals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--users", default="rep,admin")
    parser.add_argument("--period", default="", help="forecast period (this quarter by default)")
    parser.add_argument("--explain", action="store_true")
    options = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    if options.setup:
        setup(customers=options.customers, open_deals=options.open_deals, seed=options.seed)

    user_logged_in.disconnect(dispatch_uid="update_last_login")
    rep = User.objects.get(username="rep")
    other_pipeline = Pipeline.objects.filter(is_default=False).order_by("pk").first()
    period = options.period or this_quarter()
    print(f"data: {data_summary(rep)}", file=sys.stderr)
    rows = []
    skipped: list[str] = []
    plans = {}
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        for username in options.users.split(","):
            client = Client()
            client.force_login(User.objects.get(username=username))
            board_html = client.get(reverse("sales:board")).content.decode()
            runnable, skipped = cases(
                rep=rep, pipeline=other_pipeline, board_html=board_html, period=period
            )
            for name, url, params, headers in runnable:
                response, median, p95, queries = time_case(
                    client, url, params, headers, warmup=options.warmup, repeat=options.repeat
                )
                row = (name, username, response.status_code, median, p95, queries)
                print("| {} | {} | {} | {:.0f} | {:.0f} | {} |".format(*row), file=sys.stderr)
                rows.append(row)
            if options.explain and username == "rep":
                plans = dict(
                    zip(
                        ("totals", "cards"),
                        board_queries(client, reverse("sales:board")),
                        strict=True,
                    )
                )

    print(f"{data_summary(rep)}\n")
    print(f"{options.repeat} runs after {options.warmup} warm-up requests\n")
    print("| case | user | status | median ms | p95 ms | queries |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| {} | {} | {} | {:.0f} | {:.0f} | {} |".format(*row))
    for reason in skipped:
        print(f"\nskipped: {reason}")
    for label, sql in plans.items():
        print(f"\n### {label} query of the rep's board\n")
        if sql is None:
            print("(not found among the board's queries)")
            continue
        print(f"```sql\n{sql}\n```\n\n```\n{explain(sql)}\n```")


if __name__ == "__main__":
    main()
