"""Scenario 4 of the suite: the manager, service and customer-analytics dashboards, cold and warm.

Measured in-process through Django's test client (routing, middleware, the view, the
serializer), signed in as the demo manager with signed-cookie sessions so nothing is written;
`timed` of benchmarks/analytics_dashboards.py times each request. Each dashboard is the API
request that returns every figure it shows (the pages draw the same figures):
/api/v1/dashboards/manager/, /api/v1/service-metrics/ and /api/v1/customer-analytics/,
with their default filters. Cold: the cache is cleared before the request, so every figure is
computed; warm: the same request again. The database's buffers are warm in both (one untimed
cold request first, as benchmarks/analytics_dashboards.py does).

The order rollup and the customer values, which the beat refreshes, are filled first when the
database has none (a fresh seed): a dashboard would otherwise fill them on its first request,
and the cold figures would include that once. Nothing else is written.

The baseline is every SQL statement a cold request issued (the aggregates, and the session,
permission and visibility look-ups around them), captured and sent again through a plain psycopg
connection: the ratio is what Django and the cache add on top of the database.
"""

import time
from contextlib import closing

from benchmarks.suite.core import BenchContext, Measurement, django_setup

SCENARIO = "dashboards"
COLD_TARGET_MS = 500
WARM_TARGET_MS = 50
# A cold request at a million customers takes seconds, and its SQL baseline as long again: ten
# of each keep the dashboards to a few minutes of the suite's thirty (their p99 is their
# largest). Warm requests take milliseconds and get thirty.
COLD_SAMPLES = 10
WARM_SAMPLES = 30
DASHBOARDS = {
    "manager dashboard": "/api/v1/dashboards/manager/",
    "service dashboard": "/api/v1/service-metrics/",
    "customer analytics": "/api/v1/customer-analytics/",
}
USERNAME = "manager"
WRITES = ("INSERT", "UPDATE", "DELETE")


def _signed_in_client(user):
    """A test client holding a signed-cookie session of `user`, made without signing in: a sign-in
    would record a session and an audit event, and this may run on a read-only database. The
    session was last seen in the far future, so the session middleware neither ends it as idle
    nor records its use."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.test import Client

    from crm.accounts.selectors import SESSION_LAST_SEEN_KEY

    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            SESSION_LAST_SEEN_KEY: time.time() + 365 * 86400,
        }
    )
    session.save()
    client = Client(raise_request_exception=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def _cold_statements(client, url: str) -> list[str]:
    """The SQL of one cold request of `url`."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    statements = [query["sql"] for query in queries.captured_queries]
    writes = [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]
    if writes:
        raise RuntimeError(f"{url} wrote to the database: {writes[:3]}")
    return statements


def run(context: BenchContext) -> list[Measurement]:
    import psycopg2

    django_setup(context)
    from django.test.utils import override_settings

    from analytics.services.customer_values import customer_values_ensure
    from analytics.services.rollups import order_daily_totals_ensure
    from benchmarks.analytics_dashboards import timed
    from crm.accounts.models import User

    order_daily_totals_ensure()
    customer_values_ensure()
    measurements = []
    with (
        override_settings(
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            ALLOWED_HOSTS=["testserver"],
        ),
        closing(psycopg2.connect(context.database_url)) as raw,
    ):
        raw.autocommit = True
        cursor = raw.cursor()
        client = _signed_in_client(User.objects.get(username=USERNAME))
        for name, url in DASHBOARDS.items():
            statements = _cold_statements(client, url)
            cold_ms, warm_ms, baseline_ms = [], [], []
            for _ in range(WARM_SAMPLES):
                warm_ms.append(timed(client, url, cold=False)[0])
            for _ in range(COLD_SAMPLES):
                cold_ms.append(timed(client, url, cold=True)[0])
                started = time.perf_counter()
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()
                baseline_ms.append((time.perf_counter() - started) * 1000)
            for temperature, samples, limit in (
                ("cold", cold_ms, COLD_TARGET_MS),
                ("warm", warm_ms, WARM_TARGET_MS),
            ):
                measurement = Measurement.latency(
                    scenario=SCENARIO,
                    case=f"{name} ({url}), {USERNAME}, {temperature}",
                    samples=samples,
                    baseline_case="a cold request's SQL through psycopg",
                    baseline_samples=baseline_ms,
                    p99_target_ms=limit,
                    details={"samples": len(samples), "queries": len(statements)},
                )
                context.log(measurement.summary())
                measurements.append(measurement)
    return measurements
