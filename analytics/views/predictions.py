"""The scores page (hot leads and customers at risk) and the scores panel on the customer 360
page."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from analytics.selectors import scores as selectors
from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from customers.models import Customer
from customers.registry import ProfilePanel
from customers.selectors.customers import CappedPaginator

SCORES_PER_PAGE = 25
MODEL_CHOICES = [
    ("purchase", _("Hot leads (purchase propensity)")),
    ("churn", _("At risk (churn risk)")),
]
FEATURE_LABELS = {
    "age": _("Age"),
    "tenure_days": _("Days as a customer"),
    "annual_income": _("Annual income"),
    "recency_days": _("Days since the last order"),
    "orders_365d": _("Orders in the last year"),
    "spend_365d": _("Spend in the last year"),
    "orders_all": _("Orders"),
    "spend_all": _("Total spend"),
    "interactions_90d": _("Contacts in the last 90 days"),
    "interactions_365d": _("Contacts in the last year"),
    "days_since_contact": _("Days since the last contact"),
    "campaign_touches_365d": _("Campaigns in the last year"),
    "campaign_touches_all": _("Campaigns"),
    "campaign_responses": _("Campaign responses"),
    "open_tickets": _("Open tickets"),
    "tickets_365d": _("Tickets in the last year"),
    "gender": _("Gender"),
    "tier": _("Service tier"),
    "source": _("Source"),
    "city": _("City"),
    "province": _("Province/state"),
    "country": _("Country"),
    "marketing_consent": _("Marketing consent"),
    "has_company": _("Has a company"),
}


class ScoreFilterForm(forms.Form):
    model = forms.ChoiceField(label=_("List"), choices=MODEL_CHOICES, required=False)
    min_percent = forms.IntegerField(
        label=_("Minimum probability (%)"), min_value=0, max_value=100, required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=user_list_active(), required=False, empty_label=_("Anyone")
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=_("Any team"),
    )
    ordering = forms.ChoiceField(
        label=_("Sort"),
        choices=[("-probability", _("Highest first")), ("probability", _("Lowest first"))],
        required=False,
    )

    def score_filter(self) -> selectors.ScoreFilter:
        data = self.cleaned_data
        percent = data.get("min_percent")
        return selectors.ScoreFilter(
            min_probability=None if percent is None else percent / 100,
            owner_id=data["owner"].pk if data.get("owner") else None,
            team_id=data["team"].pk if data.get("team") else None,
            ordering=data.get("ordering") or selectors.DEFAULT_ORDERING,
        )


def reason_rows(reasons: list) -> list[dict]:
    """Stored reasons ([[feature, value, effect], ...]) as the templates show them."""
    return [
        {
            "label": FEATURE_LABELS.get(feature, feature),
            "value": value,
            "up": effect > 0,
        }
        for feature, value, effect in reasons
    ]


@login_required
@permission_required(selectors.VIEW_SCORES, raise_exception=True)
def score_list(request: HttpRequest) -> HttpResponse:
    form = ScoreFilterForm(request.GET)
    # Filters that do not validate are shown with their errors and left out of the list.
    filters = form.score_filter() if form.is_valid() else None
    name = form.cleaned_data.get("model") or MODEL_CHOICES[0][0]
    model = next((model for model in selectors.scored_models() if model.name == name), None)
    page = None
    if model is not None:
        scores = selectors.score_list_visible(user=request.user, model=model, filters=filters)
        page = CappedPaginator(scores, SCORES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/predictions/score_list.html",
        {
            "form": form,
            "model": model,
            "page": page,
            "rows": [
                {"score": score, "reasons": reason_rows(score.reasons[:3])}
                for score in (page.object_list if page else [])
            ],
        },
    )


def customer_scores_panel(customer: Customer, user) -> ProfilePanel | None:
    """Purchase propensity and churn risk on the customer's page, with why; nothing when the
    customer has no score yet or the user may not read scores."""
    if not user.has_perm(selectors.VIEW_SCORES):
        return None
    scores = selectors.customer_scores(customer=customer)
    if not scores:
        return None
    return ProfilePanel(
        title=_("Predictions"),
        rows=[],
        template="analytics/predictions/_customer_scores_panel.html",
        context={
            "scores": [
                {
                    "title": score.model.display_title,
                    "percent": round(score.probability * 100),
                    "version": score.version.number,
                    "scored_at": score.scored_at,
                    "reasons": reason_rows(score.reasons),
                }
                for score in scores
            ]
        },
    )


urlpatterns = [
    path("scores/", score_list, name="scores"),
]
