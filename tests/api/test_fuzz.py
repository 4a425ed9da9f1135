"""Schemathesis against the live schema: every operation of /api/v1/, called with a sales rep's
API token (and again with their manager's) and records the rep can see, must answer without a
server error and as the schema says (a documented status code, the body's schema and the
content type), for valid and for invalid input.

A real server on loopback (pytest-django's `live_server`) serves the test database; the schema is
read from it, as an integrator would. One test fuzzes every operation so the records are seeded
once; its failure message lists every operation that failed, with a curl command to reproduce it
and the server's traceback for 5xx. Bounded and derandomized so CI is fast and repeatable; run
only on PostgreSQL (the live server needs a database other threads can see).
"""

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from django.apps import apps as django_apps
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup

from crm.accounts import roles
from crm.accounts.services import api_token_create
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import (
    AttachmentFactory,
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
    EventAttendeeFactory,
    EventFactory,
    NotificationFactory,
    TaskCommentFactory,
    TaskFactory,
)
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RelationshipFactory,
    SegmentFactory,
)
from tests.sales.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    DealFactory,
    DealStageChangeFactory,
    SalesTargetFactory,
    WebFormFactory,
    WebFormSubmissionFactory,
)
from tests.service.factories import (
    CannedResponseFactory,
    TicketCategoryFactory,
    TicketFactory,
    TicketMessageFactory,
)
from tests.webhooks.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCHEMA_PATH = "/api/v1/schema/"
# Examples per operation: enough to reach every operation's validation, few enough that the
# whole API (about 240 operations) is fuzzed in a few minutes on a 2-core CI machine.
MAX_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# Reads first, then writes, deletes last, so the seeded records are still there to be read; the
# fuzzer's own token is revoked by the very last operation, not before.
METHOD_ORDER = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
TOKEN_REVOKE = "DELETE /api/v1/tokens/{id}/"
MIGRATION_DATA = [
    ("sales.migrations.0002_default_pipeline", "create_default_pipeline"),
    ("analytics.migrations.0002_builtin_models", "create_built_in"),
]
UNLIMITED_RATES = dict.fromkeys(["token", "user", "anonymous"], "1000000/minute")


@dataclass
class FuzzFailure:
    operation: str
    message: str
    curl: str
    tracebacks: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"--- {self.operation}\n{self.message}\nReproduce: {self.curl}"
        if self.tracebacks:
            text += "\nServer traceback:\n" + self.tracebacks[-1]
        return text


class TracebackCollector(logging.Handler):
    """Keeps the tracebacks Django logs for 5xx (django.request), to show them with the case."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.tracebacks.append(logging.Formatter().formatException(record.exc_info))


@contextmanager
def collected_server_tracebacks() -> Iterator[TracebackCollector]:
    collector = TracebackCollector()
    logger = logging.getLogger("django.request")
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)


def migration_data_restore() -> None:
    """The rows data migrations make (the default pipeline, the built-in predictive models),
    which an earlier transactional test's flush removed; both migrations are safe to rerun."""
    for module, forwards in MIGRATION_DATA:
        getattr(importlib.import_module(module), forwards)(django_apps, None)


def records_seed(*, rep) -> None:
    """Records the rep can see (theirs), so detail operations reach real objects."""
    team = rep.teams.first()
    migration_data_restore()
    company = CompanyFactory(owner=rep, team=team)
    customers = [CustomerFactory(owner=rep, team=team, company=company) for _ in range(3)]
    product = ProductFactory()
    order = OrderFactory(customer=customers[0])
    OrderLineFactory(order=order, product=product)
    NeedFactory(customer=customers[0])
    InteractionFactory(customer=customers[0])
    RelationshipFactory(from_customer=customers[0], to_customer=customers[1])
    SegmentFactory(owner=rep, team=team)
    campaign = CampaignFactory(owner=rep, team=team)
    CampaignMemberFactory(campaign=campaign, customer=customers[1])
    deal = DealFactory(customer=customers[0], owner=rep, team=team)
    DealStageChangeFactory(deal=deal)
    AttachmentFactory(related_record=deal, uploaded_by=rep)
    DealFactory(customer=customers[1], owner=rep, team=team)
    SalesTargetFactory(owner=rep)
    WebFormSubmissionFactory(form=WebFormFactory())
    category = TicketCategoryFactory()
    ticket = TicketFactory(customer=customers[0], assignee=rep, team=team, category=category)
    TicketMessageFactory(ticket=ticket)
    CannedResponseFactory()
    task = TaskFactory(assignee=rep, team=team, created_by=rep)
    TaskCommentFactory(task=task, author=rep)
    NotificationFactory(recipient=rep)
    event = EventFactory(organizer=rep, team=team)
    EventAttendeeFactory(event=event, user=UserFactory(roles=[roles.SALES_REP]))
    room = ChatRoomFactory(created_by=rep)
    ChatMembershipFactory(room=room, user=rep)
    ChatMessageFactory(room=room, author=rep)
    # Subscribed to an event a rep cannot cause through the API, so nothing is sent anywhere.
    subscription = WebhookSubscriptionFactory(
        owner=rep, target_url="https://hooks.invalid/crm", events=["survey.answered"]
    )
    WebhookDeliveryFactory(subscription=subscription, event="survey.answered")


@pytest.fixture(params=["rep", "manager"])
def caller(request):
    """The issue asks for a rep; a manager (of the rep's team) also reaches the setup and
    service operations a rep is refused, so those are fuzzed past the permission check."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def caller_token(caller) -> str:
    _api_token, token = api_token_create(user=caller, name="Fuzzing")
    return token


@pytest.fixture
def caller_session(caller_token) -> Iterator[requests.Session]:
    """Requests with the caller's API token. Closed at the end, so the live server's keep-alive
    thread lets go of its database connection before the test database is dropped."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {caller_token}"
        yield session


def known_path_values(*, schema, session: requests.Session, base_url: str) -> dict:
    """{operation path: {parameter: [values]}} read from each detail path's list operation,
    e.g. /api/v1/customers/{id}/merge/ gets the ids /api/v1/customers/ lists."""
    values: dict = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path
        if "{" not in path:
            continue
        prefix, _, rest = path.partition("{")
        parameter = rest.split("}", 1)[0]
        response = session.get(f"{base_url}{prefix}", timeout=30)
        if response.status_code != 200:
            continue
        body = response.json()
        items = body.get("results", []) if isinstance(body, dict) else body
        key = parameter if items and parameter in items[0] else "id"
        found = [item[key] for item in items if isinstance(item, dict) and key in item]
        if found:
            values[path] = {parameter: found[:5]}
    return values


def operation_fuzz(
    operation, *, session: requests.Session, base_url: str, known: dict
) -> list[FuzzFailure]:
    """Fuzz one operation; every distinct failure found, without shrinking (bounded time)."""
    failures: dict[str, FuzzFailure] = {}
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if known:
        ((parameter, choices),) = known.items()
        strategies += [
            st.sampled_from(choices).flatmap(
                lambda value, mode=mode: operation.as_strategy(
                    generation_mode=mode, path_parameters={parameter: value}
                )
            )
            for mode in GenerationMode
        ]
    strategy = st.one_of(strategies)

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def run(case) -> None:
        with collected_server_tracebacks() as collector:
            try:
                case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)
            except (AssertionError, FailureGroup) as exc:
                found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
                for failure in found:
                    title = getattr(failure, "title", type(failure).__name__)
                    failures.setdefault(
                        title,
                        FuzzFailure(
                            operation=operation.label,
                            message=str(failure),
                            curl=case.as_curl_command(base_url=base_url),
                            tracebacks=collector.tracebacks,
                        ),
                    )

    run()
    return list(failures.values())


def test_every_operation_answers_as_documented_under_fuzzing(
    live_server, rep, caller_token, caller_session, eager_tasks, settings
):
    # given a rep with records of their own (the manager's team's), and no rate limit in the
    # way of the fuzzer
    records_seed(rep=rep)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": UNLIMITED_RATES,
    }
    settings.CRM_WEBHOOK_TIMEOUT_SECONDS = 1
    session = caller_session
    base_url = live_server.url
    # The caller's token answers the schema's bearer scheme, so Schemathesis sends it and does not
    # make up credentials for the session-cookie alternative.
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"apiToken": {"bearer": caller_token}}}}
    )
    schema = schemathesis.openapi.from_url(
        f"{base_url}{SCHEMA_PATH}", config=config, headers=dict(session.headers), timeout=120
    )
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: (
            operation.label == TOKEN_REVOKE,
            METHOD_ORDER.get(operation.method.lower(), 9),
            operation.path,
        ),
    )
    known = known_path_values(schema=schema, session=session, base_url=base_url)

    # when every operation is fuzzed
    failures = [
        failure
        for operation in operations
        for failure in operation_fuzz(
            operation, session=session, base_url=base_url, known=known.get(operation.path, {})
        )
    ]

    # then none answered with a server error or outside its schema
    assert len(operations) > 200
    assert not failures, f"{len(failures)} failures in {len(operations)} operations:\n\n" + (
        "\n\n".join(str(failure) for failure in failures)
    )
