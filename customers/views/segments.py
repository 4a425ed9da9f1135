"""Saved segments: list, create from the customer list's filters, edit, delete, members."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from customers.forms import CustomerFilterForm, SegmentForm
from customers.models import Customer, Segment
from customers.selectors import customers as selectors
from customers.services.segments import segment_create, segment_delete, segment_update
from customers.views.lists import PAGE_SIZE, customer_results_context

SEGMENT_PREFIX = "segment"
SEGMENT_FORM_FIELDS = ["name", "description", "team"]


def _segment_or_404(request: HttpRequest, pk: int) -> Segment:
    try:
        return selectors.segment_get_visible(user=request.user, pk=pk)
    except Segment.DoesNotExist as exc:
        raise Http404(_("No such segment.")) from exc


@login_required
@permission_required("customers.view_segment", raise_exception=True)
def segment_list(request: HttpRequest) -> HttpResponse:
    segments = selectors.segment_list_visible(user=request.user)
    page = Paginator(segments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/segments/segment_list.html", {"page": page})


def _save(request: HttpRequest, segment_form, filter_form, segment: Segment | None):
    values = {
        "name": segment_form.cleaned_data["name"],
        "description": segment_form.cleaned_data["description"],
        "team": segment_form.cleaned_data["team"],
        "filters": filter_form.to_filter(),
    }
    if segment is None:
        return segment_create(actor=request.user, **values)
    return segment_update(actor=request.user, segment=segment, **values)


def _segment_form_page(request: HttpRequest, *, segment: Segment | None, initial: dict):
    """Create and edit: the segment's name and sharing, and its filters, in one form."""
    segment_initial = model_to_dict(segment, fields=SEGMENT_FORM_FIELDS) if segment else {}
    segment_form = SegmentForm(
        request.POST or None, prefix=SEGMENT_PREFIX, initial=segment_initial, user=request.user
    )
    if request.method == "POST":
        filter_form = CustomerFilterForm(request.POST, user=request.user)
        if segment_form.is_valid() and filter_form.is_valid():
            try:
                saved = _save(request, segment_form, filter_form, segment)
            except ValidationError as exc:
                segment_form.add_error(None, exc)
            else:
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
                return redirect("customers:segment_detail", pk=saved.pk)
    elif initial:
        filter_form = CustomerFilterForm(initial, user=request.user)
    else:
        filter_form = CustomerFilterForm(user=request.user)
    return render(
        request,
        "customers/segments/segment_form.html",
        {"segment": segment, "segment_form": segment_form, "form": filter_form},
    )


@login_required
@permission_required("customers.add_segment", raise_exception=True)
def segment_new(request: HttpRequest) -> HttpResponse:
    # The customer list's "Save as segment" links here with its filters in the query string.
    return _segment_form_page(request, segment=None, initial=request.GET)


@login_required
@permission_required("customers.change_segment", raise_exception=True)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_or_404(request, pk)
    return _segment_form_page(request, segment=segment, initial=segment.filters)


@login_required
@permission_required("customers.view_segment", raise_exception=True)
@permission_required("customers.view_customer", raise_exception=True)
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_or_404(request, pk)
    ordering = selectors.customer_ordering(request.GET.get("ordering"))
    try:
        members = selectors.segment_customers_visible(
            user=request.user, segment=segment, ordering=ordering
        )
    except ValueError:
        members, broken, summary, filters_query = Customer.objects.none(), True, [], ""
    else:
        filter_form = CustomerFilterForm(segment.filters, user=request.user)
        broken = False
        summary = filter_form.summary() if filter_form.is_valid() else []
        filters_query = urlencode(sorted(segment.filters.items()), doseq=True)
    context = customer_results_context(customers=members, request=request, ordering=ordering)
    return render(
        request,
        "customers/segments/segment_detail.html",
        {
            **context,
            "segment": segment,
            "broken": broken,
            "summary": summary,
            "filters_query": filters_query,
        },
    )


@login_required
@permission_required("customers.delete_segment", raise_exception=True)
def segment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment_or_404(request, pk)
    if request.method == "POST":
        segment_delete(actor=request.user, segment=segment)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("customers:segment_list")
    return render(request, "customers/segments/segment_confirm_delete.html", {"segment": segment})


urlpatterns = [
    path("segments/", segment_list, name="segment_list"),
    path("segments/new/", segment_new, name="segment_create"),
    path("segments/<int:pk>/", segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", segment_edit, name="segment_update"),
    path("segments/<int:pk>/delete/", segment_remove, name="segment_delete"),
]
