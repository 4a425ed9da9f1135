"""Reads for the SLA setup pages and API: policies, the tier × priority matrix, calendars and
their holidays. SLA setup is shared configuration, so no visibility rule applies."""

from django.db.models import Count, QuerySet

from customers.models import Customer
from service.models import BusinessCalendar, Holiday, Priority, SlaPolicy


def sla_policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("calendar").order_by(
        "-is_active", "tier", "priority", "name", "id"
    )


def sla_policy_get(*, pk: int) -> SlaPolicy:
    return SlaPolicy.objects.select_related("calendar").get(pk=pk)


def sla_policy_matrix() -> dict:
    """The active policy for each service tier × priority, with blanks meaning "any": rows are
    tiers (then any tier), columns priorities (then any priority)."""
    active = {
        (policy.tier, policy.priority): policy
        for policy in SlaPolicy.objects.filter(is_active=True).select_related("calendar")
    }
    columns = [*Priority.choices, ("", None)]
    rows = [
        {
            "tier": tier,
            "label": label,
            "cells": [
                {"priority": priority, "policy": active.get((tier, priority))}
                for priority, _label in columns
            ],
        }
        for tier, label in [*Customer.Tier.choices, ("", None)]
    ]
    return {"columns": columns, "rows": rows}


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.annotate(
        policy_count=Count("sla_policies", distinct=True),
        holiday_count=Count("holidays", distinct=True),
    ).order_by("-is_default", "name", "id")


def calendar_get(*, pk: int) -> BusinessCalendar:
    return BusinessCalendar.objects.get(pk=pk)


def calendar_choices() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.order_by("-is_default", "name", "id")


def holiday_list(*, calendar: BusinessCalendar) -> QuerySet[Holiday]:
    return Holiday.objects.filter(calendar=calendar).order_by("-date", "id")


def holiday_get(*, pk: int) -> Holiday:
    return Holiday.objects.select_related("calendar").get(pk=pk)
