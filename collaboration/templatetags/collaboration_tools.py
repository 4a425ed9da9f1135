"""The record tools strip: `{% record_tools record %}` on a deal, ticket or task page links to the
record's discussion, files, sharing, a new meeting and a new task about it. The customer page
(customers cannot load this app's tags) gets the same links as a profile panel."""

from dataclasses import dataclass

from django import template
from django.db.models import Model
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from collaboration.selectors.chat import DISCUSSION_TYPES
from collaboration.selectors.files import FILES_PAGE_TYPES
from collaboration.selectors.sharing import SHAREABLE_TYPES
from collaboration.selectors.tasks import TASK_RELATED_TYPES
from crm.accounts.models import User

register = template.Library()


@dataclass(frozen=True)
class RecordTool:
    key: str
    label: str
    url: str


def record_type_label(record: Model) -> str:
    return f"{record._meta.app_label}.{record._meta.model_name}"


def record_tool_links(*, user: User, record: Model, back_url: str = "") -> list[RecordTool]:
    """The tools `user` may use on `record`, each offered for the kinds of record its page takes
    (a task has files and sharing, but no discussion room); `back_url` is where a new task goes
    back to."""
    label = record_type_label(record)
    about = {"related_type": label, "related_id": record.pk}
    tools = []
    if label in DISCUSSION_TYPES and user.has_perm("collaboration.view_chatroom"):
        url = reverse("collaboration:record_discussion", args=[label, record.pk])
        tools.append(RecordTool("discussion", _("Discussion"), url))
    if label in FILES_PAGE_TYPES and user.has_perm("collaboration.view_attachment"):
        url = reverse("collaboration:record_files", args=[label, record.pk])
        tools.append(RecordTool("files", _("Files"), url))
    if label in SHAREABLE_TYPES and user.has_perm("accounts.view_recordshare"):
        url = reverse("collaboration:record_sharing", args=[label, record.pk])
        tools.append(RecordTool("sharing", _("Sharing"), url))
    # Meetings, like tasks, may be about the kinds of record a task may be about.
    if label in TASK_RELATED_TYPES and user.has_perm("collaboration.add_event"):
        url = f"{reverse('collaboration:event_create')}?{urlencode(about)}"
        tools.append(RecordTool("meeting", _("Schedule a meeting"), url))
    if label in TASK_RELATED_TYPES and user.has_perm("collaboration.add_task"):
        query = {**about, **({"next": back_url} if back_url else {})}
        url = f"{reverse('collaboration:task_create')}?{urlencode(query)}"
        tools.append(RecordTool("task", _("New task"), url))
    return tools


@register.inclusion_tag("collaboration/_record_tools.html", takes_context=True)
def record_tools(context, record: Model) -> dict:
    request = context["request"]
    return {
        "record": record,
        "tools": record_tool_links(user=request.user, record=record, back_url=request.path),
        # The files panel under the strip posts its upload form.
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "perms": context.get("perms"),
    }


def customer_tool_rows(*, customer: Model, user: User) -> list[tuple[str, str]]:
    """The rows of the "Collaboration" box on the customer's 360 page: the strip's tools as
    links (collaboration/apps.py registers the box)."""
    # The customer page's "Tasks" box already offers a new task.
    tools = [tool for tool in record_tool_links(user=user, record=customer) if tool.key != "task"]
    return [("", format_html('<a href="{}">{}</a>', tool.url, tool.label)) for tool in tools]
