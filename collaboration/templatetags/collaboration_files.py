"""`{% record_files_panel record %}`: the latest files on a record and a form to add more, for
the pages of deals, tickets and tasks."""

from django import template

from collaboration.selectors import files as selectors
from crm.uploads import megabytes, upload_max_bytes

register = template.Library()

PANEL_FILES = 5


@register.inclusion_tag("collaboration/_files_panel.html", takes_context=True)
def record_files_panel(context, record) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    label = selectors.record_label(record)
    shown = (
        user is not None
        and label in selectors.FILES_PAGE_TYPES
        and user.has_perm("collaboration.view_attachment")
        and selectors.attachment_record_visible(user=user, record=record)
    )
    if not shown:
        return {"shown": False}
    attachments = selectors.attachments_for_record(user=user, record=record)
    return {
        "shown": True,
        "record": record,
        "record_type_label": label,
        "attachments": list(attachments[:PANEL_FILES]),
        "total": attachments.count(),
        "can_add": user.has_perm("collaboration.add_attachment"),
        "max_mb": megabytes(upload_max_bytes()),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
