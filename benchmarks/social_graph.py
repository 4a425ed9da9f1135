"""Build the social graph of 100,000 customers and about 500,000 ties, and time its pages and API
endpoints as a manager and as a rep (issue 7: "the job finishes in minutes and each page answers
in under a second").

    .venv/bin/python benchmarks/social_graph.py --repeat 5 --explain

It makes its own scratch database (`--database`, dropped and created again on the server of
`--server`), migrates it, fills it with INSERT ... SELECT over generate_series, runs one graph
build (graph_build_request + graph_build_run, in this process) and times the requests; the
database is dropped at the end unless `--keep`. `--reuse` skips the set-up and the build and
times the requests on a database kept earlier.

The data (users `graph_*`, two teams "Graph A" and "Graph B", each with a manager and
`--reps` reps):
- `--customers` customers owned in turn by the reps (so both teams alternate along the ids),
  70 % of them working at one of `--companies` companies (a dozen neighbouring ids share one);
- `--relationships` relationships between customers at most 150 ids apart (so ties cluster and
  the communities are neighbourhoods), kinds and strengths drawn evenly;
- `--interactions` interactions, handled 68 % by the customer's owner, 2 % by the owner's
  manager and 30 % by any rep;
- an island of four customers of team A tied only to each other (no owner, company or
  interaction): the target no introduction can reach.
Graph edges: one per customer to the owner, one to the company, one per related pair, one per
(non-owner) staff member who handled the customer: about 500,000 with the defaults.

Requests go through Django's test client (routing, middleware, view, template) with
signed-cookie sessions, `--warmup` times then `--repeat` times each: median, slowest and the SQL
queries of one request, and for introductions what the search answered. With `--explain` the
slowest query of every case whose median is over `--explain-over` ms (a second) is printed with
EXPLAIN (ANALYZE, BUFFERS). The influence panel is also timed alone (the hook, no page). The
table goes to stdout, progress to stderr; results go to benchmarks/social_graph_results.md by
hand.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.test")

PREFIX = "graph_"
TEAMS = ("Graph A", "Graph B")
ISLAND = 4
# How far apart (in ids) two related customers may be, and how many neighbouring ids share a
# company: ties cluster into neighbourhoods, as real acquaintance does.
RELATIONSHIP_SPAN = 150
COMPANY_BLOCK = 12
SECOND = 1000.0
ROW = "| {} | {} | {} | {:.0f} | {:.0f} | {} | {} |"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def database_recreate(*, server: str, name: str, drop_only: bool = False) -> None:
    import psycopg2

    parts = urlsplit(server)
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


class Steps:
    def run(self, label: str, sql: str, params: dict | None = None) -> None:
        from django.db import connection

        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params or {})
            rows = cursor.rowcount
        log(f"  {label:<34} {rows:>9} rows {time.perf_counter() - began:7.1f} s")


def users_create(*, reps: int) -> dict:
    """Teams, managers and reps; {"reps": [ids], "teams": [team id of each rep], ...}."""
    from django.contrib.auth.models import Group

    from crm.accounts import roles
    from crm.accounts.models import Team, TeamMembership, User

    rep_group = Group.objects.get(name=roles.SALES_REP)
    manager_group = Group.objects.get(name=roles.MANAGER)
    rep_ids, rep_teams, managers = [], [], []
    for index, name in enumerate(TEAMS):
        manager = User.objects.create_user(
            username=f"{PREFIX}manager_{index}", password="bench", is_staff=True
        )
        manager.groups.add(manager_group)
        team = Team.objects.create(name=name, manager=manager)
        managers.append(manager.pk)
        for number in range(reps):
            rep = User.objects.create_user(username=f"{PREFIX}rep_{index}_{number}", password="b")
            rep.groups.add(rep_group)
            TeamMembership.objects.create(team=team, user=rep)
            rep_ids.append(rep.pk)
            rep_teams.append(team.pk)
    # Rep i belongs to team rep_teams[i]; interleave them so consecutive customers alternate.
    order = sorted(range(len(rep_ids)), key=lambda i: (i % reps, rep_teams[i]))
    rep_ids = [rep_ids[i] for i in order]
    rep_teams = [rep_teams[i] for i in order]
    team_manager = dict(
        zip(
            Team.objects.filter(name__in=TEAMS).order_by("name").values_list("pk", flat=True),
            managers,
            strict=True,
        )
    )
    return {
        "reps": rep_ids,
        "teams": rep_teams,
        "managers": [team_manager[team] for team in rep_teams],
        "r": len(rep_ids),
        "team_a": rep_teams[rep_teams.index(min(rep_teams))],
    }


def dataset_create(
    *, customers: int, companies: int, relationships: int, interactions: int, reps: int
) -> None:
    from django.db import connection

    steps = Steps()
    params = {
        **users_create(reps=reps),
        "n": customers,
        "companies": companies,
        "relationships": relationships,
        "interactions": interactions,
        "span": RELATIONSHIP_SPAN,
        "block": COMPANY_BLOCK,
        "island": ISLAND,
    }
    started = time.perf_counter()
    log("data:")
    steps.run(
        "companies",
        """
        INSERT INTO customers_company (id, created_at, updated_at, name, industry, size, website,
            street, city, province, postcode, country, owner_id, team_id)
        SELECT g, now(), now(), 'Graph company ' || g, '', '', '', '',
            (ARRAY['Shanghai', 'Beijing', 'Shenzhen', 'Chengdu', 'Hangzhou'])[1 + g %% 5],
            '', '', 'CN', (%(reps)s::bigint[])[1 + g %% %(r)s],
            (%(teams)s::bigint[])[1 + g %% %(r)s]
        FROM generate_series(1, %(companies)s) AS g
        """,
        params,
    )
    customer_columns = """
        id, created_at, updated_at, name, gender, email, phone, street, city, province, postcode,
        country, income_currency, job_title, source, status, tier, marketing_consent, notes,
        external_id, custom_attributes, language, order_count, total_spend, owner_id, team_id,
        company_id
    """
    steps.run(
        "customers",
        f"""
        INSERT INTO customers_customer ({customer_columns})
        SELECT g, now() - make_interval(days => g %% 1000), now(), 'Graph customer ' || g, '',
            'graph' || g || '@example.com', '', '',
            (ARRAY['Shanghai', 'Beijing', 'Shenzhen', 'Chengdu', 'Hangzhou'])[1 + (g / 500) %% 5],
            '', '', 'CN', '', '', 'web',
            (ARRAY['lead', 'prospect', 'customer', 'customer', 'churned'])[1 + g %% 5],
            'normal', false, '', '', '{{}}'::jsonb, '', 0, 0,
            (%(reps)s::bigint[])[1 + g %% %(r)s], (%(teams)s::bigint[])[1 + g %% %(r)s],
            CASE WHEN g %% 10 < 7 THEN 1 + (g / %(block)s) %% %(companies)s END
        FROM generate_series(1, %(n)s) AS g
        """,
        params,
    )
    steps.run(
        "island customers",
        f"""
        INSERT INTO customers_customer ({customer_columns})
        SELECT %(n)s + g, now(), now(), 'Graph islander ' || g, '', '', '', '', '', '', '', 'CN',
            '', '', 'web', 'lead', 'normal', false, '', '', '{{}}'::jsonb, '', 0, 0,
            NULL, %(team_a)s, NULL
        FROM generate_series(1, %(island)s) AS g
        """,
        params,
    )
    steps.run(
        "customer id sequences",
        "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), "
        "(SELECT max(id) FROM customers_customer)), "
        "setval(pg_get_serial_sequence('customers_company', 'id'), "
        "(SELECT max(id) FROM customers_company))",
    )
    steps.run(
        "relationships",
        """
        INSERT INTO customers_relationship (created_at, updated_at, from_customer_id,
            to_customer_id, kind, strength, notes)
        SELECT now(), now(), source, 1 + (source - 1 + 1 + floor(random() * %(span)s)::int)
               %% %(n)s,
            (ARRAY['referred_by', 'colleague', 'family', 'partner'])[1 + floor(random() * 4)::int],
            1 + floor(random() * 5)::int, ''
        FROM (SELECT 1 + (g - 1) %% %(n)s AS source
              FROM generate_series(1, %(relationships)s) AS g) AS generated
        ON CONFLICT DO NOTHING
        """,
        params,
    )
    steps.run(
        "island relationships",
        """
        INSERT INTO customers_relationship (created_at, updated_at, from_customer_id,
            to_customer_id, kind, strength, notes)
        SELECT now(), now(), %(n)s + g, %(n)s + g + 1, 'family', 3, ''
        FROM generate_series(1, %(island)s - 1) AS g
        """,
        params,
    )
    steps.run(
        "interactions",
        """
        INSERT INTO customers_interaction (created_at, updated_at, customer_id, channel,
            direction, subject, summary, outcome, handled_by_id, occurred_at)
        SELECT occurred, occurred, c.id, 'call', 'outbound', '', '', 'completed',
            CASE WHEN pick < 0.68 THEN c.owner_id
                 WHEN pick < 0.70 THEN (%(managers)s::bigint[])[1 + c.id %% %(r)s]
                 ELSE (%(reps)s::bigint[])[1 + floor(random() * %(r)s)::int] END,
            occurred
        FROM (SELECT g, random() AS pick, now() - random() * interval '365 days' AS occurred
              FROM generate_series(1, %(interactions)s) AS g) AS generated
        JOIN customers_customer AS c ON c.id = 1 + (g * 7919) %% %(n)s
        """,
        params,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  {'total':<34} {'':>14} {time.perf_counter() - started:7.1f} s")


def graph_build() -> dict:
    """One build through the service, in this process; its job's stats and timings."""
    from analytics.models import AnalyticsJob, ModelVersion
    from analytics.services.network import graph_build_request, graph_build_run

    # The request queues the task on commit (eager Celery would run it right there): hold it
    # back so the request and the run are timed apart.
    began = time.perf_counter()
    with mock.patch("analytics.tasks.network.graph_build_task.delay"):
        job = graph_build_request(trigger=ModelVersion.Trigger.COMMAND)
    requested = time.perf_counter() - began
    began = time.perf_counter()
    job = graph_build_run(job_id=job.pk)
    run = time.perf_counter() - began
    job.refresh_from_db()
    if job.status != AnalyticsJob.Status.DONE:
        sys.exit(f"The build failed: {job.error}")
    return {"request": requested, "run": run, "stats": job.stats}


def time_case(client, url: str, *, warmup: int, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        client.get(url)
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
    return response, statistics.median(timings), max(timings), queries.captured_queries


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def hops_to(*, user, source: str, target) -> tuple[int | None, bool]:
    """(ties on the shortest path or None, whether the search gave up)."""
    from analytics.ml.graph import SearchTooWide
    from analytics.selectors.network import introduction_path

    try:
        steps = introduction_path(user=user, source=source, target=target)
    except SearchTooWide:
        return None, True
    return (None if steps is None else len(steps) - 1), False


def outcome(response) -> str:
    """What an introduction search answered: the ties found, none, or gave up."""
    if response.status_code != 200:
        return ""
    if response.headers.get("Content-Type", "").startswith("application/json"):
        data = response.json()
        if "found" not in data:
            return ""
        if data["too_wide"]:
            return "gave up (too wide)"
        return f"{len(data['steps']) - 1} ties" if data["found"] else "no path"
    page = response.content.decode()
    if "Too many ties to search from here" in page:
        return "gave up (too wide)"
    if "No chain of known ties leads there" in page:
        return "no path"
    steps = page.count('<li class="list-group-item">')
    return f"{steps - 1} ties" if 'id="path-title"' in page and steps else ""


def targets_pick(*, rep, customers: int) -> dict:
    """The best-connected customer the rep sees, a customer at 3 to 5 ties from it (the
    farthest found among candidates owned by the other reps) and an island customer."""
    from analytics.ml.graph import CUSTOMER, node_name
    from customers.models import Customer
    from customers.selectors.customers import customer_list_visible

    visible = customer_list_visible(user=rep)
    hub = visible.filter(influence__isnull=False).order_by("-influence__connections").first()
    source = node_name(CUSTOMER, hub.pk)
    reachable, best = None, 0
    step = max(customers // 20, 1)
    for offset in range(1, 20):
        candidate = (
            visible.filter(pk__gt=(hub.pk + offset * step) % customers)
            .exclude(owner=hub.owner_id)
            .order_by("pk")
            .first()
        )
        if candidate is None:
            continue
        hops, _too_wide = hops_to(user=rep, source=source, target=candidate)
        if hops is not None and 3 <= hops <= 5 and hops > best:
            reachable, best = candidate, hops
            if hops == 5:
                break
    island = Customer.objects.filter(name__startswith="Graph islander").order_by("pk").last()
    # For "from me": one the rep neither owns nor has handled, so the search must go through
    # the rep's own ties (every customer they own or served).
    stranger = (
        visible.filter(pk__gt=hub.pk, owner__isnull=False)
        .exclude(owner=rep)
        .exclude(interactions__handled_by=rep)
        .order_by("pk")
        .first()
    )
    return {
        "hub": hub,
        "reachable": reachable,
        "hops": best,
        "island": island,
        "stranger": stranger,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="crm_bench_graph")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=8_000)
    parser.add_argument("--relationships", type=int, default=320_000)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3, help="reps per team")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--explain-over", type=float, default=SECOND, help="explain cases slower than this (ms)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time a database kept earlier")
    options = parser.parse_args()

    if not options.reuse:
        database_recreate(server=options.server, name=options.database)
    os.environ["DATABASE_URL"] = f"{options.server.rstrip('/')}/{options.database}"

    import django

    django.setup()
    from django.contrib.auth.signals import user_logged_in
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from analytics.hooks.network import customer_influence_panel
    from analytics.models import AnalyticsJob, Community, CustomerInfluence, GraphEdge
    from crm.accounts.models import User

    build = None
    if not options.reuse:
        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        log(f"migrate: {time.perf_counter() - began:.1f} s")
        dataset_create(
            customers=options.customers,
            companies=options.companies,
            relationships=options.relationships,
            interactions=options.interactions,
            reps=options.reps,
        )
        log("building the graph...")
        build = graph_build()
        log(f"build: {build}")
    job = AnalyticsJob.objects.filter(kind=AnalyticsJob.Kind.GRAPH).first()

    manager = User.objects.get(username=f"{PREFIX}manager_0")
    rep = User.objects.get(username=f"{PREFIX}rep_0_0")
    picked = targets_pick(rep=rep, customers=options.customers)
    hub, reachable, island = picked["hub"], picked["reachable"], picked["island"]
    stranger = picked["stranger"]
    log(f"hub {hub.pk}, reachable {reachable and reachable.pk} at {picked['hops']} ties")
    if reachable is None:
        sys.exit("No customer at 3 to 5 ties from the hub among the candidates.")

    user_logged_in.disconnect(dispatch_uid="update_last_login")
    first_community = Community.objects.order_by("-size", "number").first()
    influence = reverse("analytics:influence_list")
    introductions = reverse("analytics:introductions")
    source = f"customer:{hub.pk}"
    cases = [
        ("influence list (PageRank)", influence),
        ("influence list by degree", f"{influence}?order=-degree"),
        ("influence list by connections, page 20", f"{influence}?order=-connections&page=20"),
        (
            "influence list of the largest community",
            f"{influence}?community={first_community.number}",
        ),
        (
            f"customer 360 of the hub ({hub.influence.connections} ties)",
            reverse("customers:customer_detail", args=[hub.pk]),
        ),
        (
            f"introductions, reachable ({picked['hops']} ties)",
            f"{introductions}?target={reachable.pk}&from={source}",
        ),
        (
            "introductions, unreachable (island)",
            f"{introductions}?target={island.pk}&from={source}",
        ),
        ("introductions from me", f"{introductions}?target={stranger.pk}"),
        ("communities", reverse("analytics:community_list")),
        ("communities, page 10", f"{reverse('analytics:community_list')}?page=10"),
        ("API influence", "/api/v1/influence/"),
        ("API influence by degree", "/api/v1/influence/?ordering=-degree"),
        ("API influence of the hub", f"/api/v1/influence/{hub.pk}/"),
        ("API communities", "/api/v1/communities/"),
        (
            f"API introduction path, reachable ({picked['hops']} ties)",
            f"/api/v1/introduction-path/?target={reachable.pk}&source={source}",
        ),
        (
            "API introduction path, unreachable",
            f"/api/v1/introduction-path/?target={island.pk}&source={source}",
        ),
        ("API introduction path from me", f"/api/v1/introduction-path/?target={stranger.pk}"),
        ("API graph jobs", "/api/v1/graph-jobs/"),
    ]
    rows, slow = [], []
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        for role, user in (("manager", manager), ("rep", rep)):
            client = Client()
            client.force_login(user)
            for label, url in cases:
                response, median, slowest, queries = time_case(
                    client, url, warmup=options.warmup, repeat=options.repeat
                )
                row = (
                    label,
                    role,
                    response.status_code,
                    median,
                    slowest,
                    len(queries),
                    outcome(response),
                )
                log(ROW.format(*row))
                rows.append(row)
                if median > options.explain_over and queries:
                    heaviest = max(queries, key=lambda query: float(query["time"]))
                    slow.append((label, role, heaviest))
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                customer_influence_panel(hub, user)
                panel_ms = (time.perf_counter() - began) * 1000
            rows.append(
                ("influence panel alone (hook)", role, "-", panel_ms, panel_ms, len(queries), "")
            )

    print(
        f"{options.customers:,} customers (+{ISLAND} islanders), {options.companies:,} companies, "
        f"{CustomerInfluence.objects.count():,} measured, {GraphEdge.objects.count():,} "
        f"GraphEdge rows, {Community.objects.count():,} communities\n"
    )
    if build:
        print(
            f"build: request {build['request']:.2f} s, run {build['run']:.1f} s, "
            f"stats {build['stats']}\n"
        )
    elif job:
        print(f"build (earlier): stats {job.stats}\n")
    print(
        f"hub: customer {hub.pk}; reachable target {reachable.pk}; island target {island.pk}; "
        f"from-me target {stranger.pk} (seen by the rep, neither owned nor served by them)\n"
    )
    print(f"{options.repeat} runs after {options.warmup} warm-up requests\n")
    print("| case | user | status | median ms | slowest ms | queries | answer |")
    print("|---|---|---:|---:|---:|---:|---|")
    for row in rows:
        print(ROW.format(*row))
    if options.explain:
        for label, role, query in slow:
            print(f"\n### Slowest query of {label} ({role}, {query['time']} s)\n")
            print(f"```sql\n{query['sql']}\n```\n\n```\n{explain(query['sql'])}\n```")
    if not options.keep:
        connection.close()
        database_recreate(server=options.server, name=options.database, drop_only=True)
        log(f"dropped {options.database}")


if __name__ == "__main__":
    main()
