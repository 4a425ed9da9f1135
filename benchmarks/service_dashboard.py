"""Time the service dashboard page and /api/v1/service-metrics/ at 1,000,000 tickets and about
200,000 satisfaction surveys, for a manager (one team) and an admin (all), over the default 30
days and over one year, and show how PostgreSQL plans the heaviest query.

    createdb -h 127.0.0.1 -U postgres crm_bench_service
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_service
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --customers 100000 --seed 5
    .venv/bin/python benchmarks/service_dashboard.py --setup
    .venv/bin/python benchmarks/service_dashboard.py --repeat 10 --explain

`--setup` adds three service teams of four agents each (the demo's "Service" team, managed by
`service_lead`, is the fourth), eight ticket categories, and then tickets through
`crm.demo.bulk_insert` (COPY, secondary indexes and foreign keys built after the load) until
there are `--tickets`, spread evenly over the last two years and written in creation order (as a
live system writes them), with surveys for about one resolved ticket in five; then it ANALYZEs
the tables (autovacuum may be off). The distributions:

- channel email 40 %, phone 25 %, chat 20 %, web form 10 %, social 5 %; priority normal 60 %,
  low 15 %, high 20 %, urgent 5 %; a category for 85 %; teams 30/25/25/20 %, an assignee for
  95 % (a member of the ticket's team);
- first response time (business seconds) log-normal with a median of 2 h, resolution time with
  a median of 10 h; the due times follow the customer's tier (normal 8 h / 40 h, vip 4 h / 24 h,
  premium 2 h / 16 h) and a ticket is breached when its time exceeds the target (an open ticket
  whose due time has passed, too); wall-clock time is business time × 2.5;
- a ticket is still open with a probability falling with its age (60 % on its first day, 1 %
  after a month), 7 % were reopened once or twice;
- surveys: 20 % of the resolved tickets, 35 % answered, ratings 1–5 weighted 5/7/15/33/40 %.

Requests go through Django's test client (routing, middleware, view, template) with
signed-cookie sessions, `--warmup` times then `--repeat` times each: median, 95th percentile and
the SQL queries of one request. With `--explain` the slowest query of the admin's one-year API
request and of the manager's is printed with EXPLAIN (ANALYZE, BUFFERS).
"""

import argparse
import math
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.test")

API = "/api/v1/service-metrics/"
MANAGER = "service_lead"
MANAGED_TEAM = "Service"
EXTRA_TEAMS = ("Service North", "Service South", "Service VIP")
TEAM_WEIGHTS = (30, 25, 25, 20)
AGENTS_PER_TEAM = 4
CATEGORIES = (
    "Billing",
    "Delivery",
    "Returns",
    "Product question",
    "Account",
    "Complaint",
    "Installation",
    "Warranty",
)
CHANNELS = (("email", 40), ("phone", 25), ("chat", 20), ("web_form", 10), ("social", 5))
PRIORITIES = (("normal", 60), ("low", 15), ("high", 20), ("urgent", 5))
TYPES = (("inquiry", 70), ("feedback", 15), ("complaint", 15))
# Business-seconds targets (first response, resolution) per service tier.
TARGETS = {
    "normal": (8 * 3600, 40 * 3600),
    "vip": (4 * 3600, 24 * 3600),
    "premium": (2 * 3600, 16 * 3600),
}
WALL_PER_BUSINESS = 2.5
SPAN_DAYS = 730
SURVEY_SHARE = 0.2
ANSWER_SHARE = 0.35
RATINGS = ((1, 5), (2, 7), (3, 15), (4, 33), (5, 40))


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _open_probability(age_days: float) -> float:
    if age_days < 1:
        return 0.6
    if age_days < 3:
        return 0.35
    if age_days < 7:
        return 0.2
    if age_days < 30:
        return 0.08
    return 0.01


def setup_people():
    """The service teams, their agents and the ticket categories (created once)."""
    from django.contrib.auth.models import Group

    from crm.accounts import roles
    from crm.accounts.models import Team, TeamMembership, User
    from service.models import TicketCategory

    group = Group.objects.get(name=roles.SERVICE_AGENT)
    manager = User.objects.get(username=MANAGER)
    teams = [Team.objects.get(name=MANAGED_TEAM)]
    for name in EXTRA_TEAMS:
        team, _created = Team.objects.get_or_create(name=name, defaults={"manager": manager})
        teams.append(team)
    members = {}
    for index, team in enumerate(teams):
        ids = list(
            TeamMembership.objects.filter(team=team, user__groups=group).values_list(
                "user_id", flat=True
            )
        )
        for number in range(len(ids), AGENTS_PER_TEAM):
            user, _created = User.objects.get_or_create(
                username=f"bench_agent_{index}_{number}",
                defaults={"display_name": f"Agent {index}.{number}"},
            )
            user.groups.add(group)
            TeamMembership.objects.get_or_create(team=team, user=user)
            ids.append(user.pk)
        members[team.pk] = ids
    categories = [TicketCategory.objects.get_or_create(name=name)[0].pk for name in CATEGORIES]
    return teams, members, categories


def ticket_rows(*, count: int, first_number: int, rng, now, teams, members, categories, customers):
    """(ticket row, survey facts) pairs; the survey facts are None or (sent_at, rating|None)."""
    for offset in range(count):
        number = first_number + offset
        customer_id, tier = customers[rng.randrange(len(customers))]
        team = rng.choices(teams, weights=TEAM_WEIGHTS)[0]
        assignee = rng.choice(members[team.pk]) if rng.random() < 0.95 else None
        # In creation order, as a live system writes them: the table's physical order follows
        # created_at, which the period's bitmap scans depend on.
        age = timedelta(seconds=(count - offset - rng.random()) / count * SPAN_DAYS * 86400)
        created = now - age
        age_days = age.total_seconds() / 86400
        response_target, resolution_target = TARGETS.get(tier, TARGETS["normal"])
        response_due = created + timedelta(seconds=response_target * WALL_PER_BUSINESS)
        resolution_due = created + timedelta(seconds=resolution_target * WALL_PER_BUSINESS)
        response_seconds = int(rng.lognormvariate(math.log(2 * 3600), 1.0))
        resolution_seconds = max(
            response_seconds, int(rng.lognormvariate(math.log(10 * 3600), 1.1))
        )
        responded = created + timedelta(seconds=response_seconds * WALL_PER_BUSINESS)
        resolved = created + timedelta(seconds=resolution_seconds * WALL_PER_BUSINESS)
        is_open = rng.random() < _open_probability(age_days) or resolved > now
        if is_open:
            status = rng.choice(("new", "open", "open", "pending")) if responded < now else "new"
            if status == "new":
                response_seconds, responded = None, None
            resolution_seconds, resolved = None, None
            response_breached = (responded is None and response_due < now) or (
                response_seconds or 0
            ) > response_target
            resolution_breached = resolution_due < now
        else:
            status = "closed" if age_days > 14 and rng.random() < 0.7 else "resolved"
            response_breached = response_seconds > response_target
            resolution_breached = resolution_seconds > resolution_target
        reopened = rng.choices((0, 1, 2), weights=(93, 6, 1))[0]
        survey = None
        if resolved is not None and rng.random() < SURVEY_SHARE:
            sent_at = resolved + timedelta(minutes=5)
            rating = _weighted(rng, RATINGS) if rng.random() < ANSWER_SHARE else None
            survey = (sent_at, rating) if sent_at < now else None
        row = (
            f"B-{number:07d}",
            _weighted(rng, TYPES),
            _weighted(rng, CHANNELS),
            f"Benchmark ticket {number}",
            "",
            _weighted(rng, PRIORITIES),
            status,
            customer_id,
            assignee,
            team.pk,
            rng.choice(categories) if rng.random() < 0.85 else None,
            1,
            response_due,
            resolution_due,
            responded,
            resolved,
            resolved if status == "closed" else None,
            0,
            response_seconds,
            resolution_seconds,
            response_breached,
            resolution_breached,
            reopened,
            "",
            created,
            created,
        )
        yield row, survey


TICKET_FIELDS = (
    "number",
    "type",
    "channel",
    "subject",
    "description",
    "priority",
    "status",
    "customer_id",
    "assignee_id",
    "team_id",
    "category_id",
    "version",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "sla_paused_seconds",
    "first_response_seconds",
    "resolution_seconds",
    "first_response_breached",
    "resolution_breached",
    "reopened_count",
    "satisfaction_comment",
    "created_at",
    "updated_at",
)
SURVEY_FIELDS = (
    "ticket_id",
    "token_hash",
    "language",
    "sent_to",
    "sent_at",
    "expires_at",
    "answered_at",
    "rating",
    "comment",
)


def setup(*, tickets: int, seed: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from crm.demo import bulk_insert, indexes_built_after_load
    from customers.models import Customer
    from service.models import SatisfactionSurvey, Ticket

    teams, members, categories = setup_people()
    existing = Ticket.objects.count()
    missing = tickets - existing
    if missing > 0:
        rng = random.Random(seed)
        now = timezone.now()
        customers = list(Customer.objects.order_by("pk").values_list("pk", "tier"))
        surveys: list[tuple[int, object, object]] = []

        def rows():
            generated = ticket_rows(
                count=missing,
                first_number=existing + 1,
                rng=rng,
                now=now,
                teams=teams,
                members=members,
                categories=categories,
                customers=customers,
            )
            for index, (row, survey) in enumerate(generated):
                if survey is not None:
                    surveys.append((index, *survey))
                yield row

        def log(message: str) -> None:
            print(message, file=sys.stderr)

        started = time.perf_counter()
        with indexes_built_after_load([Ticket, SatisfactionSurvey], using="default", log=log):
            ids = bulk_insert(
                model=Ticket, fields=TICKET_FIELDS, rows=rows(), using="default", analyze=False
            )
            log(f"tickets: {len(ids):,} in {time.perf_counter() - started:.0f} s")
            first_survey = SatisfactionSurvey.objects.count()
            survey_rows = (
                (
                    ids[index],
                    f"bench{first_survey + number:059d}",
                    "en",
                    "",
                    sent_at,
                    sent_at + timedelta(days=14),
                    None if rating is None else sent_at + timedelta(hours=rng.uniform(1, 72)),
                    rating,
                    "",
                )
                for number, (index, sent_at, rating) in enumerate(surveys)
            )
            bulk_insert(
                model=SatisfactionSurvey,
                fields=SURVEY_FIELDS,
                rows=survey_rows,
                using="default",
                analyze=False,
            )
            log(f"surveys: {len(surveys):,} in {time.perf_counter() - started:.0f} s")
        log(f"indexes built in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE service_ticket, service_satisfactionsurvey, customers_customer, "
            "accounts_teammembership, accounts_team, accounts_recordshare"
        )


def time_case(client, url, params, *, warmup: int, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        client.get(url, params)
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)]
    return response, statistics.median(timings), p95, queries.captured_queries


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def data_summary() -> str:
    from django.db.models import Count, Q

    from service.models import SatisfactionSurvey, Ticket

    counts = Ticket.objects.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status__in=Ticket.OPEN_STATUSES)),
        team=Count("pk", filter=Q(team__name=MANAGED_TEAM)),
    )
    surveys = SatisfactionSurvey.objects.aggregate(
        total=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
    )
    return (
        f"{counts['total']:,} tickets ({counts['open']:,} open; {counts['team']:,} of the "
        f"{MANAGED_TEAM} team), {surveys['total']:,} surveys ({surveys['answered']:,} answered)"
    )


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.signals import user_logged_in
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse
    from django.utils import timezone

    from crm.accounts.models import Team, User

    parser = argparse.ArgumentParser()
    parser.add_argument("--setup", action="store_true", help="load tickets and surveys first")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--explain", action="store_true")
    options = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    if options.setup:
        setup(tickets=options.tickets, seed=options.seed)

    user_logged_in.disconnect(dispatch_uid="update_last_login")
    team = Team.objects.get(name=MANAGED_TEAM)
    today = timezone.localdate()
    year = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    people = [(MANAGER, {"team": team.pk}), ("admin", {})]
    periods = [("30 days", {}), ("1 year", year)]
    targets = [("page", reverse("service:dashboard")), ("API", API)]
    print(f"data: {data_summary()}", file=sys.stderr)
    rows = []
    heaviest = {}
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        for username, filters in people:
            client = Client()
            client.force_login(User.objects.get(username=username))
            for target, url in targets:
                for period, dates in periods:
                    response, median, p95, queries = time_case(
                        client,
                        url,
                        {**filters, **dates},
                        warmup=options.warmup,
                        repeat=options.repeat,
                    )
                    label = f"{target}, {period}" + (", team filter" if filters else "")
                    row = (label, username, response.status_code, median, p95, len(queries))
                    print("| {} | {} | {} | {:.0f} | {:.0f} | {} |".format(*row), file=sys.stderr)
                    rows.append(row)
                    if target == "API" and period == "1 year":
                        slowest = max(queries, key=lambda query: float(query["time"]))
                        heaviest[username] = slowest

    print(f"{data_summary()}\n")
    print(f"{options.repeat} runs after {options.warmup} warm-up requests\n")
    print("| case | user | status | median ms | p95 ms | queries |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| {} | {} | {} | {:.0f} | {:.0f} | {} |".format(*row))
    if options.explain:
        for username, query in heaviest.items():
            print(f"\n### Slowest query of {username}'s one-year API request ({query['time']} s)\n")
            print(f"```sql\n{query['sql']}\n```\n\n```\n{explain(query['sql'])}\n```")


if __name__ == "__main__":
    main()
