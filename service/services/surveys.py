"""Satisfaction surveys (CSAT): one email when a ticket is resolved, answered once on a public
page before it expires.

The link carries a random token (secrets.token_urlsafe) signed with a TimestampSigner. Only the
token's SHA-256 hash is stored, so a copy of the database cannot answer a survey; the signature
lets the page refuse forged links before touching the database, and its timestamp bounds the
link's life cryptographically as well as by `expires_at`, whichever comes first.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.webhooks.events import event_publish
from customers.models import Customer
from service.locks import tickets_lock
from service.models import SatisfactionSurvey, Ticket

logger = logging.getLogger(__name__)

SURVEY_DAYS = 14
COMMENT_MAX_LENGTH = 2000
RATINGS = range(1, 6)
_SIGNER_SALT = "service.survey"


def site_url() -> str:
    """Where customers reach this CRM, for links in emails sent outside a request."""
    return getattr(settings, "CRM_SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SIGNER_SALT)


def survey_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_link_token(token: str) -> str:
    """The token as it appears in the link: signed, with the time it was signed."""
    return _signer().sign(token)


@dataclass(frozen=True)
class LinkToken:
    token: str
    signature_expired: bool


def survey_link_token_read(value: str) -> LinkToken:
    """The raw token from a link; raises signing.BadSignature when we did not make the link."""
    signer = _signer()
    try:
        return LinkToken(
            token=signer.unsign(value, max_age=timedelta(days=SURVEY_DAYS)),
            signature_expired=False,
        )
    except signing.SignatureExpired:
        return LinkToken(token=signer.unsign(value), signature_expired=True)


def survey_language_for(ticket: Ticket) -> str:
    languages = {code for code, _name in settings.LANGUAGES}
    language = ticket.customer.language
    return language if language in languages else settings.LANGUAGE_CODE


def survey_is_expired(survey: SatisfactionSurvey, *, at=None) -> bool:
    return (at or timezone.now()) >= survey.expires_at


def _survey_email(survey: SatisfactionSurvey, *, ticket: Ticket, token: str):
    url = site_url() + reverse("service:survey_answer", args=[survey_link_token(token)])
    context = {
        "ticket": ticket,
        "customer": ticket.customer,
        "url": url,
        "expires_at": survey.expires_at,
        "days": SURVEY_DAYS,
    }
    with translation.override(survey.language):
        subject = render_to_string("service/email/survey_subject.txt", context)
        text = render_to_string("service/email/survey.txt", context)
        html = render_to_string("service/email/survey.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[survey.sent_to],
        headers={"Content-Language": survey.language},
    )
    message.attach_alternative(html, "text/html")
    return message


def survey_send_on_resolve(*, ticket: Ticket) -> SatisfactionSurvey | None:
    """Email the customer a satisfaction survey for this resolved ticket, unless they have no
    email address or a survey for it is still open (unanswered and unexpired).

    Runs after the resolve committed; a mail server that fails is logged and leaves no survey
    behind, so the next resolve tries again, and the resolve itself stands."""
    now = timezone.now()
    with transaction.atomic():
        # The ticket's row lock makes two resolves racing here send one survey, not two.
        locked = tickets_lock(ticket_ids=[ticket.pk]).get(ticket.pk)
        if locked is None or not locked.customer.email:
            return None
        still_open = SatisfactionSurvey.objects.filter(
            ticket=locked, answered_at__isnull=True, expires_at__gt=now
        ).exists()
        if still_open:
            return None
        token = secrets.token_urlsafe(32)
        survey = SatisfactionSurvey.objects.create(
            ticket=locked,
            token_hash=survey_token_hash(token),
            language=survey_language_for(locked),
            sent_to=locked.customer.email,
            sent_at=now,
            expires_at=now + timedelta(days=SURVEY_DAYS),
        )
    try:
        _survey_email(survey, ticket=locked, token=token).send()
    except Exception:
        logger.exception("Could not send the satisfaction survey for ticket %s", locked.number)
        survey.delete()
        return None
    return survey


def _rating_clean(rating: Any) -> int:
    try:
        value = int(str(rating).strip())
    except (TypeError, ValueError):
        value = None
    if value not in RATINGS:
        raise ValidationError({"rating": _("Choose a rating from 1 to 5.")})
    return value


def survey_answer(*, survey: SatisfactionSurvey, rating: Any, comment: str = "") -> bool:
    """Record the customer's answer on the survey and on its ticket; True when this call's
    answer was the one stored, False when the survey was already answered or has expired.

    The survey row is updated only where it is still unanswered and unexpired, so of two
    answers sent at once exactly one wins. The ticket gets a plain update of its rating fields
    without a new version: the customer's rating must not make an agent's open edit stale. The
    answer is announced to integrators once committed (survey.answered)."""
    value = _rating_clean(rating)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": _("Write at most %(count)d characters.") % {"count": COMMENT_MAX_LENGTH}}
        )
    now = timezone.now()
    with transaction.atomic():
        won = SatisfactionSurvey.objects.filter(
            pk=survey.pk, answered_at__isnull=True, expires_at__gt=now
        ).update(answered_at=now, rating=value, comment=comment)
        if not won:
            return False
        Ticket.objects.filter(pk=survey.ticket_id).update(
            satisfaction_rating=value, satisfaction_comment=comment, rated_at=now
        )
        event_publish(event="survey.answered", record=survey)
    survey.answered_at, survey.rating, survey.comment = now, value, comment
    return True


def customer_surveys_erase(customer: Customer) -> None:
    """Privacy erasure: the address surveys went to and what the customer wrote go; the ratings
    stay for the satisfaction figures, and links not yet answered stop working."""
    now = timezone.now()
    surveys = SatisfactionSurvey.objects.filter(ticket__customer=customer)
    surveys.filter(answered_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    surveys.update(sent_to="", comment="")
    Ticket.objects.filter(customer=customer).update(satisfaction_comment="")
