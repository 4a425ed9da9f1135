"""Reading satisfaction surveys: by the token in a customer's link (public, no user), the ones a
user may see (through their tickets), and a customer's for their privacy export."""

from typing import Any

from django.db.models import QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer
from service.models import SatisfactionSurvey
from service.services.surveys import survey_token_hash


def survey_get_by_token(*, token: str) -> SatisfactionSurvey:
    """The survey this raw (already unsigned) token opens; raises DoesNotExist."""
    return SatisfactionSurvey.objects.select_related("ticket").get(
        token_hash=survey_token_hash(token)
    )


def survey_list_visible(*, user: User) -> QuerySet[SatisfactionSurvey]:
    return records_visible_to(
        user=user,
        queryset=SatisfactionSurvey.objects.select_related("ticket", "ticket__customer"),
    )


def customer_surveys_export(customer: Customer) -> list[dict[str, Any]]:
    """Privacy export: the surveys sent to the customer and their answers."""
    surveys = SatisfactionSurvey.objects.filter(ticket__customer=customer).select_related("ticket")
    return [
        {
            "ticket": survey.ticket.number,
            "sent_to": survey.sent_to,
            "language": survey.language,
            "sent_at": survey.sent_at.isoformat(),
            "expires_at": survey.expires_at.isoformat(),
            "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
            "rating": survey.rating,
            "comment": survey.comment,
        }
        for survey in surveys.order_by("sent_at", "pk")
    ]
