"""SLA setup: the validation services the pages and the API share, and the manager's pages."""

from datetime import date, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from service.models import BusinessCalendar, Holiday, SlaPolicy
from service.services import sla_policies as services
from tests.service.factories import BusinessCalendarFactory, HolidayFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    return BusinessCalendar.objects.get(is_default=True)


def policy_values(calendar, **values):
    return {
        "name": "VIP urgent",
        "tier": "vip",
        "priority": "urgent",
        "first_response_minutes": 30,
        "resolution_minutes": 240,
        "warn_before_minutes": 15,
        "calendar": calendar,
        **values,
    }


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as refusal:
        call()
    return refusal.value.message_dict


# Policy rules ------------------------------------------------------------------------------------


def test_a_manager_creates_a_policy(manager, office):
    SlaPolicy.objects.filter(tier="vip", priority="urgent").update(is_active=False)

    policy = services.sla_policy_create(actor=manager, **policy_values(office))

    assert (policy.tier, policy.priority, policy.is_active) == ("vip", "urgent", True)


def test_resolution_cannot_come_before_the_first_response(manager, office):
    errors = errors_of(
        lambda: services.sla_policy_create(
            actor=manager, **policy_values(office, is_active=False, resolution_minutes=20)
        )
    )

    assert list(errors) == ["resolution_minutes"]
    assert not SlaPolicy.objects.filter(name="VIP urgent").exists()


@pytest.mark.parametrize("field", ["first_response_minutes", "resolution_minutes"])
@pytest.mark.parametrize("value", [0, -5])
def test_targets_are_positive_minutes(manager, office, field, value):
    values = policy_values(office, is_active=False, **{field: value})

    errors = errors_of(lambda: services.sla_policy_create(actor=manager, **values))

    assert field in errors


def test_a_second_active_policy_for_the_same_tier_and_priority_is_refused_clearly(manager, office):
    existing = SlaPolicy.objects.get(tier="vip", priority="urgent", is_active=True)

    errors = errors_of(lambda: services.sla_policy_create(actor=manager, **policy_values(office)))

    assert existing.name in errors["priority"][0]
    inactive = services.sla_policy_create(actor=manager, **policy_values(office, is_active=False))
    assert "priority" in errors_of(
        lambda: services.sla_policy_update(actor=manager, policy=inactive, is_active=True)
    )
    assert SlaPolicy.objects.filter(tier="vip", priority="urgent", is_active=True).count() == 1


def test_unknown_fields_are_refused(manager, office):
    errors = errors_of(
        lambda: services.sla_policy_create(actor=manager, **policy_values(office), version=3)
    )

    assert list(errors) == ["version"]


def test_agents_cannot_change_policies(agent, office):
    policy = SlaPolicy.objects.filter(is_active=True).first()

    with pytest.raises(PermissionDenied):
        services.sla_policy_create(actor=agent, **policy_values(office, is_active=False))
    with pytest.raises(PermissionDenied):
        services.sla_policy_update(actor=agent, policy=policy, first_response_minutes=1)
    with pytest.raises(PermissionDenied):
        services.sla_policy_delete(actor=agent, policy=policy)
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()


# Calendar rules ----------------------------------------------------------------------------------


def calendar_values(**values):
    return {
        "name": "Berlin office",
        "time_zone": "Europe/Berlin",
        "working_days": [1, 2, 3, 4, 5],
        "day_starts_at": time(8),
        "day_ends_at": time(17),
        **values,
    }


def test_a_calendar_needs_a_working_day_an_end_after_its_start_and_a_real_zone(manager):
    errors = errors_of(
        lambda: services.calendar_create(
            actor=manager,
            **calendar_values(working_days=[], day_ends_at=time(8), time_zone="Mars/Olympus_Mons"),
        )
    )

    assert set(errors) == {"working_days", "day_ends_at", "time_zone"}
    assert not BusinessCalendar.objects.filter(name="Berlin office").exists()


def test_weekdays_outside_one_to_seven_are_refused(manager):
    errors = errors_of(
        lambda: services.calendar_create(actor=manager, **calendar_values(working_days=[0, 8]))
    )

    assert list(errors) == ["working_days"]


def test_making_a_calendar_the_default_moves_the_flag(manager, office):
    berlin = services.calendar_create(actor=manager, **calendar_values(is_default=True))

    office.refresh_from_db()
    assert berlin.is_default
    assert not office.is_default
    assert BusinessCalendar.objects.filter(is_default=True).count() == 1


def test_the_default_flag_cannot_just_be_taken_off(manager, office):
    errors = errors_of(
        lambda: services.calendar_update(actor=manager, calendar=office, is_default=False)
    )

    assert list(errors) == ["is_default"]
    assert BusinessCalendar.objects.get(pk=office.pk).is_default


def test_a_calendar_in_use_or_the_default_is_not_deleted(manager, office):
    used = BusinessCalendarFactory()
    SlaPolicyFactory(calendar=used)

    with pytest.raises(ValidationError, match="1 SLA policy"):
        services.calendar_delete(actor=manager, calendar=used)
    with pytest.raises(ValidationError):
        services.calendar_delete(actor=manager, calendar=office)

    unused = BusinessCalendarFactory()
    services.calendar_delete(actor=manager, calendar=unused)
    assert set(BusinessCalendar.objects.values_list("pk", flat=True)) == {office.pk, used.pk}


def test_a_holiday_is_added_once_per_calendar(manager, office):
    services.holiday_add(actor=manager, calendar=office, date=date(2026, 10, 1), name="National")

    errors = errors_of(
        lambda: services.holiday_add(actor=manager, calendar=office, date=date(2026, 10, 1))
    )

    assert list(errors) == ["date"]
    assert Holiday.objects.filter(calendar=office).count() == 1


def test_agents_cannot_change_calendars(agent, office):
    holiday = HolidayFactory(calendar=office)

    with pytest.raises(PermissionDenied):
        services.calendar_update(actor=agent, calendar=office, name="Mine")
    with pytest.raises(PermissionDenied):
        services.holiday_add(actor=agent, calendar=office, date=date(2026, 5, 1))
    with pytest.raises(PermissionDenied):
        services.holiday_remove(actor=agent, holiday=holiday)


# Pages -------------------------------------------------------------------------------------------


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


def test_the_policy_page_shows_the_matrix(manager_client, django_assert_max_num_queries):
    url = reverse("service:sla_policy_list")

    with django_assert_max_num_queries(12):
        response = manager_client.get(url)

    assert response.status_code == 200
    vip_urgent = SlaPolicy.objects.get(tier="vip", priority="urgent", is_active=True)
    assert vip_urgent.name in response.content.decode()
    assert reverse("service:sla_policy_edit", args=[vip_urgent.pk]) in response.content.decode()


def test_the_policy_list_costs_the_same_with_more_policies(
    manager_client, office, django_assert_max_num_queries
):
    for _ in range(30):
        SlaPolicyFactory(calendar=office)

    with django_assert_max_num_queries(12):
        assert manager_client.get(reverse("service:sla_policy_list")).status_code == 200


def test_agents_and_reps_do_not_get_the_sla_pages(client_for, agent, rep):
    for user in (agent, rep):
        client = client_for(user)
        assert client.get(reverse("service:sla_policy_list")).status_code == 403
        assert client.get(reverse("service:calendar_list")).status_code == 403


def test_a_manager_creates_edits_and_deletes_a_policy_through_the_pages(manager_client, office):
    SlaPolicy.objects.filter(tier="premium", priority="").delete()
    form = {
        "name": "Premium any",
        "is_active": "on",
        "tier": "premium",
        "priority": "",
        "first_response_minutes": "45",
        "resolution_minutes": "600",
        "warn_before_minutes": "30",
        "calendar": office.pk,
        "escalate_raise_priority": "on",
    }

    response = manager_client.post(reverse("service:sla_policy_create"), form)

    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="Premium any")
    assert (policy.tier, policy.priority, policy.first_response_minutes) == ("premium", "", 45)
    assert not policy.escalate_to_manager

    response = manager_client.post(
        reverse("service:sla_policy_edit", args=[policy.pk]),
        {**form, "resolution_minutes": "30"},
    )
    assert response.status_code == 200
    assert "Resolution cannot be due before the first response" in response.content.decode()
    policy.refresh_from_db()
    assert policy.resolution_minutes == 600

    response = manager_client.post(reverse("service:sla_policy_delete", args=[policy.pk]))
    assert response.status_code == 302
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_a_duplicate_policy_shows_the_error_on_the_form(manager_client, office):
    form = {
        "name": "Another VIP urgent",
        "is_active": "on",
        "tier": "vip",
        "priority": "urgent",
        "first_response_minutes": "10",
        "resolution_minutes": "60",
        "warn_before_minutes": "5",
        "calendar": office.pk,
    }

    response = manager_client.post(reverse("service:sla_policy_create"), form)

    assert response.status_code == 200
    assert "already covers" in response.content.decode()
    assert not SlaPolicy.objects.filter(name="Another VIP urgent").exists()


def test_a_manager_sets_up_a_calendar_with_holidays(manager_client):
    response = manager_client.post(
        reverse("service:calendar_create"),
        {
            "name": "Shanghai support",
            "time_zone": "Asia/Shanghai",
            "working_days": ["1", "2", "3", "4", "5", "6"],
            "day_starts_at": "08:30",
            "day_ends_at": "20:00",
        },
    )

    calendar = BusinessCalendar.objects.get(name="Shanghai support")
    assert response.status_code == 302
    assert calendar.working_days == [1, 2, 3, 4, 5, 6]
    assert (calendar.day_starts_at, calendar.day_ends_at) == (time(8, 30), time(20))

    add = reverse("service:holiday_add", args=[calendar.pk])
    manager_client.post(add, {"holiday-date": "2026-10-01", "holiday-name": "National Day"})
    response = manager_client.post(add, {"holiday-date": "2026-10-01"}, follow=True)
    assert "already a holiday" in response.content.decode()
    (holiday,) = calendar.holidays.all()
    assert holiday.name == "National Day"

    page = manager_client.get(reverse("service:calendar_edit", args=[calendar.pk]))
    assert "National Day" in page.content.decode()

    manager_client.post(reverse("service:holiday_remove", args=[holiday.pk]))
    assert not calendar.holidays.exists()

    response = manager_client.post(reverse("service:calendar_delete", args=[calendar.pk]))
    assert response.status_code == 302
    assert not BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_an_empty_matrix_cell_offers_a_policy_for_its_tier_and_priority(manager_client):
    SlaPolicy.objects.filter(tier="vip", priority="low").delete()

    page = manager_client.get(reverse("service:sla_policy_list")).content.decode()
    form = manager_client.get(
        reverse("service:sla_policy_create") + "?tier=vip&priority=low"
    ).content.decode()

    assert reverse("service:sla_policy_create") + "?tier=vip&amp;priority=low" in page
    assert '<option value="vip" selected>' in form
    assert '<option value="low" selected>' in form


def test_a_bad_calendar_shows_its_errors(manager_client):
    response = manager_client.post(
        reverse("service:calendar_create"),
        {
            "name": "Broken",
            "time_zone": "Asia/Shanghai",
            "working_days": ["1"],
            "day_starts_at": "18:00",
            "day_ends_at": "09:00",
        },
    )

    assert response.status_code == 200
    assert "must end after it starts" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Broken").exists()


def test_the_calendar_list_shows_usage(manager_client, office, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("service:calendar_list"))

    assert response.status_code == 200
    assert office.name in response.content.decode()
