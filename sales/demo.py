"""Demo sales data: a second pipeline beside the default one, deals with their stage history and
line items, targets, campaigns with their members, assignment rules, the "Contact us" web form,
and open tasks for the demo reps.

Deals are drawn as whole paths: each starts in its pipeline's first stage and moves forward one
stage at a time to where it is now (or to won or lost), so its `DealStageChange` rows, its
`stage_entered_at` and `closed_at` all tell the same story. Rows go in through
`crm.demo.bulk_insert` (COPY on PostgreSQL); only the handful of configuration rows (pipeline,
targets, rules, the form) use the ORM, with get-or-create so a second seed does not clash.
`seed_deals` is also what the board benchmark uses to load its hundred thousand deals.
"""

import calendar
import random
from bisect import bisect
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib import import_module
from itertools import accumulate
from typing import NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Subquery
from django.utils import timezone

from collaboration.models import Task
from crm.accounts.models import RecordShare, Team, TeamMembership, User
from crm.demo import DemoContext, bulk_insert, indexes_built_after_load
from customers.models import Customer, Product
from sales.models import (
    AssignmentRule,
    Campaign,
    CampaignMember,
    Deal,
    DealLine,
    DealStageChange,
    Pipeline,
    SalesTarget,
    Stage,
    WebForm,
    WebFormSubmission,
)

DEMO_REPS = ["rep", "rep2", "rep3", "rep4"]
SALES_TEAMS = ["Sales East", "Sales West"]
CUSTOMERS_PER_DEAL = 4
MIN_DEALS_FROM_1000_CUSTOMERS = 300
# Deals (with their history and lines) from which the tables are loaded without their
# indexes and foreign keys, which are built once afterwards.
INDEXES_AFTER_LOAD_FROM = 20_000

PARTNERSHIPS = "Partnerships"
# (name, kind, probability, stale after days)
PARTNERSHIP_STAGES = [
    ("Introduction", Stage.Kind.OPEN, 15, 21),
    ("Joint evaluation", Stage.Kind.OPEN, 40, 30),
    ("Contracting", Stage.Kind.OPEN, 70, 14),
    ("Signed", Stage.Kind.WON, 100, None),
    ("Declined", Stage.Kind.LOST, 0, None),
]
PARTNERSHIP_SHARE = 0.2
WON_SHARE = 0.24
LOST_SHARE = 0.14
# Where open deals sit, and where lost deals fell out, by open stage: a funnel.
OPEN_STAGE_WEIGHTS = [35, 28, 22, 15]
LOST_FROM_WEIGHTS = [40, 30, 20, 10]
# Every 14th open deal (about 7 %) has sat past its stage's limit: counted rather than drawn,
# so that even a small demo has some.
STALE_EVERY = 14
# Days spent in a stage without a limit of its own, before moving on.
DEFAULT_STAGE_DAYS = 12

OTHER_CURRENCIES = [("USD", Decimal("0.14")), ("EUR", Decimal("0.13"))]
OTHER_CURRENCY_SHARE = 0.12
LINES_SHARE = 0.3
LINE_DISCOUNTS = [Decimal("0"), Decimal("0"), Decimal("5"), Decimal("10"), Decimal("15")]
LOST_REASON_WEIGHTS = [
    (Deal.LostReason.PRICE, 30),
    (Deal.LostReason.COMPETITOR, 25),
    (Deal.LostReason.NO_BUDGET, 15),
    (Deal.LostReason.NO_DECISION, 10),
    (Deal.LostReason.TIMING, 8),
    (Deal.LostReason.PRODUCT_FIT, 5),
    (Deal.LostReason.UNRESPONSIVE, 5),
    (Deal.LostReason.OTHER, 2),
]
LOST_NOTES = ["", "", "Chose a cheaper local supplier.", "预算冻结到明年", "Project put on hold."]
TOPICS_CN = [
    "办公家具采购",
    "茶礼盒团购",
    "CRM 年度订阅",
    "会议设备升级",
    "员工培训服务",
    "中秋礼品",
]
TOPICS_EN = [
    "Office furniture order",
    "Tea gift boxes",
    "CRM annual licence",
    "Meeting room upgrade",
    "Training services",
    "Corporate gifts",
]
PARTNER_TOPICS_CN = ["渠道合作", "区域代理", "联合推广"]
PARTNER_TOPICS_EN = ["Reseller agreement", "Regional distribution", "Co-marketing"]
NEXT_STEPS = [
    "Send revised quote",
    "Book a demo",
    "Call the purchasing manager",
    "发送报价单",
    "安排现场演示",
    "",
]


def _picker(rng: random.Random, weighted):
    values = [value for value, _weight in weighted]
    cumulative = list(accumulate(weight for _value, weight in weighted))
    return lambda: values[bisect(cumulative, rng.random() * cumulative[-1])]


@dataclass(frozen=True)
class _Pipeline:
    pk: int
    open_stages: list[Stage]
    won: Stage
    lost: Stage


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    pk: int
    name: str
    chinese: bool
    company_id: int | None
    company_name: str | None
    owner_id: int | None
    status: str
    source: str
    city: str


CUSTOMER_COLUMNS = [
    "pk",
    "name",
    "country",
    "company_id",
    "company__name",
    "owner_id",
    "status",
    "source",
    "city",
]


def _demo_customer(row) -> DemoCustomer:
    pk, name, country, company_id, company_name, owner_id, status, source, city = row
    return DemoCustomer(
        pk, name, country == "CN", company_id, company_name, owner_id, status, source, city
    )


def customers_sample(*, using: str, rng: random.Random, after_pk: int, count: int):
    """`count` customers with pk above `after_pk`, in random order (a customer repeats only when
    there are fewer than `count`), read in one pass over the table whatever its size."""
    customers = Customer.objects.using(using).filter(pk__gt=after_pk)
    total = customers.count()
    if not total or not count:
        return []
    picks: dict[int, int] = {}
    for position in (
        rng.sample(range(total), count) if count <= total else rng.choices(range(total), k=count)
    ):
        picks[position] = picks.get(position, 0) + 1
    sample = []
    rows = customers.order_by("pk").values_list(*CUSTOMER_COLUMNS).iterator(chunk_size=10_000)
    for position, row in enumerate(rows):
        if position in picks:
            sample.extend([_demo_customer(row)] * picks[position])
    rng.shuffle(sample)
    return sample


def _reps(using: str) -> list[tuple[int, int | None]]:
    """(user id, team id) of the demo reps, each with their first team."""
    reps = User.objects.using(using).filter(username__in=DEMO_REPS).order_by("username")
    teams = dict(
        TeamMembership.objects.using(using)
        .filter(user__in=reps)
        .order_by("-pk")
        .values_list("user_id", "team_id")
    )
    return [(rep.pk, teams.get(rep.pk)) for rep in reps]


def _pipeline(pipeline: Pipeline) -> _Pipeline:
    stages = list(pipeline.stages.order_by("position", "pk"))
    return _Pipeline(
        pk=pipeline.pk,
        open_stages=[stage for stage in stages if stage.kind == Stage.Kind.OPEN],
        won=next(stage for stage in stages if stage.kind == Stage.Kind.WON),
        lost=next(stage for stage in stages if stage.kind == Stage.Kind.LOST),
    )


def _stages_create(pipeline: Pipeline, stages, *, using: str) -> None:
    Stage.objects.using(using).bulk_create(
        Stage(
            pipeline=pipeline,
            name=name,
            kind=kind,
            probability=probability,
            stale_after_days=stale_after_days,
            position=position,
        )
        for position, (name, kind, probability, stale_after_days) in enumerate(stages)
    )


def sales_pipelines(*, using: str) -> list[_Pipeline]:
    """The default pipeline and the demo's partnerships pipeline.

    The default one comes from a migration, so it is only missing after a flush; it is then
    made again with the migration's own stages."""
    default = Pipeline.objects.using(using).filter(is_default=True).first()
    if default is None:
        default = Pipeline.objects.using(using).create(name="Sales", is_default=True)
        migration = import_module("sales.migrations.0002_default_pipeline")
        _stages_create(default, migration.DEFAULT_STAGES, using=using)
    partnerships, created = Pipeline.objects.using(using).get_or_create(
        name=PARTNERSHIPS,
        defaults={
            "description": "Resellers and distribution partners",
            "position": default.position + 1,
        },
    )
    if created:
        _stages_create(partnerships, PARTNERSHIP_STAGES, using=using)
    return [_pipeline(default), _pipeline(partnerships)]


@dataclass
class DealTotals:
    deals: int = 0
    history: int = 0
    lines: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


DEAL_FIELDS = [
    "name",
    "customer_id",
    "company_id",
    "owner_id",
    "team_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "source",
    "campaign_id",
    "lost_reason",
    "lost_note",
    "next_step",
    "forecast_category",
    "description",
    "stage_entered_at",
    "closed_at",
    "version",
    "created_at",
    "updated_at",
]
HISTORY_FIELDS = [
    "deal_id",
    "from_stage_id",
    "to_stage_id",
    "changed_by_id",
    "changed_at",
    "seconds_in_from_stage",
]
LINE_FIELDS = ["deal_id", "product_id", "quantity", "unit_price", "discount_percent"]


@dataclass
class _DrawnDeal:
    row: tuple
    moves: list[tuple[int | None, int, datetime, int | None]]
    lines: list[tuple[int, int, Decimal, Decimal]]
    kind: str


class _DealMaker:
    def __init__(self, context: DemoContext, *, closed_share: float, now: datetime):
        rng = self.rng = context.rng
        self.today = context.today
        self.now = now
        self.pipelines = sales_pipelines(using=context.using)
        self.reps = _reps(context.using) or [(None, None)]
        self.rep_teams = dict(self.reps)
        self.products = list(
            Product.objects.using(context.using)
            .filter(currency=settings.CRM_DEFAULT_CURRENCY)
            .order_by("pk")
            .values_list("pk", "unit_price")
        )
        won = WON_SHARE * closed_share / (WON_SHARE + LOST_SHARE)
        self.outcome = _picker(
            rng,
            [
                (Stage.Kind.OPEN, 1 - closed_share),
                (Stage.Kind.WON, won),
                (Stage.Kind.LOST, closed_share - won),
            ],
        )
        self.lost_reason = _picker(rng, LOST_REASON_WEIGHTS)
        month_end = calendar.monthrange(self.today.year, self.today.month)[1]
        self.days_left_in_month = month_end - self.today.day
        self.open_deals = 0

    def _stage_days(self, stage: Stage) -> float:
        limit = stage.stale_after_days or DEFAULT_STAGE_DAYS
        return self.rng.uniform(0.5, limit * 0.9)

    def _path(self, pipeline: _Pipeline, kind: str) -> list[Stage]:
        stages = pipeline.open_stages
        if kind == Stage.Kind.WON:
            return [*stages, pipeline.won]
        weights = OPEN_STAGE_WEIGHTS if kind == Stage.Kind.OPEN else LOST_FROM_WEIGHTS
        last = self.rng.choices(range(len(stages)), weights[: len(stages)])[0]
        path = stages[: last + 1]
        return path if kind == Stage.Kind.OPEN else [*path, pipeline.lost]

    def _expected_close(self, kind: str, entered: datetime) -> date:
        rng = self.rng
        if kind != Stage.Kind.OPEN:
            return entered.date() + timedelta(days=rng.randint(-10, 10))
        roll = rng.random()
        if roll < 0.12:
            offset = rng.randint(-45, -1)
        elif roll < 0.4:
            offset = rng.randint(0, self.days_left_in_month)
        else:
            offset = rng.randint(self.days_left_in_month + 1, self.days_left_in_month + 120)
        return self.today + timedelta(days=offset)

    def _forecast_category(self, kind: str, stage: Stage) -> str:
        categories = Deal.ForecastCategory
        if kind == Stage.Kind.WON:
            return categories.COMMIT
        if kind == Stage.Kind.LOST:
            return categories.OMITTED
        roll = self.rng.random()
        if roll < 0.05:
            return categories.OMITTED
        if stage.probability >= 70:
            return categories.COMMIT if roll < 0.7 else categories.BEST_CASE
        if stage.probability >= 40:
            return categories.BEST_CASE if roll < 0.6 else categories.PIPELINE
        return categories.PIPELINE

    def _lines(self, currency: str) -> list[tuple[int, int, Decimal, Decimal]]:
        rng = self.rng
        if currency != settings.CRM_DEFAULT_CURRENCY or not self.products:
            return []
        if rng.random() >= LINES_SHARE:
            return []
        return [
            (product_id, rng.randint(1, 30), price, rng.choice(LINE_DISCOUNTS))
            for product_id, price in rng.sample(self.products, rng.randint(1, 3))
        ]

    def deal(self, customer: DemoCustomer, campaign_id: int | None) -> _DrawnDeal:
        rng = self.rng
        partner = rng.random() < PARTNERSHIP_SHARE
        pipeline = self.pipelines[1] if partner else self.pipelines[0]
        kind = self.outcome()
        path = self._path(pipeline, kind)
        if customer.owner_id in self.rep_teams:
            owner_id, team_id = customer.owner_id, self.rep_teams[customer.owner_id]
        else:
            owner_id, team_id = rng.choice(self.reps)

        current = path[-1]
        if kind == Stage.Kind.OPEN:
            limit = current.stale_after_days or DEFAULT_STAGE_DAYS
            self.open_deals += 1
            days_here = (
                limit + rng.uniform(1, 30)
                if self.open_deals % STALE_EVERY == STALE_EVERY // 2
                else self._stage_days(current)
            )
            entered = self.now - timedelta(days=days_here)
        else:
            entered = self.now - timedelta(days=min(rng.expovariate(1 / 60), 360))
        durations = [int(self._stage_days(stage) * 86_400) for stage in path[:-1]]
        created = entered - timedelta(seconds=sum(durations))
        moves = []
        at = created
        previous = None
        for stage, seconds in zip(path, [None, *durations], strict=True):
            if seconds is not None:
                at += timedelta(seconds=seconds)
            moves.append((previous.pk if previous else None, stage.pk, at, seconds))
            previous = stage

        currency, scale = settings.CRM_DEFAULT_CURRENCY, Decimal("1")
        if rng.random() < OTHER_CURRENCY_SHARE:
            currency, scale = rng.choice(OTHER_CURRENCIES)
        lines = self._lines(currency)
        if lines:
            amount = sum(
                (
                    (price * quantity * (100 - discount) / 100).quantize(Decimal("0.01"))
                    for _product, quantity, price, discount in lines
                ),
                Decimal("0"),
            )
        else:
            typical = 180_000 if partner else 40_000
            amount = (Decimal(round(rng.lognormvariate(0, 0.8) * typical, -2)) * scale).quantize(
                Decimal("1")
            )
        if customer.chinese:
            topics = PARTNER_TOPICS_CN if partner else TOPICS_CN
            name = f"{customer.company_name or customer.name} · {rng.choice(topics)}"
        else:
            topics = PARTNER_TOPICS_EN if partner else TOPICS_EN
            name = f"{customer.company_name or customer.name} – {rng.choice(topics)}"
        lost = kind == Stage.Kind.LOST
        row = (
            name[:200],
            customer.pk,
            customer.company_id,
            owner_id,
            team_id,
            pipeline.pk,
            current.pk,
            amount,
            currency,
            self._expected_close(kind, entered),
            "partner" if partner else customer.source,
            campaign_id,
            self.lost_reason() if lost else "",
            rng.choice(LOST_NOTES) if lost else "",
            rng.choice(NEXT_STEPS) if kind == Stage.Kind.OPEN else "",
            self._forecast_category(kind, current),
            "",
            entered,
            entered if kind != Stage.Kind.OPEN else None,
            1,
            created,
            entered,
        )
        return _DrawnDeal(row=row, moves=moves, lines=lines, kind=kind)


DEALS_PER_ROUND = 50_000


def seed_deals(
    context: DemoContext,
    *,
    customers: Sequence[DemoCustomer],
    closed_share: float = WON_SHARE + LOST_SHARE,
    campaign_of: dict[int, int] | None = None,
) -> DealTotals:
    """One deal per entry of `customers`, with its stage history and, for some, line items.

    `campaign_of` maps a customer to the campaign their deal came from. Owners are the demo
    reps (the customer's own rep when they have one), with their team."""
    maker = _DealMaker(context, closed_share=closed_share, now=timezone.now())
    campaign_of = campaign_of or {}
    totals = DealTotals()
    tables = [Deal, DealStageChange, DealLine]
    big = len(customers) >= INDEXES_AFTER_LOAD_FROM
    load = (
        indexes_built_after_load(tables, using=context.using, log=context.log)
        if big
        else nullcontext()
    )
    with load:
        for start in range(0, len(customers), DEALS_PER_ROUND):
            drawn = [
                maker.deal(customer, campaign_of.get(customer.pk))
                for customer in customers[start : start + DEALS_PER_ROUND]
            ]
            # Tables loaded without their indexes are analysed once, when those are built.
            _deals_insert(context, drawn, totals, analyze=not big)
            context.log(
                f"deals: {totals.deals} ({totals.history} stage changes, {totals.lines} lines)"
            )
    _customers_mark_won(context)
    return totals


def _deals_insert(
    context: DemoContext, drawn: list[_DrawnDeal], totals: DealTotals, *, analyze: bool
) -> None:
    using = context.using
    deal_ids = bulk_insert(
        model=Deal,
        fields=DEAL_FIELDS,
        rows=(deal.row for deal in drawn),
        using=using,
        analyze=analyze,
    )
    if len(deal_ids) != len(drawn):
        raise RuntimeError("Another process wrote deals while seeding; seed an idle database.")
    owner_at = DEAL_FIELDS.index("owner_id")
    history = [
        (deal_id, from_stage, to_stage, deal.row[owner_at], at, seconds)
        for deal_id, deal in zip(deal_ids, drawn, strict=True)
        for from_stage, to_stage, at, seconds in deal.moves
    ]
    bulk_insert(
        model=DealStageChange,
        fields=HISTORY_FIELDS,
        rows=history,
        using=using,
        analyze=analyze,
        ids=False,
    )
    lines = [
        (deal_id, *line)
        for deal_id, deal in zip(deal_ids, drawn, strict=True)
        for line in deal.lines
    ]
    bulk_insert(
        model=DealLine, fields=LINE_FIELDS, rows=lines, using=using, analyze=analyze, ids=False
    )
    totals.deals += len(deal_ids)
    totals.history += len(history)
    totals.lines += len(lines)
    for deal in drawn:
        totals.by_kind[deal.kind] = totals.by_kind.get(deal.kind, 0) + 1


def _customers_mark_won(context: DemoContext) -> None:
    # As deal_create and deal_move_stage do: a won deal makes a lead or prospect a customer.
    won_customers = Deal.objects.using(context.using).filter(stage__kind=Stage.Kind.WON)
    Customer.objects.using(context.using).filter(
        pk__in=Subquery(won_customers.values("customer_id")),
        status__in=[Customer.Status.LEAD, Customer.Status.PROSPECT],
    ).update(status=Customer.Status.CUSTOMER, updated_at=timezone.now())


class _CampaignPlan(NamedTuple):
    name: str
    type: str
    status: str
    starts_in_days: int
    days: int | None
    budget: int
    share_spent: float
    # Share of the demo's customers who are members.
    share_of_customers: float


CAMPAIGNS = [
    _CampaignPlan("Spring newsletter", Campaign.Type.EMAIL, Campaign.Status.COMPLETED,
                  -150, 30, 20_000, 0.92, 0.06),
    _CampaignPlan("上海展会 Shanghai trade show", Campaign.Type.EVENT, Campaign.Status.COMPLETED,
                  -75, 3, 180_000, 1.08, 0.015),
    _CampaignPlan("微信朋友圈推广 WeChat Moments", Campaign.Type.SOCIAL, Campaign.Status.ACTIVE,
                  -40, 60, 60_000, 0.52, 0.03),
    _CampaignPlan("Search ads", Campaign.Type.ADS, Campaign.Status.ACTIVE,
                  -25, 90, 120_000, 0.4, 0.02),
    _CampaignPlan("Customer referral programme", Campaign.Type.REFERRAL, Campaign.Status.ACTIVE,
                  -200, None, 30_000, 0.4, 0.01),
    _CampaignPlan("中秋礼盒 Mid-Autumn gift boxes", Campaign.Type.EMAIL, Campaign.Status.PLANNED,
                  30, 15, 40_000, 0, 0),
]  # fmt: skip
MEMBERS_PER_CAMPAIGN_AT_MOST = 20_000
RESPONSE_WEIGHTS = [
    (CampaignMember.Response.SENT, 50),
    (CampaignMember.Response.OPENED, 30),
    (CampaignMember.Response.RESPONDED, 14),
    (CampaignMember.Response.CONVERTED, 6),
]
# Share of the deals (beyond those of converted members) that came from a campaign.
DEALS_FROM_CAMPAIGNS = 0.12
MEMBER_FIELDS = [
    "campaign_id",
    "customer_id",
    "response",
    "responded_at",
    "created_at",
    "updated_at",
]


def _seed_campaigns(
    context: DemoContext, customers: Sequence[DemoCustomer], deal_customers: Sequence[DemoCustomer]
) -> dict[int, int]:
    """The campaigns and their members; returns the campaign that converted each customer whose
    deal it is credited with: some converted members, and a share of the deals' customers made
    converted members of a running or finished campaign."""
    rng, using = context.rng, context.using
    marketer = User.objects.using(using).filter(username="marketer").first()
    marketing = Team.objects.using(using).filter(name="Marketing").first()
    sales_teams = list(Team.objects.using(using).filter(name__in=SALES_TEAMS))
    campaign_type = ContentType.objects.db_manager(using).get_for_model(Campaign)
    response = _picker(rng, RESPONSE_WEIGHTS)
    midnight = datetime.combine(context.today, time(9), tzinfo=timezone.get_current_timezone())
    now = timezone.now()
    members: dict[tuple[int, int], tuple] = {}
    started: list[tuple[int, datetime, float]] = []
    for plan in CAMPAIGNS:
        start = context.today + timedelta(days=plan.starts_in_days)
        campaign = Campaign.objects.using(using).create(
            name=plan.name,
            type=plan.type,
            status=plan.status,
            start_date=start,
            end_date=start + timedelta(days=plan.days) if plan.days is not None else None,
            budget=Decimal(plan.budget),
            actual_cost=Decimal(round(plan.budget * plan.share_spent)),
            currency=settings.CRM_DEFAULT_CURRENCY,
            owner=marketer,
            team=marketing,
        )
        # Marketing owns the campaigns; the sales teams see them, and the deals credited to them.
        RecordShare.objects.using(using).bulk_create(
            RecordShare(
                content_type=campaign_type, object_id=campaign.pk, team=team, shared_by=marketer
            )
            for team in sales_teams
        )
        if plan.status == Campaign.Status.PLANNED:
            continue
        joined = midnight + timedelta(days=plan.starts_in_days)
        ends = joined + timedelta(days=plan.days or 365)
        window = max((min(now, ends) - joined).total_seconds(), 1)
        started.append((campaign.pk, joined, window))
        count = min(
            round(context.customers * plan.share_of_customers),
            MEMBERS_PER_CAMPAIGN_AT_MOST,
            len(customers),
        )
        for customer in rng.sample(customers, count):
            answer = response()
            responded = None
            if answer != CampaignMember.Response.SENT:
                responded = joined + timedelta(seconds=int(rng.random() * window))
            members[campaign.pk, customer.pk] = (answer, responded, joined)
    campaign_of: dict[int, int] = {}
    deal_customer_ids = {customer.pk for customer in deal_customers}
    for (campaign_id, customer_id), (answer, _responded, _joined) in members.items():
        if answer == CampaignMember.Response.CONVERTED and customer_id in deal_customer_ids:
            campaign_of.setdefault(customer_id, campaign_id)
    for customer in deal_customers:
        if started and customer.pk not in campaign_of and rng.random() < DEALS_FROM_CAMPAIGNS:
            campaign_id, joined, window = rng.choice(started)
            responded = joined + timedelta(seconds=int(rng.random() * window))
            members[campaign_id, customer.pk] = (
                CampaignMember.Response.CONVERTED,
                responded,
                joined,
            )
            campaign_of[customer.pk] = campaign_id
    bulk_insert(
        model=CampaignMember,
        fields=MEMBER_FIELDS,
        rows=(
            (campaign_id, customer_id, answer, responded, joined, responded or joined)
            for (campaign_id, customer_id), (answer, responded, joined) in members.items()
        ),
        using=using,
    )
    context.log(f"campaigns: {len(CAMPAIGNS)} with {len(members)} members")
    return campaign_of


def _month_start(day: date, months_back: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months_back
    return date(month_index // 12, month_index % 12 + 1, 1)


REP_MONTHLY_TARGETS = {"rep": 320_000, "rep2": 260_000, "rep3": 290_000, "rep4": 240_000}


def _seed_targets(context: DemoContext) -> int:
    """Monthly targets for this month and the two before, and this quarter's, for each demo rep
    and each of their teams (the sum of its reps')."""
    rng, using = context.rng, context.using
    months = [_month_start(context.today, back) for back in (2, 1, 0)]
    quarter = date(context.today.year, 3 * ((context.today.month - 1) // 3) + 1, 1)
    quarter_months = [_month_start(quarter, -offset) for offset in range(3)]
    reps = {
        user.username: user
        for user in User.objects.using(using).filter(username__in=REP_MONTHLY_TARGETS)
    }
    memberships = TeamMembership.objects.using(using).filter(user__in=reps.values())
    team_of = {membership.user_id: membership.team_id for membership in memberships}
    targets: dict[tuple[str, int, str, date], Decimal] = {}
    for username, monthly in REP_MONTHLY_TARGETS.items():
        user = reps.get(username)
        if user is None:
            continue
        amounts = {
            month: Decimal(round(monthly * rng.uniform(0.9, 1.15), -4))
            for month in sorted({*months, *quarter_months})
        }
        for month in months:
            targets[("owner", user.pk, SalesTarget.Period.MONTH, month)] = amounts[month]
        quarter_amount = sum(amounts[month] for month in quarter_months)
        targets[("owner", user.pk, SalesTarget.Period.QUARTER, quarter)] = quarter_amount
        team_id = team_of.get(user.pk)
        if team_id is None:
            continue
        for period, start, amount in [
            *((SalesTarget.Period.MONTH, month, amounts[month]) for month in months),
            (SalesTarget.Period.QUARTER, quarter, quarter_amount),
        ]:
            key = ("team", team_id, period, start)
            targets[key] = targets.get(key, Decimal("0")) + amount
    for (who, pk, period, start), amount in targets.items():
        SalesTarget.objects.using(using).update_or_create(
            **{f"{who}_id": pk},
            period=period,
            period_start=start,
            defaults={"amount": amount, "currency": settings.CRM_DEFAULT_CURRENCY},
        )
    return len(targets)


def _seed_rules_and_form(context: DemoContext, customers: Sequence[DemoCustomer]) -> None:
    using = context.using
    teams = {team.name: team for team in Team.objects.using(using).all()}
    users = {
        user.username: user
        for user in User.objects.using(using).filter(username__in=[*DEMO_REPS, "manager"])
    }
    rules = [
        (
            "East China cities → Sales East",
            {
                "position": 10,
                "match": AssignmentRule.Match.CITY,
                "match_values": "上海, 杭州, 南京, Shanghai, Hangzhou, Nanjing",
                "strategy": AssignmentRule.Strategy.ROUND_ROBIN,
                "team": teams.get("Sales East"),
                "fallback_owner": users.get("rep"),
            },
        ),
        (
            "Partner leads → Jordan",
            {
                "position": 20,
                "match": AssignmentRule.Match.SOURCE,
                "match_values": "partner",
                "strategy": AssignmentRule.Strategy.FIXED,
                "owner": users.get("rep2"),
                "team": teams.get("Sales West"),
            },
        ),
        (
            "Everything else → Sales West",
            {
                "position": 90,
                "applies_to": AssignmentRule.AppliesTo.LEADS,
                "match": AssignmentRule.Match.ANY,
                "strategy": AssignmentRule.Strategy.ROUND_ROBIN,
                "team": teams.get("Sales West"),
                "fallback_owner": users.get("manager"),
            },
        ),
    ]
    for name, values in rules:
        AssignmentRule.objects.using(using).get_or_create(name=name, defaults=values)
    campaign = (
        Campaign.objects.using(using)
        .filter(type=Campaign.Type.ADS, status=Campaign.Status.ACTIVE)
        .order_by("-pk")
        .first()
    )
    form, created = WebForm.objects.using(using).get_or_create(
        slug="contact-us",
        defaults={
            "name": "Contact us",
            "title": "Contact us · 联系我们",
            "fields": ["name", "email", "phone", "company_name", "city", "message"],
            "thank_you_text": "Thank you! We will be in touch within one working day.",
            "team": teams.get("Sales East"),
            "campaign": campaign,
            "source": Customer.Source.WEBSITE,
        },
    )
    if created and customers:
        _seed_submissions(context, form, customers)


def _seed_submissions(context: DemoContext, form: WebForm, customers) -> None:
    rng = context.rng
    now = timezone.now()
    rows = []
    for customer in rng.sample(customers, min(12, len(customers))):
        message = "想了解一下报价" if customer.chinese else "Please send me a quote."
        data = {"name": customer.name, "city": customer.city, "message": message}
        rows.append(
            (
                form.pk,
                customer.pk,
                False,
                data,
                f"203.0.113.{rng.randint(1, 254)}",
                now - timedelta(hours=rng.randint(1, 24 * 30)),
            )
        )
    bulk_insert(
        model=WebFormSubmission,
        fields=["form_id", "customer_id", "created_lead", "data", "ip_address", "submitted_at"],
        rows=rows,
        using=context.using,
    )


TASK_TEXTS = {
    Task.Kind.CALL: ("Call {name} back", "给{name}回电话"),
    Task.Kind.EMAIL: ("Email {name} the brochure", "给{name}发送产品资料"),
    Task.Kind.QUOTE: ("Send the quote for {name}", "为{name}准备报价"),
    Task.Kind.MEETING: ("Meeting about {name}", "与{name}开会"),
    Task.Kind.OTHER: ("Update the notes on {name}", "更新{name}的备注"),
}
# (due in days from today, or None for no due date; status) per task of each rep.
TASK_PLAN = [
    (-9, Task.Status.OPEN),
    (-4, Task.Status.OPEN),
    (-2, Task.Status.IN_PROGRESS),
    (-1, Task.Status.OPEN),
    (0, Task.Status.OPEN),
    (0, Task.Status.OPEN),
    (0, Task.Status.IN_PROGRESS),
    (1, Task.Status.OPEN),
    (2, Task.Status.OPEN),
    (3, Task.Status.OPEN),
    (5, Task.Status.OPEN),
    (8, Task.Status.OPEN),
    (14, Task.Status.OPEN),
    (None, Task.Status.OPEN),
    (-12, Task.Status.DONE),
    (-6, Task.Status.DONE),
    (-3, Task.Status.DONE),
    (-20, Task.Status.CANCELLED),
]
TASK_FIELDS = [
    "title",
    "description",
    "kind",
    "status",
    "priority",
    "due_at",
    "remind_minutes_before",
    "assignee_id",
    "team_id",
    "created_by_id",
    "related_type_id",
    "related_id",
    "completed_at",
    "reminded_at",
    "overdue_notified_at",
    "version",
    "created_at",
    "updated_at",
]


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def _seed_tasks(context: DemoContext) -> int:
    """Each demo rep's follow-ups on their own open deals and customers: overdue, due today,
    upcoming, undated, and a few done or cancelled."""
    rng, using = context.rng, context.using
    now = timezone.now()
    zone = timezone.get_current_timezone()
    deal_type = ContentType.objects.db_manager(using).get_for_model(Deal)
    customer_type = ContentType.objects.db_manager(using).get_for_model(Customer)
    kinds = list(TASK_TEXTS)
    priorities = _picker(
        rng, [(Task.Priority.LOW, 20), (Task.Priority.NORMAL, 60), (Task.Priority.HIGH, 20)]
    )
    rows = []
    for owner_id, team_id in _reps(using):
        deals = list(
            Deal.objects.using(using)
            .filter(owner_id=owner_id, stage__kind=Stage.Kind.OPEN)
            .order_by("pk")
            .values_list("pk", "name")[:12]
        )
        customers = list(
            Customer.objects.using(using)
            .filter(owner_id=owner_id)
            .order_by("pk")
            .values_list("pk", "name", "country")[:8]
        )
        records = [(deal_type.pk, pk, name, _is_chinese(name)) for pk, name in deals] + [
            (customer_type.pk, pk, name, country == "CN") for pk, name, country in customers
        ]
        for days, status in TASK_PLAN:
            kind = rng.choice(kinds)
            english, chinese = TASK_TEXTS[kind]
            if records:
                type_id, record_id, name, in_chinese = rng.choice(records)
            else:
                type_id, record_id, name, in_chinese = None, None, "the pipeline", False
            due = None
            if days is not None:
                due = datetime.combine(
                    context.today + timedelta(days=days), time(rng.randint(9, 17)), tzinfo=zone
                )
            created = (due or now) - timedelta(days=rng.randint(1, 10))
            created = min(created, now)
            completed = due if status == Task.Status.DONE else None
            reminded = due - timedelta(minutes=30) if due and due < now else None
            rows.append(
                (
                    (chinese if in_chinese else english).format(name=name)[:200],
                    "",
                    kind,
                    status,
                    priorities(),
                    due,
                    30,
                    owner_id,
                    team_id,
                    owner_id,
                    type_id,
                    record_id,
                    completed,
                    reminded,
                    None,
                    1,
                    created,
                    completed or created,
                )
            )
    bulk_insert(model=Task, fields=TASK_FIELDS, rows=rows, using=using)
    return len(rows)


def deal_count_for(customers: int) -> int:
    deals = customers // CUSTOMERS_PER_DEAL
    if customers >= 1000:
        deals = max(deals, MIN_DEALS_FROM_1000_CUSTOMERS)
    return deals


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


def seed_sales(context: DemoContext) -> None:
    rng = context.rng
    pipelines = sales_pipelines(using=context.using)
    context.log(f"pipelines: {len(pipelines)}")
    after_pk = _this_runs_customers_after(context)
    # One pass draws the customers for the campaigns and the deals alike: the deals' customers
    # are the first of them, so some are also campaign members.
    deal_count = context.volumes.get("deals", deal_count_for(context.customers))
    # When more deals than customers are asked for, some customers have several.
    pool = customers_sample(
        using=context.using,
        rng=rng,
        after_pk=after_pk,
        count=max(deal_count, min(context.customers, deal_count + MEMBERS_PER_CAMPAIGN_AT_MOST)),
    )
    deal_customers = pool[:deal_count]
    campaign_of = _seed_campaigns(context, pool, deal_customers)
    totals = seed_deals(context, customers=deal_customers, campaign_of=campaign_of)
    context.log(
        "deals by kind: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(totals.by_kind.items()))
    )
    context.log(f"targets: {_seed_targets(context)}")
    _seed_rules_and_form(context, pool)
    context.log(f"tasks: {_seed_tasks(context)}")
