"""The ticket text models in pages: the suggestion panel on a ticket (with its Apply button) and
the feedback-topics report with its charts and CSV."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.charts import Chart, Series, chart_response
from analytics.selectors.text import (
    DEFAULT_PERIOD,
    PERIODS,
    FeedbackTopicsReport,
    feedback_topics_report,
    feedback_trend_series,
    ticket_suggestion,
)
from analytics.services.text import ticket_suggestion_apply
from crm.accounts.selectors import record_is_editable_by
from crm.concurrency import StaleRecordError
from customers.services.export import spreadsheet_safe
from service.models import Ticket
from service.registry import TicketPanel
from service.selectors.tickets import ticket_get_visible

REPORT_PERMISSIONS = ("service.view_ticket", "analytics.view_ticketprediction")


# A ticket's page ---------------------------------------------------------------------------------


def ticket_suggestion_panel(ticket: Ticket, user) -> TicketPanel | None:
    """The "Suggested by the text models" box: category with its confidence, the team that
    category usually goes to, the sentiment, and Apply for those who may edit the ticket."""
    if not user.has_perm("analytics.view_ticketprediction"):
        return None
    suggestion = ticket_suggestion(ticket=ticket)
    if suggestion is None:
        return None
    prediction = suggestion.prediction
    usual_team = suggestion.usual_team
    differs = prediction.category_id is not None and (
        prediction.category_id != ticket.category_id
        or (usual_team is not None and usual_team.team_id != ticket.team_id)
    )
    can_apply = (
        differs
        and user.has_perm("service.change_ticket")
        and record_is_editable_by(user=user, record=ticket)
    )
    return TicketPanel(
        title=_("Suggested by the text models"),
        template="analytics/text/_ticket_panel.html",
        context={
            "ticket": ticket,
            "suggestion": suggestion,
            "can_apply": can_apply,
            "apply_url": reverse("analytics:ticket_suggestion_apply", args=[ticket.pk]),
        },
    )


@login_required
@permission_required("service.change_ticket", raise_exception=True)
@require_POST
def ticket_suggestion_apply_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ticket = ticket_get_visible(user=request.user, pk=pk)
    except Ticket.DoesNotExist as exc:
        raise Http404(_("No such ticket.")) from exc
    version = request.POST.get("version", "")
    if not version.isdigit():
        messages.error(request, _("Reload the ticket and try again."))
        return redirect("service:ticket_detail", pk=ticket.pk)
    try:
        ticket = ticket_suggestion_apply(actor=request.user, ticket=ticket, version=int(version))
    except StaleRecordError:
        messages.error(
            request,
            _(
                "Ticket %(number)s was changed by someone else since you opened it; nothing was "
                "saved. Reload the page and look at the suggestion again."
            )
            % {"number": ticket.number},
        )
    except ValidationError as exc:
        messages.error(
            request, _("Nothing was changed: %(reason)s") % {"reason": " ".join(exc.messages)}
        )
    else:
        messages.success(
            request,
            _("Ticket %(number)s is now in %(category)s%(team)s.")
            % {
                "number": ticket.number,
                "category": ticket.category,
                "team": f" · {ticket.team}" if ticket.team else "",
            },
        )
    return redirect("service:ticket_detail", pk=ticket.pk)


# The feedback-topics report ----------------------------------------------------------------------


def _period(request: HttpRequest) -> str:
    period = request.GET.get("period", DEFAULT_PERIOD)
    return period if period in PERIODS else DEFAULT_PERIOD


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _report_csv(report: FeedbackTopicsReport) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="feedback-topics-{report.start}-{report.end}.csv"'
    )
    # A byte order mark, so Excel opens the UTF-8 (and the Chinese in it) correctly.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Topic"),
            _("Tickets"),
            _("Read by the sentiment model"),
            _("Negative (%)"),
            _("Rated"),
            _("Average satisfaction (1–5)"),
            _("Typical words"),
        ]
    )
    for topic in report.topics:
        writer.writerow(
            [
                spreadsheet_safe(topic.name),
                topic.tickets,
                topic.scored,
                _percent(topic.negative_share),
                topic.rated,
                topic.csat_average,
                spreadsheet_safe(" ".join(topic.terms)),
            ]
        )
    return response


@login_required
@permission_required(REPORT_PERMISSIONS, raise_exception=True)
@require_GET
def feedback_topics(request: HttpRequest) -> HttpResponse:
    report = feedback_topics_report(user=request.user, period=_period(request))
    if request.GET.get("format") == "csv":
        return _report_csv(report)
    return render(
        request,
        "analytics/text/feedback_topics.html",
        {
            "report": report,
            "periods": [(key, label) for key, (_days, label) in PERIODS.items()],
            "topics": [(topic, _percent(topic.negative_share)) for topic in report.topics],
        },
    )


def _topics_chart(report: FeedbackTopicsReport) -> Chart:
    return Chart(
        key="feedback-topics",
        title=_("Tickets and negative share by topic"),
        kind="bar",
        labels=[topic.name for topic in report.topics],
        series=[
            Series(label=_("Tickets"), data=[topic.tickets for topic in report.topics]),
            Series(
                label=_("Negative (%)"),
                data=[_percent(topic.negative_share) for topic in report.topics],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Topic"),
        y_label=_("Tickets"),
        note=_(
            "Topic: the category an agent chose, else the one the category model suggests. "
            "Negative: the sentiment model gives the text less than an even chance of a "
            "satisfied customer, out of the tickets it has read."
        ),
    )


def _trend_chart(report: FeedbackTopicsReport) -> Chart:
    return Chart(
        key="feedback-topics-trend",
        title=_("Tickets by topic and month"),
        kind="line",
        labels=[month.strftime("%Y-%m") for month in report.months],
        series=[
            Series(label=name, data=counts) for name, counts in feedback_trend_series(report=report)
        ],
        x_label=_("Month"),
        y_label=_("Tickets"),
    )


CHARTS = {"topics": _topics_chart, "trend": _trend_chart}


@login_required
@permission_required(REPORT_PERMISSIONS, raise_exception=True)
@require_GET
def feedback_topics_chart(request: HttpRequest, chart: str) -> HttpResponse:
    if chart not in CHARTS:
        raise Http404(_("No such chart."))
    report = feedback_topics_report(user=request.user, period=_period(request), with_terms=False)
    return chart_response(CHARTS[chart](report), format=request.GET.get("format", "json"))


urlpatterns = [
    path("feedback-topics/", feedback_topics, name="feedback_topics"),
    path(
        "feedback-topics/chart/<slug:chart>/",
        feedback_topics_chart,
        name="feedback_topics_chart",
    ),
    path(
        "tickets/<int:pk>/apply-suggestion/",
        ticket_suggestion_apply_page,
        name="ticket_suggestion_apply",
    ),
]
