"""A bulk write announces its records in one fan-out: the subscriptions are read once, and each
subscription's owner's visibility once, however many records."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.webhooks.models import WebhookDelivery
from crm.webhooks.services import webhook_deliveries_create_many
from tests.customers.factories import CustomerFactory
from tests.webhooks.factories import WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db


def announcements(customers):
    return [(customer, {"changed_fields": ["city"]}) for customer in customers]


def test_nobody_listening_costs_one_query_however_many_records():
    customers = CustomerFactory.create_batch(30)

    with CaptureQueriesContext(connection) as queries:
        created = webhook_deliveries_create_many(
            event="customer.updated", announcements=announcements(customers)
        )

    assert created == []
    assert len(queries) == 1


def test_each_listener_gets_the_records_its_owner_may_see(rep, other_team_rep, eager_tasks):
    # Given a subscription of each rep and customers of each
    mine = CustomerFactory.create_batch(3, owner=rep)
    theirs = CustomerFactory.create_batch(2, owner=other_team_rep)
    for owner in (rep, other_team_rep):
        WebhookSubscriptionFactory(owner=owner, events=["customer.updated"])

    # When the bulk announcement fans out (sending is left to the worker)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("crm.webhooks.services._send_queue", lambda *args, **kwargs: None)
        deliveries = webhook_deliveries_create_many(
            event="customer.updated", announcements=announcements([*mine, *theirs])
        )

    # Then each owner hears only of their own customers, each with the changes
    heard = {(d.subscription.owner_id, d.payload["data"]["id"]) for d in deliveries}
    assert heard == {(rep.pk, c.pk) for c in mine} | {(other_team_rep.pk, c.pk) for c in theirs}
    assert all(d.payload["changes"] == {"changed_fields": ["city"]} for d in deliveries)
    assert WebhookDelivery.objects.count() == 5
