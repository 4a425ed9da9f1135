"""The visibility rule on every API resource: a record the caller may not see answers exactly as
one that does not exist (404, same body), on its detail route, its writes and its detail actions.

The routes come from the router and each app's own paths, so a new resource fails
`test_every_detail_route_is_checked` until it is given a hidden record below, or is listed with a
reason among the resources everyone with the permission sees."""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver

from crm.accounts import roles
from crm.api_urls import APP_API_MODULES, router
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.api.records import HIDDEN, World

pytestmark = pytest.mark.django_db

# Resources with no per-record visibility: whoever holds the model's view permission sees every
# record, so there is nothing to hide.
OPEN_TO_ALL = {
    "team": "the organisation chart: everyone picks teams in forms and filters",
    "user": "colleagues: everyone picks owners and assignees",
    "product": "the product catalogue is shared",
    "pipeline": "sales process configuration, shared by every team",
    "stage": "sales process configuration, shared by every team",
    "assignment-rule": "lead routing configuration, managed by admins",
    "ticket-category": "service configuration, shared",
    "sla-policy": "service configuration, shared",
    "business-calendar": "service configuration, shared",
    "field-rule": "field rules, for admins alone, who see them all",
    "predictivemodel": "model metadata, no customer data",
    "modelversion": "model metadata, no customer data",
    "community": "aggregate groups of the social graph; members are listed through influence",
    "graph-job": "build jobs of the shared graph",
    "recommendations-job": "build jobs of the shared recommendations",
    "audit-event": "the audit log: only admins may read it, and they read every event",
    "email-template": "email templates are shared by everyone who sends mail",
    "mailbox": "mailboxes the CRM reads: only admins may see them, and they see every one",
    "set-aside-email": "mail that could not be taken in: only admins see it, all of it",
    "suppressed-address": "addresses mail may not go to: for admins alone, who see them all",
}


WRITE_METHODS = {"partial_update": "patch", "destroy": "delete"}


@dataclass(frozen=True)
class Route:
    name: str
    template: str  # the path with {pk} where the record's id goes
    methods: tuple[str, ...]


def _router_routes() -> list[Route]:
    routes = []
    for prefix, viewset, basename in router.registry:
        if not hasattr(viewset, "retrieve"):
            continue
        base = f"/api/v1/{prefix}/{{pk}}/"
        methods = (
            "get",
            *(verb for action, verb in WRITE_METHODS.items() if hasattr(viewset, action)),
        )
        routes.append(Route(basename, base, methods))
        for action in viewset.get_extra_actions():
            if action.detail:
                routes.append(
                    Route(basename, f"{base}{action.url_path}/", tuple(sorted(action.mapping)))
                )
    return routes


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _own_routes() -> list[Route]:
    routes = []
    for module in APP_API_MODULES:
        for path, pattern in _walk(module.urlpatterns):
            if "<int:" not in path:
                continue
            view = pattern.callback.view_class
            methods = tuple(m for m in ("get", "post", "patch", "delete") if hasattr(view, m))
            template = "/api/v1/" + re.sub(r"<int:\w+>", "{pk}", path)
            routes.append(Route(pattern.name, template, methods))
    return routes


ROUTES = _router_routes() + _own_routes()


def test_every_detail_route_is_checked():
    # given the routes that take a record's id  # when  # then
    unchecked = {route.name for route in ROUTES} - set(HIDDEN) - set(OPEN_TO_ALL)
    assert not unchecked, "give these a hidden record in HIDDEN, or a reason in OPEN_TO_ALL"
    assert not set(HIDDEN) & set(OPEN_TO_ALL)


@pytest.fixture
def viewers(rep, manager, client_for, team):
    marketer = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=marketer)
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    return {"rep": rep, "manager": manager, "marketer": marketer, "agent": agent}


def _call(client, method: str, url: str):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {}, content_type="application/json")


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_a_record_the_caller_may_not_see_answers_as_one_that_does_not_exist(
    name, viewers, other_team_rep, other_team, client_for
):
    # given a record of someone in another team
    record = HIDDEN[name][1](World(other=other_team_rep, other_team=other_team))
    client = client_for(viewers[HIDDEN[name][0]])
    missing = type(record)._default_manager.order_by("-pk").first().pk + 1000
    routes = [route for route in ROUTES if route.name == name]
    assert routes, f"{name} is no route of the API any more"

    for route in routes:
        for method in route.methods:
            # when the caller asks for it, and for an id that does not exist
            hidden = _call(client, method, route.template.format(pk=record.pk))
            absent = _call(client, method, route.template.format(pk=missing))

            # then both answers are the same: nothing tells them the record exists
            where = f"{method.upper()} {route.template}"
            assert hidden.status_code == absent.status_code, (where, hidden.content)
            assert hidden.content == absent.content, where
            if method == "get" and route.template.endswith("{pk}/"):
                assert hidden.status_code == 404, (where, hidden.content)

    # and the record is still there
    assert type(record)._default_manager.filter(pk=record.pk).exists()


def test_the_404_body_is_the_projects_error_shape(rep_client):
    # given  # when
    response = rep_client.get("/api/v1/customers/999999/")

    # then
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["fields"] == {}
