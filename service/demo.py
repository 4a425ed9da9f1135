"""Demo service data: ticket categories, holidays on the default calendar, canned responses, and
tickets for about one customer in five over the last 120 days, each with its thread, its status
history, its SLA times and, for many resolved ones, a satisfaction survey.

A ticket is drawn as a whole story: the customer writes, an agent answers, the ticket may wait
on the customer, is resolved (sometimes reopened and resolved again) and later closed. The story
is laid out on the policy calendar's business hours, squeezed to end before now when it runs
long, and the SLA fields are then computed from its moments the way the ticket services and the
SLA watch would have set them: due times pushed back by the time spent pending, business
seconds to first response and resolution, breach and escalation markers where a clock ran past
its due time. Rows go in through `crm.demo.bulk_insert` (COPY on PostgreSQL); public replies and
the customer's messages are also interactions on the customer's timeline, as they are when the
services write them.
"""

import hashlib
import random
import secrets
from bisect import bisect
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import import_module
from itertools import accumulate

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Case, CharField, Max, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from crm.accounts.models import Team, TeamMembership, User
from crm.demo import DemoContext, bulk_insert, indexes_built_after_load
from customers.models import Customer, Interaction
from service.business_hours import Schedule, add_business_seconds, business_seconds_between
from service.models import (
    BusinessCalendar,
    CannedResponse,
    Holiday,
    SatisfactionSurvey,
    SlaPolicy,
    Ticket,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
)
from service.services.sla import schedule_for, sla_policy_for
from service.services.surveys import SURVEY_DAYS
from service.services.tickets import INTERACTION_CHANNELS

Status = Ticket.Status
Kind = TicketMessage.Kind

SERVICE_TEAM = "Service"
DEMO_AGENTS = ["agent", "agent2"]
CUSTOMERS_PER_TICKET = 5
MIN_TICKETS_FROM_1000_CUSTOMERS = 300
DAYS_BACK = 120
# Tickets from which the ticket tables are loaded without their indexes and foreign keys.
INDEXES_AFTER_LOAD_FROM = 20_000
TICKETS_PER_ROUND = 20_000

# Fixed-date public holidays; those near today go on the default calendar.
HOLIDAYS = [
    ((1, 1), "New Year's Day 元旦"),
    ((5, 1), "Labour Day 劳动节"),
    ((5, 2), "Labour Day 劳动节"),
    ((10, 1), "National Day 国庆节"),
    ((10, 2), "National Day 国庆节"),
    ((10, 3), "National Day 国庆节"),
]
HOLIDAYS_DAYS_AHEAD = 60

# Per category: (type, English subject, English message, Chinese subject, Chinese message).
SUBJECTS = {
    "Billing": [
        (Ticket.Type.COMPLAINT, "Charged twice for one order",
         "My card was charged twice for the same order. Please refund one payment.",
         "订单被重复扣款", "同一个订单扣了两次款，请退还其中一笔。"),
        (Ticket.Type.INQUIRY, "Need a VAT invoice (fapiao)",
         "Could you issue a VAT invoice for last month's order?",
         "需要开具增值税专用发票", "请为上个月的订单开具增值税专用发票。"),
        (Ticket.Type.INQUIRY, "Invoice amount looks wrong",
         "The invoice total does not match the quote we accepted.",
         "发票金额有误", "发票金额和我们确认的报价不一致。"),
    ],
    "Delivery": [
        (Ticket.Type.COMPLAINT, "Order has not arrived",
         "The order was due last week and the tracking has not moved since.",
         "订单还没有到货", "订单上周就应该到了，物流信息一直没有更新。"),
        (Ticket.Type.COMPLAINT, "Parcel arrived damaged",
         "The box was crushed and two cups are broken. Photos attached.",
         "包裹破损", "外箱被压坏，两个杯子碎了，照片已附上。"),
        (Ticket.Type.INQUIRY, "Change the delivery address",
         "We moved offices; please send the order to our new address.",
         "修改收货地址", "我们公司搬家了，请把订单寄到新地址。"),
    ],
    "Product quality": [
        (Ticket.Type.COMPLAINT, "Kettle stopped heating",
         "The electric kettle stopped heating after two weeks.",
         "电水壶无法加热", "电水壶用了两周就不能加热了。"),
        (Ticket.Type.COMPLAINT, "Office chair armrest is loose",
         "One armrest wobbles even after tightening the screws.",
         "办公椅扶手松动", "拧紧螺丝后扶手还是晃动。"),
        (Ticket.Type.FEEDBACK, "Tea gift box packaging",
         "Lovely tea, but the gift box scratches easily.",
         "茶叶礼盒包装建议", "茶叶很好，但礼盒外包装容易刮花。"),
    ],
    "Account": [
        (Ticket.Type.INQUIRY, "Cannot log in to the portal",
         "The password reset email never arrives.",
         "无法登录客户门户", "一直收不到重置密码的邮件。"),
        (Ticket.Type.INQUIRY, "Add a colleague to our account",
         "Please give our new purchasing manager access to our account.",
         "为同事开通账号", "请为我们新来的采购经理开通账号。"),
    ],
    "Other": [
        (Ticket.Type.FEEDBACK, "Thanks for the quick help",
         "Just wanted to say your team was very helpful last time.",
         "感谢你们的服务", "上次你们的同事帮了很大的忙，谢谢！"),
        (Ticket.Type.INQUIRY, "Opening hours over the holiday",
         "Are you open during the public holiday?",
         "节假日营业时间", "请问节假日期间是否正常营业？"),
    ],
}  # fmt: skip
CATEGORY_WEIGHTS = [
    ("Billing", 20),
    ("Delivery", 30),
    ("Product quality", 25),
    ("Account", 15),
    ("Other", 10),
]
CHANNEL_WEIGHTS = [
    (Ticket.Channel.EMAIL, 35),
    (Ticket.Channel.PHONE, 20),
    (Ticket.Channel.CHAT, 20),
    (Ticket.Channel.WEB_FORM, 15),
    (Ticket.Channel.SOCIAL, 10),
]
PRIORITY_WEIGHTS = {
    Ticket.Type.INQUIRY: [("low", 25), ("normal", 60), ("high", 12), ("urgent", 3)],
    Ticket.Type.FEEDBACK: [("low", 60), ("normal", 38), ("high", 2)],
    Ticket.Type.COMPLAINT: [("low", 5), ("normal", 45), ("high", 35), ("urgent", 15)],
}
# Status by the ticket's age: (younger than days, weights).
STATUS_BY_AGE = [
    (1, [(Status.NEW, 45), (Status.OPEN, 35), (Status.PENDING, 12), (Status.RESOLVED, 8)]),
    (7, [(Status.NEW, 6), (Status.OPEN, 30), (Status.PENDING, 18), (Status.RESOLVED, 30),
         (Status.CLOSED, 16)]),
    (21, [(Status.OPEN, 6), (Status.PENDING, 4), (Status.RESOLVED, 25), (Status.CLOSED, 65)]),
    (None, [(Status.OPEN, 2), (Status.PENDING, 1), (Status.RESOLVED, 7), (Status.CLOSED, 90)]),
]  # fmt: skip
# The first tickets drawn take each status in turn, at an age that suits it, so that even a
# small seed shows every status: (status, youngest and oldest age in days).
SHOWCASE = [
    (Status.NEW, 0.0, 0.3),
    (Status.OPEN, 0.5, 4),
    (Status.PENDING, 1, 5),
    (Status.RESOLVED, 2, 6),
    (Status.CLOSED, 10, 60),
]
UNASSIGNED_NEW_SHARE = 0.6
FIRST_RESPONSE_BREACH_SHARE = 0.12
RESOLUTION_BREACH_SHARE = 0.1
PENDING_EPISODE_SHARE = 0.3
REOPEN_SHARE = 0.07
CLOSED_WITHOUT_RESOLVING_SHARE = 0.1
RESOLVE_WITH_REPLY_SHARE = 0.7
NOTE_SHARE = 0.25
SURVEY_SHARE = 0.6
ANSWER_SHARE = 0.5
RATING_WEIGHTS = [(5, 45), (4, 30), (3, 10), (2, 7), (1, 8)]

REPLIES_EN = [
    "Thanks for getting in touch. We are looking into this now.",
    "Sorry for the trouble. I have passed this to the team and will update you today.",
    "Thank you, we have everything we need and are on it.",
]
REPLIES_CN = [
    "您好，已收到您的反馈，我们正在处理。",
    "给您带来不便非常抱歉，我已转给相关同事，今天内给您答复。",
    "谢谢，信息已经齐全，我们马上处理。",
]
ASKS_EN = [
    "Could you send us your order number and a photo?",
    "Could you tell us which email address you registered with?",
]
ASKS_CN = ["麻烦提供一下订单号和照片。", "请告诉我们您注册时使用的邮箱。"]
ANSWERS_EN = ["Here it is: order SO-000123, photo attached.", "It is the one I am writing from."]
ANSWERS_CN = ["订单号是 SO-000123，照片已附上。", "就是我现在用的这个邮箱。"]
RESOLUTIONS_EN = [
    "This is sorted on our side. Let us know if anything else comes up.",
    "The refund has been issued; it should show within three working days.",
    "A replacement is on its way; tracking to follow by email.",
]
RESOLUTIONS_CN = [
    "问题已经处理好了，如有其他问题请随时联系我们。",
    "退款已经办理，三个工作日内到账。",
    "换货已寄出，物流单号稍后邮件通知您。",
]
REOPENS_EN = ["Sorry, it is happening again.", "I still have not received anything."]
REOPENS_CN = ["不好意思，问题又出现了。", "我还是没有收到。"]
NOTES = [
    "Checked with the warehouse: the shipment left on Monday.",
    "Finance confirmed the duplicate payment.",
    "已联系仓库确认发货情况。",
    "VIP customer, keep the manager in the loop.",
]
COMMENTS_GOOD_EN = ["Quick and friendly, thanks!", "Solved on the first call.", ""]
COMMENTS_GOOD_CN = ["处理很及时，谢谢！", "客服很耐心。", ""]
COMMENTS_BAD_EN = ["Took far too long to hear back.", "Had to explain the problem three times."]
COMMENTS_BAD_CN = ["等待时间太长了。", "问题说了好几遍才明白。"]

CANNED_RESPONSES = [
    ("Greeting",
     "Hello {customer_name},\n\nThank you for contacting us about “{ticket_subject}” "
     "({ticket_number}). We are looking into it and will get back to you shortly.\n\n"
     "{agent_name}"),
    ("问候",
     "{customer_name}您好，\n\n感谢您就“{ticket_subject}”（{ticket_number}）联系我们，"
     "我们正在处理，会尽快回复您。\n\n{agent_name}"),
    ("Ask for the order number",
     "Hello {customer_name},\n\nCould you send us your order number and, if something "
     "arrived damaged, a photo? Then we can sort this out quickly.\n\n{agent_name}"),
    ("索取订单号",
     "{customer_name}您好，\n\n麻烦提供一下订单号；如有破损，请附上照片。\n\n{agent_name}"),
    ("Delivery delay apology",
     "Hello {customer_name},\n\nWe are sorry your order is late. The courier has confirmed "
     "it will arrive within two working days.\n\n{agent_name}"),
    ("问题已解决",
     "{customer_name}您好，\n\n您的问题（{ticket_number}）已经处理完毕。如有其他问题，"
     "欢迎随时联系我们。\n\n{agent_name}"),
]  # fmt: skip

TICKET_FIELDS = [
    "number",
    "type",
    "channel",
    "subject",
    "description",
    "priority",
    "status",
    "customer_id",
    "assignee_id",
    "team_id",
    "category_id",
    "created_by_id",
    "version",
    "sla_policy_id",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "first_response_seconds",
    "resolution_seconds",
    "first_response_breached",
    "resolution_breached",
    "first_response_warned_at",
    "resolution_warned_at",
    "first_response_escalated_at",
    "resolution_escalated_at",
    "reopened_count",
    "satisfaction_rating",
    "satisfaction_comment",
    "rated_at",
    "created_at",
    "updated_at",
]
INTERACTION_FIELDS = [
    "customer_id",
    "channel",
    "direction",
    "subject",
    "summary",
    "outcome",
    "handled_by_id",
    "occurred_at",
    "related_type_id",
    "related_id",
    "created_at",
    "updated_at",
]
MESSAGE_FIELDS = ["ticket_id", "kind", "body", "author_id", "interaction_id", "created_at"]
CHANGE_FIELDS = ["ticket_id", "from_status", "to_status", "changed_by_id", "changed_at"]
SURVEY_FIELDS = [
    "ticket_id",
    "token_hash",
    "language",
    "sent_to",
    "sent_at",
    "expires_at",
    "answered_at",
    "rating",
    "comment",
]


def _picker(rng: random.Random, weighted):
    values = [value for value, _weight in weighted]
    cumulative = list(accumulate(weight for _value, weight in weighted))
    return lambda: values[bisect(cumulative, rng.random() * cumulative[-1])]


@dataclass(frozen=True, slots=True)
class _Customer:
    pk: int
    name: str
    tier: str
    chinese: bool
    language: str
    email: str
    created_at: datetime


def _customers_sample(
    *, using: str, rng: random.Random, after_pk: int, count: int
) -> list[_Customer]:
    """`count` customers with pk above `after_pk` in random order, read in one pass: distinct
    ones while there are enough, and every one at least once, some several times, when not."""
    customers = Customer.objects.using(using).filter(pk__gt=after_pk)
    total = customers.count()
    picks = dict.fromkeys(rng.sample(range(total), min(count, total)), 1)
    if count > total and total:
        for position in rng.choices(range(total), k=count - total):
            picks[position] += 1
    sample = []
    rows = (
        customers.order_by("pk")
        .values_list("pk", "name", "tier", "country", "language", "email", "created_at")
        .iterator(chunk_size=10_000)
    )
    for position, (pk, name, tier, country, language, email, created_at) in enumerate(rows):
        if position in picks:
            customer = _Customer(pk, name, tier, country == "CN", language, email, created_at)
            sample.extend([customer] * picks[position])
    rng.shuffle(sample)
    return sample


def _this_runs_customers_after(context: DemoContext) -> int:
    """The pk after which the customers this seed just created start."""
    if not context.customers:
        return 0
    newest = (
        Customer.objects.using(context.using)
        .order_by("-pk")
        .values_list("pk", flat=True)[context.customers - 1 : context.customers]
    )
    return max(0, (newest.first() or 1) - 1)


def ticket_count_for(customers: int) -> int:
    tickets = customers // CUSTOMERS_PER_TICKET
    if customers >= 1000:
        tickets = max(tickets, MIN_TICKETS_FROM_1000_CUSTOMERS)
    return min(tickets, customers)


def _default_calendar(context: DemoContext) -> BusinessCalendar:
    """The "Office hours" calendar and its SLA policies come from a migration, so they are only
    missing after a flush; they are then made again by the migration's own code."""
    calendars = BusinessCalendar.objects.using(context.using)
    calendar = calendars.filter(is_default=True).first()
    if calendar is None:
        migration = import_module("service.migrations.0002_default_calendar_and_policies")
        migration.create_defaults(global_apps, None)
        calendar = calendars.filter(is_default=True).first() or calendars.order_by("pk").first()
    return calendar


def _seed_holidays(context: DemoContext, calendar: BusinessCalendar) -> int:
    first, last = (
        context.today - timedelta(days=DAYS_BACK),
        context.today + timedelta(days=HOLIDAYS_DAYS_AHEAD),
    )
    created = 0
    for year in range(first.year, last.year + 1):
        for (month, day), name in HOLIDAYS:
            when = date(year, month, day)
            if first <= when <= last:
                _holiday, made = Holiday.objects.using(context.using).get_or_create(
                    calendar=calendar, date=when, defaults={"name": name}
                )
                created += made
    return created


def _seed_canned_responses(context: DemoContext, team: Team | None) -> int:
    owner = User.objects.using(context.using).filter(username="service_lead").first()
    created = 0
    for name, body in CANNED_RESPONSES:
        _response, made = CannedResponse.objects.using(context.using).get_or_create(
            name=name, team=team, defaults={"body": body, "owner": owner}
        )
        created += made
    return created


@dataclass(frozen=True)
class _Policy:
    pk: int
    first_response: int  # business seconds
    resolution: int
    warn_before: int
    schedule: Schedule


def _policies(using: str) -> dict[tuple[str, str], _Policy | None]:
    """The policy for each tier and priority, with its calendar's schedule built once."""
    schedules: dict[int, Schedule] = {}
    policies: dict[tuple[str, str], _Policy | None] = {}
    for tier in Customer.Tier.values:
        for priority in Ticket.Priority.values:
            policy: SlaPolicy | None = sla_policy_for(tier=tier, priority=priority)
            if policy is None:
                policies[tier, priority] = None
                continue
            if policy.calendar_id not in schedules:
                schedules[policy.calendar_id] = schedule_for(policy.calendar)
            policies[tier, priority] = _Policy(
                pk=policy.pk,
                first_response=policy.first_response_minutes * 60,
                resolution=policy.resolution_minutes * 60,
                warn_before=policy.warn_before_minutes * 60,
                schedule=schedules[policy.calendar_id],
            )
    return policies


@dataclass
class _Step:
    """One moment of a ticket's story: a message, a status move, or both."""

    at: datetime
    kind: str | None = None
    body: str = ""
    by_agent: bool = True
    move: tuple[str, str] | None = None


@dataclass
class _Drawn:
    row: list
    customer: _Customer
    steps: list[_Step]
    survey: tuple | None
    assignee_id: int | None


@dataclass
class _Totals:
    tickets: int = 0
    messages: int = 0
    interactions: int = 0
    changes: int = 0
    surveys: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _first_running(intervals: list[tuple[datetime, datetime]], moment: datetime):
    """The first instant at or after `moment` inside one of the (start, end) intervals in which
    a clock ran, or None."""
    for start, end in intervals:
        if moment < end:
            return max(start, moment)
    return None


class _TicketMaker:
    def __init__(self, context: DemoContext, rng: random.Random, now: datetime):
        using = context.using
        self.rng = rng
        self.now = now
        self.today = context.today
        self.policies = _policies(using)
        team = Team.objects.using(using).filter(name=SERVICE_TEAM).first()
        self.team_id = team.pk if team else None
        agents = User.objects.using(using).filter(username__in=DEMO_AGENTS).order_by("username")
        self.agents = [agent.pk for agent in agents]
        if self.team_id is None:
            memberships = TeamMembership.objects.using(using).filter(user__in=agents)
            self.team_id = memberships.order_by("pk").values_list("team_id", flat=True).first()
        self.categories = {
            name: TicketCategory.objects.using(using).get_or_create(name=name)[0].pk
            for name, _weight in CATEGORY_WEIGHTS
        }
        self.category = _picker(rng, CATEGORY_WEIGHTS)
        self.channel = _picker(rng, CHANNEL_WEIGHTS)
        self.priorities = {kind: _picker(rng, w) for kind, w in PRIORITY_WEIGHTS.items()}
        self.statuses = [(days, _picker(rng, w)) for days, w in STATUS_BY_AGE]
        self.rating = _picker(rng, RATING_WEIGHTS)
        self.token = secrets.token_hex(5)
        self.drawn = 0

    def _age_and_status(self, customer: _Customer) -> tuple[float, str]:
        rng = self.rng
        # Whole days since the customer joined, less one, so the ticket comes after them; a
        # count of days rather than of seconds keeps the draw independent of the clock.
        window = max(0, min(DAYS_BACK, (self.today - customer.created_at.date()).days - 1))
        if self.drawn < len(SHOWCASE):
            status, youngest, oldest = SHOWCASE[self.drawn]
            return min(window, rng.uniform(youngest, oldest)), status
        # More tickets lately than long ago, as a service desk grows with its customers.
        age = window * rng.random() ** 1.6
        for days, status in self.statuses:
            if days is None or age < days:
                return age, status()
        raise AssertionError("STATUS_BY_AGE ends with an open bucket")

    def ticket(self, customer: _Customer) -> _Drawn:
        rng, now = self.rng, self.now
        age, status = self._age_and_status(customer)
        self.drawn += 1
        category = self.category()
        kind, subject_en, body_en, subject_cn, body_cn = rng.choice(SUBJECTS[category])
        chinese = customer.chinese
        subject, description = (subject_cn, body_cn) if chinese else (subject_en, body_en)
        channel = self.channel()
        priority = self.priorities[kind]()
        policy = self.policies.get((customer.tier, priority))
        schedule = policy.schedule if policy else None
        assignee = rng.choice(self.agents) if self.agents else None
        unassigned = rng.random() < UNASSIGNED_NEW_SHARE
        if status == Status.NEW and unassigned:
            assignee = None
        created_by = assignee if channel in (Ticket.Channel.PHONE, Ticket.Channel.CHAT) else None

        # Everything the story needs is drawn here, before any clock arithmetic, so the same
        # seed draws the same tickets whatever the time of day.
        first_target = policy.first_response if policy else 8 * 3600
        resolution_target = policy.resolution if policy else 40 * 3600
        first_factor = (
            rng.uniform(1.05, 3)
            if rng.random() < FIRST_RESPONSE_BREACH_SHARE
            else rng.uniform(0.05, 0.9)
        )
        resolution_factor = (
            rng.uniform(1.05, 2.5)
            if rng.random() < RESOLUTION_BREACH_SHARE
            else rng.uniform(0.15, 0.95)
        )
        pending_episode = rng.random() < PENDING_EPISODE_SHARE
        reopened = status != Status.NEW and rng.random() < REOPEN_SHARE
        closed_directly = rng.random() < CLOSED_WITHOUT_RESOLVING_SHARE
        resolve_with_reply = rng.random() < RESOLVE_WITH_REPLY_SHARE
        note = rng.random() < NOTE_SHARE
        gaps = [timedelta(hours=rng.uniform(1, 6)) for _gap in range(2)]
        waiting = timedelta(hours=rng.uniform(2, 72))
        reopened_after = timedelta(hours=rng.uniform(4, 72))
        close_after = timedelta(days=rng.uniform(1, 7))
        texts = [
            rng.choice(REPLIES_CN if chinese else REPLIES_EN),
            rng.choice(ASKS_CN if chinese else ASKS_EN),
            rng.choice(ANSWERS_CN if chinese else ANSWERS_EN),
            rng.choice(RESOLUTIONS_CN if chinese else RESOLUTIONS_EN),
            rng.choice(REOPENS_CN if chinese else REOPENS_EN),
            rng.choice(NOTES),
        ]
        reply, ask, answer, resolution, reopen, note_text = texts
        surveyed = rng.random() < SURVEY_SHARE
        answered = rng.random() < ANSWER_SHARE
        # Customers rate a late resolution or a reopened ticket lower, as real ones do; the
        # satisfaction model has something to learn from the demo.
        rating = max(
            1, self.rating() - (2 if resolution_factor > 1 else 0) - (1 if reopened else 0)
        )
        answered_after = timedelta(hours=rng.uniform(0.5, 96))
        comment_pool = (
            (COMMENTS_GOOD_CN if chinese else COMMENTS_GOOD_EN)
            if rating >= 4
            else (COMMENTS_BAD_CN if chinese else COMMENTS_BAD_EN)
            if rating <= 2
            else [""]
        )
        comment = rng.choice(comment_pool)
        token = f"{self.token}-{self.drawn}-{rng.getrandbits(64):016x}"

        created = max(now - timedelta(days=age), min(customer.created_at, now))

        def after(moment: datetime, seconds: float) -> datetime:
            if schedule is None:
                return moment + timedelta(seconds=seconds)
            return add_business_seconds(schedule, moment, int(seconds))

        steps = [_Step(created, Kind.CUSTOMER, description, False, ("", Status.NEW))]
        if status != Status.NEW:
            responded = after(created, first_target * first_factor)
            goes_pending = status == Status.PENDING and not pending_episode
            steps.append(
                _Step(
                    responded,
                    Kind.REPLY,
                    ask if goes_pending else reply,
                    move=(Status.NEW, Status.PENDING if goes_pending else Status.OPEN),
                )
            )
            cursor = responded
            if pending_episode:
                asked = cursor + gaps[0]
                steps.append(_Step(asked, Kind.REPLY, ask, move=(Status.OPEN, Status.PENDING)))
                cursor = asked
                if status != Status.PENDING:
                    cursor = asked + waiting
                    steps.append(
                        _Step(cursor, Kind.CUSTOMER, answer, False, (Status.PENDING, Status.OPEN))
                    )
            if status != Status.PENDING and (status != Status.OPEN or reopened):
                paused = 0
                if pending_episode and schedule is not None:
                    paused = business_seconds_between(schedule, asked, cursor)
                resolved = max(
                    after(created, resolution_target * resolution_factor + paused),
                    cursor + gaps[1],
                )
                direct = status == Status.CLOSED and closed_directly and not reopened
                if direct:
                    steps.append(_Step(resolved, move=(Status.OPEN, Status.CLOSED)))
                elif resolve_with_reply:
                    steps.append(
                        _Step(resolved, Kind.REPLY, resolution, move=(Status.OPEN, Status.RESOLVED))
                    )
                else:
                    steps.append(_Step(resolved, move=(Status.OPEN, Status.RESOLVED)))
                if reopened:
                    back = resolved + reopened_after
                    steps.append(
                        _Step(back, Kind.CUSTOMER, reopen, False, (Status.RESOLVED, Status.OPEN))
                    )
                    if status != Status.OPEN:
                        resolved = after(back, first_target * first_factor) + gaps[1]
                        steps.append(
                            _Step(
                                resolved,
                                Kind.REPLY,
                                resolution,
                                move=(Status.OPEN, Status.RESOLVED),
                            )
                        )
                if status == Status.CLOSED and not direct:
                    steps.append(
                        _Step(
                            resolved + close_after, by_agent=False, move=(Status.RESOLVED, status)
                        )
                    )
        if note and assignee is not None:
            ends = steps[1].at if len(steps) > 1 else now
            steps.insert(1, _Step(created + (ends - created) / 2, Kind.NOTE, note_text))
        self._fit(steps, created)

        sla = self._sla(steps, created, status, policy, schedule)
        survey = None
        resolves = [step.at for step in steps if step.move and step.move[1] == Status.RESOLVED]
        rated = (None, "", None)
        if resolves and surveyed and customer.email:
            sent = resolves[0]
            expires = sent + timedelta(days=SURVEY_DAYS)
            answer_at = sent + answered_after
            is_answered = answered and answer_at <= now
            survey = (
                hashlib.sha256(token.encode()).hexdigest(),
                customer.language
                if customer.language in dict(settings.LANGUAGES)
                else settings.LANGUAGE_CODE,
                customer.email,
                sent,
                expires,
                answer_at if is_answered else None,
                rating if is_answered else None,
                comment if is_answered else "",
            )
            if is_answered:
                rated = (rating, comment, answer_at)
        updated = max(step.at for step in steps)
        if rated[2] is not None:
            updated = max(updated, rated[2])
        row = [
            "",  # the number, set from the id once inserted
            kind,
            channel,
            subject[:200],
            description,
            priority,
            status,
            customer.pk,
            assignee,
            self.team_id,
            self.categories[category],
            created_by,
            len(steps),
            policy.pk if policy else None,
            *sla,
            sum(1 for step in steps if step.move == (Status.RESOLVED, Status.OPEN)),
            *rated,
            created,
            updated,
        ]
        return _Drawn(row=row, customer=customer, steps=steps, survey=survey, assignee_id=assignee)

    def _fit(self, steps: list[_Step], created: datetime) -> None:
        """Squeeze a story that runs past now into the time since the ticket came in."""
        last = max(step.at for step in steps)
        end = self.now - min(timedelta(minutes=1), (self.now - created) / 10)
        if last <= end:
            return
        scale = max((end - created), timedelta(0)) / (last - created)
        for step in steps:
            step.at = created + (step.at - created) * scale
        steps.sort(key=lambda step: step.at)

    def _sla(self, steps, created, status, policy: _Policy | None, schedule: Schedule | None):
        """The SLA fields, from the story's moments, as the services and the SLA watch set
        them."""
        now = self.now

        def seconds(start: datetime, end: datetime) -> int:
            if schedule is None:
                return max(0, int((end - start).total_seconds()))
            return business_seconds_between(schedule, start, end)

        def after(moment: datetime, business: int) -> datetime:
            if schedule is None:
                return moment + timedelta(seconds=business)
            return add_business_seconds(schedule, moment, business)

        replies = [step.at for step in steps if step.kind == Kind.REPLY]
        responded = replies[0] if replies else None
        # When each clock ran: the resolution clock stops while pending and while resolved.
        running: list[tuple[datetime, datetime]] = []
        paused_seconds = 0
        paused_at = None
        resolved_at = None
        closed_at = None
        resolution_seconds = None
        resolution_due = after(created, policy.resolution) if policy else None
        since = created
        for step in steps:
            if step.move is None or step.move[0] == "":
                continue
            before, to = step.move
            if to in (Status.PENDING, Status.RESOLVED, Status.CLOSED) and since is not None:
                running.append((since, step.at))
                since = None
            if to == Status.PENDING:
                paused_at = step.at
            if before == Status.PENDING:
                paused = seconds(paused_at, step.at)
                paused_seconds += paused
                if resolution_due is not None:
                    resolution_due = after(resolution_due, paused)
                paused_at = None
            if to == Status.OPEN:
                since = step.at
                if before in (Status.RESOLVED, Status.CLOSED):
                    resolved_at = closed_at = resolution_seconds = None
            if to == Status.RESOLVED or (to == Status.CLOSED and resolved_at is None):
                resolved_at = step.at
                resolution_seconds = max(0, seconds(created, step.at) - paused_seconds)
            if to == Status.CLOSED:
                closed_at = step.at
        if since is not None:
            running.append((since, now))

        first_due = after(created, policy.first_response) if policy else None
        first_breached = first_due is not None and (responded or now) > first_due
        resolution_breached = resolution_due is not None and any(
            end > resolution_due for _start, end in running
        )
        first_warned = first_escalated = resolution_warned = resolution_escalated = None
        if policy is not None:
            # The SLA watch warns warn_before business minutes ahead, and escalates at the due
            # time, while the clock runs.
            warn = after(created, max(0, policy.first_response - policy.warn_before))
            if warn < (responded or now):
                first_warned = warn
            if first_breached:
                first_escalated = first_due
            warn = after(created, max(0, policy.resolution - policy.warn_before) + paused_seconds)
            resolution_warned = _first_running(running, warn)
            if resolution_breached:
                resolution_escalated = _first_running(running, resolution_due)
        return (
            first_due,
            resolution_due,
            responded,
            resolved_at,
            closed_at,
            paused_at if status == Status.PENDING else None,
            paused_seconds,
            seconds(created, responded) if responded else None,
            resolution_seconds,
            first_breached,
            resolution_breached,
            first_warned,
            resolution_warned,
            first_escalated,
            resolution_escalated,
        )


def _number(pk: int) -> str:
    # As ticket_create numbers tickets.
    return f"T-{pk:07d}"


def _insert_round(
    context: DemoContext,
    drawn: list[_Drawn],
    totals: _Totals,
    *,
    placeholder: str,
    analyze: bool,
) -> None:
    using = context.using
    ticket_ids = bulk_insert(
        model=Ticket,
        fields=TICKET_FIELDS,
        rows=(
            # A placeholder number, unique to this seed, until the id it is made from is known.
            (f"{placeholder}{totals.tickets + index}", *ticket.row[1:])
            for index, ticket in enumerate(drawn)
        ),
        using=using,
        analyze=analyze,
    )
    if len(ticket_ids) != len(drawn):
        raise RuntimeError("Another process wrote tickets while seeding; seed an idle database.")
    ticket_type = ContentType.objects.db_manager(using).get_for_model(Ticket).pk
    interactions = []
    messages = []
    changes = []
    for ticket_id, ticket in zip(ticket_ids, drawn, strict=True):
        number = _number(ticket_id)
        subject = ticket.row[TICKET_FIELDS.index("subject")]
        channel = INTERACTION_CHANNELS[ticket.row[TICKET_FIELDS.index("channel")]]
        customer_id = ticket.customer.pk
        first = True
        for step in ticket.steps:
            author = ticket.assignee_id if step.by_agent else None
            if step.move is not None:
                changes.append((ticket_id, step.move[0], step.move[1], author, step.at))
            if step.kind is None:
                continue
            interaction = None
            if step.kind != Kind.NOTE:
                if step.kind == Kind.CUSTOMER:
                    direction = Interaction.Direction.INBOUND
                    title = f"Ticket {number}: {subject}" if first else f"Message on {number}"
                else:
                    direction = Interaction.Direction.OUTBOUND
                    title = f"Reply on {number}"
                interaction = len(interactions)
                interactions.append(
                    (
                        customer_id,
                        channel,
                        direction,
                        title[:200],
                        step.body,
                        "",
                        author,
                        step.at,
                        ticket_type,
                        ticket_id,
                        step.at,
                        step.at,
                    )
                )
            first = False
            messages.append((ticket_id, step.kind, step.body, author, interaction, step.at))
    interaction_ids = bulk_insert(
        model=Interaction,
        fields=INTERACTION_FIELDS,
        rows=interactions,
        using=using,
        analyze=analyze,
    )
    if len(interaction_ids) != len(interactions):
        raise RuntimeError(
            "Another process wrote interactions while seeding; seed an idle database."
        )
    bulk_insert(
        model=TicketMessage,
        fields=MESSAGE_FIELDS,
        rows=(
            (*message[:4], None if message[4] is None else interaction_ids[message[4]], message[5])
            for message in messages
        ),
        using=using,
        analyze=analyze,
        ids=False,
    )
    bulk_insert(
        model=TicketStatusChange,
        fields=CHANGE_FIELDS,
        rows=changes,
        using=using,
        analyze=analyze,
        ids=False,
    )
    surveys = [
        (ticket_id, *ticket.survey)
        for ticket_id, ticket in zip(ticket_ids, drawn, strict=True)
        if ticket.survey is not None
    ]
    bulk_insert(
        model=SatisfactionSurvey,
        fields=SURVEY_FIELDS,
        rows=surveys,
        using=using,
        analyze=analyze,
        ids=False,
    )
    totals.tickets += len(ticket_ids)
    totals.messages += len(messages)
    totals.interactions += len(interactions)
    totals.changes += len(changes)
    totals.surveys += len(surveys)
    for ticket in drawn:
        status = ticket.row[TICKET_FIELDS.index("status")]
        totals.by_status[status] = totals.by_status.get(status, 0) + 1


def _numbers_set(context: DemoContext, placeholder: str) -> None:
    """Number the new tickets from their ids in one UPDATE."""
    padded = Concat(Value("T-"), LPad(Cast("pk", CharField()), 7, Value("0")))
    Ticket.objects.using(context.using).filter(number__startswith=placeholder).update(
        number=Case(
            When(pk__lt=10_000_000, then=padded),
            default=Concat(Value("T-"), Cast("pk", CharField())),
            output_field=CharField(),
        )
    )


def _last_contacts_refresh(context: DemoContext, after_ticket_pk: int) -> None:
    """The ticket threads are interactions too: move the customers' last contact to them."""
    latest = (
        Interaction.objects.using(context.using)
        .filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    new_tickets = Ticket.objects.using(context.using).filter(pk__gt=after_ticket_pk)
    Customer.objects.using(context.using).filter(
        pk__in=Subquery(new_tickets.values("customer_id"))
    ).update(last_contact_at=Subquery(latest))


def seed_service(context: DemoContext) -> None:
    using = context.using
    # The service story draws from a generator of its own, seeded from the demo's, so adding a
    # draw here does not change what later seeders make.
    rng = random.Random(context.rng.getrandbits(64))
    with transaction.atomic(using=using):
        calendar = _default_calendar(context)
        context.log(f"holidays: {_seed_holidays(context, calendar)} added to {calendar}")
        team = Team.objects.using(using).filter(name=SERVICE_TEAM).first()
        context.log(f"canned responses: {_seed_canned_responses(context, team)}")
        maker = _TicketMaker(context, rng, timezone.now())
        customers = _customers_sample(
            using=using,
            rng=rng,
            after_pk=_this_runs_customers_after(context),
            count=context.volumes.get("tickets", ticket_count_for(context.customers)),
        )
        after_ticket_pk = Ticket.objects.using(using).aggregate(last=Max("pk"))["last"] or 0
        placeholder = f"~{maker.token}"
        totals = _Totals()
        big = len(customers) >= INDEXES_AFTER_LOAD_FROM
        # The threads' interactions too: a million tickets add millions of them, cheaper to
        # index once than one by one.
        tables = [Ticket, TicketMessage, TicketStatusChange, SatisfactionSurvey, Interaction]
        load = (
            indexes_built_after_load(tables, using=using, log=context.log) if big else nullcontext()
        )
        with load:
            for start in range(0, len(customers), TICKETS_PER_ROUND):
                drawn = [
                    maker.ticket(customer)
                    for customer in customers[start : start + TICKETS_PER_ROUND]
                ]
                _insert_round(context, drawn, totals, placeholder=placeholder, analyze=not big)
                context.log(
                    f"tickets: {totals.tickets} ({totals.messages} messages, "
                    f"{totals.changes} status changes, {totals.surveys} surveys)"
                )
            _numbers_set(context, placeholder)
        # With a ticket for most customers, the refresh rewrites most customer rows: with their
        # twenty-odd indexes (trigram ones among them) dropped first and built again after, it
        # takes a fraction of the time it takes with them kept up row by row.
        refresh = (
            indexes_built_after_load([Customer], using=using, log=context.log)
            if big
            else nullcontext()
        )
        with refresh:
            _last_contacts_refresh(context, after_ticket_pk)
    context.log(
        "tickets by status: "
        + ", ".join(f"{status} {count}" for status, count in sorted(totals.by_status.items()))
    )
