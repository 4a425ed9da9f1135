"""The actions that reach outside: an email to the record's customer from a template, a
campaign's member list, an integrator's webhook. Each goes through the service a person would
use, as the rule's owner, so consent, suppressions, field rules and visibility all hold."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from automation.models import Rule, RuleRun
from automation.selectors import rule_test
from crm.accounts import roles
from crm.accounts.models import FieldRule
from crm.webhooks.models import WebhookDelivery
from customers.models import Customer
from mail import tokens
from mail.models import EmailMessage, EmailTemplate
from sales.models import Campaign, CampaignMember
from tests.automation.factories import rule_doing, run_on
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailTemplateFactory, SuppressedAddressFactory
from tests.sales.factories import CampaignFactory, CampaignMemberFactory, DealFactory
from tests.webhooks.factories import WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db


def hide_from_managers(model, field_name: str) -> None:
    FieldRule.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        field_name=field_name,
        role=Group.objects.get(name=roles.MANAGER),
        access=FieldRule.Access.HIDDEN,
    )


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(
        owner=rep, team=team, name="Ada Lovelace", email="ada@example.com", language="zh-hans"
    )


@pytest.fixture
def deal(rep, team, customer):
    return DealFactory(owner=rep, team=team, customer=customer, name="Engine order")


@pytest.fixture
def welcome(db):
    """The "Welcome" template in English and in Simplified Chinese."""
    EmailTemplateFactory(
        name="Welcome", language="en", subject="Welcome {{ customer.first_name }}", body="Hi"
    )
    return EmailTemplateFactory(
        name="Welcome",
        language="zh-hans",
        subject="欢迎 {{ customer.name }}",
        body="{{ customer.first_name }}，您好",
    )


# Email -------------------------------------------------------------------------------------------


def test_send_email_queues_the_template_in_the_customers_language(manager, customer, welcome):
    # given a rule sending the "Welcome" template, and a customer who reads Chinese
    rule = rule_doing(manager, "customer", "send_email", {"template": "Welcome"})

    # when it runs
    run = run_on(rule, customer)

    # then the Chinese version is queued to the customer, filled in, sent by the manager
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    message = EmailMessage.objects.get()
    assert message.status == EmailMessage.Status.QUEUED
    assert message.to_addresses == ["ada@example.com"]
    assert message.subject == "欢迎 Ada Lovelace"
    assert message.body_text.startswith("Ada，您好")
    assert (message.customer, message.template, message.sent_by) == (customer, welcome, manager)
    assert "ada@example.com" in run.action_results[0]["detail"]


def test_send_email_from_a_deal_threads_it_under_the_deal(manager, deal, customer):
    # given a deal template, and a rule on deals sending it
    EmailTemplateFactory(
        name="Proposal",
        context=EmailTemplate.Context.DEAL,
        language="zh-hans",
        subject="{{ deal.name }} proposal",
        body="For {{ customer.name }}",
    )
    rule = rule_doing(manager, "deal", "send_email", {"template": "Proposal"})

    # when it runs on the deal
    run = run_on(rule, deal)

    # then the mail is about the deal and carries its reply token, so replies come back to it
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    message = EmailMessage.objects.get()
    assert message.subject == f"Engine order proposal {tokens.reply_token(prefix='D', pk=deal.pk)}"
    assert (message.related_type, message.related_id) == (
        ContentType.objects.get_for_model(deal),
        deal.pk,
    )
    assert message.customer == customer


def test_send_email_offers_only_active_templates_for_the_kind(manager, welcome):
    # given a ticket template
    EmailTemplateFactory(name="Ticket reply", context=EmailTemplate.Context.TICKET)

    # when a customer rule names it, or one that does not exist  # then both are refused
    for name in ("Ticket reply", "Nothing like it"):
        with pytest.raises(ValidationError) as refused:
            rule_doing(manager, "customer", "send_email", {"template": name})
        assert "actions.0.template" in refused.value.message_dict


def _refused(rule: Rule, record, reason: str) -> None:
    """The dry run names `reason`, and the run fails for good with it, sending nothing."""
    tested = rule_test(
        rule=Rule.objects.get(pk=rule.pk), record=type(record).objects.get(pk=record.pk)
    )
    assert reason in tested.actions[0]["problem"]
    run = run_on(rule, record)
    assert run.status == RuleRun.Status.FAILED
    assert run.attempts == 1
    assert reason in run.error
    assert not EmailMessage.objects.exists()


def test_send_email_is_refused_for_a_customer_with_no_address(manager, customer, welcome):
    rule = rule_doing(manager, "customer", "send_email", {"template": "Welcome"})
    Customer.objects.filter(pk=customer.pk).update(email="")
    _refused(rule, customer, "has no email address")


def test_send_email_is_refused_for_a_suppressed_address(manager, customer, welcome):
    rule = rule_doing(manager, "customer", "send_email", {"template": "Welcome"})
    SuppressedAddressFactory(address="ada@example.com")
    _refused(rule, customer, "suppressed")


def test_send_email_is_refused_when_the_owner_may_not_see_addresses(manager, customer, welcome):
    # given the rule, then customers' emails hidden from managers
    rule = rule_doing(manager, "customer", "send_email", {"template": "Welcome"})
    hide_from_managers(Customer, "email")
    _refused(rule, customer, "may not see customers' email addresses")


def test_send_email_is_refused_when_the_template_is_gone(manager, customer, welcome):
    rule = rule_doing(manager, "customer", "send_email", {"template": "Welcome"})
    EmailTemplate.objects.filter(name="Welcome").update(is_active=False)
    _refused(rule, customer, "no longer exists or is switched off")


# Campaigns ---------------------------------------------------------------------------------------


@pytest.fixture
def newsletter(rep, team):
    return CampaignFactory(name="Spring newsletter", type=Campaign.Type.EMAIL, owner=rep, team=team)


def test_campaign_add_needs_consent_for_an_email_campaign(manager, customer, newsletter):
    # given a customer who has not agreed to marketing, and a rule adding to an email campaign
    rule = rule_doing(manager, "customer", "campaign_add", {"campaign": newsletter.pk})

    # when it runs  # then the customer is not added and the run says why
    run = run_on(rule, customer)
    assert run.status == RuleRun.Status.FAILED
    assert "not agreed to receive marketing" in run.error
    assert not CampaignMember.objects.exists()

    # when the customer agrees and the rule runs again  # then they are a member
    Customer.objects.filter(pk=customer.pk).update(
        marketing_consent=True, marketing_consent_at=timezone.now()
    )
    run = run_on(rule, customer)
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert CampaignMember.objects.filter(campaign=newsletter, customer=customer).exists()


def test_campaign_add_takes_anyone_for_an_event_campaign(manager, rep, team, deal, customer):
    # given an event campaign, and a rule on deals adding their customer
    fair = CampaignFactory(type=Campaign.Type.EVENT, owner=rep, team=team)
    rule = rule_doing(manager, "deal", "campaign_add", {"campaign": fair.pk})

    # when it runs on the deal  # then the deal's customer is a member, consent or not
    run = run_on(rule, deal)
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert CampaignMember.objects.filter(campaign=fair, customer=customer).exists()


def test_campaign_add_of_a_member_is_nothing_to_do(manager, customer, newsletter):
    # given the customer is already a member
    member = CampaignMemberFactory(campaign=newsletter, customer=customer)
    rule = rule_doing(manager, "customer", "campaign_add", {"campaign": newsletter.pk})

    # when it is tested and run
    tested = rule_test(rule=rule, record=customer)
    run = run_on(rule, customer)

    # then there was nothing to do: the run succeeded, and the membership is the one there was
    assert tested.actions[0]["nothing_to_do"] is True
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert run.action_results[0]["detail"].endswith("already a member")
    assert list(CampaignMember.objects.all()) == [member]


def test_campaign_remove_takes_the_customer_off(manager, customer, newsletter):
    # given the customer is a member, and a rule removing them
    CampaignMemberFactory(campaign=newsletter, customer=customer)
    rule = rule_doing(manager, "customer", "campaign_remove", {"campaign": newsletter.pk})

    # when it runs twice
    first, second = run_on(rule, customer), run_on(rule, customer)

    # then they are off the list, and the second run found nothing to do
    assert first.status == second.status == RuleRun.Status.SUCCEEDED
    assert not CampaignMember.objects.exists()
    assert second.action_results[0]["detail"].endswith("not a member")


def test_campaign_actions_need_an_existing_campaign(manager):
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "campaign_remove", {"campaign": "999999"})
    assert "actions.0.campaign" in refused.value.message_dict


def test_campaign_actions_offer_only_campaigns_the_rules_author_may_see(
    manager, other_team_rep, other_team
):
    # given another team's campaign
    elsewhere = CampaignFactory(owner=other_team_rep, team=other_team)

    # when the manager names it in a rule, then it is refused as for a campaign that is not there
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "campaign_add", {"campaign": str(elsewhere.pk)})
    assert refused.value.message_dict["actions.0.campaign"] == ["Choose one of your campaigns."]


# Webhooks ----------------------------------------------------------------------------------------


def test_call_webhook_queues_the_record_without_its_owners_hidden_fields(manager, customer):
    # given the manager's webhook, customers' phones hidden from managers, and a rule calling it
    hook = WebhookSubscriptionFactory(owner=manager, name="Warehouse", events=[])
    hide_from_managers(Customer, "phone")
    rule = rule_doing(manager, "customer", "call_webhook", {"subscription": str(hook.pk)})

    # when it runs
    run = run_on(rule, customer)

    # then one delivery of "rule.triggered" carries the customer, without the phone, and the rule
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription, delivery.event) == (hook, "rule.triggered")
    payload = delivery.payload
    assert payload["event"] == "rule.triggered"
    assert payload["data"]["id"] == customer.pk
    assert payload["data"]["name"] == "Ada Lovelace"
    assert "email" in payload["data"]
    assert "phone" not in payload["data"]
    assert payload["changes"]["rule"] == {"id": rule.pk, "name": rule.name}


def test_call_webhook_is_refused_when_switched_off(manager, customer):
    hook = WebhookSubscriptionFactory(owner=manager, name="Warehouse")
    rule = rule_doing(manager, "customer", "call_webhook", {"subscription": hook.pk})
    hook.is_active = False
    hook.save(update_fields=["is_active"])

    run = run_on(rule, customer)

    assert run.status == RuleRun.Status.FAILED
    assert "switched off" in run.error
    assert not WebhookDelivery.objects.exists()


def test_call_webhook_is_refused_when_its_owner_may_not_see_the_record(
    admin_user, other_team_rep, customer
):
    # given an admin's rule calling a webhook of a rep of another team
    hook = WebhookSubscriptionFactory(owner=other_team_rep, name="Their hook")
    rule = rule_doing(admin_user, "customer", "call_webhook", {"subscription": hook.pk})

    # when it is tested and run on a customer that rep may not see
    tested = rule_test(rule=rule, record=customer)
    run = run_on(rule, customer)

    # then it is refused, and nothing is sent
    assert "may not see this record" in tested.actions[0]["problem"]
    assert run.status == RuleRun.Status.FAILED
    assert "may not see this record" in run.error
    assert not WebhookDelivery.objects.exists()


def test_call_webhook_offers_a_non_admin_only_their_own(manager, rep, admin_user):
    # given a webhook of the rep
    theirs = WebhookSubscriptionFactory(owner=rep)

    # when a manager's rule names it  # then it is refused
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "call_webhook", {"subscription": theirs.pk})
    assert "actions.0.subscription" in refused.value.message_dict

    # when an admin's rule names it  # then it is taken
    rule = rule_doing(admin_user, "customer", "call_webhook", {"subscription": theirs.pk})
    assert rule.actions.get().params == {"subscription": theirs.pk}
