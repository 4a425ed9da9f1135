"""The likely duplicates page and the merge confirmation page."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import User
from customers.models import Customer
from customers.selectors import duplicates as duplicate_selectors
from customers.selectors.customers import customer_get_visible
from customers.services.merge import (
    KEPT,
    MERGE_FIELDS,
    MERGED,
    customer_merge,
    customer_merge_conflicts,
)

GROUPS_PER_PAGE = 20

# Rows of the side-by-side comparison on the duplicates page: (label, how to read the value).
COMPARISON_ROWS = (
    (gettext_lazy("Email"), lambda customer: customer.email),
    (gettext_lazy("Phone"), lambda customer: customer.phone),
    (gettext_lazy("Company"), lambda customer: customer.company),
    (gettext_lazy("Job title"), lambda customer: customer.job_title),
    (gettext_lazy("City"), lambda customer: customer.city),
    (gettext_lazy("Birthday"), lambda customer: customer.birthday),
    (gettext_lazy("Status"), lambda customer: customer.get_status_display()),
    (gettext_lazy("Tier"), lambda customer: customer.get_tier_display()),
    (gettext_lazy("Owner"), lambda customer: customer.owner),
    (gettext_lazy("Team"), lambda customer: customer.team),
    (gettext_lazy("Orders"), lambda customer: customer.order_count),
    (gettext_lazy("Total spend"), lambda customer: customer.total_spend),
    (gettext_lazy("Last contact"), lambda customer: customer.last_contact_at),
    (gettext_lazy("Customer since"), lambda customer: customer.created_at.date()),
)


def _comparison(customers: list[Customer]) -> list[dict[str, Any]]:
    rows = []
    for label, read in COMPARISON_ROWS:
        values = [read(customer) for customer in customers]
        filled = {str(value) for value in values if value not in (None, "")}
        rows.append({"label": label, "values": values, "differs": len(filled) > 1})
    return rows


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    rule = request.GET.get("rule", "")
    if rule not in duplicate_selectors.RULES:
        rule = ""
    try:
        page = duplicate_selectors.duplicate_groups_visible(
            user=request.user,
            rule=rule,
            cursor=request.GET.get("cursor", ""),
            limit=GROUPS_PER_PAGE,
        )
    except duplicate_selectors.DuplicateQueryError:
        page = duplicate_selectors.duplicate_groups_visible(
            user=request.user, rule=rule, limit=GROUPS_PER_PAGE
        )
    groups = [{"group": group, "rows": _comparison(group.customers)} for group in page.groups]
    return render(
        request,
        "customers/duplicates/duplicate_list.html",
        {
            "groups": groups,
            "rule": rule,
            "rules": [
                (value, duplicate_selectors.RULE_LABELS[value])
                for value in duplicate_selectors.RULES
            ],
            "next_cursor": page.next_cursor,
            "is_first_page": not request.GET.get("cursor"),
            "can_merge": request.user.has_perm("customers.merge_customer"),
        },
    )


def _customer_or_404(user: User, pk: Any) -> Customer:
    try:
        return customer_get_visible(user=user, pk=int(pk))
    except (Customer.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404(_("No such customer.")) from exc


def _raw(customer: Customer, name: str) -> Any:
    return getattr(customer, Customer._meta.get_field(name).attname)


def _display(customer: Customer, name: str) -> Any:
    field = Customer._meta.get_field(name)
    if field.choices:
        return getattr(customer, f"get_{name}_display")()
    if name == "marketing_consent":
        return _("Yes") if customer.marketing_consent else _("No")
    return getattr(customer, name)


class MergeForm(forms.Form):
    """One choice per field where both customers hold different values: whose value stays."""

    def __init__(self, *args, kept: Customer, merged: Customer, conflicts: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in conflicts:
            self.fields[name] = forms.ChoiceField(
                label=Customer._meta.get_field(name).verbose_name,
                choices=[(KEPT, _display(kept, name)), (MERGED, _display(merged, name))],
                initial=KEPT,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )

    def field_choices(self) -> dict[str, str]:
        return dict(self.cleaned_data)


def _merge_rows(
    kept: Customer, merged: Customer, conflicts: list[str], form: MergeForm
) -> list[dict[str, Any]]:
    rows = []
    for name in MERGE_FIELDS:
        kept_value, merged_value = _display(kept, name), _display(merged, name)
        if name in conflicts:
            outcome = "choose"
        elif _raw(kept, name) in (None, "") and _raw(merged, name) not in (None, ""):
            outcome = "filled"
        else:
            outcome = "kept"
        rows.append(
            {
                "label": Customer._meta.get_field(name).verbose_name,
                "kept": kept_value,
                "merged": merged_value,
                "outcome": outcome,
                "field": form[name] if name in conflicts else None,
            }
        )
    return rows


@login_required
@permission_required("customers.merge_customer", raise_exception=True)
def customer_merge_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    kept = _customer_or_404(request.user, pk)
    merged = _customer_or_404(request.user, request.GET.get("merged"))
    conflicts = customer_merge_conflicts(kept=kept, merged=merged)
    # Bound on every POST: a merge without conflicts posts no field at all.
    data = request.POST if request.method == "POST" else None
    form = MergeForm(data, kept=kept, merged=merged, conflicts=conflicts)
    if request.method == "POST" and form.is_valid():
        try:
            merge = customer_merge(
                actor=request.user, kept=kept, merged=merged, field_choices=form.field_choices()
            )
        except Customer.DoesNotExist as exc:
            raise Http404(_("No such customer.")) from exc
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("%(merged)s was merged into %(kept)s.") % {"merged": merged, "kept": merge.kept},
            )
            return redirect("customers:customer_detail", pk=merge.kept_id)
    return render(
        request,
        "customers/duplicates/customer_merge.html",
        {
            "kept": kept,
            "merged": merged,
            "form": form,
            "rows": _merge_rows(kept, merged, conflicts, form),
            "moving": duplicate_selectors.customer_related_counts(customer=merged),
        },
    )


urlpatterns = [
    path("duplicates/", duplicate_list, name="duplicate_list"),
    path("<int:pk>/merge/", customer_merge_confirm, name="customer_merge"),
]
