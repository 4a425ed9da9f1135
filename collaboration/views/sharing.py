"""Pages for sharing a record with another team or a colleague, and for what is shared with me.

A record's sharing page is `/collaboration/records/sales.deal/42/sharing/`: anyone who can see
the record sees who it is shared with; those who may change it also share it (to view or to
edit) and stop sharing it, after a confirmation.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaboration.selectors import sharing as selectors
from collaboration.services import sharing as services
from crm.accounts.models import RecordShare

SHARES_PER_PAGE = 50


class RecordShareForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=selectors.share_team_choices(),
        required=False,
        label=gettext_lazy("Team"),
        empty_label=gettext_lazy("— no team —"),
    )
    user = forms.ModelChoiceField(
        queryset=selectors.share_user_choices(),
        required=False,
        label=gettext_lazy("Or one person"),
        empty_label=gettext_lazy("— nobody —"),
    )
    access = forms.ChoiceField(
        choices=RecordShare.Access.choices,
        initial=RecordShare.Access.READ,
        label=gettext_lazy("Access"),
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("team")) == bool(cleaned.get("user")):
            raise ValidationError(gettext_lazy("Choose a team or one person, not both."))
        return cleaned


def _record_or_404(request: HttpRequest, type_label: str, record_id: int) -> Model:
    record = selectors.shareable_record_visible(
        user=request.user, type_label=type_label, record_id=record_id
    )
    if record is None:
        raise Http404(_("No such record."))
    return record


def _sharing_url(record: Model) -> str:
    return reverse(
        "collaboration:record_sharing", args=[selectors.record_type_label(record), record.pk]
    )


def _add_service_errors(form: forms.Form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, field_messages)


@login_required
@permission_required("accounts.view_recordshare", raise_exception=True)
def record_sharing(request: HttpRequest, type_label: str, record_id: int) -> HttpResponse:
    record = _record_or_404(request, type_label, record_id)
    can_share = selectors.record_can_share(user=request.user, record=record)
    form = None
    status = 200
    if can_share:
        form = RecordShareForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if form.is_valid():
                try:
                    share = services.record_share_grant(
                        actor=request.user,
                        record=record,
                        team=form.cleaned_data["team"],
                        user=form.cleaned_data["user"],
                        access=form.cleaned_data["access"],
                    )
                except ValidationError as exc:
                    _add_service_errors(form, exc)
                else:
                    messages.success(
                        request,
                        _("“%(record)s” is shared with %(with)s.")
                        % {"record": record, "with": share.team or share.user},
                    )
                    return redirect(_sharing_url(record))
            status = 400
    elif request.method == "POST":
        raise PermissionDenied(_("You may not share this record."))
    return render(
        request,
        "collaboration/sharing_record.html",
        {
            "record": record,
            "record_link": selectors.record_link(record),
            "type_label": selectors.record_type_label(record),
            "record_kind": record._meta.verbose_name,
            "shares": selectors.record_shares_for(user=request.user, record=record),
            "can_share": can_share,
            "form": form,
        },
        status=status,
    )


@login_required
@permission_required("accounts.delete_recordshare", raise_exception=True)
def record_share_revoke(
    request: HttpRequest, type_label: str, record_id: int, share_id: int
) -> HttpResponse:
    record = _record_or_404(request, type_label, record_id)
    shares = selectors.record_shares_for(user=request.user, record=record)
    share = shares.filter(pk=share_id).first()
    if share is None or not selectors.record_can_share(user=request.user, record=record):
        raise Http404(_("No such share."))
    if request.method == "POST":
        services.record_share_revoke(actor=request.user, share=share)
        messages.success(
            request,
            _("“%(record)s” is no longer shared with %(with)s.")
            % {"record": record, "with": share.team or share.user},
        )
        return redirect(_sharing_url(record))
    return render(
        request,
        "collaboration/sharing_revoke_confirm.html",
        {"record": record, "share": share, "sharing_url": _sharing_url(record)},
    )


@login_required
@permission_required("accounts.view_recordshare", raise_exception=True)
def shared_with_me(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.shares_with_me(user=request.user), SHARES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "collaboration/sharing_with_me.html",
        {"page": page, "shares": selectors.shares_with_records(list(page.object_list))},
    )


urlpatterns = [
    path(
        "records/<str:type_label>/<int:record_id>/sharing/",
        record_sharing,
        name="record_sharing",
    ),
    path(
        "records/<str:type_label>/<int:record_id>/sharing/<int:share_id>/revoke/",
        record_share_revoke,
        name="record_share_revoke",
    ),
    path("shared-with-me/", shared_with_me, name="shared_with_me"),
]
