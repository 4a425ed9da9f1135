"""Sales' part of the customer merge, the personal-data export and the erasure."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType

from collaboration.models import Task
from customers.models import Customer
from customers.services.merge import customer_merge
from customers.services.privacy import customer_erase, customer_personal_data_export
from sales.models import CampaignMember, Deal
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    DealFactory,
    WebFormSubmissionFactory,
)

pytestmark = pytest.mark.django_db


def test_merge_moves_deals_memberships_submissions_and_tasks_to_the_kept_customer(admin_user):
    kept, merged = CustomerFactory(), CustomerFactory()
    deal = DealFactory(customer=merged)
    shared_campaign, own_campaign = CampaignFactory(), CampaignFactory()
    CampaignMemberFactory(campaign=shared_campaign, customer=kept)
    CampaignMemberFactory(campaign=shared_campaign, customer=merged)
    CampaignMemberFactory(campaign=own_campaign, customer=merged)
    submission = WebFormSubmissionFactory(customer=merged)
    task = TaskFactory(
        related_type=ContentType.objects.get_for_model(Customer), related_id=merged.pk
    )

    customer_merge(actor=admin_user, kept=kept, merged=merged)

    assert Deal.objects.get(pk=deal.pk).customer_id == kept.pk
    assert sorted(
        CampaignMember.objects.filter(customer=kept).values_list("campaign_id", flat=True)
    ) == sorted([shared_campaign.pk, own_campaign.pk])
    submission.refresh_from_db()
    assert submission.customer_id == kept.pk
    assert Task.objects.get(pk=task.pk).related_id == kept.pk


def test_the_personal_data_export_has_a_sales_section_that_is_json(admin_user):
    customer = CustomerFactory()
    DealFactory(customer=customer, name="Fleet renewal")
    CampaignMemberFactory(customer=customer)
    WebFormSubmissionFactory(customer=customer, data={"message": "Call me"})

    data = customer_personal_data_export(actor=admin_user, customer=customer)

    sales = data["sales"]
    assert [deal["name"] for deal in sales["deals"]] == ["Fleet renewal"]
    assert len(data["campaign_memberships"]) == 1
    assert sales["web_form_submissions"][0]["data"] == {"message": "Call me"}
    json.dumps(data)


def test_erasure_clears_what_the_person_typed_into_forms_and_keeps_the_deals(admin_user):
    customer = CustomerFactory()
    deal = DealFactory(customer=customer)
    submission = WebFormSubmissionFactory(
        customer=customer, data={"name": "Ada", "email": "ada@example.com"}, ip_address="10.0.0.1"
    )

    customer_erase(actor=admin_user, customer=customer, reason="Asked to be forgotten")

    submission.refresh_from_db()
    assert submission.data == {}
    assert submission.ip_address is None
    assert Deal.objects.filter(pk=deal.pk).exists()
