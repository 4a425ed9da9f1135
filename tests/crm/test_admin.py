"""Every model of ours is in the admin, and every admin page a superuser opens loads."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from crm.accounts.services import record_share
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    CustomerMergeFactory,
    ImportJobFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    PrivacyRequestFactory,
    RelationshipFactory,
    SegmentFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"accounts", "customers", "sales", "service", "collaboration", "analytics"}
OUR_MODELS = [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def model_id(model) -> str:
    return model._meta.label_lower


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def some_of_everything(superuser):
    membership = TeamMembershipFactory()
    team = membership.team
    team.manager = UserFactory(roles=["Manager"])
    team.save(update_fields=["manager"])
    company = CompanyFactory(owner=membership.user, team=team)
    customers = CustomerFactory.create_batch(3, company=company, owner=membership.user, team=team)
    customers[0].tags.create(name="key-account")
    record_share(record=customers[0], shared_by=superuser, team=team)
    OrderLineFactory(order=OrderFactory(customer=customers[0]))
    NeedFactory(customer=customers[0])
    InteractionFactory(customer=customers[0], handled_by=membership.user)
    RelationshipFactory(from_customer=customers[0], to_customer=customers[1])
    SegmentFactory(owner=membership.user, team=team)
    ImportJobFactory(owner=superuser)
    CustomerMergeFactory(kept=customers[0], merged_by=superuser)
    PrivacyRequestFactory(customer=customers[1], requested_by=superuser)
    return customers


@pytest.mark.parametrize("model", OUR_MODELS, ids=model_id)
def test_every_model_of_ours_is_in_the_admin(model):
    # given  # when  # then
    assert admin.site.is_registered(model), f"{model._meta.label} has no ModelAdmin"


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_admin_changelist_add_and_search_load(model, superuser, some_of_everything, client_for):
    # given a superuser and a few records of every kind
    client = client_for(superuser)
    model_admin = admin.site._registry[model]

    # when they open the list, the list searched, and the add form
    changelist = client.get(admin_url(model, "changelist"))
    searched = client.get(admin_url(model, "changelist"), {"q": "a"})
    add = client.get(admin_url(model, "add"))

    # then every page loads
    assert changelist.status_code == 200
    assert searched.status_code == 200
    expected_add = 200 if model_admin.has_add_permission(changelist.wsgi_request) else 403
    assert add.status_code == expected_add


@pytest.mark.parametrize(
    "model", [model for model in REGISTERED if model in OUR_MODELS], ids=model_id
)
def test_admin_change_page_loads_for_our_records(model, superuser, some_of_everything, client_for):
    # given a record of the model
    record = model._default_manager.first()
    assert record is not None, "the fixture should create one of each"

    # when  # then
    response = client_for(superuser).get(admin_url(model, "change", record.pk))
    assert response.status_code == 200


def test_customer_changelist_queries_are_bounded(
    superuser, client_for, django_assert_max_num_queries
):
    # given thirty customers, each with a company, an owner and a team
    membership = TeamMembershipFactory()
    for _ in range(30):
        CustomerFactory(company=CompanyFactory(), owner=membership.user, team=membership.team)
    client = client_for(superuser)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("admin:customers_customer_changelist"))

    # then every row is listed
    assert response.status_code == 200
    assert response.context["cl"].result_count == 30
    assert len(response.context["cl"].result_list) == 30


def test_an_admin_role_user_can_use_the_admin(admin_user, some_of_everything, client_for):
    # given a staff user in the Admin role who is not a superuser  # when
    response = client_for(admin_user).get(reverse("admin:customers_customer_changelist"))

    # then
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
