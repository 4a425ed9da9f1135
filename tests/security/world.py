"""The access-control matrix's world: team A's rep owns one record of every kind, and people
outside team A (and an anonymous visitor) try to read them.

`EXPECTED` is the visibility rule (crm.accounts.selectors) written out for this world: kind ×
persona → may see. Every surface is tested against it, so a cell changes in one place.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from analytics.models import CustomerScore
from collaboration.models import Attachment, ChatMessage, ChatRoom, Event, Task
from collaboration.services.chat import chat_message_post, chat_room_for_record
from crm.accounts import roles
from customers.models import Company, Customer, Interaction, Order
from customers.services.customers import customer_aggregates_refresh
from sales.models import Campaign, Deal
from sales.services.deals import deal_create
from service.models import Ticket
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory
from tests.analytics.factories import ModelVersionFactory, PredictiveModelFactory
from tests.collaboration.factories import AttachmentFactory, EventFactory, TaskFactory
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
)
from tests.sales.factories import CampaignFactory
from tests.service.factories import TicketFactory, TicketStatusChangeFactory

OWNER = "owner"
MANAGER_A = "manager_a"
REP_B = "rep_b"
MANAGER_B = "manager_b"
AGENT = "agent"
MARKETER = "marketer"
ANONYMOUS = "anonymous"
# Team A's manager is the control: they see every record of team A and hold every permission a
# surface asks for (the owner, a rep, may not open tickets or exports), so each surface that
# hides a record from the others shows it to them, and a check that could not see the record at
# all fails instead of passing.
PERSONAS = (MANAGER_A, REP_B, MANAGER_B, AGENT, MARKETER, ANONYMOUS)
SIGNED_IN = PERSONAS[:-1]

# A word of each record's name that appears nowhere else, to look for in pages and files.
MARKERS = {
    "customer": "Quillfeather",
    "company": "Brackenmoor",
    "order": "ORD-ZINNWALD",
    "interaction": "Marrowglen",
    "deal": "Saltmarsh",
    "task": "Thistlewick",
    "ticket": "Gloamingdale",
    "chat_room": "Saltmarsh",
    "chat_message": "Wintercress",
    "attachment": "larkspur-minutes",
    "event": "Hollowmere",
    "campaign": "Fernhollow",
    "score": "Quillfeather",
}
KINDS = tuple(MARKERS)

# May see? Only the non-obvious cells carry a reason; team A's manager sees all, nobody else sees
# what is not listed, and the anonymous visitor sees nothing.
SEEN_BY_OTHERS: dict[str, dict[str, str]] = {
    "customer": {AGENT: "the service desk holds see_all_customer: anyone may call it"},
    "order": {AGENT: "an order is visible exactly when its customer is (visibility_path)"},
    "interaction": {AGENT: "an interaction is visible exactly when its customer is"},
    "attachment": {AGENT: "a file is visible to whoever sees the record it is on (the customer)"},
    "score": {AGENT: "scores of customers one sees, with analytics view permission"},
}
# Why the other cells are "no", where one might expect otherwise:
# - company: see_all is a customer permission only, so the agent does not see team A's company;
# - ticket: a ticket belongs to its assignee and team (the queue), not the agent's other queue;
# - campaign: visible through the owner and team like any record, so marketing in another team
#   does not see it (tests/api/records.py hides one from a marketer the same way);
# - chat room and message: a record room follows the deal, which only team A sees;
# - manager B: a manager's reach is the teams they manage, and team A is not one of them.


# A record one may see names some others in its own fields: the customer page shows the
# customer's company by name, which is the customer's data, not the company record.
NAMED_BY = {"customer": ("company",)}


def may_see(kind: str, persona: str) -> bool:
    return persona in (OWNER, MANAGER_A) or persona in SEEN_BY_OTHERS.get(kind, {})


def may_read_name(kind: str, persona: str) -> bool:
    return may_see(kind, persona) or any(
        kind in named and may_see(namer, persona) for namer, named in NAMED_BY.items()
    )


@dataclass
class World:
    users: dict = field(default_factory=dict)
    team_a: object = None
    team_b: object = None
    customer: Customer = None
    company: Company = None
    order: Order = None
    interaction: Interaction = None
    deal: Deal = None
    task: Task = None
    ticket: Ticket = None
    chat_room: ChatRoom = None
    chat_message: ChatMessage = None
    attachment: Attachment = None
    event: Event = None
    campaign: Campaign = None
    score: CustomerScore = None

    def record(self, kind: str):
        return getattr(self, kind)


def world_build() -> World:
    w = World()
    w.team_a = TeamFactory(name="Matrix A")
    w.team_b = TeamFactory(name="Matrix B")
    team_service = TeamFactory(name="Matrix Service")
    owner = UserFactory(username="matrix_owner", roles=[roles.SALES_REP])
    TeamMembershipFactory(team=w.team_a, user=owner)
    rep_b = UserFactory(username="matrix_rep_b", roles=[roles.SALES_REP])
    TeamMembershipFactory(team=w.team_b, user=rep_b)
    manager_b = UserFactory(username="matrix_manager_b", roles=[roles.MANAGER], is_staff=True)
    w.team_b.manager = manager_b
    w.team_b.save(update_fields=["manager"])
    # Staff, so the admin's model permissions are what refuses them (they hold no deal ones).
    agent = UserFactory(username="matrix_agent", roles=[roles.SERVICE_AGENT], is_staff=True)
    TeamMembershipFactory(team=team_service, user=agent)
    marketer = UserFactory(username="matrix_marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=w.team_b, user=marketer)
    manager_a = UserFactory(username="matrix_manager_a", roles=[roles.MANAGER], is_staff=True)
    w.team_a.manager = manager_a
    w.team_a.save(update_fields=["manager"])
    w.users = {
        OWNER: owner,
        REP_B: rep_b,
        MANAGER_B: manager_b,
        AGENT: agent,
        MARKETER: marketer,
        MANAGER_A: manager_a,
    }

    mine = {"owner": owner, "team": w.team_a}
    w.company = CompanyFactory(name=f"{MARKERS['company']} Holdings", **mine)
    w.customer = CustomerFactory(
        name=f"{MARKERS['customer']} Ltd", company=w.company, email="quill@example.com", **mine
    )
    w.order = OrderFactory(
        customer=w.customer,
        number=MARKERS["order"],
        total_amount=Decimal("987.00"),
        ordered_at=timezone.now() - timedelta(days=2),
    )
    customer_aggregates_refresh(customer_ids=[w.customer.pk])
    w.interaction = InteractionFactory(
        customer=w.customer, subject=f"{MARKERS['interaction']} call", handled_by=owner
    )
    w.campaign = CampaignFactory(name=f"{MARKERS['campaign']} launch", **mine)
    w.deal = deal_create(
        actor=owner,
        customer=w.customer,
        name=f"{MARKERS['deal']} renewal",
        amount=Decimal("4321.00"),
        campaign=w.campaign,
        **mine,
    )
    customer_type = ContentType.objects.get_for_model(Customer)
    w.task = TaskFactory(
        title=f"{MARKERS['task']} follow-up",
        assignee=owner,
        created_by=owner,
        team=w.team_a,
        related_type=customer_type,
        related_id=w.customer.pk,
        due_at=timezone.now() + timedelta(days=1),
    )
    w.ticket = TicketFactory(
        customer=w.customer, subject=f"{MARKERS['ticket']} outage", assignee=owner, team=w.team_a
    )
    TicketStatusChangeFactory(ticket=w.ticket, from_status="", to_status=Ticket.Status.NEW)
    w.chat_room = chat_room_for_record(user=owner, record=w.deal)
    w.chat_message = chat_message_post(
        author=owner, room=w.chat_room, body=f"{MARKERS['chat_message']} pricing"
    )
    w.attachment = AttachmentFactory(
        related_record=w.customer, uploaded_by=owner, name=f"{MARKERS['attachment']}.txt"
    )
    w.event = EventFactory(
        title=f"{MARKERS['event']} review",
        organizer=owner,
        team=w.team_a,
        related_type=customer_type,
        related_id=w.customer.pk,
    )
    purchase = PredictiveModelFactory(name="purchase")
    version = ModelVersionFactory(model=purchase)
    w.score = CustomerScore.objects.create(
        model=purchase,
        customer=w.customer,
        version=version,
        probability=0.93,
        reasons=[],
        scored_at=timezone.now(),
    )
    return w
