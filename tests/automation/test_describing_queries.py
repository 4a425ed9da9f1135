"""Rules name other records in their settings (a team to notify, a campaign, the stage a deal
moves to, a user to give a task to). The pages and the API describe each rule in sentences, and
must fetch those records a kind at a time, not once per rule or action."""

import pytest

from automation.models import RuleAction
from tests.accounts.factories import TeamFactory, UserFactory
from tests.automation.factories import RuleActionFactory, RuleFactory
from tests.sales.factories import CampaignFactory, pipeline_with_stages

pytestmark = pytest.mark.django_db


def naming_rule(owner, *, stage):
    """A deal rule whose trigger and every action name records of their own."""
    rule = RuleFactory(
        owner=owner,
        record_type="deal",
        trigger="stage_changed",
        trigger_config={"stage": stage.pk},
    )
    colleague, team = UserFactory(), TeamFactory()
    for action_type, params in [
        (RuleAction.Type.NOTIFY, {"to": "team", "team": team.pk, "message": "x"}),
        (RuleAction.Type.NOTIFY, {"to": "users", "users": [colleague.pk], "message": "x"}),
        (RuleAction.Type.CREATE_TASK, {"title": "Call", "assignee": colleague.pk}),
        (RuleAction.Type.CAMPAIGN_ADD, {"campaign": CampaignFactory().pk}),
        (RuleAction.Type.UPDATE_FIELD, {"field": "owner", "value": str(colleague.pk)}),
    ]:
        RuleActionFactory(rule=rule, action_type=action_type, params=params)
    return rule


@pytest.fixture
def stages():
    return list(pipeline_with_stages().stages.all())


@pytest.mark.parametrize("url", ["/automation/", "/api/v1/automation-rules/"])
def test_describing_more_rules_costs_no_more_queries(
    url, manager, client_for, stages, django_assert_max_num_queries
):
    # given two rules naming records, and the page's cost
    client = client_for(manager)
    for stage in stages[:2]:
        naming_rule(manager, stage=stage)
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        assert client.get(url).status_code == 200

    # when there are four more, each naming other records
    for stage in stages:
        naming_rule(manager, stage=stage)

    # then the page costs the same
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


def test_the_rule_page_describes_its_actions_in_a_query_per_kind_of_record(
    manager, client_for, stages, django_assert_max_num_queries
):
    rule = naming_rule(manager, stage=stages[1])
    client = client_for(manager)
    client.get(f"/automation/rules/{rule.pk}/")
    with django_assert_max_num_queries(60) as few:
        client.get(f"/automation/rules/{rule.pk}/")
    for _ in range(3):
        naming_rule(manager, stage=stages[0]).actions.update(rule=rule)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/automation/rules/{rule.pk}/")

    assert response.status_code == 200
    assert response.content.decode().count("Notify") >= 8
