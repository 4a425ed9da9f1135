"""Sending mail: the one path compose pages, the API, ticket replies and campaigns use.

`email_send` checks and stores a message as queued, with its interaction on the customer's
timeline, and queues its delivery after the commit; `email_deliver` (run by the Celery task) hands
it to the email backend, and on a failure the backend may get over (a server down, a timeout) tries
again later with backoff, up to CRM_EMAIL_SEND_ATTEMPTS. A beat job picks up deliveries whose task
was lost. A request never waits on the mail server.
"""

import logging
import re
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from email.utils import formataddr, make_msgid
from html import unescape as html_unescape

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import record_is_visible_to
from crm.queueing import task_send_on_commit
from crm.uploads import upload_check
from crm.webhooks.events import event_publish
from customers.models import Customer, Interaction
from customers.services.records import interaction_log
from mail import registry, tokens
from mail.models import EmailAttachment, EmailMessage, EmailSignature, EmailTemplate, Mailbox

logger = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_RECIPIENTS = 50
MAX_SIGNATURE_LENGTH = 2000
SIGNATURE_SEPARATOR = "\n\n-- \n"
# The metadata naming the message to the provider, which names it back in its delivery events.
PROVIDER_METADATA_KEY = "crm_email_id"


def error_is_transient(error: Exception) -> bool:
    """Whether a later attempt may get past `error`. A server's reply says so itself (RFC 5321):
    4xx is "try again later", 5xx is final. SMTP errors are OSErrors, so the reply code is
    read before the error's class."""
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _reply in error.recipients.values())
    # The network failing (refused, reset, timed out) may pass; a message the backend refuses
    # for what it is will not.
    return isinstance(error, OSError)


def addresses_clean(value: str | Iterable[str], *, field: str) -> list[str]:
    """A list of addresses from a comma- or semicolon-separated string or a list; a
    ValidationError on `field` naming every bad one."""
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    addresses = [address.strip() for address in value if address and address.strip()]
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError(
            {field: _("Not an email address: %(addresses)s") % {"addresses": ", ".join(bad)}}
        )
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError(
            {field: _("At most %(count)d addresses, please.") % {"count": MAX_RECIPIENTS}}
        )
    return list(dict.fromkeys(addresses))


def attachments_check(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    """Every file passes the checks every upload passes (crm.uploads); the type read from its
    bytes replaces the browser's claim."""
    files = list(files)
    refused = []
    for upload in files:
        try:
            upload.content_type = upload_check(upload, max_bytes=MAX_ATTACHMENT_BYTES)
        except ValidationError as exc:
            refused.extend(exc.messages)
    if refused:
        raise ValidationError({"attachments": refused})
    return files


def signature_for(user: User | None) -> str:
    if user is None:
        return ""
    signature = EmailSignature.objects.filter(user=user).values_list("body", flat=True).first()
    return (signature or "").strip()


def signature_set(*, user: User, body: str) -> EmailSignature:
    if len(body.strip()) > MAX_SIGNATURE_LENGTH:
        raise ValidationError(
            {
                "body": _("Keep the signature under %(count)d characters.")
                % {"count": MAX_SIGNATURE_LENGTH}
            }
        )
    signature, _created = EmailSignature.objects.update_or_create(
        user=user, defaults={"body": body.strip()}
    )
    return signature


def message_id_new() -> str:
    return make_msgid(domain=settings.CRM_EMAIL_DOMAIN)


def sender_address_for(record=None) -> str:
    """The address mail about `record` comes from, so that replies reach a mailbox the CRM
    reads: the mailbox its thread last came in through, else the first active mailbox of its
    kind's purpose, else DEFAULT_FROM_EMAIL."""
    if record is not None:
        content_type = ContentType.objects.get_for_model(record)
        address = (
            EmailMessage.objects.filter(
                related_type=content_type, related_id=record.pk, mailbox__is_active=True
            )
            .order_by("-created_at", "-id")
            .values_list("mailbox__address", flat=True)
            .first()
        )
        if address:
            return address
        kind = registry.thread_kind_for_model(record._meta.label_lower)
        if kind is not None:
            address = (
                Mailbox.objects.filter(is_active=True, purpose=kind.mailbox_purpose)
                .order_by("pk")
                .values_list("address", flat=True)
                .first()
            )
            if address:
                return address
    return settings.DEFAULT_FROM_EMAIL


def _thread_headers(record) -> tuple[str, str]:
    """(In-Reply-To, References) for new mail in `record`'s thread: a reply to its latest
    message, so mail clients show one conversation."""
    if record is None:
        return "", ""
    latest = (
        EmailMessage.objects.filter(
            related_type=ContentType.objects.get_for_model(record), related_id=record.pk
        )
        .order_by("-created_at", "-id")
        .values("message_id", "references")
        .first()
    )
    if latest is None:
        return "", ""
    references = " ".join([*latest["references"].split()[-20:], latest["message_id"]])
    return latest["message_id"], references


def subject_with_reply_token(subject: str, record) -> str:
    if record is None:
        return subject
    kind = registry.thread_kind_for_model(record._meta.label_lower)
    if kind is None or tokens.reply_token_read(subject):
        return subject
    return f"{subject} {tokens.reply_token(prefix=kind.prefix, pk=record.pk)}"


def _require(actor: User | None, *, customer: Customer | None, record) -> None:
    if actor is None:
        return
    if not actor.has_perm("mail.add_emailmessage"):
        raise PermissionDenied
    for target in (customer, record):
        if target is not None and not record_is_visible_to(user=actor, record=target):
            raise PermissionDenied


def email_send(
    *,
    actor: User | None,
    to: str | Iterable[str],
    subject: str,
    body: str,
    customer: Customer | None = None,
    record=None,
    cc: str | Iterable[str] = (),
    attachments: Iterable[UploadedFile] = (),
    template: EmailTemplate | None = None,
    signature: bool = True,
) -> EmailMessage:
    """Queue one email from `actor`, about `customer` and, when given, a deal or ticket
    (`record`), whose customer it is for by default. Mail about a record carries its reply token
    and threads under its earlier mail; it is logged on the record's timeline as the record's
    kind says (a public reply on a ticket) or as an email interaction."""
    kind = registry.thread_kind_for_model(record._meta.label_lower) if record is not None else None
    if record is not None and kind is None:
        raise ValidationError({"record": _("Mail cannot be sent from this kind of record.")})
    if customer is None and kind is not None:
        customer = kind.customer_of(record)
    _require(actor, customer=customer, record=record)
    errors = {}
    try:
        to_addresses = addresses_clean(to, field="to")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        to_addresses = []
    try:
        cc_addresses = addresses_clean(cc, field="cc")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cc_addresses = []
    if not to_addresses and "to" not in errors:
        errors["to"] = [_("Say whom to send it to.")]
    subject = " ".join((subject or "").split())
    if not subject:
        errors["subject"] = [_("Give the email a subject.")]
    elif len(subject) > 250:
        errors["subject"] = [_("Keep the subject under 250 characters.")]
    body = (body or "").strip()
    if not body:
        errors["body"] = [_("Write something first.")]
    try:
        files = attachments_check(attachments)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    signature_text = signature_for(actor) if signature else ""
    full_body = f"{body}{SIGNATURE_SEPARATOR}{signature_text}" if signature_text else body
    subject = subject_with_reply_token(subject, record)
    in_reply_to, references = _thread_headers(record)
    now = timezone.now()
    with transaction.atomic():
        interaction = None
        if kind is not None and kind.record_sent is not None:
            interaction = kind.record_sent(actor, record, subject, full_body)
        if interaction is None and customer is not None:
            interaction = interaction_log(
                actor=None,
                customer=customer,
                channel=Interaction.Channel.EMAIL,
                direction=Interaction.Direction.OUTBOUND,
                occurred_at=now,
                subject=subject[:200],
                summary=full_body,
                handled_by=actor,
                related_type=ContentType.objects.get_for_model(record) if record else None,
                related_id=record.pk if record is not None else None,
            )
        message = EmailMessage.objects.create(
            direction=EmailMessage.Direction.OUTBOUND,
            status=EmailMessage.Status.QUEUED,
            kind=EmailMessage.Kind.PERSONAL,
            message_id=message_id_new(),
            in_reply_to=in_reply_to,
            references=references,
            from_address=sender_address_for(record),
            from_name=str(actor) if actor else "",
            to_addresses=to_addresses,
            cc_addresses=cc_addresses,
            subject=subject,
            body_text=full_body,
            customer=customer,
            related_type=ContentType.objects.get_for_model(record) if record else None,
            related_id=record.pk if record is not None else None,
            interaction=interaction,
            template=template,
            sent_by=actor,
            source="compose",
            next_attempt_at=now,
        )
        for upload in files:
            EmailAttachment.objects.create(
                message=message,
                file=upload,
                name=upload.name[:255],
                size=upload.size,
                content_type=(upload.content_type or "")[:100],
            )
        email_interaction_link(message=message)
        email_deliver_queue(message_ids=[message.pk])
    return message


def email_interaction_link(*, message: EmailMessage) -> None:
    """Point the message's interaction at the message when it belongs to no deal or ticket, so
    the customer's timeline links to the email."""
    if message.interaction_id is None or message.related_type_id is not None:
        return
    Interaction.objects.filter(pk=message.interaction_id, related_type__isnull=True).update(
        related_type=ContentType.objects.get_for_model(EmailMessage), related_id=message.pk
    )


def email_deliver_queue(*, message_ids: list[int], countdown: int = 0) -> None:
    from mail.tasks import email_deliver_task

    for message_id in message_ids:
        task_send_on_commit(task=email_deliver_task, args=(message_id,), countdown=countdown)


def _absolute(path: str) -> str:
    return f"{settings.CRM_SITE_URL}{path}"


def unsubscribe_url(message: EmailMessage) -> str:
    token = tokens.unsubscribe_token(customer_id=message.customer_id, message_id=message.pk)
    return _absolute(reverse("mail:unsubscribe", args=[token]))


def _tracked_html(message: EmailMessage, html: str) -> str:
    """`html` with its links sent through the click counter and an invisible image that counts
    the open."""

    def through_counter(match: re.Match) -> str:
        # The attribute holds the URL HTML-escaped (`&amp;` between query parameters); the
        # redirect must lead to the URL itself.
        url = html_unescape(match.group(2))
        if url.startswith(_absolute("/mail/u/")):
            return match.group(0)
        token = tokens.click_token(message_id=message.pk, url=url)
        return f'{match.group(1)}{escape(_absolute(reverse("mail:click", args=[token])))}"'

    html = re.sub(r'(<a [^>]*href=")(https?://[^"]+)"', through_counter, html)
    pixel = _absolute(reverse("mail:open", args=[tokens.open_token(message_id=message.pk)]))
    return f'{html}<img src="{escape(pixel)}" width="1" height="1" alt="">'


def message_build(message: EmailMessage, *, connection=None) -> EmailMultiAlternatives:
    """The email as the backend sends it: text, an HTML version with links made clickable (and
    counted when tracked), attachments, and the threading and unsubscribe headers."""
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.kind == EmailMessage.Kind.CAMPAIGN and message.customer_id:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url(message)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=formataddr((message.from_name, message.from_address))
        if message.from_name
        else message.from_address,
        to=message.to_addresses,
        cc=message.cc_addresses,
        headers=headers,
        connection=connection,
    )
    # Sent through a django-anymail provider, this comes back with the provider's delivery
    # events, naming the message they are about (mail.services.delivery_events).
    email.metadata = {PROVIDER_METADATA_KEY: str(message.pk)}
    html = message.body_html or linebreaks(urlize(escape(message.body_text), nofollow=True))
    if message.tracking and settings.CRM_EMAIL_TRACKING:
        html = _tracked_html(message, html)
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type or None)
    return email


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 240))


def _delivery_failed(message: EmailMessage, error: Exception, *, transient: bool) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if transient and message.attempts < settings.CRM_EMAIL_SEND_ATTEMPTS:
        message.next_attempt_at = timezone.now() + _backoff(message.attempts)
    else:
        message.status = EmailMessage.Status.FAILED
        message.next_attempt_at = None
    message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    logger.warning("email %s not sent (attempt %d): %s", message.pk, message.attempts, error)


def _delivery_succeeded(message: EmailMessage) -> None:
    message.attempts += 1
    message.status = EmailMessage.Status.SENT
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.last_error = ""
    message.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at", "last_error"])
    # Campaign mail is not announced per recipient: a mailing would flood every subscriber.
    if message.kind == EmailMessage.Kind.PERSONAL:
        event_publish(event="email.sent", record=message)


def emails_deliver(*, message_ids: list[int]) -> dict[str, int]:
    """Hand the queued messages among `message_ids` that are due to the backend over one
    connection; returns how many were sent, will be tried again, and failed. A message already
    sent, failed or not yet due is left alone, so running this twice sends once."""
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    now = timezone.now()
    due = list(
        EmailMessage.objects.filter(
            pk__in=message_ids, status=EmailMessage.Status.QUEUED, next_attempt_at__lte=now
        )
        .prefetch_related("attachments")
        .order_by("pk")
    )
    if not due:
        return counts
    connection = get_connection()
    try:
        connection.open()
    except OSError as exc:
        for message in due:
            _delivery_failed(message, exc, transient=error_is_transient(exc))
            counts["failed" if message.status == EmailMessage.Status.FAILED else "retrying"] += 1
        return counts
    try:
        for message in due:
            # Claimed row by row, so two workers given the same ids never send one twice.
            claimed = EmailMessage.objects.filter(
                pk=message.pk, status=EmailMessage.Status.QUEUED, attempts=message.attempts
            ).update(next_attempt_at=now + timedelta(minutes=15))
            if not claimed:
                continue
            try:
                message_build(message, connection=connection).send()
            except Exception as exc:  # noqa: BLE001 - error_is_transient sorts every failure
                _delivery_failed(message, exc, transient=error_is_transient(exc))
            else:
                _delivery_succeeded(message)
            if message.status == EmailMessage.Status.SENT:
                counts["sent"] += 1
            elif message.status == EmailMessage.Status.FAILED:
                counts["failed"] += 1
            else:
                counts["retrying"] += 1
    finally:
        connection.close()
    retrying = [m.pk for m in due if m.status == EmailMessage.Status.QUEUED]
    if retrying:
        countdown = int(_backoff(max(m.attempts for m in due)).total_seconds())
        transaction.on_commit(
            lambda: email_deliver_queue(message_ids=retrying, countdown=countdown)
        )
    return counts


def email_deliver(*, message_id: int) -> str | None:
    counts = emails_deliver(message_ids=[message_id])
    return next((status for status, count in counts.items() if count), None)


def emails_queue_due() -> int:
    """Queue the deliveries whose task was lost (a worker died, the broker was down)."""
    due = list(
        EmailMessage.objects.filter(
            status=EmailMessage.Status.QUEUED,
            next_attempt_at__lte=timezone.now() - timedelta(minutes=5),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    email_deliver_queue(message_ids=due)
    return len(due)
