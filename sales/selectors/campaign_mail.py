"""Reads of campaign mailings: who can see them (whoever may see their campaign), what they may
be sent from, who will get them, and how each went.

A mailing's figures are counted from its emails (correlated subqueries of one SQL statement, so
a list of mailings with their figures is one query):
- emails: written so far; sent: handed to the mail server (bounced ones included);
- failed: refused for good, or withdrawn when the mailing was cancelled;
- opened, clicked: at least once (tracked mail only); bounced: reported back by the provider;
- unsubscribed: recipients who no longer have marketing consent, withdrawn since they were
  mailed (they had it when their email was written).
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from mail.models import EmailMessage, EmailTemplate, SuppressedAddress
from sales.models import Campaign, CampaignMailing

EMAIL_STATUS = EmailMessage.Status
MAILING_FIGURES = {
    "email_count": Q(),
    "delivered_count": Q(status__in=[EMAIL_STATUS.SENT, EMAIL_STATUS.BOUNCED]),
    "undelivered_count": Q(status=EMAIL_STATUS.FAILED),
    "opened_count": Q(opened_at__isnull=False),
    "clicked_count": Q(clicked_at__isnull=False),
    "bounced_count": Q(status=EMAIL_STATUS.BOUNCED),
    "unsubscribed_count": Q(customer__marketing_consent=False),
}


def campaign_mailing_figure(name: str) -> Coalesce:
    """The count MAILING_FIGURES names, of the emails of the mailing in the outer query."""
    emails = (
        EmailMessage.objects.filter(
            related_type=ContentType.objects.get_for_model(CampaignMailing),
            related_id=OuterRef("pk"),
        )
        .filter(MAILING_FIGURES[name])
        .order_by()
        .values("related_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(emails, output_field=IntegerField()), Value(0))


def campaign_mailings_with_figures(queryset: QuerySet[CampaignMailing]) -> QuerySet:
    """Annotate each mailing with the counts of MAILING_FIGURES (see the module docstring)."""
    return queryset.annotate(**{name: campaign_mailing_figure(name) for name in MAILING_FIGURES})


def campaign_mailing_list_visible(*, user: User) -> QuerySet[CampaignMailing]:
    mailings = records_visible_to(user=user, queryset=CampaignMailing.objects.all())
    return campaign_mailings_with_figures(mailings.select_related("campaign", "started_by"))


def campaign_mailing_get_visible(*, user: User, pk: int) -> CampaignMailing:
    return campaign_mailing_list_visible(user=user).get(pk=pk)


def campaign_mailings_of(*, campaign: Campaign) -> QuerySet[CampaignMailing]:
    """The mailings of a campaign the caller already may see, the latest first."""
    return campaign_mailings_with_figures(
        campaign.mailings.select_related("started_by").order_by("-created_at", "-pk")
    )


def campaign_mail_template_names() -> list[str]:
    """The names of the active templates written for campaigns, each once whatever its
    languages."""
    return list(
        EmailTemplate.objects.filter(context=EmailTemplate.Context.CAMPAIGN, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )


def campaign_mail_template_exists(*, name: str) -> bool:
    return EmailTemplate.objects.filter(
        name=name, context=EmailTemplate.Context.CAMPAIGN, is_active=True
    ).exists()


def campaign_members_reachable() -> Q:
    """The members campaign mail may go to: with marketing consent and an address that has not
    bounced or complained (suppressed addresses are stored in lower case)."""
    suppressed = SuppressedAddress.objects.filter(address=Lower(OuterRef("customer__email")))
    return Q(customer__marketing_consent=True) & ~Q(customer__email="") & ~Exists(suppressed)


def campaign_mail_recipient_count(*, campaign: Campaign) -> int:
    """How many members a mailing started now would write to."""
    return campaign.members.filter(campaign_members_reachable()).count()
