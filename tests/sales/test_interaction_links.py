"""An interaction logged against a deal links to the deal from the customer's timeline."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from customers.models import Interaction
from customers.selectors.records import interaction_timeline_entries
from customers.services.records import interaction_log
from sales.models import Deal
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db


def test_an_interaction_about_a_deal_links_to_the_deal(rep):
    customer = CustomerFactory(owner=rep)
    deal = DealFactory(customer=customer, owner=rep)
    interaction_log(
        actor=rep,
        customer=customer,
        channel=Interaction.Channel.CALL,
        direction=Interaction.Direction.OUTBOUND,
        subject="Pricing call",
        related_type=ContentType.objects.get_for_model(Deal),
        related_id=deal.pk,
    )
    interaction_log(
        actor=rep,
        customer=customer,
        channel=Interaction.Channel.EMAIL,
        direction=Interaction.Direction.INBOUND,
        subject="Newsletter reply",
    )

    entries = interaction_timeline_entries(customer, rep, None, 10)

    urls = {entry.title: entry.url for entry in entries}
    assert urls == {
        "Pricing call": reverse("sales:deal_detail", args=[deal.pk]),
        "Newsletter reply": "",
    }
