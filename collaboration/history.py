"""The collaboration app's records whose pages show their history (crm.audit's registry)."""

from django.urls import reverse

from collaboration.models import Event, Task
from collaboration.selectors.calendar import events_visible_to
from collaboration.selectors.tasks import task_list_visible
from crm.audit.registry import register_record_history


def record_histories_register() -> None:
    register_record_history(
        model=Task,
        visible=task_list_visible,
        url=lambda pk: reverse("collaboration:task_detail", args=[pk]),
    )
    register_record_history(
        model=Event,
        visible=events_visible_to,
        url=lambda pk: reverse("collaboration:event_detail", args=[pk]),
    )
