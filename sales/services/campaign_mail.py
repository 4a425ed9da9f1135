"""Sending an email campaign to its members: a mailing, batch by batch in Celery.

`campaign_mailing_start` checks and stores the mailing and queues its first batch;
`campaign_mailing_send_batch` (the task's body) writes the next CRM_EMAIL_CAMPAIGN_BATCH_SIZE
members' emails, each from the template's version in the member's language, hands them to the
mail server over one connection and queues the next batch, until every member is handled.

A batch writes its emails and moves `last_member_id` past its members in one transaction, and
only then sends: a batch run again (a task delivered twice, a worker that died) carries on after
them, and the mail already written is sent by mail's own queue, so nobody gets it twice. The
sent and failed counts are then read back from the mailing's emails, so a rerun never counts one
twice either.

Members without marketing consent, without an address, or with an address that bounced or
complained (SuppressedAddress) are skipped and counted; a member the mailing already wrote to is
never written to again.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import record_is_editable_by
from crm.queueing import BROKER_UNREACHABLE_MESSAGE, task_send_on_commit
from mail import rendering
from mail.models import EmailMessage, EmailTemplate
from mail.services import outbound
from sales.locks import campaign_lock, campaign_mailing_lock
from sales.models import Campaign, CampaignMailing, CampaignMember
from sales.selectors.campaign_mail import (
    campaign_mail_template_exists,
    campaign_mailing_figure,
    campaign_members_reachable,
)

# A mailing in one of these is still on its way: it may be cancelled, and no other mailing of
# its campaign may start meanwhile.
MAILING_RUNNING = (CampaignMailing.Status.QUEUED, CampaignMailing.Status.SENDING)
CAMPAIGN_CLOSED = (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED)


def _require(actor: User | None, permission: str, campaign: Campaign) -> None:
    """`actor` holds the permission and may edit the campaign; None is the system."""
    if actor is None:
        return
    if not actor.has_perm(permission) or not record_is_editable_by(user=actor, record=campaign):
        raise PermissionDenied


def _mailing_fail(mailing_id: int, error: str) -> None:
    CampaignMailing.objects.filter(pk=mailing_id, status__in=MAILING_RUNNING).update(
        status=CampaignMailing.Status.FAILED,
        error=error,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _batch_queue(mailing_id: int) -> None:
    # Imported here: the task module imports this one to call the service.
    from sales.tasks import campaign_mailing_send_batch_task

    task_send_on_commit(
        task=campaign_mailing_send_batch_task,
        args=(mailing_id,),
        on_unsent=lambda: _mailing_fail(mailing_id, str(BROKER_UNREACHABLE_MESSAGE)),
    )


def campaign_mailing_start(
    *, actor: User | None, campaign: Campaign, template_name: str, tracking: bool = True
) -> CampaignMailing:
    """Start sending `campaign`'s email, written from the template `template_name`, to its
    members; the first batch is queued once the mailing is stored."""
    _require(actor, "sales.add_campaignmailing", campaign)
    template_name = (template_name or "").strip()
    with transaction.atomic():
        campaign = campaign_lock(campaign_id=campaign.pk)
        errors: dict[str, str] = {}
        if campaign.type != Campaign.Type.EMAIL:
            errors["campaign"] = _("Only an email campaign can be sent by email.")
        elif campaign.status in CAMPAIGN_CLOSED:
            errors["campaign"] = _("The campaign is %(status)s: it sends nothing any more.") % {
                "status": campaign.get_status_display().lower()
            }
        elif not campaign.members.exists():
            errors["campaign"] = _("The campaign has no members to send to yet.")
        elif campaign.mailings.filter(status__in=MAILING_RUNNING).exists():
            errors["campaign"] = _(
                "This campaign's email is being sent already; wait for it or cancel it first."
            )
        if not template_name:
            errors["template_name"] = _("Choose the template to send.")
        elif not campaign_mail_template_exists(name=template_name):
            errors["template_name"] = _("No active campaign template is called “%(name)s”.") % {
                "name": template_name
            }
        if errors:
            raise ValidationError(errors)
        mailing = CampaignMailing.objects.create(
            campaign=campaign,
            template_name=template_name,
            tracking=bool(tracking),
            total=campaign.members.count(),
            started_by=actor,
            started_at=timezone.now(),
        )
        _batch_queue(mailing.pk)
    return mailing


def campaign_mailing_cancel(*, actor: User | None, mailing: CampaignMailing) -> CampaignMailing:
    """Stop a mailing: no further batch runs, and its emails not yet handed to the mail server
    are withdrawn."""
    _require(actor, "sales.change_campaignmailing", mailing.campaign)
    with transaction.atomic():
        locked = campaign_mailing_lock(mailing_id=mailing.pk)
        if locked is None or locked.status not in MAILING_RUNNING:
            raise ValidationError(
                {"status": _("Only a mailing still being sent can be cancelled.")}
            )
        now = timezone.now()
        locked.status = CampaignMailing.Status.CANCELLED
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at", "updated_at"])
        _mailing_emails(locked).filter(status=EmailMessage.Status.QUEUED).update(
            status=EmailMessage.Status.FAILED,
            next_attempt_at=None,
            last_error=_("The campaign mailing was cancelled."),
            updated_at=now,
        )
        _counts_update(locked.pk)
    locked.refresh_from_db()
    return locked


def _mailing_emails(mailing: CampaignMailing):
    return EmailMessage.objects.filter(
        related_type=ContentType.objects.get_for_model(CampaignMailing), related_id=mailing.pk
    )


def _counts_update(mailing_id: int) -> None:
    """Set the sent and failed counts from the mailing's emails, in one UPDATE."""
    CampaignMailing.objects.filter(pk=mailing_id).update(
        sent_count=campaign_mailing_figure("delivered_count"),
        failed_count=campaign_mailing_figure("undelivered_count"),
        updated_at=timezone.now(),
    )


def _members_sorted(
    mailing: CampaignMailing, members: list[CampaignMember]
) -> tuple[list[CampaignMember], int]:
    """(the members to write to, how many are skipped). Members this mailing already wrote to
    are neither: they were handled by an earlier run."""
    mailed = set(
        _mailing_emails(mailing)
        .filter(customer_id__in=[m.customer_id for m in members])
        .values_list("customer_id", flat=True)
    )
    recipients, skipped = [], 0
    for member in members:
        if member.customer_id in mailed:
            continue
        if member.reachable:
            recipients.append(member)
        else:
            skipped += 1
    return recipients, skipped


def _with_unsubscribe_link(template: EmailTemplate, body: str, url: str) -> str:
    """Every campaign email says how to stop them; a template that does not place the link
    itself gets it at the end, in its own language."""
    if "unsubscribe_url" in rendering.PLACEHOLDER_RE.findall(template.body):
        return body
    with translation.override(template.language):
        footer = _("To stop receiving these emails: %(url)s") % {"url": url}
    return f"{body.rstrip()}\n\n-- \n{footer}"


def _emails_write(
    mailing: CampaignMailing, members: list[CampaignMember]
) -> list[EmailMessage] | None:
    """The members' emails, stored queued; None when the template has no active version left."""
    templates: dict[str, EmailTemplate | None] = {}
    chosen = []
    for member in members:
        language = rendering.language_for(member.customer)
        if language not in templates:
            templates[language] = rendering.template_version(
                name=mailing.template_name, language=language
            )
        if templates[language] is None:
            return None
        chosen.append((member, templates[language]))
    campaign = mailing.campaign
    tracking = mailing.tracking and settings.CRM_EMAIL_TRACKING
    now = timezone.now()
    emails = EmailMessage.objects.bulk_create(
        [
            EmailMessage(
                direction=EmailMessage.Direction.OUTBOUND,
                status=EmailMessage.Status.QUEUED,
                kind=EmailMessage.Kind.CAMPAIGN,
                message_id=outbound.message_id_new(),
                from_address=outbound.sender_address_for(None),
                from_name=campaign.name[:200],
                to_addresses=[member.customer.email],
                customer=member.customer,
                related_type=ContentType.objects.get_for_model(CampaignMailing),
                related_id=mailing.pk,
                template=template,
                sent_by=mailing.started_by,
                source="campaign",
                tracking=tracking,
                next_attempt_at=now,
            )
            for member, template in chosen
        ]
    )
    # The unsubscribe link is signed with the email's id, so the text is written once the rows
    # have their ids.
    for email, (member, template) in zip(emails, chosen, strict=True):
        url = outbound.unsubscribe_url(email)
        subject, body = rendering.template_render(
            template=template,
            customer=member.customer,
            sender=mailing.started_by,
            extra={"campaign.name": campaign.name, "unsubscribe_url": url},
        )
        email.subject = subject[:300]
        email.body_text = _with_unsubscribe_link(template, body, url)
    EmailMessage.objects.bulk_update(emails, ["subject", "body_text"])
    return emails


def campaign_mailing_send_batch(*, mailing_id: int) -> bool:
    """Send the mailing's next batch; True when another batch was queued after it. A mailing
    that is cancelled, finished or gone is left alone."""
    batch_size = settings.CRM_EMAIL_CAMPAIGN_BATCH_SIZE
    with transaction.atomic():
        mailing = campaign_mailing_lock(mailing_id=mailing_id)
        if mailing is None or mailing.status not in MAILING_RUNNING:
            return False
        members = list(
            CampaignMember.objects.filter(
                campaign_id=mailing.campaign_id, pk__gt=mailing.last_member_id
            )
            .select_related("customer__company")
            .annotate(reachable=ExpressionWrapper(campaign_members_reachable(), BooleanField()))
            .order_by("pk")[:batch_size]
        )
        recipients, skipped = _members_sorted(mailing, members)
        emails = _emails_write(mailing, recipients)
        if emails is None:
            _mailing_fail(
                mailing_id,
                _("The template “%(name)s” has no active version any more.")
                % {"name": mailing.template_name},
            )
            return False
        if members:
            mailing.last_member_id = members[-1].pk
        mailing.skipped_count += skipped
        mailing.status = CampaignMailing.Status.SENDING
        mailing.save(update_fields=["last_member_id", "skipped_count", "status", "updated_at"])
    outbound.emails_deliver(message_ids=[email.pk for email in emails])
    _counts_update(mailing_id)
    if len(members) == batch_size:
        _batch_queue(mailing_id)
        return True
    CampaignMailing.objects.filter(pk=mailing_id, status__in=MAILING_RUNNING).update(
        status=CampaignMailing.Status.SENT, finished_at=timezone.now(), updated_at=timezone.now()
    )
    return False


def campaign_member_engaged(message: EmailMessage, event: str) -> None:
    """Mail's engagement listener: a campaign email opened or clicked moves its member from
    sent to opened (a later response, such as responded, is never moved back)."""
    if event not in ("opened", "clicked") or message.kind != EmailMessage.Kind.CAMPAIGN:
        return
    if message.customer_id is None or message.related_id is None:
        return
    if message.related_type_id != ContentType.objects.get_for_model(CampaignMailing).pk:
        return
    campaign_id = CampaignMailing.objects.filter(pk=message.related_id).values("campaign_id")
    CampaignMember.objects.filter(
        campaign_id=Subquery(campaign_id),
        customer_id=message.customer_id,
        response=CampaignMember.Response.SENT,
    ).update(response=CampaignMember.Response.OPENED, updated_at=timezone.now())
