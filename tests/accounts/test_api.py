"""/api/v1/me/, /api/v1/teams/, /api/v1/users/, the error shape, the schema and its docs."""

import re

import pytest
import yaml

from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_error_shape(body: dict, *, code: str) -> dict:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["fields"], dict)
    return error


def test_me_returns_the_signed_in_user(rep, team, rep_client):
    # given a rep in a team  # when
    response = rep_client.get("/api/v1/me/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": rep.pk,
        "username": "rep",
        "email": "rep@example.com",
        "display_name": "Riley Chen",
        "phone": "",
        "time_zone": "",
        "language": "",
        "roles": ["Sales rep"],
        "team_ids": [team.pk],
    }


def test_me_patch_updates_preferences(rep, rep_client):
    # given  # when
    response = rep_client.patch(
        "/api/v1/me/",
        {"display_name": "Riley", "time_zone": "Europe/London", "language": "zh-hans"},
        content_type="application/json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["display_name"] == "Riley"
    rep.refresh_from_db()
    assert (rep.display_name, rep.time_zone, rep.language) == (
        "Riley",
        "Europe/London",
        "zh-hans",
    )


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"shoe_size": 44}, "shoe_size", "Unknown field."),
        ({"username": "boss"}, "username", "This field is read-only."),
        ({"roles": ["Admin"]}, "roles", "This field is read-only."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "“Mars/Olympus” is not a known time zone."),
        ({"language": "fr"}, "language", '"fr" is not a valid choice.'),
    ],
)
def test_me_patch_refuses_bad_changes(rep, rep_client, payload, field, message):
    # given  # when
    response = rep_client.patch("/api/v1/me/", payload, content_type="application/json")

    # then the error names the field, and nothing changed
    assert response.status_code == 400
    error = assert_error_shape(response.json(), code="validation_error")
    assert error["fields"] == {field: [message]}
    rep.refresh_from_db()
    assert rep.username == "rep"
    assert rep.time_zone == ""
    assert list(rep.groups.values_list("name", flat=True)) == ["Sales rep"]


@pytest.mark.parametrize(
    "url", ["/api/v1/me/", "/api/v1/teams/", "/api/v1/users/", "/api/v1/customers/"]
)
def test_unauthenticated_requests_get_401_in_the_error_shape(client, url):
    # given someone not signed in  # when
    response = client.get(url)

    # then they are told how to authenticate (an API token as a bearer token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_error_shape(response.json(), code="not_authenticated")


def test_teams_list(rep, team, rep_client, django_assert_max_num_queries):
    # given twenty more teams, each with a manager and two members
    for _ in range(20):
        other = TeamFactory(manager=UserFactory())
        TeamMembershipFactory.create_batch(2, team=other)

    # when
    with django_assert_max_num_queries(8):
        response = rep_client.get("/api/v1/teams/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 21
    first = body["results"][0]
    assert set(first) == {"id", "name", "description", "manager", "member_ids"}
    assert all(len(row["member_ids"]) == 2 for row in body["results"][1:])
    assert all(row["manager"]["username"] for row in body["results"][1:])


def test_teams_search(rep, team, rep_client):
    # given
    TeamFactory(name="Service")

    # when
    response = rep_client.get("/api/v1/teams/", {"search": "serv"})

    # then
    assert [row["name"] for row in response.json()["results"]] == ["Service"]


def test_users_list_shows_active_users(rep, rep_client, django_assert_max_num_queries):
    # given thirty users of whom one has left
    UserFactory.create_batch(29)
    UserFactory(username="left", is_active=False)

    # when
    with django_assert_max_num_queries(6):
        response = rep_client.get("/api/v1/users/")

    # then
    assert response.status_code == 200
    usernames = [row["username"] for row in response.json()["results"]]
    assert len(usernames) == 30
    assert "left" not in usernames
    assert set(response.json()["results"][0]) == {"id", "username", "display_name", "email"}


def test_users_list_needs_the_view_permission(user_without_role, client_for):
    # given a user without any role  # when
    response = client_for(user_without_role).get("/api/v1/users/")

    # then
    assert response.status_code == 403
    assert_error_shape(response.json(), code="permission_denied")


def test_schema_documents_the_api(rep_client):
    # given  # when
    response = rep_client.get("/api/v1/schema/")

    # then
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/customers/",
        "/api/v1/customers/{id}/",
        "/api/v1/companies/",
        "/api/v1/me/",
        "/api/v1/teams/",
        "/api/v1/users/",
    ):
        assert path in schema["paths"], path


def test_schema_generation_has_no_warnings_or_errors(rep_client, capsys):
    # given  # when
    rep_client.get("/api/v1/schema/")

    # then drf-spectacular had nothing to complain about (it writes to stderr)
    captured = capsys.readouterr()
    assert "Warning" not in captured.err
    assert "Error" not in captured.err


def test_api_docs_render_without_inline_scripts(rep_client):
    # given  # when
    response = rep_client.get("/api/v1/docs/")

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger" in body.lower()
    tags = re.findall(r"<script\b[^>]*>", body)
    assert tags
    assert all("src=" in tag for tag in tags)


def test_api_root_lists_every_app_resource(rep_client):
    # given a signed-in rep, when they open the API root
    response = rep_client.get("/api/v1/", HTTP_ACCEPT="application/json")

    # then every app's collection is listed in one index
    assert response.status_code == 200
    assert {"teams", "users", "customers", "companies"} <= set(response.json())
