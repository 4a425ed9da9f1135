"""/api/v1/shares/: listing a record's shares, sharing and stopping, through the services."""

from decimal import Decimal

import pytest

from crm.accounts.models import RecordShare
from crm.accounts.services import record_share
from sales.services.deals import deal_create
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/shares/"


@pytest.fixture
def customer(other_team, other_team_rep):
    return CustomerFactory(name="Lotus Tea", owner=other_team_rep, team=other_team)


def post(client, data):
    return client.post(URL, data, content_type="application/json")


def test_list_the_shares_of_one_record(
    client_for, other_team_rep, rep, team, customer, django_assert_max_num_queries
):
    # given
    record_share(record=customer, shared_by=other_team_rep, user=rep)
    record_share(record=customer, shared_by=other_team_rep, team=team, access="edit")
    client = client_for(other_team_rep)

    # when
    with django_assert_max_num_queries(11):
        response = client.get(URL, {"type": "customers.customer", "id": customer.pk})

    # then
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [(row["team"], row["user"], row["access"]) for row in rows] == [
        (team.pk, None, "edit"),
        (None, rep.pk, "read"),
    ]
    assert rows[0]["type"] == "customers.customer"
    assert rows[0]["record_id"] == customer.pk


def test_listing_needs_the_record_and_hides_invisible_ones(rep_client, customer):
    assert rep_client.get(URL).status_code == 400
    hidden = rep_client.get(URL, {"type": "customers.customer", "id": customer.pk})
    assert hidden.status_code == 404


def test_create_shares_and_destroy_stops(client_for, other_team_rep, rep, customer):
    client = client_for(other_team_rep)

    # when
    created = post(
        client, {"type": "customers.customer", "id": customer.pk, "user": rep.pk, "access": "edit"}
    )
    share_id = created.json()["id"]
    deleted = client.delete(f"{URL}{share_id}/")

    # then
    assert created.status_code == 201, created.content
    assert created.json()["access"] == "edit"
    assert created.json()["shared_by"] == other_team_rep.pk
    assert deleted.status_code == 204
    assert not RecordShare.objects.exists()


def test_create_refuses_bad_input(client_for, other_team_rep, rep, team, customer):
    client = client_for(other_team_rep)

    both = post(
        client, {"type": "customers.customer", "id": customer.pk, "user": rep.pk, "team": team.pk}
    )
    kind = post(client, {"type": "customers.order", "id": 1, "user": rep.pk})

    assert both.status_code == 400
    assert both.json()["error"]["code"] == "validation_error"
    assert kind.status_code == 400


def test_a_read_only_sharer_can_neither_share_nor_revoke(
    client_for, other_team_rep, rep, rep_teammate, customer
):
    # given
    share = record_share(record=customer, shared_by=other_team_rep, user=rep)
    client = client_for(rep)

    # when
    created = post(
        client, {"type": "customers.customer", "id": customer.pk, "user": rep_teammate.pk}
    )
    deleted = client.delete(f"{URL}{share.pk}/")

    # then
    assert created.status_code == 403
    assert deleted.status_code == 403
    assert RecordShare.objects.count() == 1


def test_a_share_of_an_invisible_record_is_not_found(rep_client, other_team_rep, customer):
    share = record_share(record=customer, shared_by=other_team_rep, user=other_team_rep)
    assert rep_client.delete(f"{URL}{share.pk}/").status_code == 404


def test_a_read_share_user_gets_403_updating_the_deal(client_for, rep, other_team, other_team_rep):
    # given a deal of another team shared with the rep to read
    deal = deal_create(
        actor=None,
        customer=CustomerFactory(team=other_team),
        owner=other_team_rep,
        team=other_team,
        name="Tea",
    )
    record_share(record=deal, shared_by=other_team_rep, user=rep)
    client = client_for(rep)

    # when
    seen = client.get(f"/api/v1/deals/{deal.pk}/")
    changed = client.patch(
        f"/api/v1/deals/{deal.pk}/",
        {"amount": str(Decimal("1.00")), "version": deal.version},
        content_type="application/json",
    )

    # then
    assert seen.status_code == 200
    assert changed.status_code == 403
