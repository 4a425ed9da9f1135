"""A model's "see all" permission widens the visibility rule for its records and theirs."""

from crm.accounts import roles
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, Order
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory, OrderFactory


def test_the_service_desk_sees_every_customer_and_their_records(team, other_team, rep):
    agent = UserFactory(username="desk", roles=[roles.SERVICE_AGENT])
    agent.team_memberships.create(team=team)
    stranger = CustomerFactory(team=other_team)
    order = OrderFactory(customer=stranger)

    assert (
        records_visible_to(user=agent, queryset=Customer.objects.all())
        .filter(pk=stranger.pk)
        .exists()
    )
    assert records_visible_to(user=agent, queryset=Order.objects.all()).filter(pk=order.pk).exists()
    # a rep still sees only their own and their team's customers
    assert (
        not records_visible_to(user=rep, queryset=Customer.objects.all())
        .filter(pk=stranger.pk)
        .exists()
    )
