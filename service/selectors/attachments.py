"""Reads of ticket attachments: a file is visible exactly when its ticket is."""

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from service.models import TicketAttachment


def ticket_attachment_get_visible(*, user: User, pk: int) -> TicketAttachment:
    """The attachment if `user` may see its ticket; TicketAttachment.DoesNotExist otherwise."""
    return records_visible_to(user=user, queryset=TicketAttachment.objects.all()).get(pk=pk)
