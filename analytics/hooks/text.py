from django.utils.translation import gettext_lazy as _

from analytics.models import PredictiveModel
from analytics.selectors.text import (
    ticket_category_batches,
    ticket_category_rows,
    ticket_category_training_set,
    ticket_sentiment_batches,
    ticket_sentiment_rows,
    ticket_sentiment_training_set,
)
from analytics.services.text import (
    ticket_categories_store,
    ticket_sentiments_store,
    ticket_text_predict_on_create,
)
from analytics.specs import ModelSpec, register_model_spec
from analytics.views.text import ticket_suggestion_panel
from crm.navigation import NavItem, register_nav_item
from service.registry import register_ticket_created_listener, register_ticket_panel


def register() -> None:
    """The ticket text models, the reading of each new ticket, the suggestion on a ticket's
    page and the feedback-topics report in the navigation."""
    register_model_spec(
        ModelSpec(
            kind=PredictiveModel.Kind.TICKET_CATEGORY,
            training_set=ticket_category_training_set,
            feature_rows=ticket_category_rows,
            scoring_batches=ticket_category_batches,
            store_scores=ticket_categories_store,
            # Explanations are per column, and a text model has one column.
            explain=False,
        )
    )
    register_model_spec(
        ModelSpec(
            kind=PredictiveModel.Kind.TICKET_SENTIMENT,
            training_set=ticket_sentiment_training_set,
            feature_rows=ticket_sentiment_rows,
            scoring_batches=ticket_sentiment_batches,
            store_scores=ticket_sentiments_store,
            explain=False,
        )
    )
    register_ticket_created_listener(key="analytics.text", listener=ticket_text_predict_on_create)
    register_ticket_panel(key="analytics.text", order=10, provider=ticket_suggestion_panel)
    register_nav_item(
        NavItem(
            key="feedback_topics",
            group="analytics",
            label=_("Feedback topics"),
            url_name="analytics:feedback_topics",
            order=160,
            permission="service.view_ticket",
        )
    )
