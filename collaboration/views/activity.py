"""The activity feed: what happened in the user's teams (deals won and lost, tickets escalated
and resolved, imports, shares), newest first, filtered by team and by kind of event."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from crm.activity.models import ActivityEvent
from crm.activity.selectors import activity_feed_for, activity_feed_teams

EVENTS_PER_PAGE = 25


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@permission_required("activity.view_activityevent", raise_exception=True)
def activity_feed(request: HttpRequest) -> HttpResponse:
    team_id = _int_or_none(request.GET.get("team"))
    verb = request.GET.get("verb", "")
    if verb not in ActivityEvent.Verb.values:
        verb = ""
    events = activity_feed_for(user=request.user, team=team_id, verbs=[verb] if verb else None)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "collaboration/activity_feed.html",
        {
            "page": page,
            "events": page.object_list,
            "teams": activity_feed_teams(user=request.user),
            "verbs": ActivityEvent.Verb.choices,
            "team_id": team_id,
            "verb": verb,
        },
    )


urlpatterns = [
    path("activity/", activity_feed, name="activity_feed"),
]
