"""Every model of ours is in the admin, and every admin page a superuser opens loads."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from analytics.models import (
    AnalyticsJob,
    Community,
    CustomerInfluence,
    CustomerRecommendation,
    CustomerScore,
    CustomerValue,
    GraphEdge,
    OrderDailyTotal,
    PredictiveModel,
    TicketPrediction,
)
from collaboration.models import (
    CalendarFeed,
    ChatRoom,
    EventGuest,
    Notification,
    NotificationPreference,
    Task,
)
from crm.accounts.models import UserSession
from crm.accounts.services import api_token_create, record_share
from crm.activity.services import activity_record
from crm.api.models import IdempotencyKey
from customers.models import Customer
from mail.models import EmailAttachment, EmailSignature, InboundSetAside
from sales.models import Deal, Pipeline, Stage
from sales.services.deals import deal_create
from service.models import Ticket
from service.services.tickets import ticket_change_status, ticket_create
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.analytics.factories import ModelVersionFactory
from tests.automation.factories import (
    RuleActionFactory,
    RuleConditionFactory,
    RuleFactory,
    RuleRunFactory,
)
from tests.collaboration.factories import (
    AttachmentFactory,
    ChatMembershipFactory,
    ChatMessageFactory,
    EventAttendeeFactory,
    EventFactory,
    NotificationFactory,
    TaskCommentFactory,
    TaskFactory,
)
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    CustomerMergeFactory,
    ExportJobFactory,
    ImportJobFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    PrivacyRequestFactory,
    ProductFactory,
    RelationshipFactory,
    SegmentFactory,
)
from tests.mail.factories import (
    EmailMessageFactory,
    EmailTemplateFactory,
    MailboxFactory,
    SuppressedAddressFactory,
)
from tests.sales.factories import (
    AssignmentFactory,
    AssignmentRuleFactory,
    CampaignMailingFactory,
    CampaignMemberFactory,
    DealFactory,
    DealLineFactory,
    DealStageChangeFactory,
    SalesTargetFactory,
    WebFormSubmissionFactory,
    pipeline_with_stages,
)
from tests.service.factories import (
    CannedResponseFactory,
    HolidayFactory,
    SatisfactionSurveyFactory,
    SlaPolicyFactory,
    TicketAttachmentFactory,
    TicketCategoryFactory,
    TicketFactory,
    TicketMessageFactory,
    TicketStatusChangeFactory,
)
from tests.webhooks.factories import WebhookAttemptFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {
    "accounts",
    "activity",
    "api",
    "customers",
    "sales",
    "service",
    "collaboration",
    "analytics",
    "webhooks",
    "audit",
    "mail",
    "automation",
}
# Rows edited only inline on their parent's page: an email's attachments, a rule's conditions and
# actions (saved with their rule, through its checks).
INLINE_ONLY = {"mail.emailattachment", "automation.rulecondition", "automation.ruleaction"}
# A historical model (the audit trail's copy of a record) is shown through its record's admin
# (the History button), not as a list of its own.
OUR_MODELS = [
    model
    for model in apps.get_models()
    if model._meta.app_label in OUR_APPS
    and not issubclass(model, HistoricalChanges)
    and model._meta.label_lower not in INLINE_ONLY
]
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def model_id(model) -> str:
    return model._meta.label_lower


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def some_of_everything(superuser):
    membership = TeamMembershipFactory()
    team = membership.team
    team.manager = UserFactory(roles=["Manager"])
    team.save(update_fields=["manager"])
    company = CompanyFactory(owner=membership.user, team=team)
    customers = CustomerFactory.create_batch(3, company=company, owner=membership.user, team=team)
    customers[0].tags.create(name="key-account")
    record_share(record=customers[0], shared_by=superuser, team=team)
    OrderLineFactory(order=OrderFactory(customer=customers[0]))
    NeedFactory(customer=customers[0])
    InteractionFactory(customer=customers[0], handled_by=membership.user)
    RelationshipFactory(from_customer=customers[0], to_customer=customers[1])
    SegmentFactory(owner=membership.user, team=team)
    ImportJobFactory(owner=superuser)
    ExportJobFactory(requested_by=superuser)
    CustomerMergeFactory(kept=customers[0], merged_by=superuser)
    PrivacyRequestFactory(customer=customers[1], requested_by=superuser)
    pipeline_with_stages(name="Renewals")
    deal = DealFactory(customer=customers[0], owner=membership.user, team=team)
    DealLineFactory(deal=deal)
    DealStageChangeFactory(deal=deal)
    rule = AssignmentRuleFactory(owner=membership.user)
    AssignmentFactory(object_id=deal.pk, rule=rule, assigned_to=membership.user)
    CampaignMailingFactory(campaign=CampaignMemberFactory(customer=customers[0]).campaign)
    SalesTargetFactory(team=team)
    WebFormSubmissionFactory(customer=customers[2], created_lead=True)
    task = TaskFactory(assignee=membership.user, team=team, created_by=superuser)
    TaskCommentFactory(task=task, author=membership.user)
    NotificationFactory(recipient=membership.user)
    NotificationPreference.objects.create(user=membership.user, kind="mention", email_digest=True)
    team_room = ChatRoom.objects.create(kind=ChatRoom.Kind.TEAM, team=team, name=team.name)
    ChatMembershipFactory(room=team_room, user=membership.user)
    message = ChatMessageFactory(room=team_room, author=membership.user)
    AttachmentFactory(related_record=message, uploaded_by=membership.user)
    AttachmentFactory(related_record=customers[0], uploaded_by=membership.user)
    event = EventFactory(organizer=membership.user, team=team)
    EventAttendeeFactory(event=event, user=team.manager)
    EventGuest.objects.create(
        event=event,
        guest_type=ContentType.objects.get_for_model(Customer),
        guest_id=customers[0].pk,
        name=str(customers[0]),
    )
    CalendarFeed.objects.create(user=membership.user, token_hash="0" * 64)
    api_token_create(user=membership.user, name="Reporting")
    UserSession.objects.create(
        user=membership.user, session_key="admin-page-session", last_seen_at=timezone.now()
    )
    WebhookAttemptFactory(delivery__subscription__owner=membership.user)
    activity_record(verb="deal_won", summary="Won", actor=membership.user, team=team)
    ticket = TicketFactory(
        customer=customers[0],
        assignee=membership.user,
        team=team,
        category=TicketCategoryFactory(),
        sla_policy=SlaPolicyFactory(),
    )
    TicketAttachmentFactory(message=TicketMessageFactory(ticket=ticket, author=membership.user))
    TicketStatusChangeFactory(ticket=ticket, changed_by=membership.user)
    SatisfactionSurveyFactory(ticket=ticket, answered_at=timezone.now(), rating=5)
    HolidayFactory()
    CannedResponseFactory(owner=membership.user, team=team)
    now = timezone.now()
    version = ModelVersionFactory(model=PredictiveModel.objects.get(name="purchase"))
    CustomerScore.objects.create(
        model=version.model, customer=customers[0], version=version, probability=0.7, scored_at=now
    )
    TicketPrediction.objects.create(ticket=ticket, positive_probability=0.8, predicted_at=now)
    AnalyticsJob.objects.create(kind=AnalyticsJob.Kind.GRAPH, trigger="button")
    GraphEdge.objects.create(source=f"c{customers[0].pk}", target=f"c{customers[1].pk}")
    CustomerInfluence.objects.create(
        customer=customers[0], pagerank=0.2, degree=0.5, connections=1, community=1, computed_at=now
    )
    Community.objects.create(number=1, size=3, label="Shanghai", computed_at=now)
    IdempotencyKey.objects.create(
        scope=f"user:{membership.user.pk}", key="k", fingerprint="f", status_code=201
    )
    CustomerRecommendation.objects.create(
        customer=customers[0], similar=[[customers[1].pk, 0.1]], computed_at=now
    )
    OrderDailyTotal.objects.create(
        day=now.date(), owner=membership.user, team=team, orders=1, revenue=10, refreshed_at=now
    )
    CustomerValue.objects.create(
        customer=customers[0],
        frequency=1,
        monetary=10,
        recency_score=5,
        frequency_score=5,
        monetary_score=5,
        value_tier="champions",
        lifetime_value=30,
        computed_at=now,
    )
    template = EmailTemplateFactory()
    mailbox = MailboxFactory()
    EmailSignature.objects.create(user=membership.user, body="Riley")
    message = EmailMessageFactory(customer=customers[0], template=template)
    EmailAttachment.objects.create(
        message=message, file=ContentFile(b"hello", name="hello.txt"), name="hello.txt", size=5
    )
    InboundSetAside.objects.create(
        mailbox=mailbox,
        source="imap",
        reason=InboundSetAside.Reason.values[0],
        size=20,
        raw=ContentFile(b"Subject: x\r\n\r\nx", name="x.eml"),
    )
    SuppressedAddressFactory()
    rule = RuleFactory(owner=team.manager)
    RuleConditionFactory(rule=rule)
    RuleActionFactory(rule=rule)
    RuleRunFactory(rule=rule, record_id=customers[0].pk)
    return customers


@pytest.mark.parametrize("model", OUR_MODELS, ids=model_id)
def test_every_model_of_ours_is_in_the_admin(model):
    # given  # when  # then
    assert admin.site.is_registered(model), f"{model._meta.label} has no ModelAdmin"


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_admin_changelist_add_and_search_load(model, superuser, some_of_everything, client_for):
    # given a superuser and a few records of every kind
    client = client_for(superuser)
    model_admin = admin.site._registry[model]

    # when they open the list, the list searched, and the add form
    changelist = client.get(admin_url(model, "changelist"))
    searched = client.get(admin_url(model, "changelist"), {"q": "a"})
    add = client.get(admin_url(model, "add"))

    # then every page loads
    assert changelist.status_code == 200
    assert searched.status_code == 200
    expected_add = 200 if model_admin.has_add_permission(changelist.wsgi_request) else 403
    assert add.status_code == expected_add


@pytest.mark.parametrize(
    "model", [model for model in REGISTERED if model in OUR_MODELS], ids=model_id
)
def test_admin_change_page_loads_for_our_records(model, superuser, some_of_everything, client_for):
    # given a record of the model
    record = model._default_manager.first()
    assert record is not None, "the fixture should create one of each"

    # when  # then
    response = client_for(superuser).get(admin_url(model, "change", record.pk))
    assert response.status_code == 200


def test_customer_changelist_queries_are_bounded(
    superuser, client_for, django_assert_max_num_queries
):
    # given thirty customers, each with a company, an owner and a team
    membership = TeamMembershipFactory()
    for _ in range(30):
        CustomerFactory(company=CompanyFactory(), owner=membership.user, team=membership.team)
    client = client_for(superuser)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("admin:customers_customer_changelist"))

    # then every row is listed
    assert response.status_code == 200
    assert response.context["cl"].result_count == 30
    assert len(response.context["cl"].result_list) == 30


def test_an_admin_role_user_can_use_the_admin(admin_user, some_of_everything, client_for):
    # given a staff user in the Admin role who is not a superuser  # when
    response = client_for(admin_user).get(reverse("admin:customers_customer_changelist"))

    # then
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3


# Deals: admin saves go through the deal services -------------------------------------------------


def form_data(response) -> dict:
    """The POST body of an admin change or add page as it was rendered, inlines included."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            data[form.add_prefix(name)] = "" if value is None else value
    return data


def default_stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


@pytest.fixture
def admin_deal(superuser):
    customer = CustomerFactory(status=Customer.Status.LEAD)
    return deal_create(actor=None, customer=customer, owner=superuser, name="Admin deal")


def test_admin_stage_change_is_recorded_by_the_deal_service(superuser, client_for, admin_deal):
    # given the deal's change page
    client = client_for(superuser)
    url = admin_url(Deal, "change", admin_deal.pk)
    data = form_data(client.get(url))

    # when the admin moves it to Won
    data["stage"] = default_stage("Won").pk
    response = client.post(url, data)

    # then the move is recorded as any other: history, closed_at, version, the lead won over
    assert response.status_code == 302, response.context and response.context["errors"]
    admin_deal.refresh_from_db()
    assert (admin_deal.stage.name, admin_deal.version) == ("Won", 2)
    assert admin_deal.closed_at is not None
    assert [change.to_stage.name for change in admin_deal.stage_changes.all()] == [
        "Qualification",
        "Won",
    ]
    assert admin_deal.stage_changes.last().changed_by == superuser
    assert admin_deal.customer.status == Customer.Status.CUSTOMER


def test_admin_change_refused_by_the_service_writes_nothing(superuser, client_for, admin_deal):
    # given
    client = client_for(superuser)
    url = admin_url(Deal, "change", admin_deal.pk)
    data = form_data(client.get(url))

    # when the admin marks it lost without a reason, and renames it in the same save
    data.update(stage=default_stage("Lost").pk, name="Renamed")
    response = client.post(url, data, follow=True)

    # then the page says why and the deal is as it was
    assert response.status_code == 200
    assert any("lost_reason" in str(message) for message in response.context["messages"])
    admin_deal.refresh_from_db()
    assert (admin_deal.name, admin_deal.stage.name, admin_deal.version) == (
        "Admin deal",
        "Qualification",
        1,
    )
    assert admin_deal.stage_changes.count() == 1


def test_admin_line_items_set_the_amount_in_one_change(superuser, client_for, admin_deal):
    # given
    client = client_for(superuser)
    url = admin_url(Deal, "change", admin_deal.pk)
    data = form_data(client.get(url))
    product = ProductFactory()

    # when the admin adds a line and a next step
    data.update(
        {
            "next_step": "Send the quote",
            "lines-TOTAL_FORMS": 1,
            "lines-0-product": product.pk,
            "lines-0-quantity": 3,
            "lines-0-unit_price": "20.00",
            "lines-0-discount_percent": "0",
        }
    )
    response = client.post(url, data)

    # then
    assert response.status_code == 302
    admin_deal.refresh_from_db()
    assert (admin_deal.amount, admin_deal.next_step, admin_deal.version) == (
        Decimal("60.00"),
        "Send the quote",
        2,
    )
    assert admin_deal.lines.get().quantity == 3


def test_admin_add_creates_the_deal_through_the_service(superuser, client_for):
    # given the add page
    client = client_for(superuser)
    url = admin_url(Deal, "add")
    data = form_data(client.get(url))
    customer = CustomerFactory(company=CompanyFactory())

    # when
    data.update(
        name="From the admin",
        customer=customer.pk,
        pipeline=default_stage("Proposal").pipeline_id,
        stage=default_stage("Proposal").pk,
        amount="100.00",
        currency="CNY",
    )
    response = client.post(url, data)

    # then the service's defaults and first history row are there
    assert response.status_code == 302
    deal = Deal.objects.get(name="From the admin")
    assert (deal.owner, deal.company, deal.version) == (superuser, customer.company, 1)
    assert deal.stage_changes.get().to_stage.name == "Proposal"


def test_deal_changelist_queries_are_bounded(superuser, client_for, django_assert_max_num_queries):
    # given thirty deals with a customer, an owner and a team
    membership = TeamMembershipFactory()
    for _ in range(30):
        DealFactory(owner=membership.user, team=membership.team)
    client = client_for(superuser)

    # when
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:sales_deal_changelist"))

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


# Tasks and pipelines: admin saves go through their services --------------------------------------


def test_admin_task_edit_moves_the_version_on_and_tells_the_new_assignee(superuser, client_for):
    # given a task assigned to the superuser, and a colleague
    task = TaskFactory(assignee=superuser, title="Call back")
    colleague = TeamMembershipFactory().user
    client = client_for(superuser)
    url = admin_url(Task, "change", task.pk)
    data = form_data(client.get(url))

    # when the admin renames it and hands it over
    data.update(title="Call back today", assignee=colleague.pk)
    response = client.post(url, data)

    # then the change is a service change: a new version, and the colleague hears of it
    assert response.status_code == 302, response.context and response.context["errors"]
    task.refresh_from_db()
    assert (task.title, task.assignee, task.version) == ("Call back today", colleague, 2)
    assert Notification.objects.filter(recipient=colleague, kind="task_assigned").count() == 1


def test_admin_task_change_refused_by_the_service_writes_nothing(superuser, client_for):
    # given
    task = TaskFactory(assignee=superuser, title="Call back")
    client = client_for(superuser)
    url = admin_url(Task, "change", task.pk)
    data = form_data(client.get(url))

    # when the reminder lead time is beyond what the service allows
    data.update(title="Renamed", remind_minutes_before=10**6)
    response = client.post(url, data, follow=True)

    # then
    assert any("remind_minutes_before" in str(message) for message in response.context["messages"])
    task.refresh_from_db()
    assert (task.title, task.version) == ("Call back", 1)


def test_admin_pipeline_keeps_the_pipeline_rules(superuser, client_for):
    # given the default pipeline from the migrations, which no deal uses
    pipeline = Pipeline.objects.get(is_default=True)
    client = client_for(superuser)

    # when the admin deletes it
    response = client.post(admin_url(Pipeline, "delete", pipeline.pk), {"post": "yes"}, follow=True)

    # then the pipeline service refuses, with the pages' and the API's message
    assert any("default pipeline cannot be deleted" in str(m) for m in response.context["messages"])
    assert Pipeline.objects.filter(pk=pipeline.pk, is_default=True).exists()


# Tickets: admin saves go through the ticket services ---------------------------------------------


@pytest.fixture
def admin_ticket(superuser):
    customer = CustomerFactory()
    return ticket_create(actor=None, customer=customer, assignee=superuser, subject="Leaky kettle")


def test_admin_ticket_edit_moves_the_version_on_and_records_the_status(
    superuser, client_for, admin_ticket
):
    # given the ticket's change page
    client = client_for(superuser)
    url = admin_url(Ticket, "change", admin_ticket.pk)
    data = form_data(client.get(url))

    # when the admin renames it, raises its priority and opens it
    data.update(subject="Leaky kettle, again", priority="urgent", status="open")
    response = client.post(url, data)

    # then it is one service change after another: new version, re-timed SLA, history row
    assert response.status_code == 302, response.context and response.context["errors"]
    admin_ticket.refresh_from_db()
    assert (admin_ticket.subject, admin_ticket.priority, admin_ticket.status) == (
        "Leaky kettle, again",
        "urgent",
        "open",
    )
    assert admin_ticket.version == 3
    assert [change.to_status for change in admin_ticket.status_changes.all()] == ["new", "open"]
    assert admin_ticket.status_changes.last().changed_by == superuser


def test_admin_ticket_change_refused_by_the_workflow_writes_nothing(
    superuser, client_for, admin_ticket
):
    # given a closed ticket
    closed = ticket_change_status(
        actor=None, ticket=admin_ticket, status=Ticket.Status.CLOSED, version=1
    )
    client = client_for(superuser)
    url = admin_url(Ticket, "change", closed.pk)
    data = form_data(client.get(url))

    # when the admin renames it and sets it pending, which the workflow does not allow
    data.update(subject="Renamed", status="pending")
    response = client.post(url, data, follow=True)

    # then the page says why, and neither the rename nor the move was written
    assert any("status" in str(message) for message in response.context["messages"])
    closed.refresh_from_db()
    assert (closed.subject, closed.status, closed.version) == ("Leaky kettle", "closed", 2)
    assert closed.status_changes.count() == 2


def test_admin_add_creates_the_ticket_through_the_service(superuser, client_for):
    # given the add page
    client = client_for(superuser)
    url = admin_url(Ticket, "add")
    data = form_data(client.get(url))
    customer = CustomerFactory()

    # when
    data.update(subject="From the admin", customer=customer.pk, priority="high", tags=[])
    response = client.post(url, data)

    # then the service numbered it, assigned it to the admin and opened its thread and history
    assert response.status_code == 302, response.context and response.context["errors"]
    ticket = Ticket.objects.get(subject="From the admin")
    assert ticket.number == f"T-{ticket.pk:07d}"
    assert (ticket.assignee, ticket.status, ticket.version) == (superuser, "new", 1)
    assert ticket.status_changes.get().to_status == "new"
    assert ticket.messages.count() == 1


def test_ticket_changelist_queries_are_bounded(
    superuser, client_for, django_assert_max_num_queries
):
    # given thirty tickets with a customer, an assignee and a team
    membership = TeamMembershipFactory()
    for _ in range(30):
        TicketFactory(assignee=membership.user, team=membership.team)
    client = client_for(superuser)

    # when
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:service_ticket_changelist"))

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


# Customers: admin saves go through the customer services ----------------------------------------


def test_admin_customer_edit_is_cleaned_and_announced(
    superuser, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    # given a customer's change page, and a recorder of published events
    published = []
    monkeypatch.setattr(
        "crm.webhooks.services.webhook_deliveries_create",
        lambda **kwargs: published.append((kwargs["event"], kwargs["extra"])),
    )
    customer = CustomerFactory(name="Wang Fang", email="wang@example.com")
    client = client_for(superuser)
    url = admin_url(Customer, "change", customer.pk)
    data = form_data(client.get(url))

    # when the admin changes the email with stray spaces and capitals
    data["email"] = "  Wang.Fang@Example.COM "
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    # then the service cleaned it and announced the change
    assert response.status_code == 302, response.context and response.context["errors"]
    customer.refresh_from_db()
    assert customer.email == "wang.fang@example.com"
    assert published == [("customer.updated", {"changed_fields": ["email"]})]


def test_admin_customer_add_goes_through_the_service(
    superuser, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(
        "crm.webhooks.services.webhook_deliveries_create",
        lambda **kwargs: published.append(kwargs["event"]),
    )
    client = client_for(superuser)
    url = admin_url(Customer, "add")
    data = form_data(client.get(url))
    data.update(name="  Zhou   Min ", status=Customer.Status.LEAD)
    data.pop("tags")  # an empty multiple choice is absent from a browser's POST

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    created = Customer.objects.get(name="Zhou Min")
    assert created.owner == superuser
    assert published == ["customer.created"]
