"""seed_demo's service part: categories, holidays, canned responses, and tickets whose status
history, thread, SLA times and surveys tell one consistent story, reproducible from a seed."""

import io
from itertools import pairwise

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from crm.accounts.models import Team
from customers.models import Interaction
from service.business_hours import add_business_seconds, business_seconds_between
from service.models import (
    BusinessCalendar,
    CannedResponse,
    SatisfactionSurvey,
    Ticket,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
)
from service.services.sla import schedule_for, sla_policy_for

Status = Ticket.Status


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def service_fingerprint() -> dict:
    return {
        "tickets": list(
            Ticket.objects.values_list(
                "status", "priority", "type", "channel", "category__name", "assignee__username"
            )
            .annotate(count=Count("pk"))
            .order_by("status", "priority", "type", "channel", "category__name", "assignee")
        ),
        "subjects": list(Ticket.objects.order_by("number").values_list("subject", flat=True)),
        "reopened": list(
            Ticket.objects.order_by("number").values_list("reopened_count", flat=True)
        ),
        "messages": list(
            TicketMessage.objects.values_list("kind").annotate(Count("pk")).order_by("kind")
        ),
        "changes": list(
            TicketStatusChange.objects.values_list("from_status", "to_status")
            .annotate(Count("pk"))
            .order_by("from_status", "to_status")
        ),
        "surveys": SatisfactionSurvey.objects.count(),
        "ratings": list(
            SatisfactionSurvey.objects.filter(rating__isnull=False)
            .values_list("rating")
            .annotate(Count("pk"))
            .order_by("rating")
        ),
        "canned": CannedResponse.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_creates_tickets_in_every_status_with_the_service_setup():
    # given an empty database  # when
    output = seed(customers=300, seed=1)

    # then there are about one ticket per five customers, in every status, numbered from ids
    assert "tickets by status:" in output
    assert Ticket.objects.count() == 60
    for status in Status.values:
        assert Ticket.objects.filter(status=status).exists(), status
    for ticket in Ticket.objects.all():
        assert ticket.number == f"T-{ticket.pk:07d}"
    assert Ticket.objects.filter(reopened_count__gt=0).exists()
    assert Ticket.objects.values("channel").distinct().count() >= 4
    assert Ticket.objects.values("type").distinct().count() == 3

    # and the categories, a holiday on the default calendar and shared canned responses
    assert set(TicketCategory.objects.values_list("name", flat=True)) == {
        "Billing",
        "Delivery",
        "Product quality",
        "Account",
        "Other",
    }
    assert BusinessCalendar.objects.get(is_default=True).holidays.exists()
    service_team = Team.objects.get(name="Service")
    canned = CannedResponse.objects.filter(team=service_team)
    assert canned.count() >= 4
    assert canned.filter(name="Greeting").exists() and canned.filter(name="问候").exists()

    # and tickets go to the demo agents in the Service team; some new ones wait unassigned
    assert set(Ticket.objects.values_list("team__name", flat=True)) == {"Service"}
    assignees = set(Ticket.objects.values_list("assignee__username", flat=True))
    assert assignees - {None} == {"agent", "agent2"}
    assert not Ticket.objects.filter(assignee__isnull=True).exclude(status=Status.NEW).exists()


@pytest.mark.django_db
def test_every_tickets_history_and_thread_match_its_status():
    # given  # when
    seed(customers=300, seed=1)
    now = timezone.now()
    ticket_type = ContentType.objects.get_for_model(Ticket)

    # then each ticket's status changes walk the workflow from new to the status it is in
    tickets = Ticket.objects.prefetch_related("status_changes", "messages__interaction")
    for ticket in tickets:
        changes = list(ticket.status_changes.all())
        assert (changes[0].from_status, changes[0].to_status) == ("", Status.NEW)
        assert changes[0].changed_at == ticket.created_at
        assert changes[-1].to_status == ticket.status, ticket.number
        for previous, change in pairwise(changes):
            assert change.from_status == previous.to_status
            assert change.changed_at >= previous.changed_at
        assert changes[-1].changed_at <= now
        reopens = [
            change
            for change in changes
            if (change.from_status, change.to_status) == (Status.RESOLVED, Status.OPEN)
        ]
        assert ticket.reopened_count == len(reopens)

        # and the thread opens with the customer's message; public replies and the customer's
        # messages are on the customer's timeline, notes are not
        messages = list(ticket.messages.all())
        assert messages[0].kind == TicketMessage.Kind.CUSTOMER
        assert messages[0].body == ticket.description
        replies = [message for message in messages if message.kind == TicketMessage.Kind.REPLY]
        if ticket.status == Status.NEW:
            assert not replies and ticket.first_responded_at is None
        else:
            assert 1 <= len(replies) <= 4
            assert replies[0].created_at == ticket.first_responded_at
        for message in messages:
            if message.kind == TicketMessage.Kind.NOTE:
                assert message.interaction is None and message.author_id == ticket.assignee_id
                continue
            interaction = message.interaction
            assert interaction.customer_id == ticket.customer_id
            assert (interaction.related_type, interaction.related_id) == (ticket_type, ticket.pk)
            assert interaction.occurred_at == message.created_at

        # and the resolution fields follow the status
        if ticket.status in (Status.RESOLVED, Status.CLOSED):
            assert ticket.resolved_at is not None and ticket.resolution_seconds is not None
        else:
            assert ticket.resolved_at is None and ticket.resolution_seconds is None
        assert (ticket.closed_at is not None) == (ticket.status == Status.CLOSED)
        assert (ticket.sla_paused_at is not None) == (ticket.status == Status.PENDING)
    assert TicketMessage.objects.filter(kind=TicketMessage.Kind.NOTE).exists()
    assert Interaction.objects.filter(related_type=ticket_type).count() == (
        TicketMessage.objects.exclude(kind=TicketMessage.Kind.NOTE).count()
    )


@pytest.mark.django_db
def test_sla_fields_are_those_the_policy_gives():
    # given  # when
    seed(customers=300, seed=1)
    now = timezone.now()

    # then each ticket has its tier's and priority's policy, due times in business hours, and
    # breach flags that say whether the clock ran past them
    for ticket in Ticket.objects.select_related("customer", "sla_policy__calendar"):
        policy = sla_policy_for(tier=ticket.customer.tier, priority=ticket.priority)
        assert ticket.sla_policy == policy
        schedule = schedule_for(policy.calendar)
        assert ticket.first_response_due_at == add_business_seconds(
            schedule, ticket.created_at, policy.first_response_minutes * 60
        )
        assert ticket.resolution_due_at >= add_business_seconds(
            schedule, ticket.created_at, policy.resolution_minutes * 60
        )
        responded = ticket.first_responded_at
        assert ticket.first_response_breached == ((responded or now) > ticket.first_response_due_at)
        if responded:
            assert ticket.first_response_seconds == business_seconds_between(
                schedule, ticket.created_at, responded
            )
        if ticket.resolved_at is not None:
            assert ticket.resolution_breached == (ticket.resolved_at > ticket.resolution_due_at)
            assert ticket.resolution_seconds == (
                business_seconds_between(schedule, ticket.created_at, ticket.resolved_at)
                - ticket.sla_paused_seconds
            )
        elif ticket.status == Status.PENDING:
            assert ticket.resolution_breached == (ticket.sla_paused_at > ticket.resolution_due_at)
        if ticket.first_response_breached:
            assert ticket.first_response_escalated_at == ticket.first_response_due_at
        if ticket.resolution_breached:
            assert ticket.resolution_escalated_at >= ticket.resolution_due_at
    assert Ticket.objects.filter(first_response_breached=True).exists()
    assert Ticket.objects.filter(first_response_breached=False).exists()
    assert Ticket.objects.filter(sla_paused_seconds__gt=0).exists()


@pytest.mark.django_db
def test_surveys_and_ratings_are_consistent():
    # given  # when
    seed(customers=300, seed=1)
    resolved = Ticket.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED])

    # then many resolved tickets had a survey, about half of them answered
    surveys = SatisfactionSurvey.objects.select_related("ticket")
    assert resolved.count() * 0.3 <= surveys.count() <= resolved.count() * 0.8
    answered = surveys.filter(answered_at__isnull=False)
    assert 0 < answered.count() < surveys.count()
    for survey in surveys:
        assert survey.ticket.resolved_at is not None
        assert survey.sent_at <= survey.ticket.updated_at
        assert survey.sent_to == survey.ticket.customer.email != ""
        if survey.answered_at is not None:
            assert survey.sent_at < survey.answered_at < survey.expires_at
    assert SatisfactionSurvey.objects.values("token_hash").distinct().count() == surveys.count()

    # and a ticket's rating is that of its answered survey, mostly good
    rated = Ticket.objects.filter(satisfaction_rating__isnull=False)
    assert rated.count() == answered.count()
    for ticket in rated:
        survey = ticket.surveys.get()
        assert 1 <= ticket.satisfaction_rating <= 5
        assert (ticket.satisfaction_rating, ticket.rated_at, ticket.satisfaction_comment) == (
            survey.rating,
            survey.answered_at,
            survey.comment,
        )
    assert rated.filter(satisfaction_rating__gte=4).count() > rated.count() / 2
    assert not Ticket.objects.filter(
        Q(satisfaction_rating__isnull=True) & Q(rated_at__isnull=False)
    ).exists()


@pytest.mark.django_db
def test_if_empty_does_not_add_tickets_again():
    # given seeded demo data
    seed(customers=300, seed=1)
    before = service_fingerprint()

    # when seed_demo runs again with --if-empty
    seed(customers=300, seed=1, if_empty=True)

    # then nothing is added
    assert service_fingerprint() == before


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_service_data():
    # given a database seeded with seed 1
    seed(customers=300, seed=1)
    first = service_fingerprint()

    # when the database is flushed (the default calendar with it) and seeded again
    call_command("flush", interactive=False, verbosity=0)
    seed(customers=300, seed=1)

    # then the tickets, threads, histories and surveys are the same, on a calendar made again
    assert service_fingerprint() == first
    assert BusinessCalendar.objects.get(is_default=True).sla_policies.count() == 12

    # and another seed gives other tickets
    call_command("flush", interactive=False, verbosity=0)
    seed(customers=300, seed=2)
    assert service_fingerprint()["tickets"] != first["tickets"]


@pytest.mark.django_db
@pytest.mark.parametrize(("customers", "tickets"), [(120, 7), (40, 90)])
def test_an_asked_number_of_tickets_is_seeded_exactly(customers, tickets):
    # given  # when fewer tickets than the usual share, or more than customers, are asked for
    seed(customers=customers, tickets=tickets, seed=3)

    # then exactly the asked number is written, each with its thread and status history
    assert Ticket.objects.count() == tickets
    assert not Ticket.objects.filter(messages__isnull=True).exists()
    assert not Ticket.objects.filter(status_changes__isnull=True).exists()
    # and every customer's last contact is their latest interaction, ticket threads included
    for customer_id, last_contact in Ticket.objects.values_list(
        "customer_id", "customer__last_contact_at"
    ).distinct():
        latest = Interaction.objects.filter(customer_id=customer_id).latest("occurred_at")
        assert last_contact == latest.occurred_at
