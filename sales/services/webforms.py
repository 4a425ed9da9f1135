"""Web forms: building them, and taking in what visitors send through their hosted page.

A submission is taken in whole or not at all, in one transaction: the lead (found or created,
see sales.services.leads), its campaign response, an inbound interaction and the submission
row. The visitor is told the same thing whether their email was known or not, and a bot that
fills the hidden honeypot field is told the same thing too, while nothing is stored.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from collaboration.models import Notification
from collaboration.services.notifications import notification_send
from crm.accounts.models import User
from crm.ratelimit import rate_limit_reached
from customers.cleaning import CleaningError, fold_whitespace, normalise_email, normalise_phone
from customers.models import Interaction
from customers.services.records import interaction_log
from sales.models import WebForm, WebFormSubmission
from sales.services.leads import campaign_response_record, lead_capture

WEBFORM_EDITABLE_FIELDS = (
    "name",
    "slug",
    "title",
    "fields",
    "thank_you_text",
    "owner",
    "team",
    "campaign",
    "source",
    "is_active",
)
CONTACT_FIELDS = (WebForm.Field.EMAIL, WebForm.Field.PHONE)

# Submissions one address may send to one form per window; more are refused with HTTP 429.
SUBMISSION_LIMIT = 5
SUBMISSION_WINDOW_SECONDS = 10 * 60

FIELD_MAX_LENGTHS = {
    WebForm.Field.NAME: 200,
    WebForm.Field.EMAIL: 254,
    WebForm.Field.PHONE: 50,
    WebForm.Field.COMPANY: 200,
    WebForm.Field.JOB_TITLE: 100,
    WebForm.Field.CITY: 100,
    WebForm.Field.PROVINCE: 100,
    WebForm.Field.MESSAGE: 5000,
}


def _require(actor: User | None, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _fields_clean(fields: Any) -> list[str]:
    """The chosen fields in the order the form shows them; refuses unknown ones and a form that
    could not make a lead (a name, and an email or a phone to reach them)."""
    if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
        raise ValidationError({"fields": _("Give the fields as a list of field names.")})
    unknown = sorted(set(fields) - set(WebForm.Field.values))
    if unknown:
        raise ValidationError(
            {"fields": _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)}}
        )
    errors = []
    if WebForm.Field.NAME not in fields:
        errors.append(_("The form must ask for the name."))
    if not set(CONTACT_FIELDS) & set(fields):
        errors.append(_("The form must ask for an email or a phone number (or both)."))
    if errors:
        raise ValidationError({"fields": errors})
    return [name for name in WebForm.Field.values if name in fields]


def _webform_check(form: WebForm) -> None:
    form.fields = _fields_clean(form.fields)
    form.name = fold_whitespace(form.name)
    form.title = fold_whitespace(form.title)
    if form.owner_id is None and form.team_id is None:
        raise ValidationError(
            {"owner": _("Choose who gets the leads no assignment rule takes: an owner, a team.")}
        )
    form.full_clean()


def _refuse_unknown(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(WEBFORM_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def webform_create(*, actor: User | None, **values) -> WebForm:
    _require(actor, "sales.add_webform")
    _refuse_unknown(values)
    form = WebForm(**values)
    _webform_check(form)
    form.save()
    return form


def webform_update(*, actor: User | None, form: WebForm, **values) -> WebForm:
    _require(actor, "sales.change_webform")
    _refuse_unknown(values)
    for name, value in values.items():
        setattr(form, name, value)
    _webform_check(form)
    form.save()
    return form


def webform_delete(*, actor: User | None, form: WebForm) -> None:
    """Delete a form with its submissions; the leads it brought in stay."""
    _require(actor, "sales.delete_webform")
    form.delete()


# Submissions -------------------------------------------------------------------------------------


def webform_rate_limit_reached(*, form: WebForm, ip_address: str | None) -> bool:
    """Count one more submission from this address; True once over the limit."""
    return rate_limit_reached(
        key=f"sales:webform:{form.pk}:{ip_address or 'unknown'}",
        limit=SUBMISSION_LIMIT,
        window_seconds=SUBMISSION_WINDOW_SECONDS,
    )


def webform_submission_clean(*, form: WebForm, data: Mapping[str, Any]) -> dict[str, str]:
    """The form's fields from what the visitor sent, cleaned as the customer forms clean them;
    a ValidationError names each field that is wrong."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in form.fields:
        raw = str(data.get(name) or "")
        value = raw.strip() if name == WebForm.Field.MESSAGE else fold_whitespace(raw)
        if len(value) > FIELD_MAX_LENGTHS[name]:
            errors[name] = _("Write at most %(count)d characters.") % {
                "count": FIELD_MAX_LENGTHS[name]
            }
            continue
        try:
            if name == WebForm.Field.EMAIL:
                value = normalise_email(value)
            elif name == WebForm.Field.PHONE:
                value = normalise_phone(value)
        except CleaningError as exc:
            errors[name] = str(exc)
            continue
        if value:
            values[name] = value
    if WebForm.Field.NAME not in values and WebForm.Field.NAME not in errors:
        errors[WebForm.Field.NAME] = _("Please tell us your name.")
    asked = [name for name in CONTACT_FIELDS if name in form.fields]
    if asked and not any(name in values or name in errors for name in asked):
        message = (
            _("Please give an email address or a phone number.")
            if len(asked) > 1
            else _("Please fill in this field.")
        )
        errors[asked[0]] = message
    if errors:
        raise ValidationError(errors)
    return values


def _client_address(ip_address: str | None) -> str | None:
    try:
        validate_ipv46_address(ip_address or "")
    except ValidationError:
        return None
    return ip_address


def _notify_owner(submission: WebFormSubmission) -> None:
    customer = submission.customer
    if customer.owner is None:
        return
    # Stored for the owner, not the visitor: written in the site's language, not the request's.
    with translation.override(settings.LANGUAGE_CODE):
        if submission.created_lead:
            kind = Notification.Kind.RECORD_ASSIGNED
            title = _("New lead from the web form “%(form)s”: %(name)s")
        else:
            kind = Notification.Kind.OTHER
            title = _("%(name)s sent the web form “%(form)s”")
        title %= {"form": submission.form.name, "name": customer.name}
    notification_send(
        recipient=customer.owner,
        kind=kind,
        title=title,
        body=submission.data.get(WebForm.Field.MESSAGE, ""),
        url=reverse("customers:customer_detail", args=[customer.pk]),
        related=customer,
    )


def webform_submit(
    *,
    form: WebForm,
    data: Mapping[str, Any],
    ip_address: str | None = None,
    honeypot: str = "",
) -> WebFormSubmission | None:
    """Take in one submission of an active form; None when the honeypot was filled (a bot),
    in which case nothing is stored. Raises ValidationError by field for bad input."""
    if honeypot.strip():
        return None
    if not form.is_active:
        raise ValidationError(_("This form no longer takes submissions."))
    values = webform_submission_clean(form=form, data=data)
    with transaction.atomic():
        captured = lead_capture(values=values, source=form.source, owner=form.owner, team=form.team)
        customer = captured.customer
        if form.campaign_id is not None:
            campaign_response_record(campaign=form.campaign, customer=customer)
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Web form: %(name)s") % {"name": form.name}
        interaction_log(
            actor=None,
            customer=customer,
            channel=Interaction.Channel.WEB_FORM,
            direction=Interaction.Direction.INBOUND,
            subject=subject[:200],
            summary=values.get(WebForm.Field.MESSAGE, ""),
        )
        submission = WebFormSubmission.objects.create(
            form=form,
            customer=customer,
            created_lead=captured.created,
            data=values,
            ip_address=_client_address(ip_address),
        )
        # The owner hears about it only once the lead is really there.
        transaction.on_commit(lambda: _notify_owner(submission))
    return submission
