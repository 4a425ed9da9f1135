"""Scores in the browser: the predictions panel on the customer 360 page and the scores page
(hot leads, at risk), both only of customers the user may see."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from analytics.models import CustomerScore, PredictiveModel
from tests.accounts.factories import UserFactory
from tests.analytics.factories import ModelVersionFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

REASONS = [["recency_days", 12.0, 0.31], ["tier", "vip", -0.08]]


def score(customer, name: str, probability: float, *, number: int = 3) -> CustomerScore:
    model = PredictiveModel.objects.get(name=name)
    version = model.versions.filter(number=number).first() or ModelVersionFactory(
        model=model, number=number
    )
    return CustomerScore.objects.create(
        model=model,
        customer=customer,
        version=version,
        probability=probability,
        reasons=REASONS,
        scored_at=timezone.now(),
    )


def test_customer_page_shows_purchase_and_churn_scores_with_their_reasons(rep, client_for):
    # given a customer of the rep with both scores
    customer = CustomerFactory(owner=rep)
    score(customer, "purchase", 0.734)
    score(customer, "churn", 0.12)

    # when the rep opens the customer's page
    response = client_for(rep).get(reverse("customers:customer_detail", args=[customer.pk]))

    # then the panel shows both as percentages, the version and the reasons with their direction
    html = response.content.decode()
    assert response.status_code == 200
    assert "Predictions" in html
    assert html.count("data-customer-score") == 2
    assert "73%" in html and "12%" in html
    assert "Model version 3" in html
    assert "Days since the last order" in html and "Raises the score:" in html
    assert "Service tier" in html and "Lowers the score:" in html


def test_customer_page_has_no_panel_without_a_score_or_the_permission(rep, client_for, team):
    # given a customer without scores, and one with a score seen by someone who may not read
    # scores
    unscored = CustomerFactory(owner=rep)
    scored = CustomerFactory(owner=rep)
    score(scored, "purchase", 0.5)
    reader = UserFactory(username="reader")
    reader.user_permissions.add(
        Permission.objects.get(codename="view_customer", content_type__app_label="customers")
    )
    scored.owner = reader
    scored.save(update_fields=["owner"])

    # when each page is opened
    plain = client_for(rep).get(reverse("customers:customer_detail", args=[unscored.pk]))
    hidden = client_for(reader).get(reverse("customers:customer_detail", args=[scored.pk]))

    # then neither shows the panel
    assert plain.status_code == hidden.status_code == 200
    assert "data-customer-score" not in plain.content.decode()
    assert "data-customer-score" not in hidden.content.decode()


def test_scores_page_lists_hot_leads_the_rep_may_see_highest_first(
    rep, other_team_rep, client_for, django_assert_max_num_queries
):
    # given scored customers of the rep and one of another team
    mine = [CustomerFactory(owner=rep, name=f"Mine {index}") for index in range(30)]
    for index, customer in enumerate(mine):
        score(customer, "purchase", index / 100)
    hidden = CustomerFactory(owner=other_team_rep, name="Other team's")
    score(hidden, "purchase", 0.99)

    # when the rep opens the scores page
    client = client_for(rep)
    client.get(reverse("analytics:scores"))
    with django_assert_max_num_queries(13):
        response = client.get(reverse("analytics:scores"))

    # then their customers are listed highest first, 25 a page, without the other team's
    html = response.content.decode()
    assert response.status_code == 200
    assert "Other team&#x27;s" not in html and "Other team's" not in html
    assert html.count("data-score-row") == 25
    assert html.index("Mine 29") < html.index("Mine 28")
    assert "Page 1 of 2" in html


def test_scores_page_filters_at_risk_by_minimum_probability_and_sorts_lowest_first(rep, client_for):
    # given churn scores of 10%, 40% and 80%, and a purchase score
    low, middle, high = (
        CustomerFactory(owner=rep, name=name) for name in ("Ann Low", "Ben Mid", "Cy High")
    )
    score(low, "churn", 0.1)
    score(middle, "churn", 0.4)
    score(high, "churn", 0.8)
    score(CustomerFactory(owner=rep, name="Buyer"), "purchase", 0.9)

    # when the rep asks for customers at risk of 30% or more, lowest first
    response = client_for(rep).get(
        reverse("analytics:scores"),
        {"model": "churn", "min_percent": 30, "ordering": "probability"},
    )

    # then only those two are listed, in that order
    html = response.content.decode()
    assert html.count("data-score-row") == 2
    assert "Ann Low" not in html and "Buyer" not in html
    assert html.index("Ben Mid") < html.index("Cy High")


def test_scores_page_shows_a_bad_filter_and_needs_the_permission(rep, client_for):
    # given a user without analytics permissions
    outsider = UserFactory(username="outsider")

    # when a bad minimum is given, and the outsider opens the page
    bad = client_for(rep).get(reverse("analytics:scores"), {"min_percent": 150})
    refused = client_for(outsider).get(reverse("analytics:scores"))

    # then the error is shown, and the outsider is refused
    assert bad.status_code == 200
    assert "invalid-feedback" in bad.content.decode()
    assert refused.status_code == 403
