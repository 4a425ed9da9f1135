"""Pages of the social graph: the influence list, communities (and a segment made from one),
warm introductions, and the rebuild button with the build's progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.ml.graph import CUSTOMER, STAFF, SearchTooWide, node_name
from analytics.models import Community, ModelVersion
from analytics.selectors.network import (
    community_get,
    community_list,
    community_samples_visible,
    graph_job_latest,
    influence_list_visible,
    influence_ordering,
    introduction_path,
)
from analytics.services.network import GraphBusy, community_segment_create, graph_build_request
from crm.pages import is_htmx
from customers.models import Customer
from customers.selectors.customers import CappedPaginator, customer_get_visible

PAGE_SIZE = 50
# Making a segment of a community is a manager's call, as the issue has it.
SEGMENT_PERMISSIONS = ("analytics.manage_dashboard", "customers.add_segment")
COMMUNITY_PAGE_SIZE = 25


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@permission_required("analytics.view_customerinfluence", raise_exception=True)
def influence_list(request: HttpRequest) -> HttpResponse:
    community = _number(request.GET.get("community"))
    ordering = influence_ordering(request.GET.get("order"))
    customers = influence_list_visible(user=request.user, community=community, ordering=ordering)
    page = CappedPaginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/network/influence_list.html",
        {
            "page": page,
            "community": community,
            "ordering": ordering,
            "orderings": [
                ("-pagerank", _("PageRank")),
                ("-degree", _("Degree centrality")),
                ("-connections", _("Connections")),
            ],
            "job": graph_job_latest(),
        },
    )


@login_required
@permission_required("analytics.view_community", raise_exception=True)
def communities(request: HttpRequest) -> HttpResponse:
    page = Paginator(community_list(), COMMUNITY_PAGE_SIZE).get_page(request.GET.get("page"))
    samples = community_samples_visible(
        user=request.user, numbers=[community.number for community in page]
    )
    rows = [(community, samples.get(community.number, [])) for community in page]
    return render(
        request,
        "analytics/network/community_list.html",
        {"page": page, "rows": rows, "job": graph_job_latest()},
    )


@login_required
@require_POST
@permission_required(SEGMENT_PERMISSIONS, raise_exception=True)
def community_segment(request: HttpRequest, number: int) -> HttpResponse:
    try:
        community = community_get(number=number)
    except Community.DoesNotExist:
        raise Http404 from None
    segment = community_segment_create(actor=request.user, community=community)
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
    return redirect("customers:segment_detail", segment.pk)


def _introduction_source(request: HttpRequest, value: str) -> tuple[str, Customer | None]:
    """The search's start: the user's own node for "me", else a customer they may see."""
    if value.startswith("customer:"):
        pk = _number(value.removeprefix("customer:"))
        if pk is None:
            raise Http404
        try:
            customer = customer_get_visible(user=request.user, pk=pk)
        except Customer.DoesNotExist:
            raise Http404 from None
        return node_name(CUSTOMER, customer.pk), customer
    return node_name(STAFF, request.user.pk), None


@login_required
@permission_required("analytics.view_graphedge", raise_exception=True)
def introductions(request: HttpRequest) -> HttpResponse:
    context: dict = {"source_value": request.GET.get("from", "me"), "job": graph_job_latest()}
    target_pk = _number(request.GET.get("target"))
    if target_pk is not None:
        try:
            target = customer_get_visible(user=request.user, pk=target_pk)
        except Customer.DoesNotExist:
            raise Http404 from None
        source, source_customer = _introduction_source(request, context["source_value"])
        context.update(target=target, source_customer=source_customer, searched=True)
        try:
            context["steps"] = introduction_path(user=request.user, source=source, target=target)
        except SearchTooWide:
            context["too_wide"] = True
    return render(request, "analytics/network/introductions.html", context)


@login_required
@require_POST
@permission_required("analytics.train_predictivemodel", raise_exception=True)
def graph_rebuild(request: HttpRequest) -> HttpResponse:
    try:
        graph_build_request(trigger=ModelVersion.Trigger.BUTTON, user=request.user)
        messages.success(request, _("The graph is being rebuilt."))
    except GraphBusy as busy:
        messages.warning(request, str(busy))
    return redirect("analytics:influence_list")


@login_required
@permission_required("analytics.view_customerinfluence", raise_exception=True)
def graph_job_status(request: HttpRequest) -> HttpResponse:
    """The build's progress, polled by htmx while it runs."""
    if not is_htmx(request):
        return redirect("analytics:influence_list")
    return render(request, "analytics/network/_graph_job.html", {"job": graph_job_latest()})


urlpatterns = [
    path("influence/", influence_list, name="influence_list"),
    path("communities/", communities, name="community_list"),
    path("communities/<int:number>/segment/", community_segment, name="community_segment"),
    path("introductions/", introductions, name="introductions"),
    path("graph/rebuild/", graph_rebuild, name="graph_rebuild"),
    path("graph/job/", graph_job_status, name="graph_job"),
]
