"""Rules that wait for a date or run on a schedule: when they next look (in the site's time
zone), which records they find, once per record per day or slot, in batches, and never twice
when two beats run at once."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from automation.models import Rule, RuleRun
from automation.services.rules import rule_create, rule_set_enabled
from automation.services.runs import rules_run_due
from automation.tasks import rules_tick_task
from automation.triggers import next_slot
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
TAG_DUE = {"action_type": "update_field", "params": {"field": "add_tag", "value": "due"}}


def shanghai(day, hour, minute=0, month=3):
    """A moment in 2026, Shanghai time (2026-03-09 is a Monday)."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def site_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def time_rule(admin_user):
    """A rule due at `slot` (as if the beat last moved it there)."""

    def make(trigger, trigger_config, *, slot, record_type="customer", **values) -> Rule:
        rule = rule_create(
            actor=admin_user,
            name=values.pop("name", "Timed"),
            record_type=record_type,
            trigger=trigger,
            trigger_config=trigger_config,
            **values,
        )
        Rule.objects.filter(pk=rule.pk).update(next_run_at=slot)
        rule.refresh_from_db()
        return rule

    return make


def run_records(rule: Rule) -> list[int]:
    return sorted(rule.runs.values_list("record_id", flat=True))


# When a rule next looks --------------------------------------------------------------------------


def schedule(**config) -> Rule:
    return Rule(trigger=Rule.Trigger.SCHEDULE, trigger_config=config)


@pytest.mark.parametrize(
    ("config", "after", "expected"),
    [
        ({"frequency": "hourly", "time": "08:15"}, shanghai(10, 10, 10), shanghai(10, 10, 15)),
        ({"frequency": "hourly", "time": "08:15"}, shanghai(10, 10, 15), shanghai(10, 11, 15)),
        ({"frequency": "hourly", "time": "08:15"}, shanghai(10, 23, 20), shanghai(11, 0, 15)),
        ({"frequency": "daily", "time": "08:00"}, shanghai(10, 7, 59), shanghai(10, 8)),
        ({"frequency": "daily", "time": "08:00"}, shanghai(10, 8), shanghai(11, 8)),
        ({"frequency": "daily", "time": "08:00"}, shanghai(31, 9), shanghai(1, 8, month=4)),
        # Monday at nine, asked on a Wednesday, on the Monday before nine, and after
        ({"frequency": "weekly", "time": "09:00", "weekday": 0}, shanghai(11, 12), shanghai(16, 9)),
        ({"frequency": "weekly", "time": "09:00", "weekday": 0}, shanghai(9, 8), shanghai(9, 9)),
        ({"frequency": "weekly", "time": "09:00", "weekday": 0}, shanghai(9, 9), shanghai(16, 9)),
        ({"frequency": "weekly", "time": "09:00", "weekday": 6}, shanghai(9, 9), shanghai(15, 9)),
    ],
)
def test_next_slot(config, after, expected):
    assert next_slot(schedule(**config), after=after) == expected


def test_the_slot_is_in_the_sites_time_zone(settings):
    # given a daily rule at eight, asked just after midnight UTC
    after = datetime(2026, 3, 10, 0, 30, tzinfo=ZoneInfo("UTC"))
    rule = schedule(frequency="daily", time="08:00")

    # when the site is in Shanghai, eight o'clock is midnight UTC: the next is tomorrow
    assert next_slot(rule, after=after) == shanghai(11, 8)

    # when the site is in UTC, it is today at 08:00 UTC
    settings.TIME_ZONE = "UTC"
    assert next_slot(rule, after=after) == datetime(2026, 3, 10, 8, tzinfo=ZoneInfo("UTC"))


def test_date_rules_look_daily_and_other_rules_never():
    date_rule = Rule(trigger=Rule.Trigger.DATE_REACHED, trigger_config={"time": "07:30"})
    assert next_slot(date_rule, after=shanghai(10, 8)) == shanghai(11, 7, 30)
    assert next_slot(Rule(trigger=Rule.Trigger.CREATED), after=shanghai(10, 8)) is None


def test_a_new_time_rule_is_scheduled_and_switching_it_off_unschedules_it(admin_user):
    # given  # when
    rule = rule_create(
        actor=admin_user,
        name="Daily",
        record_type="customer",
        trigger="schedule",
        trigger_config={"frequency": "daily", "time": "08:00"},
    )
    # then
    assert timezone.now() < rule.next_run_at <= timezone.now() + timedelta(days=1)
    assert timezone.localtime(rule.next_run_at).strftime("%H:%M") == "08:00"
    rule_set_enabled(actor=admin_user, rule=rule, enabled=False)
    assert Rule.objects.get(pk=rule.pk).next_run_at is None


# Dates -------------------------------------------------------------------------------------------


def test_a_birthday_rule_finds_the_birthdays_of_the_day_whatever_the_year(time_rule, committed):
    # given
    today = CustomerFactory(name="Born today", birthday=date(1990, 3, 10))
    CustomerFactory(name="Born tomorrow", birthday=date(1990, 3, 11))
    CustomerFactory(name="No birthday", birthday=None)
    rule = time_rule(
        "date_reached",
        {"field": "birthday", "days": 0, "time": "08:00"},
        slot=shanghai(10, 8),
        actions=[TAG_DUE],
    )

    # when the beat runs a minute later
    with committed():
        created = rules_run_due(now=shanghai(10, 8, 1))

    # then
    assert created == 1
    run = rule.runs.get()
    assert (run.record_id, run.cause, run.once_key) == (today.pk, "date", "date:2026-03-10")
    assert run.status == RuleRun.Status.SUCCEEDED
    assert run.cause_data == {"slot": "2026-03-10T08:00:00+08:00"}
    assert list(today.tags.values_list("name", flat=True)) == ["due"]
    rule.refresh_from_db()
    assert rule.next_run_at == shanghai(11, 8)
    assert rule.last_run_at == shanghai(10, 8, 1)


def test_a_date_rule_runs_once_a_day_even_if_the_beat_runs_twice(time_rule, committed):
    # given
    CustomerFactory(birthday=date(1990, 3, 10))
    rule = time_rule(
        "date_reached", {"field": "birthday", "days": 0, "time": "08:00"}, slot=shanghai(10, 8)
    )
    with committed():
        rules_run_due(now=shanghai(10, 8, 1))

    # when the same slot is run again (a second beat, or the clock put back)
    Rule.objects.filter(pk=rule.pk).update(next_run_at=shanghai(10, 8))
    with committed():
        created = rules_run_due(now=shanghai(10, 8, 2))

    # then
    assert created == 0
    assert rule.runs.count() == 1


def test_a_date_rule_days_after_a_date_and_time(time_rule, committed):
    # given customers last contacted three and two days before the 10th
    three_days = CustomerFactory(last_contact_at=shanghai(7, 23, 30))
    CustomerFactory(last_contact_at=shanghai(8, 0, 30))
    rule = time_rule(
        "date_reached",
        {"field": "last_contact_at", "days": 3, "direction": "after", "time": "08:00"},
        slot=shanghai(10, 8),
    )

    # when
    with committed():
        rules_run_due(now=shanghai(10, 8))

    # then the day is the site's: 23:30 on the 7th in Shanghai, not the 7th UTC
    assert run_records(rule) == [three_days.pk]
    assert rule.runs.get().once_key == "date:2026-03-07"


def test_a_date_rule_days_before_a_deals_close(time_rule, committed):
    # given
    closing = DealFactory(expected_close_date=date(2026, 3, 17))
    DealFactory(expected_close_date=date(2026, 3, 18))
    rule = time_rule(
        "date_reached",
        {"field": "expected_close_date", "days": 7, "direction": "before"},
        slot=shanghai(10, 8),
        record_type="deal",
    )

    # when
    with committed():
        rules_run_due(now=shanghai(10, 8))

    # then
    assert run_records(rule) == [closing.pk]
    assert rule.runs.get().status == RuleRun.Status.SUCCEEDED


def test_a_date_rule_on_a_custom_attribute(time_rule, committed):
    # given renewal dates kept as ISO strings in the customers' custom attributes
    renewing = CustomerFactory(custom_attributes={"renewal_date": "2026-04-09"})
    renewing_at = CustomerFactory(custom_attributes={"renewal_date": "2026-04-09T10:00:00"})
    CustomerFactory(custom_attributes={"renewal_date": "2026-04-10"})
    CustomerFactory(custom_attributes={"plan": "gold"})
    rule = time_rule(
        "date_reached",
        {"field": "custom_attribute", "attribute": "renewal_date", "days": 30},
        slot=shanghai(10, 8),
    )

    # when
    with committed():
        rules_run_due(now=shanghai(10, 8))

    # then
    assert run_records(rule) == sorted([renewing.pk, renewing_at.pk])


def test_a_date_rule_takes_only_records_meeting_its_conditions(time_rule, committed):
    # given
    vip = CustomerFactory(birthday=date(1990, 3, 10), tier="vip")
    CustomerFactory(birthday=date(1990, 3, 10), tier="normal")
    rule = time_rule(
        "date_reached",
        {"field": "birthday", "days": 0},
        slot=shanghai(10, 8),
        conditions=[{"field": "tier", "operator": "in", "value": ["vip"]}],
    )

    # when
    with committed():
        rules_run_due(now=shanghai(10, 8))

    # then
    assert run_records(rule) == [vip.pk]


def test_a_large_day_is_taken_in_batches_over_several_beats(time_rule, committed, settings):
    # given three birthdays and batches of two
    settings.CRM_AUTOMATION_BATCH_SIZE = 2
    born = [CustomerFactory(birthday=date(1990, 3, 10)).pk for _ in range(3)]
    rule = time_rule("date_reached", {"field": "birthday", "days": 0}, slot=shanghai(10, 8))

    # when the first beat runs
    with committed():
        first = rules_run_due(now=shanghai(10, 8, 1))

    # then two are taken and the rule stays due
    assert first == 2
    rule.refresh_from_db()
    assert rule.next_run_at == shanghai(10, 8)

    # when the next beat runs
    with committed():
        second = rules_run_due(now=shanghai(10, 8, 2))

    # then the last is taken and the rule moves on to tomorrow
    assert second == 1
    assert run_records(rule) == sorted(born)
    rule.refresh_from_db()
    assert rule.next_run_at == shanghai(11, 8)


# Schedules ---------------------------------------------------------------------------------------


def test_a_schedule_runs_once_per_record_per_slot(time_rule, committed):
    # given two VIPs and a daily rule on VIPs
    vips = sorted(CustomerFactory(tier="vip").pk for _ in range(2))
    CustomerFactory(tier="normal")
    rule = time_rule(
        "schedule",
        {"frequency": "daily", "time": "08:00"},
        slot=shanghai(10, 8),
        conditions=[{"field": "tier", "operator": "in", "value": ["vip"]}],
    )

    # when the slot is run, then run again
    with committed():
        assert rules_run_due(now=shanghai(10, 8)) == 2
    Rule.objects.filter(pk=rule.pk).update(next_run_at=shanghai(10, 8))
    with committed():
        assert rules_run_due(now=shanghai(10, 8, 5)) == 0

    # then one run per record, for that slot
    assert run_records(rule) == vips
    assert set(rule.runs.values_list("once_key", "cause")) == {
        ("schedule:2026-03-10T08:00", "schedule")
    }

    # when the next day's slot comes
    with committed():
        assert rules_run_due(now=shanghai(11, 8)) == 2
    assert rule.runs.filter(once_key="schedule:2026-03-11T08:00").count() == 2


def test_a_rule_not_yet_due_or_switched_off_does_nothing(time_rule, committed, admin_user):
    # given
    CustomerFactory()
    later = time_rule("schedule", {"frequency": "hourly", "time": "00:00"}, slot=shanghai(10, 9))
    off = time_rule("schedule", {"frequency": "hourly", "time": "00:00"}, slot=shanghai(10, 8))
    Rule.objects.filter(pk=off.pk).update(is_enabled=False)

    # when
    with committed():
        created = rules_run_due(now=shanghai(10, 8, 30))

    # then
    assert created == 0
    assert not RuleRun.objects.exists()
    later.refresh_from_db()
    assert later.next_run_at == shanghai(10, 9)


def test_a_schedule_takes_only_records_its_owner_may_see(manager, team, other_team, committed):
    # given a manager's hourly rule, and customers of their team and of another
    ours = CustomerFactory(team=team)
    CustomerFactory(team=other_team)
    rule = rule_create(
        actor=manager,
        name="Hourly",
        record_type="customer",
        trigger="schedule",
        trigger_config={"frequency": "hourly", "time": "00:00"},
    )
    Rule.objects.filter(pk=rule.pk).update(next_run_at=shanghai(10, 8))

    # when
    with committed():
        rules_run_due(now=shanghai(10, 8))

    # then
    assert run_records(rule) == [ours.pk]


def test_the_beat_task_runs_the_due_rules(time_rule, committed):
    # given a schedule due a minute ago
    customer = CustomerFactory()
    rule = time_rule(
        "schedule",
        {"frequency": "hourly", "time": "00:00"},
        slot=timezone.now() - timedelta(minutes=1),
    )

    # when
    with committed():
        result = rules_tick_task.apply().get()

    # then
    assert result == {"created": 1, "requeued": 0}
    assert run_records(rule) == [customer.pk]
    assert rule.runs.get().status == RuleRun.Status.SUCCEEDED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_create_each_run_once(time_rule):
    # given a schedule with twenty records due
    customers = sorted(CustomerFactory().pk for _ in range(20))
    rule = time_rule("schedule", {"frequency": "daily", "time": "08:00"}, slot=shanghai(10, 8))
    start = threading.Barrier(2)
    created, errors = [], []

    def beat():
        try:
            start.wait()
            created.append(rules_run_due(now=shanghai(10, 8, 1)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    # when
    beats = [threading.Thread(target=beat) for _ in range(2)]
    for thread in beats:
        thread.start()
    for thread in beats:
        thread.join()

    # then
    assert errors == []
    assert sum(created) == 20
    assert run_records(rule) == customers
    assert rule.runs.filter(status=RuleRun.Status.SUCCEEDED).count() == 20
