"""/api/v1/sla-policies/ and /api/v1/business-calendars/: read by agents, kept by managers through
the SLA services (with their messages), and closed to sales reps."""

import pytest

from service.models import BusinessCalendar, SlaPolicy
from tests.service.factories import BusinessCalendarFactory, HolidayFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()["error"]
    assert body.keys() == {"code", "message", "fields"}
    return body


def error_fields(response) -> dict:
    body = error(response, 400)
    assert body["code"] == "validation_error"
    return body["fields"]


@pytest.fixture
def manager_client(manager, client_for):
    return client_for(manager)


def default_calendar() -> BusinessCalendar:
    return BusinessCalendar.objects.get(is_default=True)


# Policies -----------------------------------------------------------------------------------------


def test_agents_read_the_policies_from_the_migrations(agent_client):
    # given the twelve policies the data migration creates  # when
    rows = results(agent_client.get("/api/v1/sla-policies/", {"page_size": 100}))
    vip_urgent = results(
        agent_client.get("/api/v1/sla-policies/", {"tier": "vip", "priority": "urgent"})
    )

    # then
    assert len(rows) == 12
    assert len(vip_urgent) == 1
    row = vip_urgent[0]
    assert row["first_response_minutes"] <= row["resolution_minutes"]
    assert row["calendar_name"] == default_calendar().name


def test_agents_do_not_change_policies(agent_client):
    # given
    policy = SlaPolicy.objects.first()

    # when  # then
    assert error(patch(agent_client, f"/api/v1/sla-policies/{policy.pk}/", {"name": "X"}), 403)
    assert error(agent_client.delete(f"/api/v1/sla-policies/{policy.pk}/"), 403)


def test_a_sales_rep_has_no_sla_api(rep_client):
    # given  # when  # then
    assert error(rep_client.get("/api/v1/sla-policies/"), 403)
    assert error(rep_client.get("/api/v1/business-calendars/"), 403)


def test_manager_creates_changes_and_deletes_a_policy(manager_client):
    # given a premium × low slot made free
    SlaPolicy.objects.filter(tier="premium", priority="low").update(is_active=False)

    # when
    created = post(
        manager_client,
        "/api/v1/sla-policies/",
        {
            "name": "Premium low",
            "tier": "premium",
            "priority": "low",
            "first_response_minutes": 120,
            "resolution_minutes": 960,
        },
    )
    policy_id = created.json()["id"]
    changed = patch(
        manager_client, f"/api/v1/sla-policies/{policy_id}/", {"warn_before_minutes": 15}
    )
    deleted = manager_client.delete(f"/api/v1/sla-policies/{policy_id}/")

    # then the calendar defaulted to the default one
    assert created.status_code == 201, created.content
    assert created.json()["calendar"] == default_calendar().pk
    assert changed.json()["warn_before_minutes"] == 15
    assert deleted.status_code == 204
    assert not SlaPolicy.objects.filter(pk=policy_id).exists()


def test_policy_rules_answer_with_the_services_messages(manager_client):
    # given a normal × high policy from the migrations
    taken = SlaPolicy.objects.get(tier="normal", priority="high", is_active=True)
    count = SlaPolicy.objects.count()

    # when
    duplicate = post(
        manager_client,
        "/api/v1/sla-policies/",
        {
            "name": "Another",
            "tier": "normal",
            "priority": "high",
            "first_response_minutes": 60,
            "resolution_minutes": 120,
        },
    )
    backwards = patch(
        manager_client,
        f"/api/v1/sla-policies/{taken.pk}/",
        {"first_response_minutes": 600, "resolution_minutes": 60},
    )
    unknown_priority = post(
        manager_client,
        "/api/v1/sla-policies/",
        {
            "name": "Bad",
            "priority": "whenever",
            "first_response_minutes": 60,
            "resolution_minutes": 120,
        },
    )

    # then
    assert taken.name in error_fields(duplicate)["priority"][0]
    assert "resolution_minutes" in error_fields(backwards)
    assert "priority" in error_fields(unknown_priority)
    assert SlaPolicy.objects.count() == count
    taken.refresh_from_db()
    assert taken.first_response_minutes != 600


# Calendars ----------------------------------------------------------------------------------------


def test_calendars_list_their_holidays(agent_client):
    # given
    calendar = default_calendar()
    HolidayFactory(calendar=calendar, name="National Day")

    # when
    rows = results(agent_client.get("/api/v1/business-calendars/"))

    # then
    assert [row["id"] for row in rows] == [calendar.pk]
    assert rows[0]["working_days"] == [1, 2, 3, 4, 5]
    assert rows[0]["policy_count"] == SlaPolicy.objects.filter(calendar=calendar).count() > 0
    assert [holiday["name"] for holiday in rows[0]["holidays"]] == ["National Day"]


def test_manager_creates_a_calendar_and_makes_it_the_default(manager_client):
    # given
    previous = default_calendar()

    # when
    created = post(
        manager_client,
        "/api/v1/business-calendars/",
        {
            "name": "Weekend desk",
            "time_zone": "Europe/Berlin",
            "working_days": [6, 7],
            "day_starts_at": "10:00",
            "day_ends_at": "16:00",
        },
    )
    calendar_id = created.json()["id"]
    promoted = patch(
        manager_client, f"/api/v1/business-calendars/{calendar_id}/", {"is_default": True}
    )

    # then the flag moved
    assert created.status_code == 201, created.content
    assert (created.json()["is_default"], created.json()["holidays"]) == (False, [])
    assert promoted.json()["is_default"] is True
    previous.refresh_from_db()
    assert previous.is_default is False


def test_calendar_rules_answer_with_the_services_messages(manager_client):
    # given
    calendar = default_calendar()
    count = BusinessCalendar.objects.count()

    # when
    bad_zone = post(
        manager_client,
        "/api/v1/business-calendars/",
        {"name": "Moon", "time_zone": "Moon/Base"},
    )
    no_days = post(
        manager_client,
        "/api/v1/business-calendars/",
        {"name": "Never", "working_days": []},
    )
    holidays = patch(
        manager_client,
        f"/api/v1/business-calendars/{calendar.pk}/",
        {"holidays": [{"date": "2026-10-01"}]},
    )
    undefault = patch(
        manager_client, f"/api/v1/business-calendars/{calendar.pk}/", {"is_default": False}
    )
    delete_default = manager_client.delete(f"/api/v1/business-calendars/{calendar.pk}/")

    # then
    assert "time_zone" in error_fields(bad_zone)
    assert "working_days" in error_fields(no_days)
    assert error_fields(holidays) == {"holidays": ["This field is read-only."]}
    assert "is_default" in error_fields(undefault)
    assert error(delete_default, 400)
    assert BusinessCalendar.objects.count() == count
    calendar.refresh_from_db()
    assert calendar.is_default is True


def test_a_calendar_that_policies_use_is_not_deleted(manager_client):
    # given a calendar one policy uses
    calendar = BusinessCalendarFactory()
    SlaPolicyFactory(calendar=calendar)

    # when
    response = manager_client.delete(f"/api/v1/business-calendars/{calendar.pk}/")

    # then
    assert error(response, 400)["code"] == "in_use"
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_calendar_list_queries_are_bounded(agent_client, django_assert_max_num_queries):
    # given ten calendars with two holidays each
    for _ in range(10):
        calendar = BusinessCalendarFactory()
        HolidayFactory(calendar=calendar, date="2026-05-01")
        HolidayFactory(calendar=calendar, date="2026-10-01")

    # when
    with django_assert_max_num_queries(8):
        rows = results(agent_client.get("/api/v1/business-calendars/"))

    # then
    assert len(rows) == 11
