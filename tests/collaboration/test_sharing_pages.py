"""The record sharing page and the "shared with me" page."""

import pytest

from crm.accounts.models import RecordShare
from crm.accounts.services import record_share
from crm.activity.models import ActivityEvent
from sales.services.deals import deal_create
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(other_team, other_team_rep):
    return CustomerFactory(name="Lotus Tea", owner=other_team_rep, team=other_team)


def sharing_url(record) -> str:
    return f"/collaboration/records/customers.customer/{record.pk}/sharing/"


def test_the_owner_sees_the_shares_and_the_form(client_for, other_team_rep, rep, customer):
    # given
    record_share(record=customer, shared_by=other_team_rep, user=rep)

    # when
    response = client_for(other_team_rep).get(sharing_url(customer))

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "Lotus Tea" in body
    assert "Riley Chen" in body
    assert 'name="access"' in body
    assert "Stop sharing" in body


def test_the_owner_shares_with_a_team_to_edit(client_for, other_team_rep, team, customer):
    # when
    response = client_for(other_team_rep).post(
        sharing_url(customer), {"team": team.pk, "access": "edit"}
    )

    # then
    assert response.status_code == 302
    share = RecordShare.objects.get()
    assert (share.team, share.access) == (team, RecordShare.Access.EDIT)
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.RECORD_SHARED).exists()


def test_the_form_refuses_both_a_team_and_a_user(client_for, other_team_rep, team, rep, customer):
    response = client_for(other_team_rep).post(
        sharing_url(customer), {"team": team.pk, "user": rep.pk, "access": "read"}
    )

    assert response.status_code == 400
    assert not RecordShare.objects.exists()


def test_a_read_only_sharer_sees_the_list_but_no_form_and_cannot_post(
    client_for, other_team_rep, rep, rep_teammate, customer
):
    # given
    record_share(record=customer, shared_by=other_team_rep, user=rep)
    client = client_for(rep)

    # when
    page = client.get(sharing_url(customer))
    posted = client.post(sharing_url(customer), {"user": rep_teammate.pk, "access": "read"})

    # then
    assert page.status_code == 200
    assert 'name="access"' not in page.content.decode()
    assert "Stop sharing" not in page.content.decode()
    assert posted.status_code == 403
    assert RecordShare.objects.count() == 1


def test_a_record_one_cannot_see_or_cannot_share_is_not_found(rep_client, customer):
    assert rep_client.get(sharing_url(customer)).status_code == 404
    assert rep_client.get("/collaboration/records/customers.order/1/sharing/").status_code == 404


def test_revoking_asks_first_then_stops_sharing(client_for, other_team_rep, rep, customer):
    # given
    share = record_share(record=customer, shared_by=other_team_rep, user=rep)
    client = client_for(other_team_rep)
    url = f"{sharing_url(customer)}{share.pk}/revoke/"

    # when
    confirm = client.get(url)
    revoked = client.post(url)

    # then
    assert confirm.status_code == 200
    assert "Stop sharing “Lotus Tea” with Riley Chen?" in confirm.content.decode()
    assert revoked.status_code == 302
    assert not RecordShare.objects.exists()


def test_a_read_only_sharer_cannot_revoke(client_for, other_team_rep, rep, customer):
    share = record_share(record=customer, shared_by=other_team_rep, user=rep)

    response = client_for(rep).post(f"{sharing_url(customer)}{share.pk}/revoke/")

    assert response.status_code == 404
    assert RecordShare.objects.exists()


def test_shared_with_me_lists_records_with_links(
    client_for, rep, team, other_team, other_team_rep, customer, django_assert_max_num_queries
):
    # given several records shared with the rep or their team
    record_share(record=customer, shared_by=other_team_rep, user=rep)
    for number in range(5):
        record_share(
            record=CustomerFactory(name=f"Shared {number}", team=other_team),
            shared_by=other_team_rep,
            team=team,
        )
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(15):
        response = client.get("/collaboration/shared-with-me/")

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="/customers/{customer.pk}/"' in body
    assert "Shared 4" in body
    assert "Team Sales East" in body


def test_a_read_only_sharer_sees_the_deal_page_without_edit_buttons(
    client_for, rep, other_team, other_team_rep
):
    # given a deal of another team shared with the rep to read, and one shared to edit
    read_only = deal_create(
        actor=None, customer=CustomerFactory(team=other_team), team=other_team, name="Read"
    )
    editable = deal_create(
        actor=None, customer=CustomerFactory(team=other_team), team=other_team, name="Edit"
    )
    record_share(record=read_only, shared_by=other_team_rep, user=rep)
    record_share(record=editable, shared_by=other_team_rep, user=rep, access="edit")
    client = client_for(rep)

    # when
    read_page = client.get(f"/sales/deals/{read_only.pk}/").content.decode()
    edit_page = client.get(f"/sales/deals/{editable.pk}/").content.decode()

    # then
    assert f"/sales/deals/{read_only.pk}/edit/" not in read_page
    assert f"/sales/deals/{editable.pk}/edit/" in edit_page
