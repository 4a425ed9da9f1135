"""Receiving mail: the one path IMAP polling and the providers' inbound webhooks take.

`inbound_accept` takes a message's raw bytes and either stores it once (by Message-ID, whichever
way it came in and however often), or sets it aside with the reason, raw bytes kept, when it is
too large, cannot be read, has no sender, or fails on the way in. Nothing received is dropped.

A stored message is matched to the customer with its From address and threaded, in order: by the
signed reply token in its subject, else by In-Reply-To, else by References, to the deal or ticket
whose mail it answers; the record's thread kind takes the reply (a ticket message from the
customer). Mail that belongs to no thread opens one when the mailbox's purpose has an opener (a
ticket, on a support mailbox, for a customer created from the sender if unknown); otherwise it
is an inbound email interaction on the customer's timeline, or, from an unknown sender to a
sales mailbox, kept with no customer for administrators to read.
"""

import email
import hashlib
import html
import logging
import os
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesHeaderParser

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.uploads import upload_check
from crm.webhooks.events import event_publish
from customers.cleaning import CleaningError, normalise_email
from customers.models import Customer, Interaction
from customers.selectors.customers import customer_find_same
from customers.services.customers import customer_create
from customers.services.records import interaction_log
from mail import registry, tokens
from mail.models import EmailAttachment, EmailMessage, InboundSetAside, Mailbox
from mail.services.outbound import MAX_ATTACHMENT_BYTES, email_interaction_link

logger = logging.getLogger(__name__)

STORED = "stored"
DUPLICATE = "duplicate"
SET_ASIDE = "set_aside"

# Message-IDs are short in practice; a longer one is kept as its hash so it still de-duplicates.
MESSAGE_ID_MAX = 255
# How many References are followed back, newest first.
REFERENCES_FOLLOWED = 20


@dataclass(frozen=True)
class InboundOutcome:
    status: str
    message: EmailMessage | None = None
    set_aside: InboundSetAside | None = None


class _Unreadable(Exception):
    """The message cannot be taken in as it is: set it aside with `reason`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class _Parsed:
    mail: registry.InboundMail
    refused: tuple[dict[str, str], ...]


def _message_id_of(value: str, raw: bytes) -> str:
    value = " ".join((value or "").split())
    if not value:
        # Mail without a Message-ID is named by its bytes, so fetching it again is a duplicate.
        return f"<{hashlib.sha256(raw).hexdigest()}@inbound>"
    if len(value) > MESSAGE_ID_MAX:
        return f"<{hashlib.sha256(value.encode()).hexdigest()}@long-id>"
    return value


def _message_ids_in(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _header_text(message, name: str) -> str:
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _addresses(message, name: str) -> tuple[str, ...]:
    header = message.get(name)
    if header is None:
        return ()
    return tuple(
        address.addr_spec for address in getattr(header, "addresses", ()) if address.addr_spec
    )


_BLOCK_END = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", re.IGNORECASE)
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body: tags gone, line breaks kept, entities decoded. The HTML
    itself is stored but never rendered."""
    text = _INVISIBLE.sub("", markup)
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body_text(message: MimeMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _attachment_bytes(part: MimeMessage) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        return inner.as_bytes() if hasattr(inner, "as_bytes") else b""
    return part.get_payload(decode=True) or b""


def _attachments(
    message: MimeMessage,
) -> tuple[tuple[registry.InboundAttachment, ...], tuple[dict[str, str], ...]]:
    """(accepted, refused): each attachment goes through the checks every upload passes."""
    accepted, refused = [], []
    for number, part in enumerate(message.iter_attachments(), start=1):
        name = os.path.basename(part.get_filename() or "") or _("attachment-%(number)d") % {
            "number": number
        }
        content = _attachment_bytes(part)
        upload = SimpleUploadedFile(name[:255], content, part.get_content_type())
        try:
            content_type = upload_check(upload, max_bytes=MAX_ATTACHMENT_BYTES)
        except ValidationError as exc:
            refused.append({"name": name[:255], "reason": " ".join(exc.messages)})
            continue
        accepted.append(registry.InboundAttachment(name[:255], content, content_type))
    return tuple(accepted), tuple(refused)


def _parse(raw: bytes) -> _Parsed:
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
        if not message.keys():
            raise _Unreadable(InboundSetAside.Reason.MALFORMED, _("The message has no headers."))
        from_header = message.get("From")
        senders = getattr(from_header, "addresses", ()) if from_header is not None else ()
        sender = next((address for address in senders if address.addr_spec), None)
        if sender is None or "@" not in sender.addr_spec:
            raise _Unreadable(
                InboundSetAside.Reason.NO_SENDER, _("The message has no From address to read.")
            )
        text = _body_text(message, "plain")
        markup = _body_text(message, "html")
        if not text.strip() and markup:
            text = html_to_text(markup)
        accepted, refused = _attachments(message)
        references = tuple(_message_ids_in(_header_text(message, "References")))
        in_reply_to = next(iter(_message_ids_in(_header_text(message, "In-Reply-To"))), "")
        mail = registry.InboundMail(
            message_id=_message_id_of(_header_text(message, "Message-ID"), raw),
            from_address=sender.addr_spec,
            from_name=str(sender.display_name or "")[:200],
            to_addresses=_addresses(message, "To"),
            cc_addresses=_addresses(message, "Cc"),
            subject=_header_text(message, "Subject")[:300],
            text=text.strip(),
            html=markup,
            in_reply_to=in_reply_to[:MESSAGE_ID_MAX],
            references=references,
            date=_date_of(message),
            attachments=accepted,
        )
    except _Unreadable:
        raise
    # Whatever the parser trips on, the mail is kept.
    except Exception as exc:
        raise _Unreadable(InboundSetAside.Reason.MALFORMED, f"{type(exc).__name__}: {exc}") from exc
    return _Parsed(mail=mail, refused=refused)


def _date_of(message: MimeMessage):
    header = message.get("Date")
    return getattr(header, "datetime", None) if header is not None else None


def _headers_summary(raw: bytes) -> dict[str, str]:
    """Message-ID, From and Subject read from the headers alone, for a message that is not
    parsed whole (too large, or unreadable)."""
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        return {
            "message_id": _header_text(headers, "Message-ID")[:MESSAGE_ID_MAX],
            "from_address": _header_text(headers, "From")[:320],
            "subject": _header_text(headers, "Subject")[:300],
        }
    except Exception:  # noqa: BLE001 - a summary is a courtesy; the raw bytes are kept
        return {"message_id": "", "from_address": "", "subject": ""}


def _set_aside(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None,
    reason: str,
    detail: str,
    item: InboundSetAside | None,
) -> InboundOutcome:
    """Keep the message with the reason; a retried item is updated rather than kept twice."""
    summary = _headers_summary(raw)
    if item is not None:
        item.reason = reason
        item.detail = detail
        item.save(update_fields=["reason", "detail"])
        return InboundOutcome(status=SET_ASIDE, set_aside=item)
    item = InboundSetAside(
        mailbox=mailbox,
        source=source[:40],
        reason=reason,
        detail=detail,
        size=len(raw),
        **summary,
    )
    item.raw.save("message.eml", ContentFile(raw), save=False)
    item.save()
    logger.warning("inbound mail from %s set aside (%s): %s", source, reason, detail)
    return InboundOutcome(status=SET_ASIDE, set_aside=item)


def _record_by_token(subject: str):
    found = tokens.reply_token_read(subject)
    if found is None:
        return None
    prefix, pk = found
    kind = registry.thread_kind_for_prefix(prefix)
    if kind is None:
        return None
    return apps.get_model(kind.model)._default_manager.filter(pk=pk).first()


def _record_by_headers(mail: registry.InboundMail):
    """The record of the stored mail this answers: In-Reply-To first, then References from the
    newest back."""
    candidates = [mail.in_reply_to] if mail.in_reply_to else []
    candidates += list(reversed(mail.references[-REFERENCES_FOLLOWED:]))
    if not candidates:
        return None
    known = {
        row["message_id"]: row
        for row in EmailMessage.objects.filter(
            message_id__in=candidates, related_type__isnull=False, related_id__isnull=False
        ).values("message_id", "related_type", "related_id")
    }
    for message_id in candidates:
        row = known.get(message_id)
        if row is None:
            continue
        model = ContentType.objects.get_for_id(row["related_type"]).model_class()
        if model is None or registry.thread_kind_for_model(model._meta.label_lower) is None:
            continue
        record = model._default_manager.filter(pk=row["related_id"]).first()
        if record is not None:
            return record
    return None


def _customer_for(
    address: str, *, mailbox: Mailbox | None, name: str, create: bool
) -> Customer | None:
    try:
        address = normalise_email(address)
    except CleaningError:
        return None
    customer = customer_find_same(email=address)
    if customer is None and create:
        values = {"team": mailbox.team} if mailbox is not None and mailbox.team_id else {}
        customer = customer_create(
            actor=None,
            name=(name or address.partition("@")[0])[:200],
            email=address,
            status=Customer.Status.LEAD,
            source=Customer.Source.OTHER,
            **values,
        )
    return customer


def _interaction_log(mail: registry.InboundMail, customer: Customer, record=None) -> Interaction:
    return interaction_log(
        actor=None,
        customer=customer,
        channel=Interaction.Channel.EMAIL,
        direction=Interaction.Direction.INBOUND,
        subject=(mail.subject or "")[:200],
        summary=mail.text,
        related_type=ContentType.objects.get_for_model(record) if record is not None else None,
        related_id=record.pk if record is not None else None,
    )


def _store(parsed: _Parsed, *, raw: bytes, source: str, mailbox: Mailbox | None) -> EmailMessage:
    mail = parsed.mail
    # Inserted first, so a concurrent copy of the same mail fails here, before anything else
    # is written for it.
    message = EmailMessage.objects.create(
        direction=EmailMessage.Direction.INBOUND,
        status=EmailMessage.Status.RECEIVED,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        references=" ".join(mail.references),
        from_address=mail.from_address[:320],
        from_name=mail.from_name,
        to_addresses=list(mail.to_addresses),
        cc_addresses=list(mail.cc_addresses),
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        mailbox=mailbox,
        source=source[:40],
        received_at=timezone.now(),
        refused_attachments=list(parsed.refused),
    )
    record = _record_by_token(mail.subject) or _record_by_headers(mail)
    opener = (
        registry.thread_opener_for(mailbox.purpose)
        if record is None and mailbox is not None and mailbox.is_active
        else None
    )
    customer = _customer_for(
        mail.from_address, mailbox=mailbox, name=mail.from_name, create=opener is not None
    )
    interaction = None
    if record is not None:
        kind = registry.thread_kind_for_model(record._meta.label_lower)
        # A reply from an address the CRM does not know (a colleague of the customer) still
        # belongs to the record's customer.
        customer = customer or kind.customer_of(record)
        if kind.take_reply is not None:
            interaction = kind.take_reply(record, mail, customer)
        if interaction is None and customer is not None:
            interaction = _interaction_log(mail, customer, record)
    elif opener is not None and customer is not None:
        record, interaction = opener(mailbox, mail, customer)
    elif customer is not None:
        interaction = _interaction_log(mail, customer)
    message.customer = customer
    message.interaction = interaction
    if record is not None:
        message.related_type = ContentType.objects.get_for_model(record)
        message.related_id = record.pk
    message.save(update_fields=["customer", "interaction", "related_type", "related_id"])
    email_interaction_link(message=message)
    for attachment in mail.attachments:
        EmailAttachment.objects.create(
            message=message,
            file=ContentFile(attachment.content, name=attachment.name),
            name=attachment.name,
            size=len(attachment.content),
            content_type=attachment.content_type[:100],
        )
    event_publish(event="email.received", record=message)
    return message


def _accept(
    *, raw: bytes, source: str, mailbox: Mailbox | None, item: InboundSetAside | None
) -> InboundOutcome:
    def set_aside(reason: str, detail: str) -> InboundOutcome:
        return _set_aside(
            raw=raw, source=source, mailbox=mailbox, reason=reason, detail=detail, item=item
        )

    limit = settings.CRM_EMAIL_MAX_INBOUND_BYTES
    if len(raw) > limit:
        return set_aside(
            InboundSetAside.Reason.OVERSIZED,
            _("The message is %(size)d bytes; at most %(limit)d are taken in.")
            % {"size": len(raw), "limit": limit},
        )
    try:
        parsed = _parse(raw)
    except _Unreadable as exc:
        return set_aside(exc.reason, exc.detail)
    if EmailMessage.objects.filter(message_id=parsed.mail.message_id).exists():
        return InboundOutcome(status=DUPLICATE)
    try:
        with transaction.atomic():
            message = _store(parsed, raw=raw, source=source, mailbox=mailbox)
    except IntegrityError as exc:
        if EmailMessage.objects.filter(message_id=parsed.mail.message_id).exists():
            return InboundOutcome(status=DUPLICATE)
        return set_aside(InboundSetAside.Reason.FAILED, f"{type(exc).__name__}: {exc}")
    # Any failure on the way in sets the mail aside, so nothing received is lost.
    except Exception as exc:
        logger.exception("inbound mail %s could not be taken in", parsed.mail.message_id)
        detail = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return set_aside(InboundSetAside.Reason.FAILED, f"{type(exc).__name__}: {detail}")
    return InboundOutcome(status=STORED, message=message)


def inbound_accept(*, raw: bytes, source: str, mailbox: Mailbox | None = None) -> InboundOutcome:
    """Take in one received message (see the module's docstring); never raises for what the
    message holds, only when the database itself fails."""
    return _accept(raw=raw, source=source, mailbox=mailbox, item=None)


def _require_admin(actor: User) -> None:
    if not actor.has_perm("mail.change_inboundsetaside"):
        raise PermissionDenied


def _resolve(item: InboundSetAside, actor: User) -> None:
    item.resolved_at = timezone.now()
    item.resolved_by = actor
    item.save(update_fields=["resolved_at", "resolved_by"])


def inbound_set_aside_retry(*, actor: User, item: InboundSetAside) -> InboundOutcome:
    """Take a set-aside message in again (after the limit was raised, or the failure fixed): it
    is resolved once stored, or once found already stored; otherwise its reason is updated."""
    _require_admin(actor)
    if item.resolved_at is not None:
        raise ValidationError(_("This message has already been dealt with."))
    with item.raw.open("rb") as handle:
        raw = handle.read()
    outcome = _accept(raw=raw, source=item.source, mailbox=item.mailbox, item=item)
    if outcome.status != SET_ASIDE:
        _resolve(item, actor)
    return outcome


def inbound_set_aside_dismiss(*, actor: User, item: InboundSetAside) -> InboundSetAside:
    """Mark a set-aside message dealt with, without taking it in; its raw bytes are kept."""
    _require_admin(actor)
    if item.resolved_at is None:
        _resolve(item, actor)
    return item
