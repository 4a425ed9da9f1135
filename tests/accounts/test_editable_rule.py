"""The edit rule: who may change a record, beside who may see it. A read-only share and the
service desk's "see all customers" let one see a record, not change it."""

import pytest

from crm.accounts import roles
from crm.accounts.models import RecordShare
from crm.accounts.selectors import (
    record_is_editable_by,
    record_is_visible_to,
    records_editable_by,
)
from crm.accounts.services import record_share
from customers.models import Customer
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger_customer(other_team, other_team_rep):
    return CustomerFactory(owner=other_team_rep, team=other_team)


def test_a_read_share_lets_one_see_but_not_edit(rep, other_team_rep, stranger_customer):
    # given
    record_share(record=stranger_customer, shared_by=other_team_rep, user=rep)

    # then
    assert record_is_visible_to(user=rep, record=stranger_customer)
    assert not record_is_editable_by(user=rep, record=stranger_customer)


def test_an_edit_share_lets_one_edit(rep, other_team_rep, stranger_customer):
    # given
    record_share(
        record=stranger_customer,
        shared_by=other_team_rep,
        user=rep,
        access=RecordShare.Access.EDIT,
    )

    # then
    assert record_is_editable_by(user=rep, record=stranger_customer)


def test_an_edit_share_with_a_team_lets_its_members_and_manager_edit(
    rep, rep_teammate, manager, team, other_team_rep, stranger_customer
):
    # given
    record_share(
        record=stranger_customer,
        shared_by=other_team_rep,
        team=team,
        access=RecordShare.Access.EDIT,
    )

    # then
    assert all(
        record_is_editable_by(user=user, record=stranger_customer)
        for user in (rep, rep_teammate, manager)
    )


def test_sharing_again_changes_the_access(rep, other_team_rep, stranger_customer):
    # given a read share
    first = record_share(record=stranger_customer, shared_by=other_team_rep, user=rep)

    # when it is shared again to edit
    again = record_share(
        record=stranger_customer,
        shared_by=other_team_rep,
        user=rep,
        access=RecordShare.Access.EDIT,
    )

    # then the one share now grants edit
    assert again.pk == first.pk
    assert RecordShare.objects.get().access == RecordShare.Access.EDIT
    assert record_is_editable_by(user=rep, record=stranger_customer)


def test_see_all_sees_every_customer_but_edits_only_their_teams(team, stranger_customer):
    # given a service agent of `team`
    agent = UserFactory(username="desk", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    own_team_customer = CustomerFactory(team=team)

    # then
    assert record_is_visible_to(user=agent, record=stranger_customer)
    assert not record_is_editable_by(user=agent, record=stranger_customer)
    assert record_is_editable_by(user=agent, record=own_team_customer)


def test_the_owner_and_their_team_edit(rep, rep_teammate, team):
    # given
    owned = CustomerFactory(owner=rep)
    teams = CustomerFactory(team=team)

    # then
    assert record_is_editable_by(user=rep, record=owned)
    assert record_is_editable_by(user=rep_teammate, record=owned)
    assert record_is_editable_by(user=rep, record=teams)


def test_admins_edit_everything(admin_user, superuser, stranger_customer):
    assert record_is_editable_by(user=admin_user, record=stranger_customer)
    assert record_is_editable_by(user=superuser, record=stranger_customer)


def test_editable_records_are_the_visible_ones_less_read_only_shares(
    rep, other_team_rep, other_team
):
    # given two customers of another team, one shared to read and one to edit
    read_only = CustomerFactory(team=other_team)
    editable = CustomerFactory(team=other_team)
    record_share(record=read_only, shared_by=other_team_rep, user=rep)
    record_share(
        record=editable, shared_by=other_team_rep, user=rep, access=RecordShare.Access.EDIT
    )

    # then
    assert list(records_editable_by(user=rep, queryset=Customer.objects.all())) == [editable]


def test_nobody_signed_out_or_inactive_edits(rep):
    # given
    owned = CustomerFactory(owner=rep)
    rep.is_active = False

    # then
    assert not record_is_editable_by(user=rep, record=owned)
