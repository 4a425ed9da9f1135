"""The access-control matrix over every read surface reached over HTTP: for each kind of record
team A's rep owns, and each persona (world.PERSONAS), each page, API call, search, export,
dashboard, timeline, download and admin page shows the record exactly when world.EXPECTED says
so. A case is named kind-surface-persona.

Every response is also searched for the marker words of every record the persona may not see, so
a record leaking through a surface meant for another kind (a deal's name on a dashboard, a
ticket on the customer timeline) fails too.
"""

import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from crm.accounts.selectors import user_is_admin
from tests.customers.export_downloads import export_download
from tests.security.world import (
    AGENT,
    ANONYMOUS,
    KINDS,
    MANAGER_A,
    MANAGER_B,
    MARKERS,
    PERSONAS,
    SIGNED_IN,
    may_read_name,
    may_see,
)

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
# A record the caller may not see answers as if it did not exist; a page of a kind the caller
# holds no permission for answers 403 before looking for the record.
REFUSED = (403, 404)


@dataclass(frozen=True)
class Surface:
    kind: str
    name: str
    url: str  # formatted with the world's record ids: {customer}, {deal}...
    single: bool = False  # shows one record: refused outright when it may not be seen
    control: bool = True  # team A's manager's response shows the record's marker
    shown_status: int = 200  # how the page answers one who may see the record


# Browser pages: each record's own page, and the lists it is on.
PAGES = [
    Surface("customer", "detail_page", "/customers/{customer}/", single=True),
    Surface("company", "detail_page", "/customers/companies/{company}/", single=True),
    Surface("order", "detail_page", "/customers/orders/{order}/", single=True),
    Surface("deal", "detail_page", "/sales/deals/{deal}/", single=True),
    Surface("task", "detail_page", "/collaboration/tasks/{task}/", single=True),
    Surface("ticket", "detail_page", "/service/tickets/{ticket}/", single=True),
    Surface("chat_room", "detail_page", "/collaboration/chat/{chat_room}/", single=True),
    Surface("chat_message", "history", "/collaboration/chat/{chat_room}/history/", single=True),
    Surface("event", "detail_page", "/collaboration/calendar/events/{event}/", single=True),
    Surface("campaign", "detail_page", "/sales/campaigns/{campaign}/", single=True),
    Surface(
        "attachment",
        "record_files",
        "/collaboration/records/customers.customer/{customer}/files/",
        single=True,
    ),
    Surface(
        "chat_room",
        "record_discussion",
        "/collaboration/records/sales.deal/{deal}/discussion/",
        single=True,
        control=False,
        shown_status=302,
    ),
    Surface("customer", "list_page", "/customers/"),
    Surface("company", "list_page", "/customers/companies/"),
    Surface("interaction", "list_page", "/customers/interactions/"),
    Surface("deal", "list_page", "/sales/deals/"),
    Surface("deal", "board", "/sales/board/"),
    Surface("task", "list_page", "/collaboration/tasks/?tab=team"),
    Surface("task", "board", "/collaboration/tasks/board/?scope=team"),
    Surface("ticket", "list_page", "/service/tickets/?queue=team"),
    Surface("campaign", "list_page", "/sales/campaigns/"),
    Surface("campaign", "report", "/sales/campaigns/report/"),
    Surface("score", "list_page", "/analytics/scores/"),
]


# Searched for a part of the marker: the page repeats the query, so the whole word would be found.
def _part(kind: str) -> str:
    return MARKERS[kind][:-2]


SEARCHES = [
    Surface("customer", "search", "/customers/?q=" + _part("customer")),
    Surface("customer", "picker", "/customers/pickers/customers/?q=" + _part("customer")),
    Surface("company", "search", "/customers/companies/?q=" + _part("company")),
    Surface("company", "picker", "/customers/pickers/companies/?q=" + _part("company")),
    Surface("customer", "guest_search", "/collaboration/calendar/guests/?q=" + _part("customer")),
    Surface("campaign", "search", "/sales/campaigns/?q=" + _part("campaign")),
    Surface("customer", "api_search", "/api/v1/customers/?search=" + _part("customer")),
    Surface("company", "api_search", "/api/v1/companies/?search=" + _part("company")),
]

DOWNLOADS = [
    Surface(
        "attachment",
        "download",
        "/collaboration/files/{attachment}/download/",
        single=True,
        control=False,
    ),
]

# The API: each resource's detail and list.
API_RESOURCES = {
    "customer": "customers",
    "company": "companies",
    "order": "orders",
    "interaction": "interactions",
    "deal": "deals",
    "task": "tasks",
    "ticket": "tickets",
    "chat_room": "chat/rooms",
    "chat_message": "chat/messages",
    "attachment": "attachments",
    "event": "events",
    "campaign": "campaigns",
}
EVENT_RANGE = f"start={date.today() - timedelta(days=7)}&end={date.today() + timedelta(days=30)}"
API = [
    Surface(kind, "api_detail", f"/api/v1/{prefix}/{{{kind}}}/", single=True)
    for kind, prefix in API_RESOURCES.items()
] + [
    Surface(kind, "api_list", f"/api/v1/{prefix}/?page_size=100")
    for kind, prefix in API_RESOURCES.items()
    if kind not in ("chat_room", "chat_message", "attachment", "event")
]
API += [
    # The caller's own rooms: team A's manager has not joined the deal's discussion.
    Surface("chat_room", "api_list", "/api/v1/chat/rooms/", control=False),
    Surface(
        "chat_message",
        "api_room_messages",
        "/api/v1/chat/rooms/{chat_room}/messages/",
        single=True,
    ),
    # The files of one record, so a record one may not see answers 404.
    Surface(
        "attachment",
        "api_list",
        "/api/v1/attachments/?type=customers.customer&id={customer}",
        single=True,
    ),
    Surface("event", "api_list", f"/api/v1/events/?{EVENT_RANGE}&scope=team"),
    Surface("score", "api_list", "/api/v1/scores/?model=purchase"),
]

# The admin: the change list and the change page of each kind's model.
ADMIN_MODELS = {
    "customer": "customers/customer",
    "company": "customers/company",
    "order": "customers/order",
    "interaction": "customers/interaction",
    "deal": "sales/deal",
    "task": "collaboration/task",
    "ticket": "service/ticket",
    "chat_room": "collaboration/chatroom",
    "chat_message": "collaboration/chatmessage",
    "attachment": "collaboration/attachment",
    "event": "collaboration/event",
    "campaign": "sales/campaign",
    "score": "analytics/customerscore",
}
ADMIN = [Surface(kind, "admin_list", f"/admin/{path}/") for kind, path in ADMIN_MODELS.items()] + [
    Surface(kind, "admin_change", f"/admin/{path}/{{{kind}}}/change/", single=True)
    for kind, path in ADMIN_MODELS.items()
]

SURFACES = PAGES + SEARCHES + DOWNLOADS + API + ADMIN

assert {surface.kind for surface in SURFACES} == set(KINDS)


def body_text(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if content.startswith(b"PK"):
        return xlsx_text(content)
    return content.decode("utf-8", "replace")


def xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        " ".join(str(cell) for cell in row if cell is not None)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def leaked(text: str, persona: str) -> list[str]:
    """The kinds of record `persona` may not see whose marker `text` shows."""
    allowed = {MARKERS[kind] for kind in KINDS if may_read_name(kind, persona)}
    return sorted(kind for kind in KINDS if MARKERS[kind] not in allowed and MARKERS[kind] in text)


def url_of(surface: Surface, world) -> str:
    return surface.url.format(**{kind: world.record(kind).pk for kind in KINDS})


def is_api(surface: Surface) -> bool:
    return surface.url.startswith("/api/")


def is_admin(surface: Surface) -> bool:
    return surface.url.startswith("/admin/")


def uses_admin(user) -> bool:
    """Only admins may use the Django admin (crm.admin_site): it does not apply the visibility
    rule, so staff who are not admins are sent to its login like anyone else."""
    return user.is_staff and user_is_admin(user)


def assert_anonymous_refused(surface: Surface, response) -> None:
    if is_api(surface):
        assert response.status_code == 401
    elif is_admin(surface):
        assert response.status_code == 302
        assert response["Location"].startswith(ADMIN_LOGIN)
    elif surface.name == "download":
        assert response.status_code in (302, 404)
        assert response.status_code == 404 or response["Location"].startswith(LOGIN)
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def assert_admin_refused(surface: Surface, persona: str, response, world) -> None:
    user = world.users[persona]
    if not uses_admin(user):
        assert response.status_code == 302
        assert response["Location"].startswith(ADMIN_LOGIN)
    elif surface.single:
        # The admin answers a record outside its queryset by sending back to the index.
        assert response.status_code in (*REFUSED, 302)
    else:
        assert response.status_code in (200, 403)


def case_id(surface: Surface, persona: str) -> str:
    return f"{surface.kind}-{surface.name}-{persona}"


CASES = [
    pytest.param(
        surface,
        persona,
        id=case_id(surface, persona),
    )
    for surface in SURFACES
    for persona in PERSONAS
]


@pytest.mark.parametrize(("surface", "persona"), CASES)
def test_a_surface_shows_a_record_only_to_whom_the_rule_grants_it(
    surface, persona, world, client_as
):
    # given a record of team A's rep and someone asking for it through one surface
    client = client_as(persona)

    # when
    response = client.get(url_of(surface, world))

    # then
    if persona == ANONYMOUS:
        assert_anonymous_refused(surface, response)
        return
    text = body_text(response)
    assert not leaked(text, persona), leaked(text, persona)
    if may_see(surface.kind, persona):
        if is_admin(surface) and not uses_admin(world.users[persona]):
            assert_admin_refused(surface, persona, response, world)
            return
        assert response.status_code == surface.shown_status, response.status_code
        if surface.control:
            assert MARKERS[surface.kind] in text
    elif is_admin(surface):
        assert_admin_refused(surface, persona, response, world)
    elif surface.single:
        assert response.status_code in REFUSED, response.status_code
    else:
        assert response.status_code in (200, 403), response.status_code


EXPORTS = [
    "/customers/export/csv/",
    "/customers/export/xlsx/",
    "/sales/reports/csv/?report=outcomes",
    "/sales/campaigns/report.csv",
    "/service/dashboard/trend.csv",
]
# The kind of record each export lists, which team A's manager finds in it.
EXPORT_CONTROLS = {
    "/customers/export/csv/": "customer",
    "/customers/export/xlsx/": "customer",
    "/sales/campaigns/report.csv": "campaign",
}


@pytest.mark.parametrize("persona", SIGNED_IN)
@pytest.mark.parametrize("url", EXPORTS)
def test_an_export_holds_only_records_the_rule_grants(url, persona, world, client_as):
    # given  # when (a customer export is a background job: start it, then download its file)
    client = client_as(persona)
    if url.startswith("/customers/export/"):
        response = export_download(client, url.split("/")[3])
    else:
        response = client.get(url)

    # then
    assert response.status_code in (200, 403), response.status_code
    text = body_text(response)
    assert not leaked(text, persona), leaked(text, persona)
    if persona == MANAGER_A and url in EXPORT_CONTROLS:
        assert response.status_code == 200
        assert MARKERS[EXPORT_CONTROLS[url]] in text


@pytest.mark.parametrize("persona", SIGNED_IN)
def test_a_customers_personal_data_export_is_refused_to_whom_may_not_see_them(
    persona, world, client_as
):
    # given  # when
    response = client_as(persona).post(f"/customers/{world.customer.pk}/privacy/export/")

    # then
    text = body_text(response)
    if persona == MANAGER_A:
        assert response.status_code in (200, 403)
    else:
        assert response.status_code in REFUSED, response.status_code
        assert not leaked(text, persona), leaked(text, persona)


# Dashboards, their charts' JSON and the other figures pages: no record the persona may not see
# is named. Team A's manager's view of the same page is the control that it names records at all.
DASHBOARDS = {
    "/": (),
    "/analytics/": (),
    "/analytics/me/": (),
    "/analytics/customers/": (),
    "/analytics/customers/top-customers/": ("customer",),
    "/analytics/charts/top_customers/": (),
    "/analytics/charts/hottest_leads/": (),
    "/service/dashboard/": (),
    "/sales/forecast/": (),
    "/sales/reports/": (),
    "/sales/my-day/": (),
    "/collaboration/activity/": (),
    "/collaboration/notifications/": (),
    "/api/v1/dashboards/manager/": (),
    "/api/v1/dashboards/rep/": (),
    "/api/v1/charts/top_customers/": (),
    "/api/v1/customer-analytics/": ("customer",),
    "/api/v1/forecasts/": (),
    "/api/v1/service-metrics/": (),
    "/api/v1/activity-events/": (),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", sorted(DASHBOARDS))
def test_a_dashboard_names_no_record_the_rule_hides(url, persona, world, client_as):
    # given  # when
    response = client_as(persona).get(url)

    # then
    if persona == ANONYMOUS:
        assert response.status_code in (302, 401)
        return
    assert response.status_code in (200, 403), response.status_code
    text = body_text(response)
    assert not leaked(text, persona), leaked(text, persona)
    if persona == MANAGER_A:
        for kind in DASHBOARDS[url]:
            assert MARKERS[kind] in text, kind


@pytest.mark.parametrize(
    "url",
    [
        "/analytics/?team={team}",
        "/analytics/customers/?team={team}",
        "/service/dashboard/?team={team}",
        "/sales/reports/?team={team}",
        "/sales/forecast/?team={team}",
        "/api/v1/dashboards/manager/?team={team}",
        "/api/v1/customer-analytics/?team={team}",
        "/api/v1/charts/pipeline/?team={team}",
        "/api/v1/service-metrics/?team={team}",
    ],
)
def test_a_dashboard_of_a_team_the_manager_does_not_manage_is_refused(url, world, client_as):
    # given manager B asking for team A's figures  # when
    response = client_as(MANAGER_B).get(url.format(team=world.team_a.pk))

    # then nothing of team A is shown, and the API says the team is not one they may pick
    text = body_text(response)
    assert not leaked(text, MANAGER_B), leaked(text, MANAGER_B)
    if url.startswith("/api/"):
        assert response.status_code in (400, 403), response.status_code


# The customer's timeline, for the agent who sees the customer but none of team A's deals,
# tickets, tasks, meetings or discussions about it.
TIMELINES = [
    "/customers/{customer}/",
    "/customers/{customer}/timeline/",
    "/api/v1/customers/{customer}/timeline/",
]
TIMELINE_KINDS = ("deal", "ticket", "task", "chat_message", "event")


@pytest.mark.parametrize("persona", [MANAGER_A, AGENT])
@pytest.mark.parametrize("url", TIMELINES)
def test_the_customer_timeline_shows_only_entries_the_rule_grants(url, persona, world, client_as):
    # given  # when
    response = client_as(persona).get(url.format(customer=world.customer.pk))

    # then
    assert response.status_code == 200
    text = body_text(response)
    shown = {kind for kind in TIMELINE_KINDS if MARKERS[kind] in text}
    if persona == MANAGER_A:
        assert {"deal", "ticket"} <= shown
    else:
        assert not shown
