"""What analytics keeps about a person goes into their data export and leaves with an erasure."""

import pytest
from django.utils import timezone

from analytics.models import (
    CustomerInfluence,
    CustomerRecommendation,
    CustomerScore,
    CustomerValue,
    GraphEdge,
    PredictiveModel,
    TicketPrediction,
)
from customers.services.privacy import customer_erase, customer_personal_data_export
from tests.analytics.factories import ModelVersionFactory
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_customer():
    now = timezone.now()
    customer, neighbour = CustomerFactory.create_batch(2)
    version = ModelVersionFactory(model=PredictiveModel.objects.get(name="churn"))
    CustomerScore.objects.create(
        model=version.model,
        customer=customer,
        version=version,
        probability=0.82,
        reasons=[["orders_365d", 0, 0.3]],
        scored_at=now,
    )
    CustomerValue.objects.create(
        customer=customer,
        frequency=2,
        monetary=300,
        recency_score=2,
        frequency_score=3,
        monetary_score=3,
        value_tier="at_risk",
        lifetime_value=900,
        computed_at=now,
    )
    CustomerInfluence.objects.create(
        customer=customer, pagerank=0.1, degree=0.5, connections=1, computed_at=now
    )
    CustomerRecommendation.objects.create(customer=customer, computed_at=now)
    GraphEdge.objects.create(source=f"c{customer.pk}", target=f"c{neighbour.pk}")
    GraphEdge.objects.create(source=f"c{neighbour.pk}", target=f"c{customer.pk}")
    TicketPrediction.objects.create(
        ticket=TicketFactory(customer=customer), positive_probability=0.2, predicted_at=now
    )
    return customer


def test_the_export_holds_the_scores_with_their_reasons(scored_customer, admin_user):
    exported = customer_personal_data_export(actor=admin_user, customer=scored_customer)

    section = exported["analytics"]
    assert section["scores"][0]["model"] == "churn"
    assert section["scores"][0]["probability"] == 0.82
    assert section["scores"][0]["reasons"] == [["orders_365d", 0, 0.3]]
    assert section["value"]["value_tier"] == "at_risk"


def test_erasure_removes_everything_derived_from_the_person(scored_customer, admin_user):
    customer_erase(actor=admin_user, customer=scored_customer, reason="Art. 17 request")

    assert not CustomerScore.objects.filter(customer=scored_customer).exists()
    assert not CustomerValue.objects.filter(customer=scored_customer).exists()
    assert not CustomerInfluence.objects.filter(customer=scored_customer).exists()
    assert not CustomerRecommendation.objects.filter(customer=scored_customer).exists()
    assert not GraphEdge.objects.exists()
    assert not TicketPrediction.objects.filter(ticket__customer=scored_customer).exists()
