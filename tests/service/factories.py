from datetime import timedelta

import factory
from django.utils import timezone

from service.models import (
    BusinessCalendar,
    CannedResponse,
    Holiday,
    SatisfactionSurvey,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
)
from tests.customers.factories import CustomerFactory


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    time_zone = "UTC"
    working_days = [1, 2, 3, 4, 5]


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(BusinessCalendarFactory)
    date = factory.LazyFunction(lambda: timezone.localdate())


class TicketCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketCategory

    name = factory.Sequence(lambda n: f"Category {n}")


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    is_active = False
    first_response_minutes = 60
    resolution_minutes = 480
    calendar = factory.SubFactory(BusinessCalendarFactory)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket written straight to the table (no SLA, thread or history); tests of the
    workflow and the clocks go through service.services.tickets."""

    class Meta:
        model = Ticket

    number = factory.Sequence(lambda n: f"T-F{n:06d}")
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    customer = factory.SubFactory(CustomerFactory)
    assignee = None
    team = None


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    kind = TicketMessage.Kind.REPLY
    body = "Thanks, we are on it."


class TicketAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketAttachment

    message = factory.SubFactory(TicketMessageFactory)
    file = factory.django.FileField(filename="note.txt", data=b"hello")
    name = "note.txt"
    size = 5


class TicketStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketStatusChange

    ticket = factory.SubFactory(TicketFactory)
    to_status = Ticket.Status.NEW
    changed_at = factory.LazyFunction(timezone.now)


class CannedResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedResponse

    name = factory.Sequence(lambda n: f"Macro {n}")
    body = "Hello {customer_name}, about {ticket_number}: we are on it. {agent_name}"


class SatisfactionSurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionSurvey

    ticket = factory.SubFactory(TicketFactory)
    token_hash = factory.Sequence(lambda n: f"{n:064d}")
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
