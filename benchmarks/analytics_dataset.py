"""Fill a scratch PostgreSQL database with N customers (default 1,000,000), about three orders
each, deals with their stage history, targets, tickets with surveys and churn and purchase scores,
for the analytics benchmarks. Everything but the users is written by INSERT ... SELECT over
generate_series, so a million customers take minutes.

    createdb -h 127.0.0.1 -U postgres crm_bench_analytics
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_analytics
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/analytics_dataset.py --customers 1000000

What it makes (`--teams` teams, each with a manager and `--reps` reps, users `bench_*`,
password "bench"):
- customers spread evenly over the reps (owner) and their team; status lead 30 %, prospect 10 %,
  customer 50 %, churned 10 %;
- `--orders` orders per customer on average, over the last two years, 5 % cancelled and
  3 % refunded, 20 to 2,020 in amount; customers' order count and total spend refreshed;
- one deal per ten customers in the default pipeline (60 % open, 25 % won, 15 % lost), owned
  by the customer's owner and team, with the history of their first and current stage, and a
  quarterly target per team and a monthly one per rep for the current periods;
- one ticket per ten customers over the last year, with SLA due times (10 % of first responses
  breached), resolutions, and a survey answered for a third of the resolved ones;
- a done version of the churn and purchase models and a score of each for every customer.

It refuses a database that already has customers unless `--reset` (which empties the tables it
fills). Prints the time of each step; ANALYZEs at the end.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.test")

USER_PREFIX = "bench_"
FILLED_TABLES = [
    "analytics_customerscore",
    "service_satisfactionsurvey",
    "service_ticket",
    "sales_dealstagechange",
    "sales_deal",
    "sales_salestarget",
    "customers_order",
    "customers_customer",
]


class Steps:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def run(self, label: str, sql: str, params: dict | None = None) -> None:
        from django.db import connection

        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params or {})
            rows = cursor.rowcount
        print(f"{label:<40} {rows:>10} rows {time.perf_counter() - began:8.1f} s", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.started


def indexes_dropped(table: str) -> list[str]:
    """Drop the indexes of `table` that back no constraint, and return how to build them again:
    loading first and indexing after is several times faster than keeping them up to date."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes AS i
            WHERE i.tablename = %s AND NOT EXISTS (
                SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname
            )
            """,
            [table],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def users_create(*, teams: int, reps: int) -> tuple[list[int], list[int]]:
    """The reps' ids and, in the same order, their team ids (teams and managers made too)."""
    from django.contrib.auth.models import Group

    from crm.accounts import roles
    from crm.accounts.models import Team, TeamMembership, User

    User.objects.filter(username__startswith=USER_PREFIX).delete()
    Team.objects.filter(name__startswith="Bench team").delete()
    rep_group = Group.objects.get(name=roles.SALES_REP)
    manager_group = Group.objects.get(name=roles.MANAGER)
    rep_ids, team_ids = [], []
    for team_number in range(teams):
        manager = User.objects.create_user(
            username=f"{USER_PREFIX}manager_{team_number}", password="bench", is_staff=True
        )
        manager.groups.add(manager_group)
        team = Team.objects.create(name=f"Bench team {team_number}", manager=manager)
        for rep_number in range(reps):
            rep = User.objects.create_user(
                username=f"{USER_PREFIX}rep_{team_number}_{rep_number}", password="bench"
            )
            rep.groups.add(rep_group)
            TeamMembership.objects.create(team=team, user=rep)
            rep_ids.append(rep.pk)
            team_ids.append(team.pk)
    User.objects.create_superuser(username=f"{USER_PREFIX}admin", password="bench", email="")
    return rep_ids, team_ids


def dataset_create(*, customers: int, orders: float, teams: int, reps: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from analytics.models import ModelVersion, PredictiveModel
    from sales.models import Pipeline

    steps = Steps()
    rep_ids, team_ids = users_create(teams=teams, reps=reps)
    print(f"{'users and teams':<40} {len(rep_ids):>10} reps", flush=True)
    params = {"reps": rep_ids, "teams": team_ids, "n": customers, "r": len(rep_ids)}

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SELECT coalesce(max(id), 0) FROM customers_customer")
        first_id = cursor.fetchone()[0] + 1
    params["first"] = first_id
    rebuild = [
        definition
        for table in ("customers_customer", "customers_order", "analytics_customerscore")
        for definition in indexes_dropped(table)
    ]

    steps.run(
        "customers",
        """
        INSERT INTO customers_customer (
            id, created_at, updated_at, name, gender, email, phone, street, city, province,
            postcode, country, income_currency, job_title, source, status, tier,
            marketing_consent, notes, external_id, custom_attributes, owner_id, team_id,
            order_count, total_spend, language, last_contact_at
        )
        SELECT
            %(first)s + g - 1,
            now() - make_interval(days => g %% 1000),
            now(),
            'Bench customer ' || g,
            '',
            'bench' || g || '@example.com',
            '+86139' || lpad(g::text, 8, '0'),
            '', (ARRAY['Shanghai', 'Beijing', 'Shenzhen', 'Chengdu', 'Hangzhou'])[1 + g %% 5],
            '', '', 'CN', '', '', 'web',
            (ARRAY['lead', 'lead', 'lead', 'prospect', 'customer', 'customer', 'customer',
                   'customer', 'customer', 'churned'])[1 + g %% 10],
            (ARRAY['normal', 'normal', 'normal', 'vip'])[1 + g %% 4],
            false, '', '', '{}'::jsonb,
            (%(reps)s::bigint[])[1 + g %% %(r)s],
            (%(teams)s::bigint[])[1 + g %% %(r)s],
            0, 0, '',
            now() - make_interval(days => g %% 400)
        FROM generate_series(1, %(n)s) AS g
        """,
        params,
    )
    # The ids were given explicitly: move the sequence past them for later inserts.
    steps.run(
        "customer id sequence",
        "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), max(id)) "
        "FROM customers_customer",
    )
    steps.run(
        "orders",
        """
        INSERT INTO customers_order (
            created_at, updated_at, number, ordered_at, status, total_amount, currency, notes,
            customer_id
        )
        SELECT
            ordered, ordered, 'BENCH-' || g, ordered,
            CASE WHEN pick < 0.05 THEN 'cancelled' WHEN pick < 0.08 THEN 'refunded'
                 WHEN pick < 0.20 THEN 'paid' ELSE 'completed' END,
            round((20 + random() * 2000)::numeric, 2), 'CNY', '',
            %(first)s + (g - 1) %% %(n)s
        FROM (
            SELECT g, random() AS pick,
                   now() - random() * interval '730 days' AS ordered
            FROM generate_series(1, (%(n)s * %(orders)s)::bigint) AS g
        ) AS generated
        """,
        {**params, "orders": orders},
    )
    steps.run(
        "customers' order count and spend",
        """
        UPDATE customers_customer AS c
        SET order_count = totals.orders, total_spend = totals.spend
        FROM (
            SELECT customer_id, count(*) AS orders, sum(total_amount) AS spend
            FROM customers_order
            WHERE status NOT IN ('cancelled', 'refunded')
            GROUP BY customer_id
        ) AS totals
        WHERE c.id = totals.customer_id
        """,
    )

    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position").values_list("pk", "kind"))
    open_ids = [pk for pk, kind in stages if kind == "open"]
    won_id = next(pk for pk, kind in stages if kind == "won")
    lost_id = next(pk for pk, kind in stages if kind == "lost")
    deal_params = {
        **params,
        "deals": max(customers // 10, 1),
        "pipeline": pipeline.pk,
        "open": open_ids,
        "won": won_id,
        "lost": lost_id,
    }
    steps.run(
        "deals",
        """
        INSERT INTO sales_deal (
            created_at, updated_at, name, amount, currency, expected_close_date, source,
            lost_reason, lost_note, next_step, forecast_category, description,
            stage_entered_at, closed_at, version, customer_id, owner_id, team_id, pipeline_id,
            stage_id
        )
        SELECT
            created, created, 'Bench deal ' || g, round((500 + random() * 50000)::numeric, 2),
            'CNY', current_date + (g %% 240) - 60, '',
            CASE WHEN pick >= 0.85 THEN 'price' ELSE '' END, '', '',
            (ARRAY['pipeline', 'best_case', 'commit'])[1 + g %% 3], '',
            created + interval '3 days',
            CASE WHEN pick >= 0.60 THEN now() - random() * interval '365 days' END,
            1, c.id, c.owner_id, c.team_id, %(pipeline)s,
            CASE WHEN pick < 0.60 THEN (%(open)s::bigint[])[1 + g %% cardinality(%(open)s)]
                 WHEN pick < 0.85 THEN %(won)s ELSE %(lost)s END
        FROM (
            SELECT g, random() AS pick, now() - random() * interval '400 days' AS created
            FROM generate_series(1, %(deals)s) AS g
        ) AS generated
        JOIN customers_customer AS c ON c.id = %(first)s + (g * 10 - 1) %% %(n)s
        """,
        deal_params,
    )
    steps.run(
        "deal history: first stage",
        """
        INSERT INTO sales_dealstagechange (deal_id, from_stage_id, to_stage_id, changed_at,
                                           seconds_in_from_stage)
        SELECT d.id, NULL, (%(open)s::bigint[])[1], d.created_at, NULL
        FROM sales_deal AS d WHERE d.name LIKE 'Bench deal %%'
        """,
        deal_params,
    )
    steps.run(
        "deal history: current stage",
        """
        INSERT INTO sales_dealstagechange (deal_id, from_stage_id, to_stage_id, changed_at,
                                           seconds_in_from_stage)
        SELECT d.id, (%(open)s::bigint[])[1], d.stage_id,
               coalesce(d.closed_at, d.stage_entered_at), 259200
        FROM sales_deal AS d
        WHERE d.name LIKE 'Bench deal %%' AND d.stage_id <> (%(open)s::bigint[])[1]
        """,
        deal_params,
    )
    today = timezone.localdate()
    quarter_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    steps.run(
        "targets",
        """
        INSERT INTO sales_salestarget (created_at, updated_at, period, period_start, amount,
                                       currency, owner_id, team_id)
        SELECT now(), now(), 'quarter', %(quarter)s, 5000000, 'CNY', NULL, t
        FROM unnest(%(team_set)s::bigint[]) AS t
        UNION ALL
        SELECT now(), now(), 'month', %(month)s, 200000, 'CNY', r, NULL
        FROM unnest(%(reps)s::bigint[]) AS r
        """,
        {
            **params,
            "quarter": quarter_start,
            "month": today.replace(day=1),
            "team_set": sorted(set(team_ids)),
        },
    )
    steps.run(
        "tickets",
        """
        INSERT INTO service_ticket (
            created_at, updated_at, number, type, channel, subject, description, priority,
            status, version, first_response_due_at, resolution_due_at, first_responded_at,
            resolved_at, sla_paused_seconds, first_response_seconds, resolution_seconds,
            first_response_breached, resolution_breached, reopened_count, satisfaction_comment,
            customer_id, team_id, assignee_id
        )
        SELECT
            created, created, 'BENCH-T' || g, 'question', 'email', 'Bench ticket ' || g, '',
            'normal', CASE WHEN pick < 0.8 THEN 'resolved' ELSE 'open' END, 1,
            created + interval '4 hours', created + interval '2 days',
            created + (pick * 4.4) * interval '1 hour',
            CASE WHEN pick < 0.8 THEN created + (pick * 65) * interval '1 hour' END, 0,
            (pick * 4.4 * 3600)::int,
            CASE WHEN pick < 0.8 THEN (pick * 65 * 3600)::int END,
            pick * 4.4 > 4, pick < 0.8 AND pick * 65 > 48, 0, '',
            c.id, c.team_id, c.owner_id
        FROM (
            SELECT g, random() AS pick, now() - random() * interval '365 days' AS created
            FROM generate_series(1, %(tickets)s) AS g
        ) AS generated
        JOIN customers_customer AS c ON c.id = %(first)s + (g * 10 - 3) %% %(n)s
        """,
        {**params, "tickets": max(customers // 10, 1)},
    )
    steps.run(
        "surveys",
        """
        INSERT INTO service_satisfactionsurvey (token_hash, language, sent_to, sent_at,
                                                expires_at, answered_at, rating, comment,
                                                ticket_id)
        SELECT md5('bench' || t.id) || md5('survey' || t.id), 'en', '', t.resolved_at,
               t.resolved_at + interval '14 days', t.resolved_at + interval '1 day',
               1 + (t.id %% 5), '', t.id
        FROM service_ticket AS t
        WHERE t.number LIKE 'BENCH-T%%' AND t.resolved_at IS NOT NULL AND t.id %% 3 = 0
        """,
    )
    for name in ("churn", "purchase"):
        model = PredictiveModel.objects.get(name=name)
        number = (model.versions.order_by("-number").values_list("number", flat=True).first()) or 0
        version = ModelVersion.objects.create(
            model=model,
            number=number + 1,
            trigger=ModelVersion.Trigger.COMMAND,
            status=ModelVersion.Status.DONE,
        )
        model.active_version = version
        model.save(update_fields=["active_version"])
        steps.run(
            f"{name} scores",
            """
            INSERT INTO analytics_customerscore (model_id, customer_id, version_id, probability,
                                                 reasons, scored_at)
            SELECT %(model)s, c.id, %(version)s, random(), '[]'::jsonb, now()
            FROM customers_customer AS c
            ON CONFLICT (model_id, customer_id) DO UPDATE
            SET probability = excluded.probability, version_id = excluded.version_id
            """,
            {"model": model.pk, "version": version.pk},
        )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for definition in rebuild:
            cursor.execute(definition)
    print(
        f"{'indexes built again':<40} {len(rebuild):>10} idx {time.perf_counter() - began:8.1f} s",
        flush=True,
    )

    steps.run("analyze", "ANALYZE")
    print(f"{'total':<40} {'':>15} {steps.total():8.1f} s")


def tables_empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(FILLED_TABLES)} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=float, default=3.0, help="orders per customer")
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--reps", type=int, default=10, help="reps per team")
    parser.add_argument("--reset", action="store_true", help="empty the tables first")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from customers.models import Customer

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")
    if args.reset:
        tables_empty()
    elif Customer.objects.exists():
        sys.exit("The database already has customers: use --reset to empty it first.")
    dataset_create(customers=args.customers, orders=args.orders, teams=args.teams, reps=args.reps)


if __name__ == "__main__":
    main()
