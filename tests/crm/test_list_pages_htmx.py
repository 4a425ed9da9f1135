"""List pages swap only their results region when htmx filters or pages them; a plain request
(no JavaScript, a shared link, a history restore) still gets the whole page."""

import pytest
from django.urls import reverse

from tests.automation.factories import RuleFactory, RuleRunFactory
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CompanyFactory, CustomerFactory
from tests.mail.factories import EmailMessageFactory
from tests.sales.factories import CampaignFactory, DealFactory
from tests.service.factories import TicketFactory

RESULTS_SWAP = {"HX-Request": "true", "HX-Target": "results"}


def records_for_every_list(owner, count: int) -> dict[str, str]:
    """`count` records in each list, and each list's URL."""
    rule = RuleFactory(owner=owner)
    for _ in range(count):
        customer = CustomerFactory(owner=owner, company=CompanyFactory(owner=owner))
        DealFactory(owner=owner, customer=customer)
        TicketFactory(customer=customer, assignee=owner)
        TaskFactory(assignee=owner, created_by=owner)
        CampaignFactory(owner=owner)
        EmailMessageFactory(customer=customer)
        RuleRunFactory(rule=rule)
    return {
        "customers": reverse("customers:customer_list"),
        "companies": reverse("customers:company_list"),
        "deals": reverse("sales:deal_list"),
        "tickets": reverse("service:ticket_list") + "?queue=all",
        "tasks": reverse("collaboration:task_list"),
        "campaigns": reverse("sales:campaign_list"),
        "email": reverse("mail:email_list"),
        "audit events": reverse("audit:event_list"),
        "record changes": reverse("audit:change_list"),
        "rule runs": reverse("automation:run_list", args=[rule.pk]),
    }


@pytest.fixture
def lists(admin_user):
    return records_for_every_list(admin_user, count=3)


@pytest.mark.django_db
def test_a_plain_request_gets_the_whole_page_with_its_results_region(client_for, admin_user, lists):
    client = client_for(admin_user)
    for name, url in lists.items():
        response = client.get(url)

        assert response.status_code == 200, name
        page = response.content.decode()
        assert "<html" in page, name
        assert 'id="results"' in page, name
        assert 'hx-push-url="true"' in page, name
        assert "HX-Target" in response["Vary"], name


@pytest.mark.django_db
def test_htmx_swapping_the_results_gets_only_the_results(client_for, admin_user, lists):
    client = client_for(admin_user)
    for name, url in lists.items():
        response = client.get(url, headers=RESULTS_SWAP)

        assert response.status_code == 200, name
        results = response.content.decode()
        assert "<html" not in results, name
        assert "<h1" not in results, name
        assert 'role="search"' not in results, name
        assert "<table" in results or "list-group" in results, name


@pytest.mark.django_db
def test_another_htmx_request_gets_the_whole_page(client_for, admin_user, lists):
    response = client_for(admin_user).get(
        lists["customers"], headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


@pytest.mark.django_db
def test_paging_links_swap_the_results_region(client_for, admin_user):
    CustomerFactory.create_batch(51, owner=admin_user)

    response = client_for(admin_user).get(
        reverse("customers:customer_list") + "?page=2", headers=RESULTS_SWAP
    )

    assert 'hx-boost="true"' in response.content.decode()
    assert response.context["page"].number == 2


@pytest.mark.django_db
def test_the_results_take_as_many_queries_for_many_records_as_for_few(
    client_for, admin_user, django_assert_max_num_queries
):
    client = client_for(admin_user)
    few = records_for_every_list(admin_user, count=1)
    budgets = {}
    for name, url in few.items():
        with django_assert_max_num_queries(30) as context:
            client.get(url, headers=RESULTS_SWAP)
        budgets[name] = len(context.captured_queries)

    many = records_for_every_list(admin_user, count=6)
    for name, url in many.items():
        with django_assert_max_num_queries(budgets[name], info=name):
            client.get(url, headers=RESULTS_SWAP)
