"""Time the customer list, its filters, sorts and search, per role, on a large database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_seed \
        .venv/bin/python benchmarks/customer_list_search.py --repeat 5

Requests go through Django's test client (URL routing, middleware, the view, the template), so
the figures are server time without the network. Nothing is written: users are signed in with
signed-cookie sessions and without the last_login update. Each case is requested once to warm
the caches and then `--repeat` times; the table gives the median and the slowest, the number of
SQL queries, and the result count the page or endpoint reports. The phone, email and name terms
are read from the database (a customer the rep may see), so the search cases find something on
any seeded database. Results go to benchmarks/results/ by hand, with the machine and the date.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.test")

COUNT_MARK = re.compile(r'data-result-count="([^"]*)"')


def search_terms(rep, *, offset: int = 0) -> dict[str, str]:
    """Search terms taken from the `offset`-th customer of `rep` with a mainland mobile number,
    an email and a company."""
    from customers.models import Customer

    sample = (
        Customer.objects.filter(owner=rep, phone__startswith="+861", company__isnull=False)
        .exclude(email="")
        .select_related("company")
        .order_by("pk")[offset]
    )
    national = sample.phone.removeprefix("+86")
    email_local = sample.email.split("@")[0]
    company_word = sample.company.name[:4]
    return {
        "name fragment": sample.name[-2:] if len(sample.name) > 2 else sample.name,
        "email fragment": email_local[2:-1],
        "phone 138 0013 8000": f"{national[:3]} {national[3:7]} {national[7:]}",
        "phone +86 138-0013-8000": f"+86 {national[:3]}-{national[3:7]}-{national[7:]}",
        "phone fragment 0013 8000": f"{national[3:7]} {national[7:]}",
        "company name": company_word,
    }


def cases(terms: dict[str, str]) -> list[tuple[str, str, dict]]:
    page = "/customers/"
    api = "/api/v1/customers/"
    return [
        ("list", page, {}),
        ("list, page 2", page, {"page": 2}),
        ("list, page 150", page, {"page": 150}),
        ("filter status+tier", page, {"status": "customer", "tier": "vip"}),
        ("filter city", page, {"city": "上海"}),
        ("filter age 30-40", page, {"age_min": 30, "age_max": 40}),
        ("filter tag", page, {"tag": "wechat"}),
        ("filter spend >= 1000", page, {"spend_min": 1000}),
        ("filter never contacted", page, {"never_contacted": "on"}),
        ("sort newest", page, {"ordering": "-created_at"}),
        ("sort total spend", page, {"ordering": "-total_spend"}),
        ("sort last contact", page, {"ordering": "-last_contact_at"}),
        *[(f"search {label}", page, {"q": term}) for label, term in terms.items()],
        ("search name + filter", page, {"q": terms["name fragment"], "tier": "vip"}),
        ("API list", api, {}),
        ("API filter+sort", api, {"status": "customer", "ordering": "-created_at"}),
        ("API search phone", api, {"search": terms["phone 138 0013 8000"]}),
        ("API search company", api, {"search": terms["company name"]}),
    ]


EXPORTS = [
    ("export CSV, premium tier", "/customers/export/csv/", {"tier": "premium"}),
    ("export Excel, premium tier", "/customers/export/xlsx/", {"tier": "premium"}),
    (
        "export CSV, premium leads",
        "/customers/export/csv/",
        {"tier": "premium", "status": "lead"},
    ),
    (
        "export Excel, premium leads",
        "/customers/export/xlsx/",
        {"tier": "premium", "status": "lead"},
    ),
]


def time_exports(client) -> list[tuple]:
    """Each export once, started, run (Celery is eager here) and downloaded to the end:
    (case, seconds, rows, megabytes)."""
    rows = []
    for name, url, params in EXPORTS:
        started = time.perf_counter()
        response = client.post(f"{url}?{urlencode(params)}")
        assert response.status_code == 302, (name, response.status_code)
        download = client.get(f"{response['Location']}download/")
        assert download.status_code == 200, (name, download.status_code)
        body = b"".join(download.streaming_content)
        elapsed = time.perf_counter() - started
        lines = body.count(b"\n") - 1 if url.endswith("/csv/") else "–"
        rows.append((name, elapsed, lines, len(body) / 1_000_000))
        print(f"| {name} | {elapsed:.1f} | {lines} | {len(body) / 1e6:.1f} |", file=sys.stderr)
    return rows


def result_count(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        return str(response.json().get("count", "–"))
    found = COUNT_MARK.search(response.content.decode())
    return found.group(1) if found else "–"


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.signals import user_logged_in
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from crm.accounts.models import User

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--users", default="rep,manager,admin")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--exports", action="store_true", help="also time exports, as admin")
    options = parser.parse_args()

    user_logged_in.disconnect(dispatch_uid="update_last_login")
    users = [User.objects.get(username=name) for name in options.users.split(",")]
    terms = search_terms(User.objects.get(username="rep"))
    print(f"search terms: {terms}", file=sys.stderr)
    rows = []
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        for user in users:
            client = Client()
            client.force_login(user)
            for name, url, params in cases(terms):
                if options.only not in name:
                    continue
                client.get(url, params)
                timings = []
                for _ in range(options.repeat):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        response = client.get(url, params)
                        timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (name, response.status_code)
                row = (
                    name,
                    user.username,
                    statistics.median(timings),
                    max(timings),
                    len(queries),
                    result_count(response),
                )
                print("| {} | {} | {:.0f} | {:.0f} | {} | {} |".format(*row), file=sys.stderr)
                rows.append(row)
        exports = []
        if options.exports:
            client = Client()
            client.force_login(User.objects.get(username="admin"))
            exports = time_exports(client)

    print(f"{connection.vendor}, {options.repeat} runs after one warm-up\n")
    print("| case | user | median ms | max ms | queries | results |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| {} | {} | {:.0f} | {:.0f} | {} | {} |".format(*row))
    if exports:
        print("\n| export (admin) | seconds | CSV rows | MB |")
        print("|---|---:|---:|---:|")
        for name, seconds, lines, megabytes in exports:
            print(f"| {name} | {seconds:.1f} | {lines} | {megabytes:.1f} |")


if __name__ == "__main__":
    main()
