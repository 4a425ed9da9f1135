"""The apps announce their events from their services, so pages, the API, the admin and tasks all
do: each event once the transaction commits, none when it rolls back, with the record as its API
detail endpoint shows it."""

import re
from dataclasses import dataclass

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from crm.accounts import roles
from crm.concurrency import StaleRecordError
from crm.encryption import encrypted_fields
from crm.webhooks.events import EVENTS, record_type_for
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.tasks import webhook_delivery_send_task
from customers.models import Customer, ImportJob
from customers.services import importing
from customers.services.customers import customer_create, customer_update
from customers.services.merge import customer_merge
from mail.services.delivery_events import email_event_record
from mail.services.inbound import inbound_accept
from mail.services.outbound import email_send
from sales.models import Deal
from sales.services.deals import deal_create, deal_move_stage, deal_update
from service.models import SatisfactionSurvey, Ticket
from service.services.surveys import survey_answer
from service.services.tickets import (
    ticket_change_status,
    ticket_create,
    ticket_resolve,
    tickets_bulk_close,
)
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory
from tests.sales.factories import DealFactory, pipeline_with_stages, stage_named
from tests.webhooks.factories import WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

JSON = {"content_type": "application/json"}


@dataclass
class Published:
    event: str
    record: object
    extra: dict
    payload: dict


@pytest.fixture
def published(monkeypatch, django_capture_on_commit_callbacks):
    """Record what reaches webhook delivery, with the payload built when it does (on commit).

    Use as `with published() as events:`; the list fills when the block's commits run."""
    current: list[list[Published]] = [[]]

    def record(*, event, record, extra):
        payload = record_type_for(type(record)).payload(record)
        current[0].append(Published(event=event, record=record, extra=extra, payload=payload))
        return []

    monkeypatch.setattr("crm.webhooks.services.webhook_deliveries_create", record)

    class Capture:
        def __enter__(self):
            current[0] = []
            self._inner = django_capture_on_commit_callbacks(execute=True)
            self._inner.__enter__()
            return current[0]

        def __exit__(self, *exc):
            return self._inner.__exit__(*exc)

    return Capture


def events_of(calls: list[Published]) -> list[str]:
    return [call.event for call in calls]


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(name="Ada Lovelace", email="ada@example.com", owner=rep, team=team)


@pytest.fixture
def pipeline(db):
    return pipeline_with_stages(name="Hardware")


@pytest.fixture
def agent(team):
    user = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=team)
    return user


def without_sensitive_fields(body: dict) -> dict:
    """What the API shows, less the encrypted fields, which webhooks never carry: the delivery
    log keeps payloads in clear."""
    return {
        name: value
        for name, value in body.items()
        if name not in {field.name for field in encrypted_fields()}
    }


def test_every_record_type_of_the_catalogue_is_registered():
    for model in (Customer, ImportJob, Deal, Ticket, SatisfactionSurvey):
        assert callable(record_type_for(model).payload)
    assert set(EVENTS) == {
        "customer.created",
        "customer.updated",
        "customer.merged",
        "deal.created",
        "deal.updated",
        "deal.stage_changed",
        "deal.won",
        "deal.lost",
        "ticket.created",
        "ticket.updated",
        "ticket.resolved",
        "ticket.sla_breached",
        "survey.answered",
        "import.finished",
        "email.sent",
        "email.received",
        "email.bounced",
    }


# Customers ---------------------------------------------------------------------------------------


def test_a_created_customer_is_announced_as_the_api_shows_it(rep, rep_client, published):
    # when
    with published() as calls:
        customer = customer_create(actor=rep, name="Grace Hopper", tags=["navy"])

    # then
    assert events_of(calls) == ["customer.created"]
    assert calls[0].record.pk == customer.pk
    assert calls[0].extra == {}
    detail = rep_client.get(f"/api/v1/customers/{customer.pk}/").json()
    assert calls[0].payload == without_sensitive_fields(detail)
    assert calls[0].payload["tags"] == ["navy"]


def test_the_api_and_the_page_announce_a_new_customer(rep_client, published):
    with published() as through_api:
        response = rep_client.post(
            "/api/v1/customers/", {"name": "Grace Hopper", "status": "lead"}, **JSON
        )
    assert response.status_code == 201
    assert events_of(through_api) == ["customer.created"]
    assert through_api[0].payload == without_sensitive_fields(response.json())

    with published() as through_page:
        page = rep_client.post(
            "/customers/new/", {"name": "Alan Turing", "status": "prospect", "tier": "normal"}
        )
    assert page.status_code == 302
    assert events_of(through_page) == ["customer.created"]
    assert through_page[0].payload["name"] == "Alan Turing"


def test_an_update_names_the_changed_fields(rep, rep_client, customer, published):
    # when
    with published() as calls:
        customer_update(actor=rep, customer=customer, city="London", name="Ada Lovelace")

    # then only what changed is named, and the payload is the customer after the change
    assert events_of(calls) == ["customer.updated"]
    assert calls[0].extra == {"changed_fields": ["city"]}
    assert calls[0].payload == without_sensitive_fields(
        rep_client.get(f"/api/v1/customers/{customer.pk}/").json()
    )
    assert calls[0].payload["city"] == "London"


def test_an_update_that_changes_nothing_is_not_announced(rep, customer, published):
    customer.tags.set([])
    with published() as calls:
        customer_update(actor=rep, customer=customer, name="Ada Lovelace", tags=[])
    assert calls == []

    with published() as tag_calls:
        customer_update(actor=rep, customer=customer, tags=["vip"])
    assert events_of(tag_calls) == ["customer.updated"]
    assert tag_calls[0].extra == {"changed_fields": ["tags"]}


def test_an_api_update_is_announced(rep_client, customer, published):
    with published() as calls:
        response = rep_client.patch(f"/api/v1/customers/{customer.pk}/", {"tier": "vip"}, **JSON)
    assert response.status_code == 200
    assert events_of(calls) == ["customer.updated"]
    assert calls[0].extra == {"changed_fields": ["tier"]}
    assert calls[0].payload == without_sensitive_fields(response.json())


def test_nothing_is_announced_when_the_transaction_rolls_back(rep, customer, published):
    with published() as calls, pytest.raises(RuntimeError), transaction.atomic():
        customer_create(actor=rep, name="Never saved")
        customer_update(actor=rep, customer=customer, city="Paris")
        raise RuntimeError("rolled back")
    assert calls == []


def test_a_merge_is_announced_on_the_kept_customer(manager, client_for, team, published):
    # given
    kept = CustomerFactory(name="Ada Lovelace", email="ada@example.com", team=team, city="")
    merged = CustomerFactory(name="Ada L.", email="ada.l@example.com", team=team, city="London")
    merged_id = merged.pk

    # when
    with published() as calls:
        customer_merge(actor=manager, kept=kept, merged=merged)

    # then the kept customer took the blank city (an update) and announces the merge
    assert events_of(calls) == ["customer.updated", "customer.merged"]
    merge = calls[-1]
    assert merge.record.pk == kept.pk
    assert merge.extra == {"merged_customer_id": merged_id}
    detail = client_for(manager).get(f"/api/v1/customers/{kept.pk}/").json()
    assert merge.payload == without_sensitive_fields(detail)
    assert detail["city"] == "London"


# Imports -----------------------------------------------------------------------------------------

CSV = "Name,Email\nAnn Lee,ann@example.com\nBo Li,bo@example.com\nDi Ma,not-an-email\n"


def test_a_finished_import_is_announced_once_with_its_counts(published, settings):
    # given
    settings.CRM_SITE_URL = "https://crm.example"
    job = importing.import_job_create(actor=None, file=ContentFile(CSV.encode(), name="people.csv"))

    # when
    with published() as calls:
        importing.import_job_run(job_id=job.pk)

    # then one event for the whole import, none per imported customer
    assert events_of(calls) == ["import.finished"]
    payload = calls[0].payload
    assert payload["id"] == job.pk
    assert payload["status"] == ImportJob.Status.COMPLETED
    assert (payload["created_count"], payload["rejected_count"]) == (2, 1)
    assert payload["report_url"] == f"https://crm.example/api/v1/customer-imports/{job.pk}/report/"
    assert Customer.objects.filter(email="ann@example.com").exists()


def test_an_import_through_the_api_is_announced_as_the_api_shows_it(
    admin_user, client_for, published, eager_tasks
):
    client = client_for(admin_user)
    with published() as calls:
        response = client.post(
            "/api/v1/customer-imports/",
            {"file": ContentFile(CSV.encode(), name="people.csv")},
        )
    assert response.status_code == 201
    assert events_of(calls) == ["import.finished"]
    detail = client.get(f"/api/v1/customer-imports/{response.json()['id']}/").json()
    # The report's link is absolute either way; only the host differs outside a request.
    assert {**calls[0].payload, "report_url": None} == {**detail, "report_url": None}


def test_a_failed_import_is_announced_too(published):
    job = importing.import_job_create(
        actor=None, file=ContentFile(CSV.encode(), name="people.csv"), mapping={"Name": "name"}
    )
    job.mapping = {"Missing": "name"}
    job.save(update_fields=["mapping"])

    with published() as calls:
        importing.import_job_run(job_id=job.pk)

    assert events_of(calls) == ["import.finished"]
    assert calls[0].payload["status"] == ImportJob.Status.FAILED
    assert calls[0].payload["error"]


# Deals -------------------------------------------------------------------------------------------


def test_a_stage_move_is_announced_with_both_stages(rep, rep_client, customer, pipeline, published):
    # given
    deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)
    lead, proposal = stage_named(pipeline, "Lead"), stage_named(pipeline, "Proposal")

    # when
    with published() as calls:
        deal_move_stage(actor=rep, deal=deal, stage=proposal, version=deal.version)

    # then
    assert events_of(calls) == ["deal.stage_changed", "deal.updated"]
    assert calls[1].extra == {"changed_fields": ["stage"]}
    assert calls[0].extra == {
        "from_stage": {"id": lead.pk, "name": "Lead"},
        "to_stage": {"id": proposal.pk, "name": "Proposal"},
    }
    assert calls[0].payload == rep_client.get(f"/api/v1/deals/{deal.pk}/").json()
    assert calls[0].payload["stage"] == proposal.pk


def test_a_won_deal_is_announced_and_its_lead_becomes_a_customer(
    rep, customer, pipeline, published
):
    customer.status = Customer.Status.LEAD
    customer.save(update_fields=["status"])
    deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)

    with published() as calls:
        deal_move_stage(
            actor=rep, deal=deal, stage=stage_named(pipeline, "Won"), version=deal.version
        )

    assert sorted(events_of(calls)) == [
        "customer.updated",
        "deal.stage_changed",
        "deal.updated",
        "deal.won",
    ]
    by_event = {call.event: call for call in calls}
    assert by_event["customer.updated"].extra == {"changed_fields": ["status"]}
    assert by_event["customer.updated"].payload["status"] == Customer.Status.CUSTOMER
    assert by_event["deal.won"].payload["stage_kind"] == "won"


def test_a_lost_deal_is_announced_through_an_update(rep, customer, pipeline, published):
    deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)

    with published() as calls:
        deal_update(
            actor=rep,
            deal=deal,
            version=deal.version,
            stage=stage_named(pipeline, "Lost"),
            lost_reason="price",
        )

    assert events_of(calls) == ["deal.stage_changed", "deal.lost", "deal.updated"]


def test_an_edit_that_keeps_the_stage_is_an_update_not_a_stage_change(
    rep, customer, pipeline, published
):
    deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)
    with published() as calls:
        deal_update(actor=rep, deal=deal, version=deal.version, next_step="Call them")
    assert events_of(calls) == ["deal.updated"]
    assert calls[0].extra == {"changed_fields": ["next_step"]}


def test_a_new_deal_is_announced_as_created(rep, customer, pipeline, published):
    with published() as calls:
        deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)
    assert events_of(calls) == ["deal.created"]
    assert calls[0].record == deal


def test_a_deal_created_won_is_announced_as_won(rep, customer, pipeline, published):
    with published() as calls:
        deal_create(
            actor=rep, customer=customer, name="Walk-in", stage=stage_named(pipeline, "Won")
        )
    assert "deal.won" in events_of(calls)
    assert "deal.stage_changed" not in events_of(calls)


def test_the_api_and_the_board_announce_a_move(rep, rep_client, customer, pipeline, published):
    deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)
    proposal, won = stage_named(pipeline, "Proposal"), stage_named(pipeline, "Won")

    with published() as through_api:
        response = rep_client.post(
            f"/api/v1/deals/{deal.pk}/move/", {"stage": proposal.pk, "version": 1}, **JSON
        )
    assert response.status_code == 200
    assert events_of(through_api) == ["deal.stage_changed", "deal.updated"]
    assert through_api[0].payload == without_sensitive_fields(response.json())

    with published() as through_board:
        page = rep_client.post(
            reverse("sales:deal_move", args=[deal.pk]),
            {"stage": won.pk, "version": 2},
            HTTP_ACCEPT="application/json",
        )
    assert page.status_code == 200
    assert {"deal.stage_changed", "deal.won"} <= set(events_of(through_board))


def test_a_stale_move_announces_nothing(rep, customer, pipeline, published):
    deal = DealFactory(customer=customer, stage=stage_named(pipeline, "Lead"), owner=rep)
    won = stage_named(pipeline, "Won")
    with published() as calls, pytest.raises(StaleRecordError):
        deal_move_stage(actor=rep, deal=deal, stage=won, version=99)
    assert calls == []


# Tickets and surveys -----------------------------------------------------------------------------


def test_a_new_ticket_is_announced_as_the_api_shows_it(agent, client_for, customer, published):
    with published() as calls:
        ticket = ticket_create(actor=agent, customer=customer, subject="Printer is on fire")

    assert events_of(calls) == ["ticket.created"]
    assert calls[0].payload == client_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert calls[0].payload["number"] == ticket.number


def test_the_api_the_page_and_the_public_form_announce_a_new_ticket(
    agent, client_for, customer, client, published
):
    agent_client = client_for(agent)
    with published() as through_api:
        response = agent_client.post(
            "/api/v1/tickets/", {"customer": customer.pk, "subject": "By API"}, **JSON
        )
    assert response.status_code == 201
    assert events_of(through_api) == ["ticket.created"]
    assert through_api[0].payload == without_sensitive_fields(response.json())

    with published() as through_page:
        page = agent_client.post(
            reverse("service:ticket_create"),
            {
                "customer": customer.pk,
                "subject": "By page",
                "type": "inquiry",
                "channel": "phone",
                "priority": "normal",
            },
        )
    assert page.status_code == 302
    assert events_of(through_page) == ["ticket.created"]

    cache.clear()  # the public form's rate limit
    with published() as through_form:
        form = client.post(
            reverse("service:ticket_public_form"),
            {
                "name": "Mei Lin",
                "email": "mei@example.com",
                "type": Ticket.Type.COMPLAINT,
                "subject": "Broken on arrival",
                "message": "Cracked.",
                "website": "",
            },
        )
    assert form.status_code in (200, 302)
    assert events_of(through_form) == ["customer.created", "ticket.created"]


def test_resolving_is_announced_and_closing_a_resolved_ticket_is_not(
    agent, client_for, customer, published
):
    ticket = ticket_create(actor=agent, customer=customer, subject="Printer is on fire")

    with published() as resolved:
        ticket = ticket_resolve(actor=agent, ticket=ticket, version=ticket.version)
    with published() as closed:
        ticket_change_status(
            actor=agent, ticket=ticket, status=Ticket.Status.CLOSED, version=ticket.version
        )

    assert events_of(resolved) == ["ticket.resolved", "ticket.updated"]
    assert resolved[0].payload["status"] == Ticket.Status.RESOLVED
    assert events_of(closed) == ["ticket.updated"]
    assert closed[0].extra == {"changed_fields": ["status"]}


def test_closing_unresolved_tickets_in_bulk_resolves_them(agent, customer, published):
    tickets = [
        ticket_create(actor=agent, customer=customer, subject=f"Ticket {n}") for n in range(2)
    ]
    with published() as calls:
        tickets_bulk_close(actor=agent, tickets=tickets)
    assert events_of(calls) == ["ticket.resolved", "ticket.updated"] * 2
    assert {call.record.pk for call in calls} == {ticket.pk for ticket in tickets}


def test_an_api_resolve_is_announced_as_the_api_shows_it(agent, client_for, customer, published):
    ticket = ticket_create(actor=agent, customer=customer, subject="Printer is on fire")
    with published() as calls:
        response = client_for(agent).post(
            f"/api/v1/tickets/{ticket.pk}/resolve/", {"version": ticket.version}, **JSON
        )
    assert response.status_code == 200
    assert events_of(calls) == ["ticket.resolved", "ticket.updated"]
    assert calls[0].payload == without_sensitive_fields(response.json())


def test_an_answered_survey_is_announced_as_the_api_shows_it(
    agent, admin_user, client_for, customer, client, published, settings
):
    # given a resolved ticket whose customer was sent a survey
    settings.CRM_SITE_URL = "http://testserver.example"
    ticket = ticket_create(actor=agent, customer=customer, subject="Printer is on fire")
    with published():
        ticket_resolve(actor=agent, ticket=ticket, version=ticket.version)
    link = re.search(r"http://testserver\.example(/service/survey/[^/\s\"]+/)", mail.outbox[0].body)

    # when the customer answers on the page
    with published() as calls:
        response = client.post(link.group(1), {"rating": "4", "comment": "Quick."})

    # then
    assert response.status_code == 200
    assert events_of(calls) == ["survey.answered"]
    survey = SatisfactionSurvey.objects.get()
    detail = client_for(admin_user).get(f"/api/v1/satisfaction-surveys/{survey.pk}/").json()
    assert calls[0].payload == without_sensitive_fields(detail)
    assert (detail["rating"], detail["comment"]) == (4, "Quick.")


def test_a_survey_answered_too_late_announces_nothing(agent, customer, published):
    ticket = ticket_create(actor=agent, customer=customer, subject="Printer is on fire")
    with published():
        ticket_resolve(actor=agent, ticket=ticket, version=ticket.version)
    survey = SatisfactionSurvey.objects.get()
    assert survey_answer(survey=survey, rating=5) is True

    with published() as calls:
        assert survey_answer(survey=survey, rating=1) is False
    assert calls == []


# Through to the deliveries -----------------------------------------------------------------------


def test_a_subscriber_who_may_see_the_deal_gets_its_api_representation(
    rep,
    rep_client,
    other_team_rep,
    customer,
    pipeline,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    # given two subscribers to won deals, one of whom cannot see this deal (no send: no network)
    monkeypatch.setattr(webhook_delivery_send_task, "apply_async", lambda *args, **kwargs: None)
    WebhookSubscriptionFactory(owner=rep, events=["deal.won", "deal.stage_changed"])
    WebhookSubscriptionFactory(owner=other_team_rep, events=["deal.won"])
    deal = deal_create(actor=rep, customer=customer, name="Laptops", pipeline=pipeline)
    lead, won = stage_named(pipeline, "Lead"), stage_named(pipeline, "Won")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        deal_move_stage(actor=rep, deal=deal, stage=won, version=deal.version)

    # then
    deliveries = {d.event: d for d in WebhookDelivery.objects.select_related("subscription")}
    assert set(deliveries) == {"deal.stage_changed", "deal.won"}
    assert {d.subscription.owner for d in deliveries.values()} == {rep}
    detail = rep_client.get(f"/api/v1/deals/{deal.pk}/").json()
    assert deliveries["deal.won"].payload["data"] == detail
    assert deliveries["deal.stage_changed"].payload["changes"] == {
        "from_stage": {"id": lead.pk, "name": "Lead"},
        "to_stage": {"id": won.pk, "name": "Won"},
    }


# Email -------------------------------------------------------------------------------------------


def test_a_sent_email_is_announced_once_the_server_took_it(
    rep, rep_client, customer, published, eager_tasks
):
    with published() as calls:
        message = email_send(
            actor=rep, to=customer.email, subject="Our quote", body="Dear Ada", customer=customer
        )

    assert "email.sent" in events_of(calls)
    [sent] = [call for call in calls if call.event == "email.sent"]
    assert sent.payload == rep_client.get(f"/api/v1/emails/{message.pk}/").json()
    assert sent.payload["status"] == "sent"


def test_a_received_email_is_announced(rep, rep_client, customer, published):
    raw = (
        b"From: Ada Lovelace <ada@example.com>\r\nTo: sales@crm.example.com\r\n"
        b"Subject: About the engine\r\nMessage-ID: <engine-1@example.com>\r\n\r\nHello there\r\n"
    )
    with published() as calls:
        outcome = inbound_accept(raw=raw, source="imap")

    assert "email.received" in events_of(calls)
    [received] = [call for call in calls if call.event == "email.received"]
    assert received.payload == rep_client.get(f"/api/v1/emails/{outcome.message.pk}/").json()
    assert received.payload["customer"] == customer.pk


def test_a_bounce_is_announced_once(rep, customer, published):
    message = EmailMessageFactory(customer=customer, to_addresses=[customer.email])
    with published() as calls:
        for _time in range(2):
            email_event_record(
                event_type="bounced",
                recipient=customer.email,
                esp_name="Postmark",
                message_ids=[message.message_id],
            )

    assert events_of(calls).count("email.bounced") == 1
    assert calls[events_of(calls).index("email.bounced")].payload["status"] == "bounced"
