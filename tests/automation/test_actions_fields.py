"""The actions that change the record itself: "update a field" and "assign the owner". Both go
through the record's own service as the rule's owner, so the owner's field rules and the
record's workflow hold, and nothing is written (or announced) when the value is already so."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from automation.models import Rule, RuleRun
from automation.selectors import rule_test
from automation.services.rules import rule_create
from crm.accounts import roles
from crm.accounts.models import FieldRule
from customers.models import Customer, Tag
from customers.services.customers import customer_update
from sales.models import Assignment, AssignmentRule, Deal, DealStageChange
from service.models import Ticket, TicketStatusChange
from tests.automation.factories import rule_doing, run_on
from tests.customers.factories import CustomerFactory
from tests.sales.factories import AssignmentRuleFactory, DealFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db


def restrict_for_managers(model, field_name: str, access: str) -> None:
    FieldRule.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        field_name=field_name,
        role=Group.objects.get(name=roles.MANAGER),
        access=access,
    )


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(owner=rep, team=team, name="Ada Lovelace", tier=Customer.Tier.NORMAL)


@pytest.fixture
def deal(rep, team, customer):
    return DealFactory(owner=rep, team=team, customer=customer, name="Engine order")


@pytest.fixture
def ticket(rep, team, customer):
    return TicketFactory(
        assignee=rep, team=team, customer=customer, subject="Engine stalls", status="new"
    )


# Update a field ----------------------------------------------------------------------------------


def test_update_field_sets_a_customer_field_through_the_customer_service(manager, customer):
    # given a manager's rule that makes customers VIP
    rule = rule_doing(manager, "customer", "update_field", {"field": "tier", "value": "vip"})

    # when it runs on a customer of their team
    run = run_on(rule, customer)

    # then the customer is VIP, with the change in its history
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    customer.refresh_from_db()
    assert customer.tier == Customer.Tier.VIP
    latest = customer.history.order_by("-history_id").first()
    assert (latest.history_type, latest.tier) == ("~", Customer.Tier.VIP)
    assert run.action_results[0]["status"] == "done"
    assert "VIP" in run.action_results[0]["detail"]


def test_update_field_adds_and_removes_customer_tags(manager, customer):
    # given a customer tagged "trial", and rules adding "hot" and removing "trial"
    customer_update(actor=None, customer=customer, tags=["trial"])
    add = rule_doing(manager, "customer", "update_field", {"field": "add_tag", "value": " Hot "})
    remove = rule_doing(
        manager, "customer", "update_field", {"field": "remove_tag", "value": "trial"}
    )

    # when both run
    added = run_on(add, customer)
    removed = run_on(remove, customer)

    # then the tag names were stored in lower case, and the customer has "hot" and not "trial"
    assert add.actions.get().params == {"field": "add_tag", "value": "hot"}
    assert added.status == removed.status == RuleRun.Status.SUCCEEDED
    assert sorted(customer.tags.values_list("name", flat=True)) == ["hot"]


def test_update_field_tags_a_ticket(manager, ticket):
    # given a rule tagging tickets "escalated"
    rule = rule_doing(manager, "ticket", "update_field", {"field": "add_tag", "value": "escalated"})

    # when it runs
    run = run_on(rule, ticket)

    # then the ticket carries the tag, and its version moved on (written by the ticket service)
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert list(ticket.tags.values_list("name", flat=True)) == ["escalated"]
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version + 1


def test_update_field_moves_a_deal_to_a_stage_with_its_history(manager, deal):
    # given a rule moving deals to the next stage of their pipeline
    target = deal.pipeline.stages.exclude(pk=deal.stage_id).order_by("position").first()
    rule = rule_doing(manager, "deal", "update_field", {"field": "stage", "value": target.pk})

    # when it runs
    run = run_on(rule, deal)

    # then the deal is in that stage, and the move is in the deal's stage history
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    deal.refresh_from_db()
    assert deal.stage == target
    assert DealStageChange.objects.filter(deal=deal, to_stage=target, changed_by=manager).exists()


def test_update_field_actions_each_see_the_deal_as_the_last_left_it(manager, deal):
    # given a rule that moves the deal on, then sets its forecast category (each write checks
    # the deal's version, which the first one moves on)
    target = deal.pipeline.stages.exclude(pk=deal.stage_id).order_by("position").first()
    rule = rule_create(
        actor=manager,
        name="Commit on proposal",
        record_type="deal",
        trigger=Rule.Trigger.UPDATED,
        actions=[
            {"action_type": "update_field", "params": {"field": "stage", "value": target.pk}},
            {
                "action_type": "update_field",
                "params": {"field": "forecast_category", "value": "commit"},
            },
        ],
    )

    version = deal.version

    # when it runs
    run = run_on(rule, deal)

    # then both were done, in order, each a write of its own
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert [result["status"] for result in run.action_results] == ["done", "done"]
    deal.refresh_from_db()
    assert (deal.stage, deal.forecast_category) == (target, Deal.ForecastCategory.COMMIT)
    assert deal.version == version + 2


def test_update_field_moves_a_ticket_by_its_workflow(manager, ticket):
    # given a rule resolving tickets
    rule = rule_doing(manager, "ticket", "update_field", {"field": "status", "value": "resolved"})

    # when it runs on a new ticket
    run = run_on(rule, ticket)

    # then the ticket is resolved the way the workflow resolves: the time and the status change
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.resolved_at is not None
    assert TicketStatusChange.objects.filter(
        ticket=ticket, from_status="new", to_status="resolved", changed_by=manager
    ).exists()


def test_update_field_refused_by_the_ticket_workflow_fails_the_run(manager, ticket):
    # given a closed ticket, and a rule setting tickets pending (a closed one can only reopen)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CLOSED)
    rule = rule_doing(manager, "ticket", "update_field", {"field": "status", "value": "pending"})

    # when it runs
    run = run_on(rule, ticket)

    # then the run failed at once with the workflow's reason, and the ticket is still closed
    assert run.status == RuleRun.Status.FAILED
    assert run.attempts == 1
    assert "cannot become" in run.error
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CLOSED


def test_a_value_already_set_is_neither_written_nor_announced(
    manager, customer, django_capture_on_commit_callbacks
):
    # given a VIP customer tagged "hot", and rules making it VIP, tagging it "hot" and taking
    # off the tag "cold" it does not have
    Customer.objects.filter(pk=customer.pk).update(tier=Customer.Tier.VIP)
    customer.tags.set([Tag.objects.create(name="hot")])
    vip = rule_doing(manager, "customer", "update_field", {"field": "tier", "value": "vip"})
    tag = rule_doing(manager, "customer", "update_field", {"field": "add_tag", "value": "hot"})
    untag = rule_doing(
        manager, "customer", "update_field", {"field": "remove_tag", "value": "cold"}
    )
    before = Customer.objects.get(pk=customer.pk)
    history_count = customer.history.count()

    # when they run
    with django_capture_on_commit_callbacks() as callbacks:
        runs = [run_on(vip, customer), run_on(tag, customer), run_on(untag, customer)]

    # then the runs succeeded saying so, with no write, no history and no event (nothing
    # waits for the commit)
    for run in runs:
        assert run.status == RuleRun.Status.SUCCEEDED, run.error
        assert run.action_results[0]["detail"].endswith("already so")
    assert Customer.objects.get(pk=customer.pk).updated_at == before.updated_at
    assert customer.history.count() == history_count
    assert callbacks == []


def test_the_dry_run_says_already_so_with_nothing_to_do(manager, customer):
    # given a VIP customer and a rule making customers VIP
    Customer.objects.filter(pk=customer.pk).update(tier=Customer.Tier.VIP)
    rule = rule_doing(manager, "customer", "update_field", {"field": "tier", "value": "vip"})

    # when the rule is tested on it
    result = rule_test(rule=rule, record=Customer.objects.get(pk=customer.pk))

    # then the action has nothing to do
    assert result.actions[0]["nothing_to_do"] is True
    assert result.actions[0]["would"].endswith("already so")


def test_an_event_sets_off_the_rule_that_updates_the_field(
    manager, rep, customer, eager_tasks, django_capture_on_commit_callbacks
):
    # given a rule: when a customer's tier changes, make them a customer (status)
    rule_doing(
        manager,
        "customer",
        "update_field",
        {"field": "status", "value": "customer"},
        trigger=Rule.Trigger.FIELD_CHANGED,
        trigger_config={"field": "tier"},
    )

    # when the rep makes their customer VIP
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=rep, customer=customer, tier=Customer.Tier.VIP)

    # then the rule ran on the change, as the manager, and the customer's status is set
    run = RuleRun.objects.get()
    assert run.cause == "customer.updated"
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert Customer.objects.get(pk=customer.pk).status == Customer.Status.CUSTOMER


@pytest.mark.parametrize("access", [FieldRule.Access.READ_ONLY, FieldRule.Access.HIDDEN])
def test_a_field_the_owner_may_not_change_cannot_be_chosen(manager, access):
    # given the customer's source is read-only (or hidden) for managers
    restrict_for_managers(Customer, "source", access)

    # when a manager makes a rule setting it  # then the rule is refused on that action's field
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "update_field", {"field": "source", "value": "event"})
    assert "actions.0.field" in refused.value.message_dict


def test_a_deal_field_hidden_from_the_owner_cannot_be_chosen(manager):
    # given the deal's next step is hidden from managers
    restrict_for_managers(Deal, "next_step", FieldRule.Access.HIDDEN)

    # when a manager makes a rule setting it  # then it is refused
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "deal", "update_field", {"field": "next_step", "value": "Call"})
    assert "actions.0.field" in refused.value.message_dict


def test_a_run_refuses_a_field_the_owner_may_no_longer_change(manager, customer):
    # given a rule setting the source, made before the source became read-only for managers
    rule = rule_doing(manager, "customer", "update_field", {"field": "source", "value": "event"})
    restrict_for_managers(Customer, "source", FieldRule.Access.READ_ONLY)

    # when it runs
    run = run_on(rule, customer)

    # then it failed for good, saying why, and the customer's source is unchanged
    assert run.status == RuleRun.Status.FAILED
    assert "may not change" in run.error
    assert run.action_results[0]["status"] == "failed"
    assert Customer.objects.get(pk=customer.pk).source == customer.source


def test_the_dry_run_names_the_field_the_owner_may_not_change(manager, customer):
    # given a rule setting the source, which then became hidden from managers
    rule = rule_doing(manager, "customer", "update_field", {"field": "source", "value": "event"})
    restrict_for_managers(Customer, "source", FieldRule.Access.HIDDEN)

    # when it is tested (the rule read again, as a page reads it)
    result = rule_test(rule=Rule.objects.get(pk=rule.pk), record=customer)

    # then the action's problem says so
    assert "may not change" in result.actions[0]["problem"]


# Assign the owner --------------------------------------------------------------------------------


def test_assign_owner_by_a_fixed_rule_records_the_assignment(manager, rep_teammate, customer):
    # given a fixed assignment rule giving everything to the rep's teammate
    fixed = AssignmentRuleFactory(
        name="All to the teammate", strategy=AssignmentRule.Strategy.FIXED, owner=rep_teammate
    )
    rule = rule_doing(manager, "customer", "assign_owner", {"assignment_rule": str(fixed.pk)})

    # when it runs on the rep's customer
    run = run_on(rule, customer)

    # then the teammate owns the customer, and the assignment is recorded with its rule
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert Customer.objects.get(pk=customer.pk).owner == rep_teammate
    assignment = Assignment.objects.get()
    assert assignment.record == customer
    assert (assignment.rule, assignment.assigned_to) == (fixed, rep_teammate)


def test_assign_owner_round_robin_advances_once_per_run_and_not_in_a_dry_run(
    manager, rep, rep_teammate, team, deal, customer
):
    # given a round robin over the team (the rep, then the teammate), and a rule using it
    robin = AssignmentRuleFactory(
        name="Team robin", strategy=AssignmentRule.Strategy.ROUND_ROBIN, team=team
    )
    rule = rule_doing(manager, "deal", "assign_owner", {"assignment_rule": robin.pk})
    second = DealFactory(owner=None, team=team, customer=customer, name="Second order")
    first_in_turn, next_in_turn = sorted([rep, rep_teammate], key=lambda user: user.pk)

    # when the rule is tested twice
    tested = [rule_test(rule=rule, record=deal), rule_test(rule=rule, record=deal)]

    # then both tests name the same next owner, and the robin has not moved
    assert all(first_in_turn.label in result.actions[0]["would"] for result in tested)
    robin.refresh_from_db()
    assert robin.last_assigned is None

    # when it runs on two deals
    runs = [run_on(rule, deal), run_on(rule, second)]

    # then each deal went to the next member in turn, once each, and both are recorded
    assert [run.status for run in runs] == [RuleRun.Status.SUCCEEDED] * 2
    assert Deal.objects.get(pk=deal.pk).owner == first_in_turn
    assert Deal.objects.get(pk=second.pk).owner == next_in_turn
    robin.refresh_from_db()
    assert robin.last_assigned == next_in_turn
    assert sorted(Assignment.objects.values_list("object_id", "assigned_to")) == sorted(
        [(deal.pk, first_in_turn.pk), (second.pk, next_in_turn.pk)]
    )


def test_assign_owner_sets_a_tickets_assignee(manager, rep_teammate, ticket):
    # given a fixed rule giving tickets to the teammate
    fixed = AssignmentRuleFactory(strategy=AssignmentRule.Strategy.FIXED, owner=rep_teammate)
    rule = rule_doing(manager, "ticket", "assign_owner", {"assignment_rule": fixed.pk})

    # when it runs
    run = run_on(rule, ticket)

    # then the teammate is the assignee, and the assignment is recorded
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert Ticket.objects.get(pk=ticket.pk).assignee == rep_teammate
    assert Assignment.objects.filter(object_id=ticket.pk, assigned_to=rep_teammate).exists()


def test_assign_owner_by_a_switched_off_rule_fails_the_run(manager, rep_teammate, customer):
    # given a rule using an assignment rule that was then switched off
    fixed = AssignmentRuleFactory(strategy=AssignmentRule.Strategy.FIXED, owner=rep_teammate)
    rule = rule_doing(manager, "customer", "assign_owner", {"assignment_rule": fixed.pk})
    AssignmentRule.objects.filter(pk=fixed.pk).update(is_active=False)

    # when it runs
    run = run_on(rule, customer)

    # then it failed saying so, and nothing was assigned
    assert run.status == RuleRun.Status.FAILED
    assert "switched off" in run.error
    assert not Assignment.objects.exists()


def test_assign_owner_needs_an_existing_assignment_rule(manager):
    # when a rule names no assignment rule  # then it is refused
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "assign_owner", {"assignment_rule": "999999"})
    assert "actions.0.assignment_rule" in refused.value.message_dict
