"""Writing to the activity log: the one function every app calls when something feed-worthy
happens."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from crm.accounts.models import Team, User
from crm.activity.models import ActivityEvent


def activity_record(
    *,
    verb: str,
    summary: str,
    actor: User | None = None,
    team: Team | None = None,
    target: Model | None = None,
    url: str = "",
    data: dict[str, Any] | None = None,
) -> ActivityEvent:
    """Log one event in `team`'s feed; with no team given it is filed under the target's team."""
    if team is None and target is not None:
        team = getattr(target, "team", None)
    event = ActivityEvent(
        verb=verb,
        summary=summary[:300],
        actor=actor,
        team=team,
        url=url[:500],
        data=data or {},
    )
    if target is not None:
        event.target_type = ContentType.objects.get_for_model(target)
        event.target_id = target.pk
    event.save()
    return event
