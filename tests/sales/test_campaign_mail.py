"""Sending an email campaign to its members: end to end to a real SMTP server (consent,
suppressed addresses, each recipient's own text and language, the unsubscribe link and headers,
tracking), batches and resuming, failures, cancelling, members' responses following opens and
clicks, and who may start one, through the services, the campaign page and the API."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from crm.accounts import roles
from customers.models import Customer
from mail.models import EmailMessage, EmailTemplate
from mail.services.engagement import email_open_record
from mail.tokens import unsubscribe_token_read
from sales.models import Campaign, CampaignMailing, CampaignMember
from sales.services import campaign_mail as services
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailTemplateFactory, SuppressedAddressFactory
from tests.sales.factories import CampaignFactory, CampaignMailingFactory, CampaignMemberFactory

TEMPLATE = "Spring news"
pytestmark = pytest.mark.django_db

UNSUBSCRIBE_PATH = re.compile(r"https://crm\.example\.com(/mail/u/[^/\s]+/)")
UNSUBSCRIBE_TOKEN = re.compile(r"https://crm\.example\.com/mail/u/([^/\s]+)/")


def consenting(**values) -> Customer:
    return CustomerFactory(marketing_consent=True, marketing_consent_at=timezone.now(), **values)


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def marketer_client(client_for, marketer) -> Client:
    return client_for(marketer)


@pytest.fixture
def site(settings):
    settings.CRM_SITE_URL = "https://crm.example.com"
    settings.CRM_EMAIL_TRACKING = True


@pytest.fixture
def templates(db):
    """The campaign template in English and Simplified Chinese."""
    english = EmailTemplateFactory(
        name=TEMPLATE,
        context=EmailTemplate.Context.CAMPAIGN,
        language="en",
        subject="Hello {{ customer.first_name }}",
        body=(
            "Dear {{ customer.name }},\n\nSpring offers from {{ campaign.name }}: "
            "https://shop.example.com/spring\n\nUnsubscribe: {{ unsubscribe_url }}"
        ),
    )
    chinese = EmailTemplateFactory(
        name=TEMPLATE,
        context=EmailTemplate.Context.CAMPAIGN,
        language="zh-hans",
        subject="{{ customer.name }}，您好",
        body="{{ campaign.name }} 春季优惠：https://shop.example.com/spring",
    )
    return english, chinese


def email_campaign(owner, team, *customers) -> Campaign:
    campaign = CampaignFactory(name="Spring 2026", owner=owner, team=team)
    for customer in customers:
        CampaignMemberFactory(campaign=campaign, customer=customer)
    return campaign


def html_of(received) -> str:
    return received.message.get_body(preferencelist=("html",)).get_content()


def text_of(received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def by_recipient(smtp_server) -> dict[str, object]:
    return {received.rcpt_tos[0]: received for received in smtp_server.received}


# End to end -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_campaign_mailing_reaches_consenting_unsuppressed_members_in_their_language(
    smtp_server, eager_tasks, site, templates, marketer, marketer_client, team
):
    # given members with and without consent, one suppressed, one Chinese, one without email
    ann = consenting(name="Ann Lee", email="ann@example.com")
    bo = consenting(name="Bo Wu", email="bo@example.com")
    chen = consenting(name="陈静", email="chen@example.com", language="zh-hans")
    dan = CustomerFactory(name="Dan Ho", email="dan@example.com", marketing_consent=False)
    eve = consenting(name="Eve Ng", email="Eve@Example.com")
    fay = consenting(name="Fay Ma", email="")
    SuppressedAddressFactory(address="eve@example.com")
    campaign = email_campaign(marketer, team, ann, bo, chen, dan, eve, fay)

    # when the marketer sends it from the campaign page, tracked
    response = marketer_client.post(
        f"/sales/campaigns/{campaign.pk}/mailings/start/",
        {"template_name": TEMPLATE, "tracking": "on"},
    )

    # then only the three who may get it do, each with their own name and language
    assert response.status_code == 302
    received = by_recipient(smtp_server)
    assert set(received) == {"ann@example.com", "bo@example.com", "chen@example.com"}
    assert received["ann@example.com"].message["Subject"] == "Hello Ann"
    assert received["bo@example.com"].message["Subject"] == "Hello Bo"
    assert received["chen@example.com"].message["Subject"] == "陈静，您好"
    assert "Dear Ann Lee" in text_of(received["ann@example.com"])
    assert "Spring 2026 春季优惠" in text_of(received["chen@example.com"])
    for mail in received.values():
        # with the one-click unsubscribe headers, and the link in the body
        header = mail.message["List-Unsubscribe"].strip()
        assert re.fullmatch(r"<https://crm\.example\.com/mail/u/[^/]+/>", header)
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # Both are signed with their time, so they may differ by a second: they name the same
        # customer and email.
        body_link = UNSUBSCRIBE_TOKEN.search(text_of(mail))
        assert body_link is not None
        assert unsubscribe_token_read(body_link.group(1)) == unsubscribe_token_read(
            UNSUBSCRIBE_TOKEN.search(header).group(1)
        )
        # and tracked: an open pixel, and the link sent through the click counter
        html = html_of(mail)
        assert "https://crm.example.com/mail/o/" in html
        assert "https://crm.example.com/mail/c/" in html
        assert 'href="https://shop.example.com/spring"' not in html
    # the Chinese template has no unsubscribe placeholder: the link is added at the end
    assert UNSUBSCRIBE_PATH.search(text_of(received["chen@example.com"]).rsplit("--", 1)[1])

    mailing = CampaignMailing.objects.get(campaign=campaign)
    assert mailing.status == CampaignMailing.Status.SENT
    assert (mailing.total, mailing.sent_count, mailing.skipped_count, mailing.failed_count) == (
        6,
        3,
        3,
        0,
    )
    assert mailing.finished_at is not None
    # each email is on its customer's record, as campaign mail from the campaign
    ann_email = EmailMessage.objects.get(customer=ann)
    assert (ann_email.kind, ann_email.status, ann_email.related_record) == (
        EmailMessage.Kind.CAMPAIGN,
        EmailMessage.Status.SENT,
        mailing,
    )
    assert ann_email.template == templates[0]
    assert EmailMessage.objects.get(customer=chen).template == templates[1]


@pytest.mark.django_db(transaction=True)
def test_a_member_who_unsubscribed_through_the_link_is_skipped_by_the_next_mailing(
    smtp_server, eager_tasks, site, templates, marketer, team
):
    # given a first mailing to Ann and Bo
    ann = consenting(name="Ann Lee", email="ann@example.com")
    bo = consenting(name="Bo Wu", email="bo@example.com")
    campaign = email_campaign(marketer, team, ann, bo)
    services.campaign_mailing_start(
        actor=marketer, campaign=campaign, template_name=TEMPLATE, tracking=True
    )
    link = UNSUBSCRIBE_PATH.search(text_of(by_recipient(smtp_server)["ann@example.com"]))

    # when Ann posts the unsubscribe link of her email, with no session
    response = Client().post(link.group(1))

    # then she has withdrawn her consent
    assert response.status_code == 200
    ann.refresh_from_db()
    assert ann.marketing_consent is False

    # and a second mailing, untracked, reaches Bo alone, with neither pixel nor counted links
    smtp_server.received.clear()
    second = services.campaign_mailing_start(
        actor=marketer, campaign=campaign, template_name=TEMPLATE, tracking=False
    )
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["bo@example.com"]
    html = html_of(mail)
    assert "/mail/o/" not in html
    assert "/mail/c/" not in html
    assert 'href="https://shop.example.com/spring"' in html
    second.refresh_from_db()
    assert (second.sent_count, second.skipped_count) == (1, 1)


# Batches --------------------------------------------------------------------------------------


@pytest.fixture
def five_members(marketer, team, templates):
    customers = [consenting(name=f"Member {n}", email=f"m{n}@example.com") for n in range(5)]
    return email_campaign(marketer, team, *customers)


def test_a_mailing_goes_out_in_batches_and_a_batch_run_again_mails_nobody_twice(
    smtp_server,
    settings,
    site,
    marketer,
    five_members,
    django_capture_on_commit_callbacks,
):
    # given batches of two, and a mailing whose first batch is queued but not run
    settings.CRM_EMAIL_CAMPAIGN_BATCH_SIZE = 2
    members = list(five_members.members.order_by("pk"))
    with django_capture_on_commit_callbacks() as queued:
        mailing = services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )
    assert len(queued) == 1

    progress = []
    for _ in range(4):
        # when each batch runs (the queued next batch is captured, not run)
        with django_capture_on_commit_callbacks() as queued:
            more = services.campaign_mailing_send_batch(mailing_id=mailing.pk)
        mailing.refresh_from_db()
        progress.append(
            (more, len(queued), mailing.sent_count, mailing.last_member_id, mailing.status)
        )

    # then each batch sends two more and queues the next, until the members run out
    sending, sent = CampaignMailing.Status.SENDING, CampaignMailing.Status.SENT
    assert progress == [
        (True, 1, 2, members[1].pk, sending),
        (True, 1, 4, members[3].pk, sending),
        (False, 0, 5, members[4].pk, sent),
        (False, 0, 5, members[4].pk, sent),
    ]
    assert sorted(mail.rcpt_tos[0] for mail in smtp_server.received) == [
        f"m{n}@example.com" for n in range(5)
    ]


def test_members_already_mailed_are_not_mailed_again_when_a_batch_starts_over(
    smtp_server, settings, site, marketer, five_members, django_capture_on_commit_callbacks
):
    # given a mailing that went out to all five
    with django_capture_on_commit_callbacks():
        mailing = services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )
    services.campaign_mailing_send_batch(mailing_id=mailing.pk)
    assert len(smtp_server.received) == 5

    # when its batch runs again from the start (as if its progress had not been saved)
    CampaignMailing.objects.filter(pk=mailing.pk).update(
        last_member_id=0, status=CampaignMailing.Status.SENDING
    )
    services.campaign_mailing_send_batch(mailing_id=mailing.pk)

    # then nobody gets a second email, and nobody is counted twice
    assert len(smtp_server.received) == 5
    assert (
        EmailMessage.objects.filter(customer__campaign_memberships__campaign=five_members).count()
        == 5
    )
    mailing.refresh_from_db()
    assert (mailing.sent_count, mailing.skipped_count) == (5, 0)


def test_a_mail_server_refusing_the_recipients_counts_them_failed(
    smtp_server, site, marketer, five_members, django_capture_on_commit_callbacks
):
    # given a mail server that knows none of the addresses
    smtp_server.handler.refuse_with = "550 5.1.1 no such user"
    with django_capture_on_commit_callbacks():
        mailing = services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )

    # when the mailing runs
    services.campaign_mailing_send_batch(mailing_id=mailing.pk)

    # then every email failed for good and the mailing says so
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent_count, mailing.failed_count) == (
        CampaignMailing.Status.SENT,
        0,
        5,
    )
    assert set(
        EmailMessage.objects.filter(kind=EmailMessage.Kind.CAMPAIGN).values_list(
            "status", flat=True
        )
    ) == {EmailMessage.Status.FAILED}


def test_a_cancelled_mailing_sends_nothing_more(
    smtp_server, site, marketer, five_members, django_capture_on_commit_callbacks
):
    # given a mailing queued but not run
    with django_capture_on_commit_callbacks():
        mailing = services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )

    # when it is cancelled and its batch then runs
    cancelled = services.campaign_mailing_cancel(actor=marketer, mailing=mailing)
    more = services.campaign_mailing_send_batch(mailing_id=mailing.pk)

    # then nothing went out
    assert cancelled.status == CampaignMailing.Status.CANCELLED
    assert more is False
    assert smtp_server.received == []
    with pytest.raises(ValidationError) as refused:
        services.campaign_mailing_cancel(actor=marketer, mailing=mailing)
    assert "status" in refused.value.message_dict


def test_a_template_deactivated_while_sending_fails_the_mailing(
    settings, site, marketer, five_members, templates, django_capture_on_commit_callbacks
):
    # given a mailing queued, and then its template switched off
    with django_capture_on_commit_callbacks():
        mailing = services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )
    EmailTemplate.objects.filter(name=TEMPLATE).update(is_active=False)

    # when its batch runs
    services.campaign_mailing_send_batch(mailing_id=mailing.pk)

    # then it fails, saying why, and wrote nothing
    mailing.refresh_from_db()
    assert mailing.status == CampaignMailing.Status.FAILED
    assert TEMPLATE in mailing.error
    assert not EmailMessage.objects.exists()


def test_a_batch_reads_its_members_in_a_bounded_number_of_queries(
    settings, site, marketer, team, templates, django_assert_max_num_queries, mailoutbox
):
    # given forty members, some Chinese, some with a company
    customers = [
        consenting(
            name=f"Member {n}", email=f"m{n}@example.com", language="zh-hans" if n % 3 else ""
        )
        for n in range(40)
    ]
    campaign = email_campaign(marketer, team, *customers)
    mailing = CampaignMailingFactory(
        campaign=campaign,
        template_name=TEMPLATE,
        status=CampaignMailing.Status.QUEUED,
        started_by=marketer,
        total=40,
    )

    # when its batch writes and sends them, then the queries do not grow with the members
    # beyond what delivering each email takes (claiming its row, saving its status)
    with django_assert_max_num_queries(20 + 2 * 40):
        services.campaign_mailing_send_batch(mailing_id=mailing.pk)
    assert len(mailoutbox) == 40


# Validation and permissions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": Campaign.Type.EVENT}, "campaign"),
        ({"status": Campaign.Status.CANCELLED}, "campaign"),
        ({"status": Campaign.Status.COMPLETED}, "campaign"),
    ],
)
def test_only_a_running_email_campaign_can_be_sent(marketer, five_members, change, field):
    Campaign.objects.filter(pk=five_members.pk).update(**change)
    five_members.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )

    assert field in refused.value.message_dict
    assert not CampaignMailing.objects.exists()


def test_a_mailing_needs_members_a_campaign_template_and_no_other_mailing_running(
    marketer, team, templates, five_members, django_capture_on_commit_callbacks
):
    empty = email_campaign(marketer, team)
    with pytest.raises(ValidationError) as refused:
        services.campaign_mailing_start(actor=marketer, campaign=empty, template_name=TEMPLATE)
    assert "campaign" in refused.value.message_dict

    EmailTemplateFactory(name="Customer note", context=EmailTemplate.Context.CUSTOMER)
    for name in ("", "No such template", "Customer note"):
        with pytest.raises(ValidationError) as refused:
            services.campaign_mailing_start(
                actor=marketer, campaign=five_members, template_name=name
            )
        assert "template_name" in refused.value.message_dict

    with django_capture_on_commit_callbacks():
        services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )
    with pytest.raises(ValidationError) as refused:
        services.campaign_mailing_start(
            actor=marketer, campaign=five_members, template_name=TEMPLATE
        )
    assert "campaign" in refused.value.message_dict
    assert CampaignMailing.objects.count() == 1


def test_a_rep_may_not_start_a_mailing_and_nobody_may_on_a_campaign_they_cannot_edit(
    rep, rep_client, marketer, five_members, other_team_rep, other_team
):
    with pytest.raises(PermissionDenied):
        services.campaign_mailing_start(actor=rep, campaign=five_members, template_name=TEMPLATE)
    response = rep_client.post(
        f"/sales/campaigns/{five_members.pk}/mailings/start/", {"template_name": TEMPLATE}
    )
    assert response.status_code == 403

    theirs = CampaignFactory(owner=other_team_rep, team=other_team)
    CampaignMemberFactory(campaign=theirs, customer=consenting())
    with pytest.raises(PermissionDenied):
        services.campaign_mailing_start(actor=marketer, campaign=theirs, template_name=TEMPLATE)
    assert not CampaignMailing.objects.exists()


# Members' responses ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_open_or_click_moves_the_member_to_opened_but_never_back(
    eager_tasks, site, templates, marketer, team, mailoutbox
):
    # given a mailing sent to Ann and Bo, Bo having responded already
    ann = consenting(name="Ann Lee")
    bo = consenting(name="Bo Wu")
    campaign = email_campaign(marketer, team, ann, bo)
    CampaignMember.objects.filter(customer=bo).update(response=CampaignMember.Response.RESPONDED)
    services.campaign_mailing_start(actor=marketer, campaign=campaign, template_name=TEMPLATE)

    # when both open their email
    for customer in (ann, bo):
        email_open_record(message_id=EmailMessage.objects.get(customer=customer).pk)

    # then Ann has opened it, and Bo's reply still stands
    responses = dict(campaign.members.values_list("customer_id", "response"))
    assert responses == {
        ann.pk: CampaignMember.Response.OPENED,
        bo.pk: CampaignMember.Response.RESPONDED,
    }


# The campaign page ----------------------------------------------------------------------------


def test_the_campaign_page_offers_the_campaign_templates_and_counts_who_will_get_it(
    marketer_client, five_members, templates, django_assert_max_num_queries
):
    EmailTemplateFactory(name="Customer note", context=EmailTemplate.Context.CUSTOMER)
    CampaignMemberFactory(campaign=five_members, customer=CustomerFactory(marketing_consent=False))
    suppressed = consenting(email="gone@example.com")
    SuppressedAddressFactory(address="gone@example.com")
    CampaignMemberFactory(campaign=five_members, customer=suppressed)
    CampaignMailingFactory(campaign=five_members, template_name=TEMPLATE, total=7)

    with django_assert_max_num_queries(30):
        response = marketer_client.get(f"/sales/campaigns/{five_members.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{TEMPLATE}">' in page
    assert "Customer note" not in page
    assert re.search(r'data-figure="recipients">\s*5 members', page)
    assert 'data-mailing="' in page
    # nothing is being sent, so the list does not poll
    assert "every 3s" not in page


def test_the_mailings_list_polls_while_one_is_being_sent_and_reps_see_no_send_form(
    rep_client, marketer_client, five_members, templates, marketer
):
    CampaignMailingFactory(campaign=five_members, status=CampaignMailing.Status.SENDING, total=5)

    partial = marketer_client.get(f"/sales/campaigns/{five_members.pk}/mailings/")
    assert partial.status_code == 200
    assert 'hx-trigger="every 3s"' in partial.content.decode()
    assert "Cancel" in partial.content.decode()

    page = rep_client.get(f"/sales/campaigns/{five_members.pk}/").content.decode()
    assert "mailings/start/" not in page


def test_cancelling_from_the_page(marketer_client, five_members):
    mailing = CampaignMailingFactory(campaign=five_members, status=CampaignMailing.Status.SENDING)

    response = marketer_client.post(f"/sales/campaigns/mailings/{mailing.pk}/cancel/")

    assert response.status_code == 302
    mailing.refresh_from_db()
    assert mailing.status == CampaignMailing.Status.CANCELLED


# API ------------------------------------------------------------------------------------------


def test_the_api_starts_lists_and_cancels_mailings(
    marketer_client, five_members, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        created = marketer_client.post(
            "/api/v1/campaign-mailings/",
            {"campaign": five_members.pk, "template_name": TEMPLATE, "tracking": False},
            content_type="application/json",
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["total"], body["tracking"]) == ("queued", 5, False)
    assert body["figures"]["sent"] == 0

    listed = marketer_client.get(f"/api/v1/campaign-mailings/?campaign={five_members.pk}")
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]

    cancelled = marketer_client.post(f"/api/v1/campaign-mailings/{body['id']}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = marketer_client.post(f"/api/v1/campaign-mailings/{body['id']}/cancel/")
    assert again.status_code == 400


def test_the_api_refuses_bad_starts_naming_the_field(marketer_client, five_members, templates):
    unknown = marketer_client.post(
        "/api/v1/campaign-mailings/",
        {"campaign": five_members.pk, "template_name": "Nope"},
        content_type="application/json",
    )
    assert unknown.status_code == 400
    assert "template_name" in unknown.json()["error"]["fields"]

    status_set = marketer_client.post(
        "/api/v1/campaign-mailings/",
        {"campaign": five_members.pk, "template_name": TEMPLATE, "status": "sent"},
        content_type="application/json",
    )
    assert status_set.status_code == 400
    assert "status" in status_set.json()["error"]["fields"]


def test_the_api_hides_mailings_of_campaigns_the_caller_cannot_see(
    marketer_client, rep_client, templates, other_team_rep, other_team, five_members
):
    theirs = CampaignFactory(owner=other_team_rep, team=other_team)
    CampaignMemberFactory(campaign=theirs, customer=consenting())
    hidden = CampaignMailingFactory(campaign=theirs)

    assert marketer_client.get(f"/api/v1/campaign-mailings/{hidden.pk}/").status_code == 404
    assert marketer_client.get("/api/v1/campaign-mailings/").json()["results"] == []
    start = marketer_client.post(
        "/api/v1/campaign-mailings/",
        {"campaign": theirs.pk, "template_name": TEMPLATE},
        content_type="application/json",
    )
    assert start.status_code == 400
    assert "campaign" in start.json()["error"]["fields"]
    assert not CampaignMailing.objects.filter(campaign=theirs).exclude(pk=hidden.pk).exists()

    rep_start = rep_client.post(
        "/api/v1/campaign-mailings/",
        {"campaign": five_members.pk, "template_name": TEMPLATE},
        content_type="application/json",
    )
    assert rep_start.status_code == 403


def test_the_api_list_reads_in_a_bounded_number_of_queries(
    marketer_client, five_members, django_assert_max_num_queries
):
    for _ in range(15):
        CampaignMailingFactory(campaign=five_members)

    with django_assert_max_num_queries(12):
        response = marketer_client.get("/api/v1/campaign-mailings/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 15
