"""Demo workflow rules: five enabled rules of the demo manager's, one for each kind of trigger a
newcomer is likely to want, built through the rule service so they are checked like any other.

Seeded last, after the records, so seeding sets none of them off; a second seed leaves the rules
of the same name alone."""

from automation.models import Rule
from automation.services.rules import rule_create
from crm.accounts.models import Team, User
from crm.demo import DemoContext
from mail.models import EmailTemplate

OWNER = "manager"
SERVICE_TEAM = "Service"
RENEWAL_TEMPLATE = "Follow-up after call"


def _notify_team_or_owner(team: Team | None, message: str) -> dict:
    if team is None:
        return {"action_type": "notify", "params": {"to": "owner", "message": message}}
    return {
        "action_type": "notify",
        "params": {"to": "team", "team": team.pk, "message": message},
    }


def demo_rules(*, team: Team | None, renewal_template: str | None) -> list[dict]:
    """The demo rules, as `rule_create` takes them."""
    renewal_actions = [
        {
            "action_type": "create_task",
            "params": {
                "title": "Renewal coming up: {{ record.name }}",
                "description": "The renewal date is in 30 days. Check the contract and call.",
                "assignee": "owner",
                "due_in_days": 7,
                "priority": "normal",
            },
        }
    ]
    if renewal_template:
        renewal_actions.append(
            {"action_type": "send_email", "params": {"template": renewal_template}}
        )
    return [
        {
            "name": "Welcome new VIP customers",
            "description": "A welcome call within two days of a customer becoming VIP.",
            "record_type": "customer",
            "trigger": "field_changed",
            "trigger_config": {"field": "tier", "value": ["vip"]},
            "actions": [
                {
                    "action_type": "create_task",
                    "params": {
                        "title": "Welcome call: {{ record.name }}",
                        "assignee": "owner",
                        "due_in_days": 2,
                        "priority": "high",
                    },
                },
                {
                    "action_type": "notify",
                    "params": {
                        "to": "owner",
                        "message": "{{ record.name }} is now a VIP customer: {{ record.url }}",
                    },
                },
            ],
        },
        {
            "name": "Missed SLA: tell the team",
            "description": "When a ticket misses a target, the service team hears of it and the "
            "ticket becomes urgent.",
            "record_type": "ticket",
            "trigger": "sla_breached",
            "trigger_config": {},
            "actions": [
                _notify_team_or_owner(
                    team, "{{ ticket.number }} missed its SLA target: {{ record.url }}"
                ),
                {"action_type": "update_field", "params": {"field": "priority", "value": "urgent"}},
            ],
        },
        {
            "name": "Unhappy survey answer",
            "description": "A rating of 2 or less: call the customer back, and say so in the "
            "ticket's discussion.",
            "record_type": "ticket",
            "trigger": "survey_answered",
            "trigger_config": {},
            "conditions": [{"field": "satisfaction_rating", "operator": "lte", "value": 2}],
            "actions": [
                {
                    "action_type": "create_task",
                    "params": {
                        "title": "Call back {{ customer.name }} about {{ ticket.number }}",
                        "assignee": "owner",
                        "due_in_days": 1,
                        "priority": "high",
                    },
                },
                {
                    "action_type": "post_chat",
                    "params": {
                        "room": "record",
                        "message": "The customer was unhappy with how this ticket went; "
                        "a call-back task is on the assignee's list.",
                    },
                },
            ],
        },
        {
            "name": "Renewal reminder",
            "description": "30 days before the date in the customer's renewal_date attribute.",
            "record_type": "customer",
            "trigger": "date_reached",
            "trigger_config": {
                "field": "custom_attribute",
                "attribute": "renewal_date",
                "days": 30,
                "direction": "before",
                "time": "08:00",
            },
            "actions": renewal_actions,
        },
        {
            "name": "Weekly check of big open deals",
            "description": "Every Monday, owners hear of their open deals of 100,000 or more.",
            "record_type": "deal",
            "trigger": "schedule",
            "trigger_config": {"frequency": "weekly", "weekday": 0, "time": "08:30"},
            "conditions": [
                {"field": "amount", "operator": "gte", "value": 100000},
                {"field": "stage_kind", "operator": "in", "value": ["open"]},
            ],
            "actions": [
                {
                    "action_type": "notify",
                    "params": {
                        "to": "owner",
                        "message": "{{ record.name }} is still open: what is the next step?",
                    },
                }
            ],
        },
    ]


def seed_automation(context: DemoContext) -> None:
    owner = User.objects.using(context.using).filter(username=OWNER).first()
    if owner is None:
        context.log("workflow rules: 0 (no demo manager)")
        return
    team = Team.objects.using(context.using).filter(name=SERVICE_TEAM).first()
    template = (
        EmailTemplate.objects.using(context.using)
        .filter(name=RENEWAL_TEMPLATE, is_active=True, context=EmailTemplate.Context.CUSTOMER)
        .values_list("name", flat=True)
        .first()
    )
    existing = set(
        Rule.objects.using(context.using).filter(owner=owner).values_list("name", flat=True)
    )
    created = 0
    for values in demo_rules(team=team, renewal_template=template):
        if values["name"] in existing:
            continue
        rule_create(actor=None, owner=owner, **values)
        created += 1
    context.log(f"workflow rules: {created}")
