"""What analytics holds about a person, for the customers app's privacy export and erasure."""

from django.db.models import Q

from analytics.models import (
    CustomerInfluence,
    CustomerRecommendation,
    CustomerScore,
    CustomerValue,
    GraphEdge,
    TicketPrediction,
)
from customers.models import Customer


def customer_analytics_export(customer: Customer) -> dict:
    """The scores and value figures kept about the customer, with why each score was given."""
    value = CustomerValue.objects.filter(customer=customer).first()
    return {
        "scores": [
            {
                "model": score.model.name,
                "version": score.version.number,
                "probability": score.probability,
                "reasons": score.reasons,
                "scored_at": score.scored_at.isoformat(),
            }
            for score in CustomerScore.objects.filter(customer=customer).select_related(
                "model", "version"
            )
        ],
        "value": None
        if value is None
        else {
            "value_tier": value.value_tier,
            "frequency": value.frequency,
            "monetary": str(value.monetary),
            "lifetime_value": str(value.lifetime_value),
            "computed_at": value.computed_at.isoformat(),
        },
    }


def customer_analytics_erase(customer: Customer) -> None:
    """Scores, value figures, graph position, recommendations and what the models read in the
    person's tickets are derived from their data: an erased customer keeps none of them (the
    nightly jobs skip erased customers)."""
    node = f"c{customer.pk}"
    CustomerScore.objects.filter(customer=customer).delete()
    CustomerValue.objects.filter(customer=customer).delete()
    CustomerInfluence.objects.filter(customer=customer).delete()
    CustomerRecommendation.objects.filter(customer=customer).delete()
    GraphEdge.objects.filter(Q(source=node) | Q(target=node)).delete()
    TicketPrediction.objects.filter(ticket__customer=customer).delete()
