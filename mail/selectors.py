"""Reads of email: the messages a user may see (through their customer), their attachments,
templates, signatures, and the records mail is written from."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.parser import BytesHeaderParser

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from crm.accounts.field_security import field_access
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer
from mail import registry
from mail.models import (
    EmailAttachment,
    EmailMessage,
    EmailSignature,
    EmailTemplate,
    InboundSetAside,
    Mailbox,
    SuppressedAddress,
)


def email_addresses_visible(*, user: User) -> bool:
    """Whether `user` sees the addresses mail was sent from and to: they are customers' emails,
    so they follow the field rule on the customer's email, on every surface that shows mail."""
    return field_access(user=user, model=Customer).can_see("email")


def email_list_visible(
    *,
    user: User,
    direction: str = "",
    status: str = "",
    search: str = "",
    customer_id: int | None = None,
) -> QuerySet[EmailMessage]:
    """The emails `user` may see: those of the customers they see. Newest first."""
    emails = records_visible_to(user=user, queryset=EmailMessage.objects.all())
    if customer_id is not None:
        emails = emails.filter(customer_id=customer_id)
    if direction:
        emails = emails.filter(direction=direction)
    if status:
        emails = emails.filter(status=status)
    search = search.strip()
    if search:
        condition = Q(subject__icontains=search)
        # A hidden address is not searched either: a match would reveal it.
        if email_addresses_visible(user=user):
            condition |= Q(from_address__icontains=search) | Q(to_addresses__icontains=search)
        emails = emails.filter(condition)
    return emails.select_related("customer", "sent_by").order_by("-created_at", "-id")


def email_get_visible(*, user: User, pk: int) -> EmailMessage:
    emails = records_visible_to(user=user, queryset=EmailMessage.objects.all())
    return emails.select_related("customer", "sent_by", "template", "mailbox", "related_type").get(
        pk=pk
    )


def email_attachments(*, message: EmailMessage) -> list[EmailAttachment]:
    return list(message.attachments.order_by("id"))


def email_attachment_get_visible(*, user: User, pk: int) -> EmailAttachment:
    attachments = records_visible_to(user=user, queryset=EmailAttachment.objects.all())
    return attachments.select_related("message").get(pk=pk)


def customer_emails_latest(*, user: User, customer: Customer, limit: int) -> list[EmailMessage]:
    return list(email_list_visible(user=user, customer_id=customer.pk)[:limit])


def email_template_list(*, context: str = "", active_only: bool = False) -> QuerySet:
    """Templates are shared by everyone who may use them: no per-record visibility."""
    templates = EmailTemplate.objects.select_related("owner")
    if context:
        templates = templates.filter(context=context)
    if active_only:
        templates = templates.filter(is_active=True)
    return templates.order_by("name", "language")


def email_template_names(*, context: str) -> list[str]:
    return list(
        EmailTemplate.objects.filter(context=context, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )


def email_template_get(*, pk: int) -> EmailTemplate:
    return EmailTemplate.objects.select_related("owner").get(pk=pk)


def signature_get(*, user: User) -> EmailSignature | None:
    return EmailSignature.objects.filter(user=user).first()


def addresses_suppressed_among(*, addresses: list[str]) -> list[SuppressedAddress]:
    """The suppressions of any of `addresses`, whatever their case (the list keeps addresses
    in lower case)."""
    wanted = {address.strip().lower() for address in addresses if address and address.strip()}
    if not wanted:
        return []
    return list(SuppressedAddress.objects.filter(address__in=wanted).order_by("address"))


def thread_model_for(context: str) -> type[Model] | None:
    """The model of the records mail of `context` (deal, ticket) is sent from."""
    kind = next((kind for kind in registry.thread_kinds() if kind.context == context), None)
    return apps.get_model(kind.model) if kind is not None else None


def mail_record_get_visible(*, user: User, context: str, pk: int) -> Model:
    """The deal or ticket `pk` when `user` sees it; DoesNotExist otherwise (hidden or absent
    alike). Generic through the thread kinds, since sales and service build on mail."""
    model = thread_model_for(context)
    if model is None:
        raise ObjectDoesNotExist(context)
    return records_visible_to(user=user, queryset=model._default_manager.all()).get(pk=pk)


def mail_record_customer(*, record: Model) -> Customer | None:
    kind = registry.thread_kind_for_model(record._meta.label_lower)
    return kind.customer_of(record) if kind is not None else None


def template_preview_sample(
    *, user: User, context: str, customer_id: int | None = None
) -> tuple[Customer | None, Model | None]:
    """A customer `user` sees to preview a template with (the one asked for, else the newest),
    and for a deal or ticket template that customer's latest such record, when there is one."""
    customers = records_visible_to(user=user, queryset=Customer.objects.all()).select_related(
        "company"
    )
    if customer_id is not None:
        customers = customers.filter(pk=customer_id)
    customer = customers.order_by("-pk").first()
    model = thread_model_for(context)
    if customer is None or model is None:
        return customer, None
    records = records_visible_to(user=user, queryset=model._default_manager.all())
    return customer, records.filter(customer=customer).order_by("-pk").first()


def mailbox_list(*, user: User) -> QuerySet[Mailbox]:
    """Mailboxes are for administrators alone (their passwords, everyone's incoming mail)."""
    if not user.has_perm("mail.view_mailbox"):
        return Mailbox.objects.none()
    return Mailbox.objects.select_related("team").order_by("name", "pk")


def mailbox_get(*, user: User, pk: int) -> Mailbox:
    return mailbox_list(user=user).get(pk=pk)


def mailbox_for_addresses(addresses: Iterable[str | None]) -> Mailbox | None:
    """The active mailbox whose address is among `addresses` (the recipients), whatever the
    case; the first in the order given when several are."""
    wanted = [address.strip().lower() for address in addresses if address and address.strip()]
    if not wanted:
        return None
    condition = Q(pk__in=[])
    for address in set(wanted):
        condition |= Q(address__iexact=address)
    found = {
        mailbox.address.lower(): mailbox
        for mailbox in Mailbox.objects.filter(condition, is_active=True)
    }
    return next((found[address] for address in wanted if address in found), None)


def set_aside_list(*, user: User, open_only: bool = False) -> QuerySet[InboundSetAside]:
    """Set-aside mail, the messages still to deal with first, newest first within each."""
    if not user.has_perm("mail.view_inboundsetaside"):
        return InboundSetAside.objects.none()
    items = InboundSetAside.objects.select_related("mailbox", "resolved_by")
    if open_only:
        items = items.filter(resolved_at__isnull=True)
    return items.order_by(F("resolved_at").asc(nulls_first=True), "-received_at", "-id")


def set_aside_get(*, user: User, pk: int) -> InboundSetAside:
    return set_aside_list(user=user).get(pk=pk)


def set_aside_open_count(*, user: User) -> int:
    return set_aside_list(user=user, open_only=True).count()


def set_aside_headers(*, item: InboundSetAside, limit: int = 40) -> list[tuple[str, str]]:
    """The first headers of a set-aside message, read from its raw bytes, for a look at what
    it is without downloading it."""
    with item.raw.open("rb") as handle:
        head = handle.read(64 * 1024)
    try:
        headers = BytesHeaderParser(policy=email_policy.compat32).parsebytes(head)
    except Exception:  # noqa: BLE001 - the raw file is there to download whatever it holds
        return []
    return [(name, " ".join(str(value).split())[:500]) for name, value in headers.items()[:limit]]


def suppressed_address_list(*, user: User, search: str = "") -> QuerySet[SuppressedAddress]:
    """Suppressed addresses are for administrators alone, who see them all. Newest first."""
    if not user.has_perm("mail.view_suppressedaddress"):
        return SuppressedAddress.objects.none()
    suppressed = SuppressedAddress.objects.all()
    search = search.strip()
    if search:
        suppressed = suppressed.filter(
            Q(address__icontains=search) | Q(detail__icontains=search) | Q(provider__iexact=search)
        )
    return suppressed.order_by("-created_at", "-id")


def suppressed_address_get(*, user: User, pk: int) -> SuppressedAddress:
    return suppressed_address_list(user=user).get(pk=pk)


def customer_for_unsubscribe(*, customer_id: int) -> Customer | None:
    """The customer a signed unsubscribe link names: the signature is the authority, so no
    visibility rule applies (the visitor is the customer, signed in or not)."""
    return Customer.objects.filter(pk=customer_id).only("pk", "email").first()


# Marks the history entries of a consent mail withdrew, so the profile can say when.
CONSENT_WITHDRAWN_REASON = "mail: consent withdrawn"


@dataclass(frozen=True)
class MailStanding:
    """Why mail may not reach a customer: their address is suppressed, or they withdrew their
    marketing consent through mail (an unsubscribe, a complaint)."""

    suppressed_reason: str = ""
    suppressed_at: datetime | None = None
    suppressed_detail: str = ""
    consent_withdrawn_at: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.suppressed_reason or self.consent_withdrawn_at)


def customer_mail_standing(*, customer: Customer) -> MailStanding:
    """The customer's MailStanding, read in one query."""
    suppression = SuppressedAddress.objects.filter(address=Lower(OuterRef("email")))
    withdrawals = (
        Customer.history.model.objects.filter(
            id=OuterRef("pk"), history_change_reason=CONSENT_WITHDRAWN_REASON
        )
        .order_by("-history_date")
        .values("history_date")[:1]
    )
    row = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            suppressed_reason=Subquery(suppression.values("reason")[:1]),
            suppressed_at=Subquery(suppression.values("updated_at")[:1]),
            suppressed_detail=Subquery(suppression.values("detail")[:1]),
            consent_withdrawn_at=Subquery(withdrawals),
        )
        .values(
            "marketing_consent",
            "suppressed_reason",
            "suppressed_at",
            "suppressed_detail",
            "consent_withdrawn_at",
        )
        .first()
    )
    if row is None:
        return MailStanding()
    return MailStanding(
        suppressed_reason=row["suppressed_reason"] or "",
        suppressed_at=row["suppressed_at"],
        suppressed_detail=row["suppressed_detail"] or "",
        consent_withdrawn_at=None if row["marketing_consent"] else row["consent_withdrawn_at"],
    )
