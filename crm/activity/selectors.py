"""Reading the activity log as a feed: each team's events, and a person's own events that belong
to no team."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from crm.accounts.models import Team, User
from crm.accounts.selectors import user_is_admin, user_team_ids
from crm.activity.models import ActivityEvent


def activity_feed_for(
    *, user: User, team: Team | int | None = None, verbs: Iterable[str] | None = None
) -> QuerySet[ActivityEvent]:
    """What `user` may read, newest first: an admin everything; anyone else the events of the
    teams they belong to or manage, and their own events filed under no team. `team` and
    `verbs` narrow it down."""
    events = ActivityEvent.objects.all()
    if not user.is_authenticated or not user.is_active:
        return events.none()
    if not user_is_admin(user):
        condition = Q(team__isnull=True, actor=user)
        team_ids = user_team_ids(user)
        if team_ids:
            condition |= Q(team_id__in=team_ids)
        events = events.filter(condition)
    if team is not None:
        events = events.filter(team_id=getattr(team, "pk", team))
    if verbs is not None:
        events = events.filter(verb__in=list(verbs))
    return events.select_related("actor", "team").order_by("-created_at", "-id")


def activity_feed_teams(*, user: User) -> QuerySet[Team]:
    """The teams whose feed `user` may filter on."""
    teams = Team.objects.order_by("name")
    if user_is_admin(user):
        return teams
    return teams.filter(pk__in=user_team_ids(user))
