"""The access-control matrix over every write: for each kind of record team A's rep owns, each
page form, API update, delete and action route, and each create naming the record, people outside
team A (and a rep of team B holding only a read share, and an anonymous visitor) are refused, and
the stored record, its neighbours and their history are unchanged.

A record one may not see answers 404, as if it did not exist; a record one sees but may not change
(a read share, the service desk's "see all customers"), and an action one's role holds no
permission for, answer 403. Each write is also made once by someone allowed to, so a request that
could never have worked (a wrong URL, an invalid form) fails instead of passing. A case is named
kind-action-persona.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.permissions import DjangoModelPermissions

from collaboration.models import Attachment, ChatMessage, Event, Task, TaskComment
from crm.accounts import roles
from crm.accounts.models import RecordShare
from crm.accounts.services import record_share
from crm.api_urls import router
from customers.models import Customer, Interaction, Need, Order, Relationship
from sales.models import CampaignMember, Deal, Stage
from service.models import Ticket, TicketMessage
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.api.test_invisible_404 import ROUTES
from tests.customers.factories import CustomerFactory, NeedFactory, SegmentFactory
from tests.security.world import (
    AGENT,
    ANONYMOUS,
    MANAGER_A,
    MANAGER_B,
    OWNER,
    REP_B,
    may_see,
)
from tests.service.factories import TicketMessageFactory

READER = "reader"
ADMIN = "admin"
WRITERS = (REP_B, MANAGER_B, AGENT, READER, ANONYMOUS)
LOGIN = "/accounts/login/"

# What the reader (a rep of team B) was given a read-only share of, and so sees through it.
SHARED_FOR_READING = (
    "customer",
    "company",
    "deal",
    "task",
    "ticket",
    "event",
    "campaign",
    "segment",
)
# Kinds whose visibility follows another's: the customer's orders, interactions, needs and files;
# the deal's discussion; the ticket's thread.
FOLLOWS = {
    "order": "customer",
    "interaction": "customer",
    "need": "customer",
    "attachment": "customer",
    "chat_room": "deal",
    "chat_message": "deal",
    "ticket_message": "ticket",
    "segment": "segment",
}


def sees(kind: str, persona: str) -> bool:
    if persona == ANONYMOUS:
        return False
    deciding = FOLLOWS.get(kind, kind)
    if persona == READER:
        return deciding in SHARED_FOR_READING
    return deciding in ("customer", "company", "deal", "task", "ticket", "event", "campaign") and (
        may_see(deciding, persona)
    )


@pytest.fixture(scope="module")
def write_world(world, django_db_blocker):
    """The read matrix's world, with the records it lacks and a reader holding read shares."""
    with django_db_blocker.unblock():
        owner = world.users[OWNER]
        reader = UserFactory(username="matrix_reader", roles=[roles.SALES_REP])
        TeamMembershipFactory(team=world.team_b, user=reader)
        world.users[READER] = reader
        world.need = NeedFactory(customer=world.customer, text="Ashgrove need")
        world.ticket_message = TicketMessageFactory(ticket=world.ticket, body="Brindle reply")
        world.segment = SegmentFactory(
            name="Cobblestone", owner=owner, team=world.team_a, filters={"tier": ["vip"]}
        )
        world.campaign.segment = world.segment
        world.campaign.save(update_fields=["segment"])
        world.users[ADMIN] = UserFactory(username="matrix_admin", roles=[roles.ADMIN])
        world.twin = CustomerFactory(name="Quillfeather Twin", owner=owner, team=world.team_a)
        world.won_stage = (
            Stage.objects.filter(pipeline=world.deal.pipeline)
            .exclude(pk=world.deal.stage_id)
            .order_by("position")
            .first()
        )
        for kind in SHARED_FOR_READING:
            record_share(record=world.record(kind), shared_by=owner, user=reader)
    return world


# Every model a write below could touch: the world's records are compared field by field, and
# these are counted, so a write that lands anywhere in the world is seen.
COUNTED = (
    Customer,
    Order,
    Interaction,
    Need,
    Relationship,
    Deal,
    CampaignMember,
    Ticket,
    TicketMessage,
    Task,
    TaskComment,
    ChatMessage,
    Attachment,
    Event,
    RecordShare,
)
RECORDS = (
    "customer",
    "twin",
    "company",
    "order",
    "interaction",
    "need",
    "deal",
    "task",
    "ticket",
    "ticket_message",
    "chat_room",
    "chat_message",
    "attachment",
    "event",
    "campaign",
    "segment",
)


def snapshot(world) -> dict:
    state = {}
    for name in RECORDS:
        record = getattr(world, name)
        model = type(record)
        state[name] = model._base_manager.filter(pk=record.pk).values().first()
        if hasattr(model, "history"):
            state[f"{name}.history"] = model.history.filter(id=record.pk).count()
    for model in COUNTED:
        state[model.__name__] = model._base_manager.count()
    return state


def assert_unchanged(before: dict, after: dict) -> None:
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, changed


@dataclass(frozen=True)
class Write:
    kind: str
    name: str
    url: str  # formatted with the world: {customer}, {deal}, {twin}...
    perm: str  # the role permission the write takes ("": an action route checks its own)
    data: Callable | dict = field(default_factory=dict)  # dict, or world -> dict
    prefill: str = ""  # a page whose form's current values the data is laid over
    method: str = "post"
    api: bool = False
    multipart: bool = False
    # "edit": only those who may change the record; "see": anyone who sees it may (a reply).
    needs: str = "edit"
    control: str = MANAGER_A
    effect: bool = True  # the control's write shows in the snapshot
    bulk: bool = False  # a list action: it answers with a redirect and a message


def version(world, kind: str) -> int:
    record = world.record(kind)
    return type(record)._base_manager.values_list("version", flat=True).get(pk=record.pk)


def _ids(world) -> dict:
    return {name: getattr(world, name).pk for name in RECORDS} | {
        "won_stage": world.won_stage.pk,
        "customer_type": ContentType.objects.get_for_model(Customer).pk,
    }


class _FormValues(HTMLParser):
    """The current values of each POST form of a page, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self._form: dict[str, object] | None = None
        self._select = ""
        self._textarea = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
            elif kind not in ("submit", "file", "button"):
                self._form[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self._form.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._form[name] = ""

    def _add(self, name, value):
        current = self._form.get(name)
        if current in (None, ""):
            self._form[name] = value
        else:
            self._form[name] = [*(current if isinstance(current, list) else [current]), value]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = ""
        elif tag == "textarea":
            self._textarea = ""
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form[self._textarea] += data


def form_values(client, url: str) -> dict:
    """The values of the page's main form: the POST form with the most fields."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = _FormValues()
    parser.feed(response.content.decode())
    return max(parser.forms, key=len, default={})


def tomorrow() -> str:
    return (timezone.localdate() + timezone.timedelta(days=1)).isoformat()


# Browser pages: each record's forms and buttons that change it, and the bulk actions of lists.
PAGES = [
    Write(
        "customer",
        "edit",
        "/customers/{customer}/edit/",
        "customers.change_customer",
        {"name": "Overwritten"},
        prefill="/customers/{customer}/edit/",
    ),
    Write(
        "customer",
        "merge",
        "/customers/{customer}/merge/?merged={twin}",
        "customers.merge_customer",
        prefill="/customers/{customer}/merge/?merged={twin}",
    ),
    Write(
        "customer",
        "erase",
        "/customers/{customer}/privacy/erase/",
        "customers.erase_customer",
        {"reason": "asked", "confirm": "on"},
        prefill="/customers/{customer}/privacy/",
        control=ADMIN,
    ),
    Write(
        "customer",
        "share",
        "/collaboration/records/customers.customer/{customer}/sharing/",
        "accounts.add_recordshare",
        lambda w: {"user": w.users[REP_B].pk, "access": "edit"},
    ),
    Write(
        "customer",
        "upload",
        "/collaboration/records/customers.customer/{customer}/files/",
        "collaboration.add_attachment",
        {"file": "upload"},
        multipart=True,
        needs="see",
    ),
    Write(
        "customer",
        "add_interaction",
        "/customers/{customer}/interactions/new/",
        "customers.add_interaction",
        {"kind": "call", "subject": "Sneaky call", "occurred_at": "2024-01-02T10:00"},
        prefill="/customers/{customer}/interactions/new/",
        needs="see",
    ),
    Write(
        "customer",
        "add_order",
        "/customers/{customer}/orders/new/",
        "customers.add_order",
        {"number": "ORD-SNEAKY", "total_amount": "1.00"},
        prefill="/customers/{customer}/orders/new/",
        needs="see",
    ),
    Write(
        "customer",
        "add_need",
        "/customers/{customer}/needs/new/",
        "customers.add_need",
        {"text": "Sneaky need"},
        prefill="/customers/{customer}/needs/new/",
        needs="see",
    ),
    Write(
        "customer",
        "add_relationship",
        "/customers/{customer}/relationships/new/",
        "customers.add_relationship",
        lambda w: {"to_customer": w.twin.pk, "kind": "colleague"},
        prefill="/customers/{customer}/relationships/new/",
        needs="see",
    ),
    Write(
        "company",
        "edit",
        "/customers/companies/{company}/edit/",
        "customers.change_company",
        {"name": "Overwritten"},
        prefill="/customers/companies/{company}/edit/",
    ),
    Write(
        "order",
        "status",
        "/customers/orders/{order}/status/",
        "customers.change_order",
        {"status": "refunded"},
    ),
    Write(
        "need",
        "edit",
        "/customers/needs/{need}/edit/",
        "customers.change_need",
        {"text": "Overwritten"},
        prefill="/customers/needs/{need}/edit/",
    ),
    Write("need", "close", "/customers/needs/{need}/close/", "customers.change_need"),
    Write(
        "deal",
        "edit",
        "/sales/deals/{deal}/edit/",
        "sales.change_deal",
        {"name": "Overwritten"},
        prefill="/sales/deals/{deal}/edit/",
    ),
    Write("deal", "delete", "/sales/deals/{deal}/delete/", "sales.delete_deal"),
    Write(
        "deal",
        "move",
        "/sales/deals/{deal}/move/",
        "sales.change_deal",
        lambda w: {"stage": w.won_stage.pk, "version": w.deal.version},
    ),
    Write(
        "task",
        "edit",
        "/collaboration/tasks/{task}/edit/",
        "collaboration.change_task",
        {"title": "Overwritten"},
        prefill="/collaboration/tasks/{task}/edit/",
    ),
    Write("task", "complete", "/collaboration/tasks/{task}/complete/", "collaboration.change_task"),
    Write("task", "delete", "/collaboration/tasks/{task}/delete/", "collaboration.delete_task"),
    Write(
        "task",
        "move",
        "/collaboration/tasks/{task}/move/",
        "collaboration.change_task",
        lambda w: {"status": "done", "version": w.task.version},
    ),
    Write(
        "task",
        "comment",
        "/collaboration/tasks/{task}/comments/",
        "collaboration.add_taskcomment",
        {"body": "Sneaky comment"},
        needs="see",
    ),
    Write(
        "ticket",
        "edit",
        "/service/tickets/{ticket}/edit/",
        "service.change_ticket",
        {"subject": "Overwritten"},
        prefill="/service/tickets/{ticket}/edit/",
    ),
    Write(
        "ticket",
        "reply",
        "/service/tickets/{ticket}/reply/",
        "service.change_ticket",
        {"body": "Sneaky reply", "kind": "note"},
        needs="see",
    ),
    Write(
        "ticket",
        "status",
        "/service/tickets/{ticket}/status/",
        "service.change_ticket",
        lambda w: {"status": "closed", "version": w.ticket.version},
    ),
    Write(
        "ticket",
        "assign",
        "/service/tickets/{ticket}/assign/",
        "service.change_ticket",
        lambda w: {"assignee": w.users[MANAGER_A].pk, "version": w.ticket.version},
    ),
    Write(
        "ticket",
        "bulk_close",
        "/service/tickets/bulk/",
        "service.change_ticket",
        lambda w: {"action": "close", "selected": f"{w.ticket.pk}:{w.ticket.version}"},
        bulk=True,
    ),
    Write(
        "chat_room",
        "post",
        "/collaboration/chat/{chat_room}/messages/",
        "collaboration.add_chatmessage",
        {"body": "Sneaky message"},
        needs="see",
    ),
    Write(
        "chat_message",
        "edit",
        "/collaboration/chat/messages/{chat_message}/edit/",
        "collaboration.change_chatmessage",
        {"body": "Overwritten"},
        control=OWNER,
    ),
    Write(
        "chat_message",
        "delete",
        "/collaboration/chat/messages/{chat_message}/delete/",
        "collaboration.change_chatmessage",
        control=OWNER,
    ),
    Write(
        "attachment",
        "delete",
        "/collaboration/files/{attachment}/delete/",
        "collaboration.delete_attachment",
    ),
    Write(
        "event",
        "edit",
        "/collaboration/calendar/events/{event}/edit/",
        "collaboration.change_event",
        {"title": "Overwritten"},
        prefill="/collaboration/calendar/events/{event}/edit/",
    ),
    Write(
        "event",
        "cancel",
        "/collaboration/calendar/events/{event}/cancel/",
        "collaboration.change_event",
    ),
    Write(
        "campaign",
        "edit",
        "/sales/campaigns/{campaign}/edit/",
        "sales.change_campaign",
        {"name": "Overwritten"},
        prefill="/sales/campaigns/{campaign}/edit/",
    ),
    Write("campaign", "delete", "/sales/campaigns/{campaign}/delete/", "sales.delete_campaign"),
    Write(
        "campaign",
        "add_member",
        "/sales/campaigns/{campaign}/members/add/",
        "sales.add_campaignmember",
        lambda w: {"customer": w.twin.pk},
    ),
    Write(
        "segment",
        "edit",
        "/customers/segments/{segment}/edit/",
        "customers.change_segment",
        {"name": "Overwritten"},
        prefill="/customers/segments/{segment}/edit/",
    ),
    Write("segment", "delete", "/customers/segments/{segment}/delete/", "customers.delete_segment"),
]


# The API: every unsafe method of every route that takes the id of one of the world's kinds,
# found from the router and each app's own paths, so a new route is covered as it appears.
API_BASENAMES = {
    "customer": "customer",
    "api-customer-merge": "customer",
    "api-customer-erase": "customer",
    "company": "company",
    "order": "order",
    "interaction": "interaction",
    "need": "need",
    "deal": "deal",
    "task": "task",
    "ticket": "ticket",
    "ticket-message": "ticket_message",
    "chat-room": "chat_room",
    "chat-room-messages": "chat_room",
    "chat-message": "chat_message",
    "attachment": "attachment",
    "event": "event",
    "campaign": "campaign",
    "segment": "segment",
}
# What each write sends, by "METHOD path-after-the-id": one the control's role may make.
API_DATA: dict[str, Callable | dict] = {
    "patch customers/": {"name": "Overwritten"},
    "patch companies/": {"name": "Overwritten"},
    "patch needs/": {"text": "Overwritten"},
    "patch deals/": lambda w: {"name": "Overwritten", "version": version(w, "deal")},
    "patch tasks/": lambda w: {"title": "Overwritten", "version": version(w, "task")},
    "patch tickets/": lambda w: {"subject": "Overwritten", "version": version(w, "ticket")},
    "patch chat/messages/": {"body": "Overwritten"},
    "patch events/": lambda w: {"title": "Overwritten", "version": version(w, "event")},
    "patch campaigns/": {"name": "Overwritten"},
    "patch segments/": {"name": "Overwritten"},
    "post customers/merge/": lambda w: {"merged": w.twin.pk},
    "post customers/erase/": {"reason": "asked"},
    "post orders/status/": {"status": "refunded"},
    "post deals/move/": lambda w: {"stage": w.won_stage.pk, "version": version(w, "deal")},
    "post tasks/comments/": {"body": "Sneaky comment"},
    "post tickets/assign/": lambda w: {
        "assignee": w.users[MANAGER_A].pk,
        "version": version(w, "ticket"),
    },
    "post tickets/status/": lambda w: {"status": "closed", "version": version(w, "ticket")},
    "post tickets/resolve/": lambda w: {"version": version(w, "ticket")},
    "post events/cancel/": lambda w: {"version": version(w, "event")},
    "post tickets/reply/": {"body": "Sneaky reply", "kind": "note"},
    "post chat/rooms/messages/": {"body": "Sneaky message"},
    "post chat/rooms/members/": lambda w: {"users": [w.users[REP_B].pk]},
    "post events/respond/": {"response": "accepted"},
    "post campaigns/add-segment-members/": lambda w: {"segment": w.segment.pk},
}
# Writes anyone who sees the record may make; and the caller's own membership of a room.
API_SEE_ONLY = {
    "post tasks/comments/",
    "post tickets/reply/",
    "post chat/rooms/messages/",
    "post chat/rooms/read/",
    "post chat/rooms/leave/",
    "post events/respond/",
}
# Writes whose effect lies outside the snapshot, or which the team A manager may not make.
API_CONTROL = {
    "post customers/erase/": ADMIN,
    "patch chat/messages/": OWNER,
    "delete chat/messages/": OWNER,
    "post chat/rooms/read/": None,
    "post chat/rooms/leave/": None,
    "post events/respond/": None,
    "post tickets/reopen/": None,
    "post tasks/reopen/": None,
}
VIEWSETS = {basename: viewset for _prefix, viewset, basename in router.registry}


def _api_key(method: str, template: str) -> str:
    path = template.removeprefix("/api/v1/")
    return f"{method} {path.replace('{pk}/', '')}"


def _api_perm(method: str, route_name: str, kind: str) -> str:
    """The permission the API's model permissions ask of `method` on the route's model."""
    viewset = VIEWSETS.get(route_name)
    queryset = getattr(viewset, "queryset", None)
    model = queryset.model if queryset is not None else Customer  # the customers' own paths
    opts = model._meta
    permission = DjangoModelPermissions.perms_map[method.upper()][0]
    return permission % {"app_label": opts.app_label, "model_name": opts.model_name}


def _api_writes() -> list[Write]:
    writes = []
    for route in ROUTES:
        kind = API_BASENAMES.get(route.name)
        if kind is None:
            continue
        viewset = VIEWSETS.get(route.name)
        methods = [m for m in route.methods if m != "get"]
        if route.template.endswith("/{pk}/") and viewset is not None and hasattr(viewset, "update"):
            methods.append("put")
        for method in methods:
            key = _api_key(method, route.template)
            writes.append(
                Write(
                    kind,
                    f"api_{method}_{key.split(' ', 1)[1].rstrip('/').replace('/', '_')}",
                    route.template.replace("{pk}", f"{{{kind}}}"),
                    _api_perm(method, route.name, kind) if route.template.endswith("{pk}/") else "",
                    API_DATA.get(key, {}),
                    method=method,
                    api=True,
                    needs="see" if key in API_SEE_ONLY else "edit",
                    control=API_CONTROL.get(key, MANAGER_A),
                    effect=key not in API_CONTROL or API_CONTROL[key] is not None,
                )
            )
    return writes


API = _api_writes()
WRITES = PAGES + API


def _fill(template: str, world) -> str:
    return template.format(**_ids(world))


def _payload(write: Write, world, client) -> dict:
    data = write.data(world) if callable(write.data) else dict(write.data)
    if write.prefill:
        data = form_values(client, _fill(write.prefill, world)) | data
    return data


# Fields OPTIONS shows as writable on PUT that only a create may set (DRF describes PUT with the
# create's serializer).
CREATE_ONLY = {"customer"}


def _put_payload(client, url: str, data: dict) -> dict:
    """A whole record for PUT: what a GET answers, less what may not be written on an update."""
    current = client.get(url).json()
    options = client.options(url).json().get("actions", {}).get("PUT", {})
    writable = {name for name, meta in options.items() if not meta.get("read_only")} - CREATE_ONLY
    return {name: value for name, value in current.items() if name in writable} | data


def send(write: Write, world, client, control_client):
    url = _fill(write.url, world)
    if write.method == "put":
        data = _put_payload(control_client, url, _payload(write, world, control_client))
    else:
        data = _payload(write, world, control_client)
    if write.multipart:
        data = {name: _upload() if value == "upload" else value for name, value in data.items()}
        return client.post(url, data)
    if write.api:
        return getattr(client, write.method)(url, data, content_type="application/json")
    return client.post(url, data)


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("sneaky.txt", b"sneaky", content_type="text/plain")


def expected_refusal(write: Write, persona: str, world) -> set[int]:
    user = world.users[persona]
    if write.bulk:
        # A list action names several records: one out of reach stops it with a message.
        return {302, 403, 404}
    if not sees(write.kind, persona):
        return {404} if write.perm and user.has_perm(write.perm) else {403, 404}
    return {403}


# Cases not settled yet, each to be taken off as it is: strict, so one that starts to pass fails.
# The controls' requests are not yet valid for these forms and payloads (so their refusals prove
# less than the others), and these refusals answer otherwise than the rule's 403/404 while
# changing nothing (a redirect with a message, a 403 where 404 is due, a 400 before the check).
UNSETTLED_REFUSALS = {
    "campaign-api_patch_campaigns-agent",
    "campaign-api_patch_campaigns-rep_b",
    "chat_message-edit-reader",
    "chat_message-delete-reader",
    "deal-api_patch_deals-agent",
    "customer-api_put_customers-agent",
    "campaign-api_put_campaigns-agent",
    "deal-api_put_deals-agent",
    "deal-api_put_deals-reader",
    "campaign-api_put_campaigns-rep_b",
    "chat_room-api_post_chat_rooms_members-reader",
    "segment-edit-reader",
}
UNSETTLED_CONTROLS = {
    "campaign-api_put_campaigns",
    "company-api_put_companies",
    "event-cancel",
    "need-api_put_needs",
    "customer-add_order",
    "customer-api_put_customers",
    "event-edit",
    "ticket-bulk_close",
    "customer-upload",
    "campaign-add_member",
    "campaign-api_post_campaigns_add-segment-members",
    "customer-add_interaction",
    "segment-edit",
    "deal-api_put_deals",
    "chat_room-api_post_chat_rooms_members",
}
UNSETTLED_CREATES = {
    "deal-chat_rooms",
    "campaign-campaign-members",
    "customer-interactions",
    "customer-orders",
}
UNSETTLED = pytest.mark.xfail(strict=True, reason="unsettled case of the write matrix")


def _marks(case_id: str, unsettled) -> list:
    return [UNSETTLED] if case_id in unsettled else []


def cases():
    for write in WRITES:
        for persona in WRITERS:
            if write.needs == "see" and sees(write.kind, persona):
                continue
            case_id = f"{write.kind}-{write.name}-{persona}"
            yield pytest.param(
                write, persona, id=case_id, marks=_marks(case_id, UNSETTLED_REFUSALS)
            )


@pytest.mark.parametrize(("write", "persona"), list(cases()))
def test_a_write_is_refused_to_whom_the_rule_does_not_grant_it(
    write, persona, write_world, client_as
):
    # given a record of team A, and someone outside it
    world = write_world
    before = snapshot(world)

    # when they try to change it
    response = send(write, world, client_as(persona), client_as(write.control or MANAGER_A))

    # then nothing changed, and they are refused as the rule says
    assert_unchanged(before, snapshot(world))
    if persona == ANONYMOUS:
        if write.api:
            assert response.status_code == 401, response.content
        else:
            assert response.status_code == 302, response.content
            assert response["Location"].startswith(LOGIN)
    else:
        expected = expected_refusal(write, persona, world)
        assert response.status_code in expected, (response.status_code, response.content[:500])


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            w, id=f"{w.kind}-{w.name}", marks=_marks(f"{w.kind}-{w.name}", UNSETTLED_CONTROLS)
        )
        for w in WRITES
        if w.control
    ],
)
def test_the_write_works_for_whom_the_rule_grants_it(write, write_world, client_as):
    # given a record of team A, and someone allowed to change it
    world = write_world
    before = snapshot(world)
    client = client_as(write.control)

    # when they make the same write
    response = send(write, world, client, client)

    # then it goes through: the matrix's refusals are the rule's, not a broken request's
    assert response.status_code < 400, (response.status_code, response.content[:500])
    if write.effect:
        assert snapshot(world) != before, "the write changed nothing"


# Creates that name a record one may not see (a deal on another team's customer, a task on their
# deal): refused as if it did not exist, and nothing is created.
CREATES = [
    ("customer", "/api/v1/deals/", lambda w: {"name": "Sneaky", "customer": w.customer.pk}),
    ("customer", "/api/v1/tickets/", lambda w: {"subject": "Sneaky", "customer": w.customer.pk}),
    (
        "customer",
        "/api/v1/orders/",
        lambda w: {"customer": w.customer.pk, "number": "ORD-SNEAKY", "total_amount": "1.00"},
    ),
    (
        "customer",
        "/api/v1/interactions/",
        lambda w: {
            "customer": w.customer.pk,
            "kind": "call",
            "subject": "Sneaky",
            "occurred_at": timezone.now().isoformat(),
        },
    ),
    ("customer", "/api/v1/needs/", lambda w: {"customer": w.customer.pk, "text": "Sneaky"}),
    (
        "customer",
        "/api/v1/emails/",
        lambda w: {
            "customer": w.customer.pk,
            "to": ["sneaky@example.com"],
            "subject": "Sneaky",
            "body": "Sneaky",
        },
    ),
    (
        "customer",
        "/api/v1/relationships/",
        lambda w: {"from_customer": w.customer.pk, "to_customer": w.twin.pk, "kind": "colleague"},
    ),
    (
        "customer",
        "/api/v1/shares/",
        lambda w: {
            "type": "customers.customer",
            "id": w.customer.pk,
            "user": w.users[REP_B].pk,
            "access": "edit",
        },
    ),
    (
        "deal",
        "/api/v1/tasks/",
        lambda w: {
            "title": "Sneaky",
            "related_type": "sales.deal",
            "related_id": w.deal.pk,
        },
    ),
    (
        "customer",
        "/api/v1/events/",
        lambda w: {
            "title": "Sneaky",
            "starts_at": timezone.now().isoformat(),
            "ends_at": (timezone.now() + timezone.timedelta(hours=1)).isoformat(),
            "related_type": "customers.customer",
            "related_id": w.customer.pk,
        },
    ),
    (
        "campaign",
        "/api/v1/campaign-members/",
        lambda w: {"campaign": w.campaign.pk, "customer": w.twin.pk},
    ),
    (
        "deal",
        "/api/v1/chat/rooms/",
        lambda w: {"kind": "record", "type": "sales.deal", "id": w.deal.pk},
    ),
]


def _create_id(target: str, url: str) -> str:
    return f"{target}-{re.sub(r'[^a-z-]+', '_', url.removeprefix('/api/v1/')).strip('_')}"


@pytest.mark.parametrize(
    ("target", "url", "data", "persona"),
    [
        pytest.param(target, url, data, persona, id=f"{_create_id(target, url)}-{persona}")
        for target, url, data in CREATES
        for persona in WRITERS
        if not sees(target, persona)
    ],
)
def test_a_create_naming_a_record_one_may_not_see_is_refused(
    target, url, data, persona, write_world, client_as
):
    # given a record of team A someone outside it may not see
    world = write_world
    before = snapshot(world)

    # when they create a record that points at it
    response = client_as(persona).post(url, data(world), content_type="application/json")

    # then it is refused, and nothing was created
    if persona == ANONYMOUS:
        assert response.status_code == 401, response.content
    else:
        assert response.status_code in (400, 403, 404), (response.status_code, response.content)
        if response.status_code == 400:
            fields = response.json()["error"]["fields"]
            assert set(fields) & set(data(world)), fields
    assert_unchanged(before, snapshot(world))


@pytest.mark.parametrize(
    ("target", "url", "data"),
    [
        pytest.param(
            *create,
            id=_create_id(*create[:2]),
            marks=_marks(_create_id(*create[:2]), UNSETTLED_CREATES),
        )
        for create in CREATES
    ],
)
def test_the_create_works_for_whom_the_rule_grants_it(target, url, data, write_world, client_as):
    # given  # when team A's manager creates the same record
    response = client_as(MANAGER_A).post(url, data(write_world), content_type="application/json")

    # then it is created: the refusals above are the rule's
    assert response.status_code == 201, response.content
