"""Reads of customer exports: a person sees only the exports they asked for, admins included,
since each file holds what its requester could see."""

from django.db.models import QuerySet

from crm.accounts.models import User
from customers.models import ExportJob


def export_job_list_visible(*, user: User) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(requested_by=user).order_by("-created_at", "-id")


def export_job_get_visible(*, user: User, pk: int) -> ExportJob:
    return export_job_list_visible(user=user).get(pk=pk)
