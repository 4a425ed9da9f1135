"""Scenario 2 of the suite: customer search by a name fragment, an email fragment and a phone
number, as the demo rep and the demo manager.

Measured in-process through the selectors the list page and the API call
(`customer_list_visible` with a `CustomerFilter(search=...)`, then the first page of
`CappedPaginator`, rows and count), so the figure is the search itself without the template.
The baseline is the same SQL, captured from the selector's own queries for the same term, sent
through a plain psycopg connection: the ratio is what Django adds on top of the database.

Each case rotates over terms read from customers the rep owns (benchmarks/customer_list_search.py
picks them), one warm-up pass first, the Django call and its baseline interleaved.
"""

import time
from contextlib import closing

from benchmarks.suite.core import BenchContext, Measurement, django_setup

SCENARIO = "search"
P99_TARGET_MS = 50
TERM_SAMPLES = 10
# Phone as people type it: "138 0013 8000", normalised to E.164 by the search.
KINDS = {
    "name fragment": "name fragment",
    "email fragment": "email fragment",
    "phone": "phone 138 0013 8000",
}


def _search(*, user, term: str) -> None:
    """What the list page asks of the database for a search: its count and first page."""
    from customers.selectors.customers import CappedPaginator, CustomerFilter, customer_list_visible
    from customers.views.lists import PAGE_SIZE

    customers = customer_list_visible(user=user, filters=CustomerFilter(search=term))
    paginator = CappedPaginator(customers, PAGE_SIZE)
    list(paginator.page(1).object_list)


def _captured_sql(*, user, term: str) -> list[str]:
    """The SQL of a search for `term`, after one untimed search (the warm-up) has filled what
    the user object keeps (permissions, teams), as it has for the timed searches."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _search(user=user, term=term)
    with CaptureQueriesContext(connection) as queries:
        _search(user=user, term=term)
    statements = [query["sql"] for query in queries.captured_queries]
    if any(sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for sql in statements):
        raise RuntimeError(f"searching for {term!r} wrote to the database")
    return statements


def _terms(rep, *, customers: int) -> dict[str, list[str]]:
    """TERM_SAMPLES terms of each kind, from customers of the rep spread over the table."""
    from benchmarks.customer_list_search import search_terms

    spacing = max(1, customers // 10_000)
    samples = [search_terms(rep, offset=index * spacing) for index in range(TERM_SAMPLES)]
    return {kind: [sample[key] for sample in samples] for kind, key in KINDS.items()}


def run(context: BenchContext) -> list[Measurement]:
    import psycopg2

    django_setup(context)
    from crm.accounts.models import User

    repeat = 30
    rep = User.objects.get(username="rep")
    terms = _terms(rep, customers=context.volumes["customers"])
    measurements = []
    with closing(psycopg2.connect(context.database_url)) as raw:
        raw.autocommit = True
        cursor = raw.cursor()
        for username in ("rep", "manager"):
            user = User.objects.get(username=username)
            for kind, kind_terms in terms.items():
                statements = {term: _captured_sql(user=user, term=term) for term in kind_terms}
                django_ms, baseline_ms = [], []
                for index in range(repeat):
                    term = kind_terms[index % len(kind_terms)]
                    started = time.perf_counter()
                    _search(user=user, term=term)
                    django_ms.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    for sql in statements[term]:
                        cursor.execute(sql)
                        cursor.fetchall()
                    baseline_ms.append((time.perf_counter() - started) * 1000)
                measurement = Measurement.latency(
                    scenario=SCENARIO,
                    case=f"{kind}, {username} (selector: count + first page)",
                    samples=django_ms,
                    baseline_case="its SQL through psycopg",
                    baseline_samples=baseline_ms,
                    p99_target_ms=P99_TARGET_MS,
                    details={
                        "samples": repeat,
                        "terms": kind_terms,
                        "queries": len(statements[kind_terms[0]]),
                    },
                )
                context.log(measurement.summary())
                measurements.append(measurement)
    return measurements
