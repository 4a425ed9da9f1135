"""Actions that reach outside: an email to the record's customer, a campaign's member list, an
integrator's webhook."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automation.actions import ActionContext, ActionRefused, ActionType, Plan
from automation.naming import object_of
from automation.record_types import RecordKind
from crm.accounts.selectors import user_is_admin
from crm.webhooks.models import WebhookSubscription
from crm.webhooks.services import webhook_record_send, webhook_record_send_refusal
from mail.models import EmailTemplate
from mail.rendering import language_for, template_render, template_version
from mail.selectors import addresses_suppressed_among, email_addresses_visible
from mail.services.outbound import email_send
from sales.models import Campaign, CampaignMember
from sales.selectors.campaigns import campaign_list_visible
from sales.services.campaigns import campaign_member_add, campaign_member_remove

RULE_EVENT = "rule.triggered"


def _customer(context: ActionContext):
    customer = context.kind.customer_of(context.record)
    if customer is None:
        raise ActionRefused(_("The record has no customer."))
    return customer


# Email -------------------------------------------------------------------------------------------


def _template_contexts(kind: RecordKind) -> list[str]:
    return [EmailTemplate.Context.CUSTOMER] + (
        [kind.key] if kind.key in EmailTemplate.Context.values else []
    )


def _email_clean(*, params: dict, kind: RecordKind, user) -> dict:
    name = str(params.get("template") or "").strip()
    if not EmailTemplate.objects.filter(
        name=name, is_active=True, context__in=_template_contexts(kind)
    ).exists():
        raise ValidationError({"template": [_("Choose one of the email templates.")]})
    return {"template": name}


def _email_describe(params: dict, kind: RecordKind) -> str:
    return _("Email the customer the template “%(template)s”") % {
        "template": params.get("template")
    }


def _email_plan(context: ActionContext, params: dict) -> Plan:
    customer = _customer(context)
    if not email_addresses_visible(user=context.actor):
        raise ActionRefused(_("The rule's owner may not see customers' email addresses."))
    if not customer.email:
        raise ActionRefused(_("%(name)s has no email address.") % {"name": customer.name})
    if addresses_suppressed_among(addresses=[customer.email]):
        raise ActionRefused(
            _("Mail to %(address)s is suppressed (it bounced or they unsubscribed).")
            % {"address": customer.email}
        )
    template = template_version(name=params["template"], language=language_for(customer))
    if template is None:
        raise ActionRefused(
            _("The template “%(template)s” no longer exists or is switched off.")
            % {"template": params["template"]}
        )
    thread_record = context.record if context.kind.key != "customer" else None
    subject, body = template_render(
        template=template, customer=customer, sender=context.actor, record=thread_record
    )
    return Plan(
        summary=_("Email %(address)s “%(subject)s”")
        % {"address": customer.email, "subject": subject},
        perform=lambda: email_send(
            actor=context.actor,
            to=customer.email,
            subject=subject,
            body=body,
            customer=customer,
            record=thread_record,
            template=template,
        ),
    )


SEND_EMAIL = ActionType(
    key="send_email",
    label=gettext_lazy("Send an email from a template"),
    params_clean=_email_clean,
    describe=_email_describe,
    plan=_email_plan,
)


# Campaigns ---------------------------------------------------------------------------------------


def _campaign_clean(*, params: dict, kind: RecordKind, user) -> dict:
    campaign = str(params.get("campaign") or "").strip()
    campaigns = Campaign.objects.all() if user is None else campaign_list_visible(user=user)
    if not campaign.isdigit() or not campaigns.filter(pk=int(campaign)).exists():
        raise ValidationError({"campaign": [_("Choose one of your campaigns.")]})
    return {"campaign": int(campaign)}


def _campaign_name(params: dict) -> str:
    campaign = object_of(Campaign, params.get("campaign"))
    return campaign.name if campaign else _("a campaign that no longer exists")


def _campaign(params: dict) -> Campaign:
    campaign = Campaign.objects.filter(pk=params.get("campaign")).first()
    if campaign is None:
        raise ActionRefused(_("The campaign chosen no longer exists."))
    return campaign


def _campaign_add_plan(context: ActionContext, params: dict) -> Plan:
    customer, campaign = _customer(context), _campaign(params)
    summary = _("Add %(customer)s to the campaign %(campaign)s") % {
        "customer": customer.name,
        "campaign": campaign.name,
    }
    if CampaignMember.objects.filter(campaign=campaign, customer=customer).exists():
        return Plan(summary=_("%(action)s: already a member") % {"action": summary})
    return Plan(
        summary=summary,
        perform=lambda: campaign_member_add(
            actor=context.actor, campaign=campaign, customer=customer
        ),
    )


def _campaign_remove_plan(context: ActionContext, params: dict) -> Plan:
    customer, campaign = _customer(context), _campaign(params)
    summary = _("Remove %(customer)s from the campaign %(campaign)s") % {
        "customer": customer.name,
        "campaign": campaign.name,
    }
    member = CampaignMember.objects.filter(campaign=campaign, customer=customer).first()
    if member is None:
        return Plan(summary=_("%(action)s: not a member") % {"action": summary})
    return Plan(
        summary=summary,
        perform=lambda: campaign_member_remove(actor=context.actor, member=member),
    )


CAMPAIGN_ADD = ActionType(
    key="campaign_add",
    label=gettext_lazy("Add the customer to a campaign"),
    params_clean=_campaign_clean,
    describe=lambda params, kind: (
        _("Add the customer to the campaign %(campaign)s") % {"campaign": _campaign_name(params)}
    ),
    plan=_campaign_add_plan,
)
CAMPAIGN_REMOVE = ActionType(
    key="campaign_remove",
    label=gettext_lazy("Remove the customer from a campaign"),
    params_clean=_campaign_clean,
    describe=lambda params, kind: (
        _("Remove the customer from the campaign %(campaign)s")
        % {"campaign": _campaign_name(params)}
    ),
    plan=_campaign_remove_plan,
)


# Webhooks ----------------------------------------------------------------------------------------


def webhooks_usable_by(user):
    """The webhooks a rule of `user` may call: their own (an admin: any)."""
    subscriptions = WebhookSubscription.objects.select_related("owner").order_by("name")
    if user is None or user_is_admin(user):
        return subscriptions
    return subscriptions.filter(owner=user)


def _webhook_clean(*, params: dict, kind: RecordKind, user) -> dict:
    subscription = str(params.get("subscription") or "").strip()
    if (
        not subscription.isdigit()
        or not webhooks_usable_by(user).filter(pk=int(subscription)).exists()
    ):
        raise ValidationError({"subscription": [_("Choose one of your webhooks.")]})
    return {"subscription": int(subscription)}


def _webhook_describe(params: dict, kind: RecordKind) -> str:
    subscription = object_of(WebhookSubscription, params.get("subscription"))
    return _("Call the webhook %(name)s") % {
        "name": subscription.name if subscription else _("that no longer exists")
    }


def _webhook_plan(context: ActionContext, params: dict) -> Plan:
    subscription = (
        WebhookSubscription.objects.select_related("owner")
        .filter(pk=params.get("subscription"))
        .first()
    )
    if subscription is None:
        raise ActionRefused(_("The webhook chosen no longer exists."))
    refusal = webhook_record_send_refusal(subscription=subscription, record=context.record)
    if refusal:
        raise ActionRefused(refusal)
    return Plan(
        summary=_("Send this %(kind)s to %(url)s")
        % {"kind": context.kind.label, "url": subscription.target_url},
        perform=lambda: webhook_record_send(
            subscription=subscription,
            event=RULE_EVENT,
            record=context.record,
            extra={"rule": {"id": context.rule.pk, "name": context.rule.name}},
        ),
    )


CALL_WEBHOOK = ActionType(
    key="call_webhook",
    label=gettext_lazy("Call a webhook"),
    params_clean=_webhook_clean,
    describe=_webhook_describe,
    plan=_webhook_plan,
)
