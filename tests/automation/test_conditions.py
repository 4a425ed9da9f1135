"""Conditions: every operator of every kind of field, on the record and on its customer, judged
the same way on one record (a run) as in a filter (a date or schedule rule); all or any; and a
record the rule's owner may not see."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from automation.conditions import condition_clean, conditions_judge, conditions_q
from automation.models import RuleRun
from automation.record_types import record_kind
from automation.services.rules import rule_create
from automation.services.runs import rule_run_execute
from customers.services.customers import customer_create, tag_list_get_or_create
from tests.automation.factories import RuleRunFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

BIRTHDAY = date(1990, 3, 10)


def meets(record, field: str, operator: str, value=None) -> bool:
    """Whether `record` meets the condition, checked to mean the same as a filter and as a
    judgement of the one record."""
    kind = record_kind(type(record)._meta.model_name)
    condition = condition_clean(kind=kind, user=None, field=field, operator=operator, value=value)
    everything = kind.model._default_manager.all()
    [judged] = conditions_judge(
        queryset=everything, kind=kind, record_pk=record.pk, conditions=[condition]
    )
    filtered = everything.filter(
        conditions_q(kind=kind, conditions=[condition], match_any=False), pk=record.pk
    ).exists()
    assert judged == filtered, f"{field} {operator} {value!r}: judged {judged}, filter {filtered}"
    return judged


@pytest.fixture
def ada(rep, team):
    customer = CustomerFactory(
        name="Ada Lovelace",
        email="",
        city="Paris",
        tier="vip",
        source="",
        total_spend=Decimal("1500.00"),
        marketing_consent=True,
        marketing_consent_at=timezone.now(),
        birthday=BIRTHDAY,
        last_contact_at=timezone.now() - timedelta(days=3),
        owner=rep,
        team=team,
    )
    customer.tags.set(tag_list_get_or_create(names=["gold", "b2b"]))
    return customer


@pytest.fixture
def nobody(db):
    """A customer with nothing filled in: no owner, team, tags or dates."""
    return CustomerFactory(name="Nobody", owner=None, team=None)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("name", "eq", "ada  LOVELACE", True),
        ("name", "eq", "Ada", False),
        ("name", "neq", "Ada Lovelace", False),
        ("name", "neq", "Grace", True),
        ("name", "contains", "LOVE", True),
        ("name", "contains", "grace", False),
        ("name", "not_contains", "love", False),
        ("name", "not_contains", "grace", True),
        ("city", "empty", None, False),
        ("city", "not_empty", None, True),
        ("email", "empty", None, True),
        ("email", "not_empty", None, False),
    ],
)
def test_text(ada, field, operator, value, expected):
    assert meets(ada, field, operator, value) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("eq", "1500", True),
        ("eq", "1500.01", False),
        ("neq", "1500", False),
        ("neq", "12.5", True),
        ("gt", "1000", True),
        ("gt", "1500", False),
        ("gte", "1500", True),
        ("gte", "1500.5", False),
        ("lt", "1500", False),
        ("lt", "2000", True),
        ("lte", "1500", True),
        ("lte", "1499.99", False),
        ("empty", None, False),
        ("not_empty", None, True),
    ],
)
def test_number(ada, operator, value, expected):
    assert meets(ada, "total_spend", operator, value) is expected


def test_an_unset_number_is_empty(ada):
    assert meets(ada, "annual_income", "empty") is True
    assert meets(ada, "annual_income", "gt", "0") is False


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("tier", "in", ["vip"], True),
        ("tier", "in", ["normal"], False),
        ("tier", "in", ["normal", "vip"], True),
        ("tier", "not_in", ["vip"], False),
        ("tier", "not_in", ["normal"], True),
        ("tier", "empty", None, False),
        ("source", "empty", None, True),
        ("source", "not_empty", None, False),
    ],
)
def test_choice(ada, field, operator, value, expected):
    assert meets(ada, field, operator, value) is expected


def test_user_and_team(ada, nobody, rep, team, other_team, manager):
    # the owner
    assert meets(ada, "owner", "in", [str(rep.pk)]) is True
    assert meets(ada, "owner", "in", [str(manager.pk)]) is False
    assert meets(ada, "owner", "not_in", [str(rep.pk)]) is False
    assert meets(ada, "owner", "empty") is False
    assert meets(nobody, "owner", "empty") is True
    assert meets(nobody, "owner", "not_in", [str(rep.pk)]) is True  # nobody is not the rep
    # the record's team
    assert meets(ada, "team", "in", [str(team.pk)]) is True
    assert meets(ada, "team", "not_in", [str(team.pk)]) is False
    assert meets(nobody, "team", "empty") is True
    # the owner's teams (a relation with many rows)
    assert meets(ada, "owner_team", "in", [str(team.pk)]) is True
    assert meets(ada, "owner_team", "in", [str(other_team.pk)]) is False
    assert meets(ada, "owner_team", "not_in", [str(other_team.pk)]) is True
    assert meets(ada, "owner_team", "not_in", [str(team.pk)]) is False
    assert meets(ada, "owner_team", "not_empty") is True
    assert meets(nobody, "owner_team", "empty") is True


def test_a_user_who_does_not_exist_is_refused_as_a_value(ada):
    with pytest.raises(ValidationError) as error:
        meets(ada, "owner", "in", ["999999"])
    assert list(error.value.message_dict) == ["value"]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("has_any", ["gold"], True),
        ("has_any", ["Silver", "GOLD"], True),
        ("has_any", ["silver"], False),
        ("has_none", ["silver"], True),
        ("has_none", ["silver", "gold"], False),
        ("empty", None, False),
        ("not_empty", None, True),
    ],
)
def test_tags(ada, operator, value, expected):
    assert meets(ada, "tags", operator, value) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [("has_any", ["gold"], False), ("has_none", ["gold"], True), ("empty", None, True)],
)
def test_tags_on_a_record_with_none(nobody, operator, value, expected):
    assert meets(nobody, "tags", operator, value) is expected


def test_a_record_with_two_matching_tags_is_counted_once(ada):
    # given  # when
    kind = record_kind("customer")
    condition = condition_clean(
        kind=kind, user=None, field="tags", operator="has_any", value="gold, b2b"
    )
    # then
    matching = kind.model.objects.filter(
        conditions_q(kind=kind, conditions=[condition], match_any=False)
    )
    assert list(matching) == [ada]


def test_boolean(ada, nobody):
    assert meets(ada, "marketing_consent", "true") is True
    assert meets(ada, "marketing_consent", "false") is False
    assert meets(nobody, "marketing_consent", "false") is True


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        # a birthday is on its month and day, whatever the year
        ("birthday", "on", "2024-03-10", True),
        ("birthday", "on", "2024-03-11", False),
        ("birthday", "before", "1990-03-11", True),
        ("birthday", "before", "1990-03-10", False),
        ("birthday", "after", "1990-03-09", True),
        ("birthday", "after", "1990-03-10", False),
        ("birthday", "empty", None, False),
        ("birthday", "not_empty", None, True),
        # a date and time is compared by its day
        ("last_contact_at", "within_last_days", 7, True),
        ("last_contact_at", "within_last_days", 2, False),
        ("last_contact_at", "older_than_days", 2, True),
        ("last_contact_at", "older_than_days", 3, False),
        ("last_contact_at", "within_next_days", 30, False),
    ],
)
def test_date(ada, field, operator, value, expected):
    assert meets(ada, field, operator, value) is expected


def test_a_date_on_a_given_day(ada):
    day = timezone.localtime(ada.last_contact_at).date()
    assert meets(ada, "last_contact_at", "on", day.isoformat()) is True
    assert meets(ada, "last_contact_at", "on", (day + timedelta(days=1)).isoformat()) is False


def test_a_date_within_the_next_days(db):
    # given a deal expected to close in five days
    deal = DealFactory(expected_close_date=timezone.localdate() + timedelta(days=5))
    # then
    assert meets(deal, "expected_close_date", "within_next_days", 10) is True
    assert meets(deal, "expected_close_date", "within_next_days", 4) is False
    assert meets(deal, "expected_close_date", "within_last_days", 10) is False
    assert meets(deal, "expected_close_date", "older_than_days", 0) is False


def test_an_unset_date_meets_no_date_test(nobody):
    assert meets(nobody, "birthday", "empty") is True
    assert meets(nobody, "birthday", "before", "2100-01-01") is False
    assert meets(nobody, "last_contact_at", "older_than_days", 0) is False


# Fields of the customer, seen from a deal or a ticket --------------------------------------------


def test_the_customers_fields_from_a_deal_and_a_ticket(ada, nobody):
    # given
    deal = DealFactory(customer=ada)
    ticket = TicketFactory(customer=nobody)
    # then
    assert meets(deal, "customer.tier", "in", ["vip"]) is True
    assert meets(deal, "customer.tags", "has_any", ["gold"]) is True
    assert meets(deal, "customer.total_spend", "gte", "1000") is True
    assert meets(deal, "customer.marketing_consent", "true") is True
    assert meets(ticket, "customer.tier", "in", ["vip"]) is False
    assert meets(ticket, "customer.tags", "has_none", ["gold"]) is True
    assert meets(ticket, "customer.name", "eq", "nobody") is True


def test_the_assignees_team_on_a_ticket(rep, team, other_team):
    # given
    ticket = TicketFactory(assignee=rep)
    # then
    assert meets(ticket, "assignee_team", "in", [str(team.pk)]) is True
    assert meets(ticket, "assignee_team", "not_in", [str(team.pk)]) is False


# In a run: all or any, and what the owner may see -------------------------------------------------


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


VIP_IN_LONDON = [
    {"field": "tier", "operator": "in", "value": ["vip"]},
    {"field": "city", "operator": "eq", "value": "London"},
]


@pytest.mark.parametrize(("match", "status"), [("all", "skipped"), ("any", "succeeded")])
def test_a_rule_needs_all_or_any_of_its_conditions(admin_user, committed, match, status):
    # given
    rule = rule_create(
        actor=admin_user,
        name="VIPs in London",
        record_type="customer",
        trigger="created",
        match=match,
        conditions=VIP_IN_LONDON,
    )

    # when a VIP in Paris is added
    with committed():
        customer_create(actor=admin_user, name="Ada", tier="vip", city="Paris")

    # then each condition is reported
    run = rule.runs.get()
    assert run.status == status
    assert run.conditions_met is (status == "succeeded")
    assert run.condition_results == [
        {"condition": "tier is one of VIP", "met": True},
        {"condition": "city is London", "met": False},
    ]


def test_a_record_the_rules_owner_may_not_see_makes_no_run(manager, other_team_rep, committed):
    # given a manager's rule, and a customer of another team
    rule = rule_create(actor=manager, name="Welcome", record_type="customer", trigger="created")

    # when
    with committed():
        customer_create(actor=other_team_rep, name="Someone else's")

    # then the rule neither acted on it nor lists it among its runs
    assert not rule.runs.exists()


def test_a_record_out_of_the_owners_reach_by_the_time_the_rule_runs_is_skipped(
    manager, other_team_rep, other_team
):
    # given a run queued for a record its rule's owner may not see (it moved team meanwhile)
    rule = rule_create(actor=manager, name="Welcome", record_type="customer", trigger="created")
    elsewhere = CustomerFactory(owner=other_team_rep, team=other_team)
    run = RuleRunFactory(rule=rule, record_id=elsewhere.pk)

    # when
    rule_run_execute(run_id=run.pk)

    # then
    run.refresh_from_db()
    assert run.status == RuleRun.Status.SKIPPED
    assert run.conditions_met is None
    assert run.error == "The rule's owner may not see this record."
