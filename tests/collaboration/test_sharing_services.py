"""Sharing records across teams: who may share, the access it gives, what it logs and whom it
tells; and the write services that refuse those who may only read a record."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.models import Notification, Task
from collaboration.selectors.sharing import (
    record_shares_for,
    shareable_record_visible,
    shares_with_me,
    shares_with_records,
)
from collaboration.services.sharing import record_share_grant, record_share_revoke
from collaboration.services.tasks import task_complete, task_update
from crm.accounts import roles
from crm.accounts.models import RecordShare
from crm.accounts.selectors import record_is_editable_by, record_is_visible_to
from crm.activity.models import ActivityEvent
from customers.models import Customer
from customers.services.customers import customer_delete, customer_update
from sales.models import Deal
from sales.services.deals import deal_create, deal_delete, deal_update
from service.models import Ticket
from service.services.tickets import ticket_change_status, ticket_reply, ticket_update
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory, OrderFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(other_team, other_team_rep):
    """A customer of the other team: the rep cannot see it until it is shared."""
    return CustomerFactory(name="Lotus Tea", owner=other_team_rep, team=other_team)


# Granting ----------------------------------------------------------------------------------------


def test_the_owner_shares_a_record_with_a_user_who_then_sees_it(
    rep, other_team_rep, other_team, customer
):
    # when
    share = record_share_grant(actor=other_team_rep, record=customer, user=rep)

    # then the rep sees it, read only
    assert share.access == RecordShare.Access.READ
    assert share.shared_by == other_team_rep
    assert record_is_visible_to(user=rep, record=customer)
    assert not record_is_editable_by(user=rep, record=customer)
    # and it is logged in the record's team's feed
    event = ActivityEvent.objects.get()
    assert event.verb == ActivityEvent.Verb.RECORD_SHARED
    assert event.team == other_team
    assert event.actor == other_team_rep
    assert event.target == customer
    assert event.data == {"with": {"user": rep.pk, "name": str(rep)}, "access": "read"}
    assert event.url == f"/customers/{customer.pk}/"
    # and the rep is told, with a link to the record
    notification = Notification.objects.get(recipient=rep)
    assert notification.kind == Notification.Kind.RECORD_SHARED
    assert "Lotus Tea" in notification.title
    assert notification.url == f"/customers/{customer.pk}/"


def test_sharing_with_a_team_tells_each_active_member_but_the_sharer(
    rep, rep_teammate, team, other_team_rep, customer
):
    # given an inactive member
    gone = UserFactory(username="gone", is_active=False)
    TeamMembershipFactory(team=team, user=gone)

    # when
    record_share_grant(
        actor=other_team_rep, record=customer, team=team, access=RecordShare.Access.EDIT
    )

    # then
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"rep", "rep_teammate"}
    assert record_is_editable_by(user=rep_teammate, record=customer)


def test_sharing_again_changes_the_access_and_the_same_access_changes_nothing(
    rep, other_team_rep, customer
):
    # given
    record_share_grant(actor=other_team_rep, record=customer, user=rep)

    # when
    record_share_grant(actor=other_team_rep, record=customer, user=rep)
    share = record_share_grant(
        actor=other_team_rep, record=customer, user=rep, access=RecordShare.Access.EDIT
    )

    # then one share, now to edit; two events and two notices (the repeat was a no-op)
    assert RecordShare.objects.get() == share
    assert share.access == RecordShare.Access.EDIT
    assert ActivityEvent.objects.count() == 2
    assert Notification.objects.filter(recipient=rep).count() == 2


def test_one_who_can_only_read_a_record_cannot_share_it(
    rep, rep_teammate, other_team_rep, customer
):
    # given the rep may read it
    record_share_grant(actor=other_team_rep, record=customer, user=rep)

    # then the rep can neither pass it on nor widen their own access
    with pytest.raises(PermissionDenied):
        record_share_grant(actor=rep, record=customer, user=rep_teammate)
    with pytest.raises(PermissionDenied):
        record_share_grant(actor=rep, record=customer, user=rep, access=RecordShare.Access.EDIT)


def test_one_who_cannot_see_a_record_cannot_share_it(rep, rep_teammate, customer):
    with pytest.raises(PermissionDenied):
        record_share_grant(actor=rep, record=customer, user=rep_teammate)


def test_sharing_needs_the_permission(other_team, rep, customer):
    # given a team member without any role
    member = UserFactory(username="norole")
    TeamMembershipFactory(team=other_team, user=member)

    with pytest.raises(PermissionDenied):
        record_share_grant(actor=member, record=customer, user=rep)


@pytest.mark.parametrize("target", ["both", "neither"])
def test_a_share_names_exactly_one_team_or_user(target, rep, team, other_team_rep, customer):
    values = {"team": team, "user": rep} if target == "both" else {}
    with pytest.raises(ValidationError):
        record_share_grant(actor=other_team_rep, record=customer, **values)


def test_a_record_is_not_shared_with_its_owner_or_an_inactive_user(other_team_rep, customer):
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError):
        record_share_grant(actor=other_team_rep, record=customer, user=other_team_rep)
    with pytest.raises(ValidationError):
        record_share_grant(actor=other_team_rep, record=customer, user=gone)


def test_only_shareable_kinds_of_record_are_shared(rep, other_team_rep, customer):
    order = OrderFactory(customer=customer)
    with pytest.raises(ValidationError):
        record_share_grant(actor=other_team_rep, record=order, user=rep)


def test_bad_access_is_refused(rep, other_team_rep, customer):
    with pytest.raises(ValidationError):
        record_share_grant(actor=other_team_rep, record=customer, user=rep, access="own")


# Revoking ----------------------------------------------------------------------------------------


def test_revoking_takes_the_record_back_logs_and_tells(rep, other_team_rep, other_team, customer):
    # given
    share = record_share_grant(actor=other_team_rep, record=customer, user=rep)

    # when
    record_share_revoke(actor=other_team_rep, share=share)

    # then
    assert not RecordShare.objects.exists()
    assert not record_is_visible_to(user=rep, record=customer)
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.RECORD_UNSHARED)
    assert (event.team, event.actor, event.target) == (other_team, other_team_rep, customer)
    assert Notification.objects.filter(recipient=rep).count() == 2


def test_one_with_a_read_share_cannot_revoke(rep, other_team_rep, customer):
    share = record_share_grant(actor=other_team_rep, record=customer, user=rep)
    with pytest.raises(PermissionDenied):
        record_share_revoke(actor=rep, share=share)
    assert RecordShare.objects.exists()


# Reads -------------------------------------------------------------------------------------------


def test_shares_of_a_record_are_listed_only_to_those_who_see_it(
    rep, rep_teammate, other_team_rep, customer
):
    record_share_grant(actor=other_team_rep, record=customer, user=rep)

    assert list(record_shares_for(user=rep, record=customer).values_list("user", flat=True)) == [
        rep.pk
    ]
    assert not record_shares_for(user=rep_teammate, record=customer).exists()


def test_shareable_record_visible_finds_only_shareable_visible_records(
    rep, other_team_rep, customer
):
    order = OrderFactory(customer=CustomerFactory(owner=rep))

    assert (
        shareable_record_visible(
            user=other_team_rep, type_label="customers.customer", record_id=customer.pk
        )
        == customer
    )
    assert (
        shareable_record_visible(user=rep, type_label="customers.customer", record_id=customer.pk)
        is None
    )
    assert (
        shareable_record_visible(user=rep, type_label="customers.order", record_id=order.pk) is None
    )
    assert shareable_record_visible(user=rep, type_label="nonsense", record_id=1) is None


def test_shares_with_me_include_my_teams_and_leave_out_others(
    rep, team, other_team_rep, customer, other_team
):
    # given one customer shared with the rep, one with their team, one with someone else
    with_team = CustomerFactory(name="Green Leaf", owner=other_team_rep, team=other_team)
    elsewhere = CustomerFactory(name="Elsewhere", owner=other_team_rep, team=other_team)
    record_share_grant(actor=other_team_rep, record=customer, user=rep)
    record_share_grant(actor=other_team_rep, record=with_team, team=team)
    record_share_grant(actor=other_team_rep, record=elsewhere, user=UserFactory(username="x"))

    # when
    shares = shares_with_records(list(shares_with_me(user=rep)))

    # then
    assert {share.record.name for share in shares} == {"Lotus Tea", "Green Leaf"}
    assert {share.record_link for share in shares} == {
        f"/customers/{customer.pk}/",
        f"/customers/{with_team.pk}/",
    }


# Writes refuse those who may only read -----------------------------------------------------------


def test_a_read_share_user_cannot_change_or_delete_the_customer(rep, other_team_rep, customer):
    record_share_grant(actor=other_team_rep, record=customer, user=rep)

    with pytest.raises(PermissionDenied):
        customer_update(actor=rep, customer=customer, name="Renamed")
    with pytest.raises(PermissionDenied):
        customer_delete(actor=rep, customer=customer)
    assert Customer.objects.get(pk=customer.pk).name == "Lotus Tea"


def test_an_edit_share_user_changes_the_customer(rep, other_team_rep, customer):
    record_share_grant(
        actor=other_team_rep, record=customer, user=rep, access=RecordShare.Access.EDIT
    )

    updated = customer_update(actor=rep, customer=customer, name="Renamed")

    assert updated.name == "Renamed"


def test_a_read_share_user_cannot_update_or_delete_a_deal(rep, other_team_rep, other_team):
    # given a deal of the other team shared with the rep to read
    deal = deal_create(
        actor=None,
        customer=CustomerFactory(team=other_team),
        owner=other_team_rep,
        team=other_team,
        name="Tea",
    )
    record_share_grant(actor=other_team_rep, record=deal, user=rep)

    # then
    with pytest.raises(PermissionDenied):
        deal_update(actor=rep, deal=deal, version=deal.version, amount=Decimal("1"))
    with pytest.raises(PermissionDenied):
        deal_delete(actor=rep, deal=deal)
    assert Deal.objects.get(pk=deal.pk).version == deal.version


def test_a_read_share_agent_replies_on_a_ticket_but_does_not_change_it(
    team, other_team, other_team_rep
):
    # given an agent who may read another team's ticket
    agent = UserFactory(username="desk", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    ticket = TicketFactory(team=other_team, assignee=other_team_rep)
    record_share_grant(actor=other_team_rep, record=ticket, user=agent)

    # then the agent may reply
    ticket_reply(actor=agent, ticket=ticket, body="We are on it.")
    ticket.refresh_from_db()
    # but not change it
    with pytest.raises(PermissionDenied):
        ticket_update(actor=agent, ticket=ticket, version=ticket.version, subject="Mine")
    with pytest.raises(PermissionDenied):
        ticket_change_status(
            actor=agent, ticket=ticket, status=Ticket.Status.CLOSED, version=ticket.version
        )


def test_a_read_share_user_cannot_change_a_task(rep, other_team_rep, other_team):
    task = TaskFactory(assignee=other_team_rep, team=other_team)
    record_share_grant(actor=other_team_rep, record=task, user=rep)

    with pytest.raises(PermissionDenied):
        task_update(actor=rep, task=task, version=task.version, title="Mine")
    with pytest.raises(PermissionDenied):
        task_complete(actor=rep, task=task)
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN
