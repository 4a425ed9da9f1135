"""The recommendations page (the latest build, its progress and figures, the past builds and a
"Rebuild" button for managers), the build's progress card that htmx polls while it runs, and the
"Similar customers" and "Next-best products" panel on the customer 360 page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.models import AnalyticsJob, ModelVersion
from analytics.selectors.recommendations import (
    customer_recommendations_for,
    recommendation_job_get,
    recommendation_job_latest,
    recommendation_jobs,
)
from analytics.services.recommendations import (
    RecommendationsBusy,
    recommendations_build_request,
)
from customers.models import Customer
from customers.registry import ProfilePanel

JOBS_PER_PAGE = 20
SIMILAR_ON_PANEL = 5
VIEW_PERMISSION = "analytics.view_customerrecommendation"
BUILD_PERMISSION = "analytics.train_predictivemodel"


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def recommendations_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(recommendation_jobs(), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/recommendations/page.html",
        {"job": recommendation_job_latest(), "page": page},
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def recommendations_job_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card of one build, swapped in by htmx every few seconds while it runs."""
    try:
        job = recommendation_job_get(pk=pk)
    except AnalyticsJob.DoesNotExist as error:
        raise Http404 from error
    return render(request, "analytics/recommendations/_job.html", {"job": job})


@login_required
@permission_required(BUILD_PERMISSION, raise_exception=True)
@require_POST
def recommendations_rebuild(request: HttpRequest) -> HttpResponse:
    try:
        recommendations_build_request(user=request.user, trigger=ModelVersion.Trigger.BUTTON)
    except RecommendationsBusy as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The recommendations are being rebuilt."))
    return redirect("analytics:recommendations")


def customer_recommendations_panel(customer: Customer, user) -> ProfilePanel | None:
    """The 360 page's box: up to five similar customers the user may see, and the products
    they bought that this customer has not."""
    if not user.has_perm(VIEW_PERMISSION):
        return None
    recommendations = customer_recommendations_for(
        user=user, customer=customer, similar_limit=SIMILAR_ON_PANEL
    )
    if recommendations.computed_at is None:
        return None
    return ProfilePanel(
        title=_("Recommendations"),
        rows=[],
        template="analytics/recommendations/_panel.html",
        context={"recommendations": recommendations},
    )


urlpatterns = [
    path("recommendations/", recommendations_page, name="recommendations"),
    path("recommendations/rebuild/", recommendations_rebuild, name="recommendations_rebuild"),
    path("recommendations/jobs/<int:pk>/", recommendations_job_card, name="recommendations_job"),
]
