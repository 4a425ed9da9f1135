"""The relationship network on the customer 360 page: the customer's relationships two hops out,
bounded, only through customers the user may see, laid out by networkx as an SVG."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.ml.graph import spring_layout_fitted
from analytics.selectors.network import customer_relationship_picture
from customers.selectors.network import customer_relationship_network
from tests.customers.factories import CustomerFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def names(network) -> set[str]:
    return {customer.name for customer in network.customers}


@pytest.fixture
def chain(rep, team):
    """Ada - Bo - Cy - Dee, all the rep's, and Bo - Eve."""
    people = {
        name: CustomerFactory(name=name, owner=rep, team=team)
        for name in ["Ada", "Bo", "Cy", "Dee", "Eve"]
    }
    RelationshipFactory(from_customer=people["Ada"], to_customer=people["Bo"], strength=5)
    RelationshipFactory(from_customer=people["Cy"], to_customer=people["Bo"], kind="partner")
    RelationshipFactory(from_customer=people["Cy"], to_customer=people["Dee"])
    RelationshipFactory(from_customer=people["Bo"], to_customer=people["Eve"], kind="family")
    return people


def test_the_network_reaches_two_hops_in_both_directions(rep, chain):
    network = customer_relationship_network(user=rep, customer=chain["Ada"])

    assert names(network) == {"Ada", "Bo", "Cy", "Eve"}
    assert network.hops == {
        chain["Ada"].pk: 0,
        chain["Bo"].pk: 1,
        chain["Cy"].pk: 2,
        chain["Eve"].pk: 2,
    }
    assert len(network.ties) == 3
    assert not network.truncated


def test_customers_the_user_may_not_see_are_neither_shown_nor_passed_through(
    rep, chain, other_team_rep, other_team
):
    # given a hidden customer between Ada and Fay
    hidden = CustomerFactory(name="Hidden", owner=other_team_rep, team=other_team)
    fay = CustomerFactory(name="Fay", owner=rep)
    RelationshipFactory(from_customer=chain["Ada"], to_customer=hidden)
    RelationshipFactory(from_customer=hidden, to_customer=fay)

    network = customer_relationship_network(user=rep, customer=chain["Ada"])

    assert "Hidden" not in names(network)
    assert "Fay" not in names(network)
    # while the other team's rep, who sees only Hidden, gets no one of the rep's
    theirs = customer_relationship_network(user=other_team_rep, customer=hidden)
    assert names(theirs) == {"Hidden"}
    assert theirs.ties == []


def test_the_network_is_bounded(rep):
    centre = CustomerFactory(owner=rep)
    for _index in range(50):
        RelationshipFactory(from_customer=centre, to_customer=CustomerFactory(owner=rep))

    network = customer_relationship_network(user=rep, customer=centre, max_customers=40)

    assert len(network.customers) == 40
    assert network.truncated


def test_the_network_costs_one_query(rep):
    centre = CustomerFactory(owner=rep)
    for _index in range(10):
        contact = CustomerFactory(owner=rep)
        RelationshipFactory(from_customer=centre, to_customer=contact)
        RelationshipFactory(from_customer=contact, to_customer=CustomerFactory(owner=rep))
    # the visibility rule reads the user's roles and teams once and keeps them on the user
    customer_relationship_network(user=rep, customer=centre)

    with CaptureQueriesContext(connection) as queries:
        network = customer_relationship_network(user=rep, customer=centre)

    assert len(network.customers) == 21
    assert len(queries) == 1


def test_the_layout_is_the_same_every_time_and_fits_the_box():
    nodes = ["c1", "c2", "c3", "c4"]
    ties = [("c1", "c2", 5), ("c2", "c3", 1), ("c3", "c4", 3)]

    first = spring_layout_fitted(nodes, ties, width=360, height=280, margin=28)
    second = spring_layout_fitted(nodes, ties, width=360, height=280, margin=28)

    assert first == second
    assert all(28 <= x <= 332 and 28 <= y <= 252 for x, y in first.values())


def test_the_picture_has_one_point_per_customer_the_centre_drawn_last(rep, chain):
    picture = customer_relationship_picture(user=rep, customer=chain["Ada"])

    assert [point.name for point in picture.points][-1] == "Ada"
    assert picture.points[-1].hop == 0
    assert len(picture.points) == 4
    assert len(picture.lines) == 3


def test_a_customer_without_relationships_has_no_picture(rep):
    assert customer_relationship_picture(user=rep, customer=CustomerFactory(owner=rep)) is None


def test_the_360_page_draws_the_network_with_links(rep, rep_client, chain):
    response = rep_client.get(f"/customers/{chain['Ada'].pk}/")

    page = response.content.decode()
    assert "Relationship network" in page
    assert 'class="w-100 h-auto relationship-network"' in page
    for person in ["Bo", "Cy", "Eve"]:
        assert f'href="/customers/{chain[person].pk}/" aria-label="{person}"' in page
    assert "data-centre" in page
    assert "4 customers within two relationships" in page


def test_the_360_page_has_no_network_panel_without_relationships(rep, rep_client):
    customer = CustomerFactory(owner=rep)

    assert (
        "Relationship network" not in rep_client.get(f"/customers/{customer.pk}/").content.decode()
    )


def test_the_panel_costs_the_same_queries_however_large_the_network(rep, rep_client):
    def network_of(size: int):
        centre = CustomerFactory(owner=rep)
        for _index in range(size):
            contact = CustomerFactory(owner=rep)
            RelationshipFactory(from_customer=centre, to_customer=contact)
            RelationshipFactory(from_customer=contact, to_customer=CustomerFactory(owner=rep))
        return centre

    small, large = network_of(2), network_of(15)
    rep_client.get(f"/customers/{small.pk}/")
    with CaptureQueriesContext(connection) as few:
        rep_client.get(f"/customers/{small.pk}/")
    with CaptureQueriesContext(connection) as many:
        rep_client.get(f"/customers/{large.pk}/")

    assert len(many) == len(few)
