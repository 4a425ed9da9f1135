"""Records of every API resource, made by the factories: `HIDDEN` gives, per resource, who asks
and a record of someone in another team that they may not see; `SHARED` makes a record of the
resources with no per-record visibility. The API tests use them to reach every resource."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from analytics.models import CustomerInfluence
from crm.accounts.models import FieldRule, UserSession
from crm.accounts.roles import SALES_REP
from crm.accounts.services import api_token_create, record_share
from sales.models import CampaignMailing, Deal
from sales.services.deals import deal_create
from tests.accounts.factories import TeamFactory, UserFactory
from tests.automation.factories import RuleFactory, RuleRunFactory
from tests.collaboration.factories import (
    AttachmentFactory,
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
    EventFactory,
    NotificationFactory,
    TaskCommentFactory,
    TaskFactory,
)
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    ExportJobFactory,
    ImportJobFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    ProductFactory,
    RelationshipFactory,
    SegmentFactory,
)
from tests.mail.factories import EmailMessageFactory, EmailTemplateFactory, MailboxFactory
from tests.sales.factories import (
    AssignmentFactory,
    AssignmentRuleFactory,
    CampaignFactory,
    CampaignMailingFactory,
    CampaignMemberFactory,
    DealStageChangeFactory,
    PipelineFactory,
    SalesTargetFactory,
    StageFactory,
    WebFormFactory,
    WebFormSubmissionFactory,
)
from tests.service.factories import (
    BusinessCalendarFactory,
    CannedResponseFactory,
    SatisfactionSurveyFactory,
    SlaPolicyFactory,
    TicketCategoryFactory,
    TicketFactory,
    TicketMessageFactory,
)
from tests.webhooks.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory


@dataclass
class World:
    """Someone in another team, whose records the viewer may not see."""

    other: object
    other_team: object

    def customer(self, **values):
        return CustomerFactory(owner=self.other, team=self.other_team, **values)


def hidden_deal(w: World) -> Deal:
    return deal_create(
        actor=None, owner=w.other, team=w.other_team, customer=w.customer(), name="Hidden"
    )


def hidden_ticket(w: World):
    return TicketFactory(customer=w.customer(), assignee=w.other, team=w.other_team)


def hidden_chat_room(w: World):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=w.other)
    return room


def hidden_influence(w: World):
    return CustomerInfluence.objects.create(
        customer=w.customer(),
        pagerank=0.2,
        degree=0.5,
        connections=1,
        community=1,
        computed_at=timezone.now(),
    )


def hidden_share(w: World):
    return record_share(record=w.customer(), shared_by=w.other, team=TeamFactory())


# Per resource (router basename or URL name): who asks, and how to make a record they may not see.
HIDDEN: dict[str, tuple[str, Callable[[World], object]]] = {
    "apitoken": ("rep", lambda w: api_token_create(user=w.other, name="Theirs")[0]),
    "customer": ("rep", lambda w: w.customer()),
    "company": ("rep", lambda w: CompanyFactory(owner=w.other, team=w.other_team)),
    "order": ("rep", lambda w: OrderFactory(customer=w.customer())),
    "need": ("rep", lambda w: NeedFactory(customer=w.customer())),
    "interaction": ("rep", lambda w: InteractionFactory(customer=w.customer())),
    "relationship": (
        "rep",
        lambda w: RelationshipFactory(from_customer=w.customer(), to_customer=w.customer()),
    ),
    "customer-import": ("manager", lambda w: ImportJobFactory(owner=w.other)),
    "customer-export": ("marketer", lambda w: ExportJobFactory(requested_by=w.other)),
    "segment": ("rep", lambda w: SegmentFactory(owner=w.other, team=w.other_team)),
    "deal": ("rep", hidden_deal),
    "deal-stage-change": ("rep", lambda w: DealStageChangeFactory(deal=hidden_deal(w))),
    "salestarget": ("rep", lambda w: SalesTargetFactory(team=w.other_team)),
    "campaign": ("marketer", lambda w: CampaignFactory(owner=w.other, team=w.other_team)),
    "campaign-member": (
        "marketer",
        lambda w: CampaignMemberFactory(
            campaign=CampaignFactory(owner=w.other, team=w.other_team), customer=w.customer()
        ),
    ),
    "campaign-mailing": (
        "marketer",
        lambda w: CampaignMailingFactory(
            campaign=CampaignFactory(owner=w.other, team=w.other_team),
            status=CampaignMailing.Status.SENDING,
        ),
    ),
    "email": ("rep", lambda w: EmailMessageFactory(customer=w.customer())),
    "web-form": ("marketer", lambda w: WebFormFactory(owner=w.other, team=w.other_team)),
    "web-form-submission": (
        "marketer",
        lambda w: WebFormSubmissionFactory(
            form=WebFormFactory(owner=w.other, team=w.other_team), customer=w.customer()
        ),
    ),
    "assignment": (
        "rep",
        lambda w: AssignmentFactory(
            content_type=ContentType.objects.get_for_model(Deal),
            object_id=hidden_deal(w).pk,
            assigned_to=w.other,
        ),
    ),
    "ticket": ("agent", hidden_ticket),
    "ticket-message": ("agent", lambda w: TicketMessageFactory(ticket=hidden_ticket(w))),
    "canned-response": (
        "agent",
        lambda w: CannedResponseFactory(owner=w.other, team=w.other_team),
    ),
    "satisfaction-survey": ("agent", lambda w: SatisfactionSurveyFactory(ticket=hidden_ticket(w))),
    "task": ("rep", lambda w: TaskFactory(assignee=w.other, team=w.other_team, created_by=w.other)),
    "task-comment": (
        "rep",
        lambda w: TaskCommentFactory(
            task=TaskFactory(assignee=w.other, team=w.other_team, created_by=w.other),
            author=w.other,
        ),
    ),
    "notification": ("rep", lambda w: NotificationFactory(recipient=w.other)),
    "chat-room": ("rep", hidden_chat_room),
    "chat-message": ("rep", lambda w: ChatMessageFactory(room=hidden_chat_room(w), author=w.other)),
    "attachment": (
        "rep",
        lambda w: AttachmentFactory(related_record=w.customer(), uploaded_by=w.other),
    ),
    "event": ("rep", lambda w: EventFactory(organizer=w.other, team=w.other_team)),
    "recordshare": ("rep", hidden_share),
    "usersession": (
        "rep",
        lambda w: UserSession.objects.create(
            user=w.other, session_key="their-session", last_seen_at=timezone.now()
        ),
    ),
    "influence": ("manager", hidden_influence),
    "webhook": ("rep", lambda w: WebhookSubscriptionFactory(owner=w.other)),
    "webhook-delivery": (
        "rep",
        lambda w: WebhookDeliveryFactory(subscription=WebhookSubscriptionFactory(owner=w.other)),
    ),
    # Each app's own paths that take a record's id.
    "customer-timeline": ("rep", lambda w: w.customer()),
    "api-customer-merge": ("manager", lambda w: w.customer()),
    "api-customer-personal-data": ("manager", lambda w: w.customer()),
    "api-customer-erase": ("manager", lambda w: w.customer()),
    "chat-room-messages": ("rep", hidden_chat_room),
    "customer-recommendations": ("rep", lambda w: w.customer()),
    # A workflow rule is its owner's (and the admins'): another manager does not see it.
    "automation-rule": ("manager", lambda w: RuleFactory(owner=w.other)),
    "automation-run": ("manager", lambda w: RuleRunFactory(rule=RuleFactory(owner=w.other))),
}


SHARED: dict[str, Callable[[], object]] = {
    "product": lambda: ProductFactory(),
    "pipeline": lambda: PipelineFactory(),
    "stage": lambda: StageFactory(),
    "assignment-rule": lambda: AssignmentRuleFactory(owner=UserFactory()),
    "ticket-category": lambda: TicketCategoryFactory(),
    "sla-policy": lambda: SlaPolicyFactory(),
    "business-calendar": lambda: BusinessCalendarFactory(),
    "email-template": lambda: EmailTemplateFactory(),
    "mailbox": lambda: MailboxFactory(),
    "field-rule": lambda: FieldRule.objects.create(
        content_type=ContentType.objects.get_for_model(Deal),
        field_name="amount",
        role=Group.objects.get(name=SALES_REP),
        access=FieldRule.Access.READ_ONLY,
    ),
}
