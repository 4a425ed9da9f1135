"""Writing email templates: one name per language, and only placeholders the template's context
can fill, so a mail never goes out with a `{{ typo }}` left blank."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.accounts.models import User
from mail.models import EmailTemplate
from mail.rendering import placeholders_unknown

TEMPLATE_EDITABLE_FIELDS = ("name", "context", "language", "subject", "body", "is_active")


def _require(actor: User | None, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _cleaned(values: dict, *, template: EmailTemplate | None) -> dict:
    """The values with whitespace tidied; a ValidationError naming every field that is wrong."""
    values = dict(values)
    errors: dict[str, list[str]] = {}
    values["name"] = " ".join(str(values.get("name") or "").split())
    values["subject"] = " ".join(str(values.get("subject") or "").split())
    values["body"] = str(values.get("body") or "").strip()
    if not values["name"]:
        errors["name"] = [_("Give the template a name.")]
    if not values["subject"]:
        errors["subject"] = [_("Give the template a subject.")]
    if not values["body"]:
        errors["body"] = [_("Write the template's text.")]
    if values.get("context") not in EmailTemplate.Context.values:
        errors["context"] = [_("Choose where the template is used from.")]
    if values.get("language") not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of the site's languages.")]
    if "context" not in errors:
        for field in ("subject", "body"):
            unknown = placeholders_unknown(values[field], context=values["context"])
            if unknown:
                errors.setdefault(field, []).append(
                    _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)}
                )
    if not errors:
        same = EmailTemplate.objects.filter(name=values["name"], language=values["language"])
        if template is not None:
            same = same.exclude(pk=template.pk)
        if same.exists():
            errors["name"] = [_("This template already has a version in that language.")]
    if errors:
        raise ValidationError(errors)
    return values


def _save(template: EmailTemplate, *, fields: list[str] | None = None) -> EmailTemplate:
    # The unique (name, language) constraint also catches a concurrent save the check missed.
    try:
        with transaction.atomic():
            template.save(update_fields=fields)
    except IntegrityError as exc:
        raise ValidationError(
            {"name": _("This template already has a version in that language.")}
        ) from exc
    return template


def email_template_create(
    *,
    actor: User | None,
    name: str,
    language: str,
    subject: str,
    body: str,
    context: str = EmailTemplate.Context.CUSTOMER,
    is_active: bool = True,
) -> EmailTemplate:
    _require(actor, "mail.add_emailtemplate")
    values = _cleaned(
        {
            "name": name,
            "context": context,
            "language": language,
            "subject": subject,
            "body": body,
            "is_active": is_active,
        },
        template=None,
    )
    return _save(EmailTemplate(owner=actor, **values))


def email_template_update(
    *, actor: User | None, template: EmailTemplate, **changes
) -> EmailTemplate:
    """Change the fields given among TEMPLATE_EDITABLE_FIELDS; mail already sent from the
    template keeps the text it was sent with."""
    _require(actor, "mail.change_emailtemplate")
    unknown = set(changes) - set(TEMPLATE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: [_("This field cannot be changed.")] for name in sorted(unknown)}
        )
    current = {name: getattr(template, name) for name in TEMPLATE_EDITABLE_FIELDS}
    values = _cleaned({**current, **changes}, template=template)
    changed = [name for name in TEMPLATE_EDITABLE_FIELDS if values[name] != current[name]]
    if not changed:
        return template
    for name in changed:
        setattr(template, name, values[name])
    return _save(template, fields=[*changed, "updated_at"])


def email_template_delete(*, actor: User | None, template: EmailTemplate) -> None:
    """Mail sent from the template stays, without the link to it."""
    _require(actor, "mail.delete_emailtemplate")
    template.delete()
