"""Building the recommendations on two groups of buyers no one could mix up: neighbours come
from the customer's own group, the next-best product is what the group buys and the customer
has not, and the job reports its progress, runs one at a time and survives a dead worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import AnalyticsJob, CustomerRecommendation, ModelVersion
from analytics.services import recommendations as recommendation_services
from analytics.services.recommendations import (
    BUILD_TIME_LIMIT,
    RecommendationsBusy,
    recommendations_build_request,
    recommendations_build_run,
)
from analytics.tasks.recommendations import recommendations_build_nightly_task
from customers.models import Customer, OrderLine
from tests.analytics.factories import recommendation_groups_create
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups(rep, other_team_rep):
    return recommendation_groups_create(owner=rep, hidden_owner=other_team_rep)


def _build(django_capture_on_commit_callbacks, user=None) -> AnalyticsJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = recommendations_build_request(user=user, trigger=ModelVersion.Trigger.BUTTON)
    job.refresh_from_db()
    return job


def _stored(customer: Customer) -> CustomerRecommendation:
    return CustomerRecommendation.objects.get(customer=customer)


def test_the_nearest_neighbours_are_from_the_customers_own_group(
    groups, manager, django_capture_on_commit_callbacks
):
    # Given two groups of buyers with different income, spend, tier, city and categories
    # When the recommendations are built
    _build(django_capture_on_commit_callbacks, user=manager)

    # Then the five nearest of each subject are the five others of its group
    premium = [customer_id for customer_id, _distance in _stored(groups.premium_subject).similar]
    budget = [customer_id for customer_id, _distance in _stored(groups.budget_subject).similar]
    assert set(premium[:5]) == {peer.pk for peer in [*groups.premium_peers, groups.hidden_peer]}
    assert set(budget[:5]) == {peer.pk for peer in groups.budget_peers}
    assert groups.premium_subject.pk not in premium
    distances = [distance for _id, distance in _stored(groups.premium_subject).similar]
    assert distances == sorted(distances)
    assert len(premium) == 10


def test_the_next_best_product_is_what_the_group_buys_and_the_customer_has_not(
    groups, django_capture_on_commit_callbacks
):
    # Given premium peers who bought laptops and monitors, and a subject who only has a laptop
    # (its monitor order was cancelled, so it never had one)
    # When the recommendations are built
    _build(django_capture_on_commit_callbacks)

    # Then the monitor comes first for the premium subject and tea for the budget one
    premium = [product_id for product_id, _score in _stored(groups.premium_subject).products]
    budget = [product_id for product_id, _score in _stored(groups.budget_subject).products]
    assert premium[0] == groups.monitor.pk
    assert budget[0] == groups.tea.pk
    # And what they already bought, or what is no longer sold, is never suggested
    assert groups.laptop.pk not in premium
    assert groups.rice.pk not in budget
    assert groups.dock.pk not in premium


def test_no_customer_is_ever_offered_a_product_they_bought(
    groups, django_capture_on_commit_callbacks
):
    # Given the two groups
    # When the recommendations are built
    _build(django_capture_on_commit_callbacks)

    # Then no stored suggestion is a product its customer bought in a counted order
    for stored in CustomerRecommendation.objects.all():
        bought = set(
            OrderLine.objects.filter(order__customer=stored.customer_id)
            .exclude(order__status__in=["cancelled", "refunded"])
            .values_list("product_id", flat=True)
        )
        assert bought
        assert not bought & {product_id for product_id, _score in stored.products}


def test_a_customer_without_orders_gets_neighbours_among_the_buyers(
    groups, django_capture_on_commit_callbacks
):
    # Given a new customer who looks like the budget group but has never ordered
    newcomer = CustomerFactory(
        city="Chengdu", tier=Customer.Tier.NORMAL, annual_income=30_050, birthday=None
    )

    # When the recommendations are built
    _build(django_capture_on_commit_callbacks)

    # Then they are compared with the buyers and offered what the budget group buys
    stored = _stored(newcomer)
    budget_ids = {groups.budget_subject.pk, *(peer.pk for peer in groups.budget_peers)}
    assert stored.similar[0][0] in budget_ids
    assert {product_id for product_id, _score in stored.products[:2]} == {
        groups.rice.pk,
        groups.tea.pk,
    }


def test_the_job_reports_its_figures_and_the_task_is_safe_to_run_twice(
    groups, manager, django_capture_on_commit_callbacks
):
    # Given the two groups and one customer whose data was erased
    erased = CustomerFactory(erased_at=timezone.now())
    CustomerRecommendation.objects.create(customer=erased, computed_at=timezone.now())

    # When the recommendations are built
    job = _build(django_capture_on_commit_callbacks, user=manager)

    # Then the job is done with its figures, and the erased customer's old row is gone
    assert job.status == AnalyticsJob.Status.DONE
    assert job.progress == 100
    assert job.started_by == manager
    assert job.stats["customers"] == 12
    assert job.stats["buyers"] == 12
    assert job.stats["compared_with"] == 12
    assert job.stats["products"] >= 2
    assert job.stats["seconds"] >= 0
    assert not CustomerRecommendation.objects.filter(customer=erased).exists()
    assert CustomerRecommendation.objects.count() == 12

    # And running the same job again changes nothing
    computed_at = _stored(groups.premium_subject).computed_at
    assert recommendations_build_run(job_id=job.pk).status == AnalyticsJob.Status.DONE
    assert _stored(groups.premium_subject).computed_at == computed_at


def test_a_large_set_is_compared_with_a_sample_of_the_buyers(
    groups, monkeypatch, django_capture_on_commit_callbacks
):
    # Given fewer customers may be compared with than there are buyers
    monkeypatch.setattr(recommendation_services, "COMPARE_WITH_LIMIT", 6)

    # When the recommendations are built
    job = _build(django_capture_on_commit_callbacks)

    # Then a sample of six is compared with, and everyone still gets neighbours from it
    assert job.stats["compared_with"] == 6
    assert job.stats["buyers"] == 12
    sample = {
        customer_id
        for stored in CustomerRecommendation.objects.all()
        for customer_id, _d in stored.similar
    }
    assert len(sample) == 6
    assert all(len(stored.similar) >= 5 for stored in CustomerRecommendation.objects.all())


def test_two_builds_never_run_at_once(groups, manager):
    # Given a build that is queued
    first = recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)

    # When another one is asked for, by hand or by the nightly schedule
    # Then it is refused
    with pytest.raises(RecommendationsBusy):
        recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)
    assert recommendations_build_nightly_task() is None
    assert AnalyticsJob.objects.filter(kind=AnalyticsJob.Kind.RECOMMENDATIONS).count() == 1

    # And once it is done, a new one may start
    recommendations_build_run(job_id=first.pk)
    second = recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)
    assert second.pk != first.pk


def test_a_build_whose_worker_died_no_longer_blocks(groups, manager):
    # Given a build that has not moved for longer than the build's time limit
    stuck = recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)
    AnalyticsJob.objects.filter(pk=stuck.pk).update(
        status=AnalyticsJob.Status.RUNNING,
        updated_at=timezone.now() - timedelta(seconds=BUILD_TIME_LIMIT + 60),
    )

    # When a new build is asked for
    fresh = recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)

    # Then it is queued and the stuck one is marked failed
    stuck.refresh_from_db()
    assert stuck.status == AnalyticsJob.Status.FAILED
    assert stuck.error
    assert fresh.status == AnalyticsJob.Status.QUEUED


def test_a_build_with_no_buyers_fails_with_a_reason(db, django_capture_on_commit_callbacks):
    # Given customers, none of whom has ordered
    CustomerFactory.create_batch(3)

    # When the recommendations are built
    job = _build(django_capture_on_commit_callbacks)

    # Then the job failed and says why
    assert job.status == AnalyticsJob.Status.FAILED
    assert "no one" in job.error
    assert not CustomerRecommendation.objects.exists()
