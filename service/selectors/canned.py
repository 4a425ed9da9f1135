"""Reads of canned responses through the visibility rule: one's own, and those shared with (or
owned by someone in) a team one belongs to."""

from django.db.models import QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from service.models import CannedResponse


def canned_response_list_visible(*, user: User) -> QuerySet[CannedResponse]:
    return records_visible_to(user=user, queryset=CannedResponse.objects.all()).select_related(
        "owner", "team"
    )


def canned_response_get_visible(*, user: User, pk: int) -> CannedResponse:
    """The response if `user` may see it; CannedResponse.DoesNotExist otherwise."""
    return canned_response_list_visible(user=user).get(pk=pk)
