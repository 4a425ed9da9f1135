"""The recommendations in the browser: the panel on the customer 360 page (only similar
customers the user may see, products with why), and the page with the latest build, its
progress and the "Rebuild" button for managers."""

import pytest
from django.urls import reverse

from analytics.models import AnalyticsJob, ModelVersion
from analytics.selectors.recommendations import customer_recommendations_for
from analytics.services.recommendations import recommendations_build_request
from tests.analytics.factories import recommendation_groups_create

pytestmark = pytest.mark.django_db

PAGE = reverse("analytics:recommendations")
REBUILD = reverse("analytics:recommendations_rebuild")


@pytest.fixture
def groups(rep, other_team_rep):
    return recommendation_groups_create(owner=rep, hidden_owner=other_team_rep)


@pytest.fixture
def built(groups, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recommendations_build_request(user=None, trigger=ModelVersion.Trigger.SCHEDULE)
    return groups


def _profile(client, customer):
    return client.get(reverse("customers:customer_detail", args=[customer.pk]))


def test_the_360_page_shows_visible_similar_customers_and_next_best_products(
    built, rep, client_for
):
    # Given built recommendations, and a premium peer the rep may not see
    # When the rep opens the premium subject's page
    response = _profile(client_for(rep), built.premium_subject)

    # Then the panel lists the similar customers they may see, linked, and not the hidden one
    page = response.content.decode()
    assert response.status_code == 200
    assert "Similar customers" in page
    peer = built.premium_peers[0]
    assert reverse("customers:customer_detail", args=[peer.pk]) in page
    assert built.hidden_peer.name not in page
    # And the monitor with its category, price and why; never the laptop they already have
    assert "Next-best products" in page
    assert "Monitor" in page
    assert "Electronics" in page
    assert "bought by 5 of 10 similar customers" in page
    assert "Laptop" not in page


def test_the_360_page_has_no_recommendations_panel_before_a_build(groups, rep, client_for):
    # Given no build has run
    # When the rep opens a customer's page
    response = _profile(client_for(rep), groups.premium_subject)

    # Then there is no recommendations panel
    assert response.status_code == 200
    assert "Next-best products" not in response.content.decode()


def test_the_panel_costs_four_queries_however_many_neighbours_and_products(
    built, rep, django_assert_num_queries
):
    # Given built recommendations with ten neighbours and several products each, read once so
    # the rep's permissions and teams are known, as they are on any page
    customer_recommendations_for(user=rep, customer=built.budget_subject)

    # When the panel reads the premium subject's
    with django_assert_num_queries(4):
        recommendations = customer_recommendations_for(
            user=rep, customer=built.premium_subject, similar_limit=5
        )
        names = [entry.customer.name for entry in recommendations.similar]
        products = [suggestion.product.name for suggestion in recommendations.products]

    # Then it has read the recommendation, the visible neighbours, the products and who bought
    # them, in one query each
    assert len(names) == 5
    assert built.hidden_peer.name not in names
    assert products[0] == "Monitor"


def test_the_360_page_stays_within_its_query_budget(
    built, rep, client_for, django_assert_max_num_queries
):
    # Given built recommendations
    client = client_for(rep)

    # When the rep opens a customer's page
    # Then the page, with every panel, stays within a fixed number of queries
    with django_assert_max_num_queries(40):
        response = _profile(client, built.premium_subject)
    assert "Monitor" in response.content.decode()


def test_the_page_shows_the_latest_build_and_only_managers_may_rebuild(
    built, rep, manager, client_for
):
    # Given a finished build
    # When a rep opens the recommendations page
    response = client_for(rep).get(PAGE)

    # Then they see its figures but no Rebuild button, and may not rebuild
    page = response.content.decode()
    assert response.status_code == 200
    assert "Done" in page
    assert "12 of 12 customers with orders" in page
    assert REBUILD not in page
    assert client_for(rep).post(REBUILD).status_code == 403

    # And a manager sees the button
    assert REBUILD in client_for(manager).get(PAGE).content.decode()


def test_a_manager_rebuilds_and_a_second_click_is_refused(
    groups, manager, client_for, django_capture_on_commit_callbacks
):
    # Given a manager on the recommendations page, with a build already queued
    client = client_for(manager)
    recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)

    # When they click Rebuild
    response = client.post(REBUILD, follow=True)

    # Then they are told one is already running, and no second build is queued
    assert "already being built" in response.content.decode()
    assert AnalyticsJob.objects.count() == 1

    # And once the first is done, a click starts a new build that runs
    AnalyticsJob.objects.update(status=AnalyticsJob.Status.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REBUILD, follow=True)
    assert "being rebuilt" in response.content.decode()
    latest = AnalyticsJob.objects.first()
    assert latest.trigger == ModelVersion.Trigger.BUTTON
    assert latest.status == AnalyticsJob.Status.DONE


def test_a_running_build_card_polls_and_a_finished_one_does_not(groups, manager, rep, client_for):
    # Given a build that is running
    job = recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)
    AnalyticsJob.objects.filter(pk=job.pk).update(
        status=AnalyticsJob.Status.RUNNING, progress=40, stage="Finding neighbours and products"
    )
    card_url = reverse("analytics:recommendations_job", args=[job.pk])

    # When the rep's page shows its card
    card = client_for(rep).get(card_url).content.decode()

    # Then it shows the progress and asks htmx to reload it
    assert 'aria-valuenow="40"' in card
    assert "Finding neighbours and products" in card
    assert f'hx-get="{card_url}"' in card

    # And once done it stops polling
    AnalyticsJob.objects.filter(pk=job.pk).update(status=AnalyticsJob.Status.DONE, progress=100)
    assert "hx-get" not in client_for(rep).get(card_url).content.decode()


def test_the_page_appears_in_the_analytics_menu(rep, client_for):
    # Given a rep
    # When they open any page
    response = client_for(rep).get(reverse("home"))

    # Then the analytics menu links to the recommendations page
    assert PAGE in response.content.decode()


def test_the_page_lists_past_builds_in_pages(
    groups, manager, client_for, django_assert_max_num_queries
):
    # Given more past builds than fit on one page
    AnalyticsJob.objects.bulk_create(
        [
            AnalyticsJob(
                kind=AnalyticsJob.Kind.RECOMMENDATIONS,
                status=AnalyticsJob.Status.DONE,
                trigger=ModelVersion.Trigger.SCHEDULE,
                stats={"customers": number, "products": 3, "seconds": 1.5},
            )
            for number in range(25)
        ]
    )
    client = client_for(manager)

    # When the manager opens the page
    with django_assert_max_num_queries(15):
        response = client.get(PAGE)

    # Then the first page of builds shows with a link to the next
    assert response.status_code == 200
    assert "Page 1 of 2" in response.content.decode()
