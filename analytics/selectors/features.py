"""Feature rows of the built-in models, read from the CRM's own tables.

Customer rows are computed AS OF a cutoff: only the orders, interactions, campaign touches and
tickets before it count, so a row built for a past cutoff holds what was known then and can be
labelled with what happened after it. Each source is one grouped query per chunk of customers
(a primary-key range), so scoring a million customers costs the same few queries per 20,000.

The profile is read as it is now (the CRM keeps no history of it). Its lifecycle status and the
running totals kept on the customer are left out: they record the very outcome the models
predict (a lead who ordered became "customer", one who stopped became "churned"), which would
make the held-out figures look better than any real prediction.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from analytics.ml.pipelines import Features
from analytics.specs import NotEnoughData, TrainingSet
from customers.models import Customer, Interaction, Order
from sales.models import CampaignMember
from service.models import Ticket, TicketMessage

CHUNK_ROWS = 20_000
# Training reads every customer but fits on a seeded random sample of at most this many rows per
# cutoff, so a retrain at a million customers takes minutes.
TRAINING_ROWS_CAP = 200_000
SAMPLE_SEED = 0
MIN_TRAINING_ROWS = 30
MIN_HELD_OUT_ROWS = 10
MIN_ROWS_PER_CLASS = 5

PURCHASE_HORIZON = timedelta(days=90)
CHURN_HORIZON = timedelta(days=180)
YEAR = timedelta(days=365)
QUARTER = timedelta(days=90)
# Orders that did not go through do not count as buying.
NOT_BOUGHT = (Order.Status.CANCELLED, Order.Status.REFUNDED)
RESPONDED = (CampaignMember.Response.RESPONDED, CampaignMember.Response.CONVERTED)

CUSTOMER_FEATURES = Features(
    numeric=[
        "age",
        "tenure_days",
        "annual_income",
        "recency_days",
        "orders_365d",
        "spend_365d",
        "orders_all",
        "spend_all",
        "interactions_90d",
        "interactions_365d",
        "days_since_contact",
        "campaign_touches_365d",
        "campaign_touches_all",
        "campaign_responses",
        "open_tickets",
        "tickets_365d",
    ],
    categorical=[
        "gender",
        "tier",
        "source",
        "city",
        "province",
        "country",
        "marketing_consent",
        "has_company",
    ],
)
# Counts that are zero, not unknown, for a customer with no row in their source.
_COUNTS = [
    "orders_365d",
    "spend_365d",
    "orders_all",
    "spend_all",
    "interactions_90d",
    "interactions_365d",
    "campaign_touches_365d",
    "campaign_touches_all",
    "campaign_responses",
    "open_tickets",
    "tickets_365d",
]

TICKET_FEATURES = Features(
    numeric=[
        "first_response_seconds",
        "resolution_seconds",
        "reopened_count",
        "message_count",
    ],
    categorical=[
        "type",
        "channel",
        "priority",
        "category",
        "customer_tier",
        "first_response_breached",
        "resolution_breached",
    ],
    text="text",
)


@dataclass(frozen=True)
class CustomerRange:
    """Customers with a primary key in (after_pk, up_to_pk], or exactly `ids` when given."""

    after_pk: int = 0
    up_to_pk: int | None = None
    ids: tuple[int, ...] | None = None

    def condition(self, field: str) -> Q:
        if self.ids is not None:
            return Q(**{f"{field}__in": self.ids})
        condition = Q(**{f"{field}__gt": self.after_pk})
        if self.up_to_pk is not None:
            condition &= Q(**{f"{field}__lte": self.up_to_pk})
        return condition


def _profiles(*, cutoff: datetime, scope: CustomerRange, limit: int | None = None) -> list[dict]:
    """The customers that existed at `cutoff` (created before it, or with an order before it,
    as imported customers have) and are not erased, in primary-key order."""
    ordered_before = Order.objects.filter(customer=OuterRef("pk"), ordered_at__lt=cutoff)
    customers = (
        Customer.objects.filter(scope.condition("pk"), erased_at__isnull=True)
        .filter(Q(created_at__lt=cutoff) | Exists(ordered_before))
        .order_by("pk")
        .values(
            "pk",
            "created_at",
            "birthday",
            "gender",
            "tier",
            "source",
            "city",
            "province",
            "country",
            "annual_income",
            "marketing_consent",
            "company_id",
        )
    )
    return list(customers if limit is None else customers[:limit])


def _grouped(queryset, scope: CustomerRange, **aggregates) -> pd.DataFrame:
    rows = list(
        queryset.filter(scope.condition("customer_id"))
        .order_by()
        .values("customer_id")
        .annotate(**aggregates)
    )
    columns = ["customer_id", *aggregates]
    return pd.DataFrame(rows, columns=columns).set_index("customer_id")


def _order_figures(*, cutoff: datetime, scope: CustomerRange) -> pd.DataFrame:
    orders = Order.objects.filter(ordered_at__lt=cutoff).exclude(status__in=NOT_BOUGHT)
    recent = Q(ordered_at__gte=cutoff - YEAR)
    return _grouped(
        orders,
        scope,
        last_order_at=Max("ordered_at"),
        orders_all=Count("pk"),
        spend_all=Sum("total_amount"),
        orders_365d=Count("pk", filter=recent),
        spend_365d=Sum("total_amount", filter=recent),
    )


def _interaction_figures(*, cutoff: datetime, scope: CustomerRange) -> pd.DataFrame:
    interactions = Interaction.objects.filter(
        occurred_at__lt=cutoff, occurred_at__gte=cutoff - YEAR
    )
    return _grouped(
        interactions,
        scope,
        last_contact_at=Max("occurred_at"),
        interactions_365d=Count("pk"),
        interactions_90d=Count("pk", filter=Q(occurred_at__gte=cutoff - QUARTER)),
    )


def _campaign_figures(*, cutoff: datetime, scope: CustomerRange) -> pd.DataFrame:
    touches = CampaignMember.objects.filter(created_at__lt=cutoff)
    return _grouped(
        touches,
        scope,
        campaign_touches_all=Count("pk"),
        campaign_touches_365d=Count("pk", filter=Q(created_at__gte=cutoff - YEAR)),
        campaign_responses=Count("pk", filter=Q(response__in=RESPONDED, responded_at__lt=cutoff)),
    )


def _ticket_figures(*, cutoff: datetime, scope: CustomerRange) -> pd.DataFrame:
    tickets = Ticket.objects.filter(created_at__lt=cutoff)
    # Open at the cutoff: neither resolved nor closed before it.
    still_open = (Q(resolved_at__isnull=True) | Q(resolved_at__gte=cutoff)) & (
        Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff)
    )
    return _grouped(
        tickets,
        scope,
        open_tickets=Count("pk", filter=still_open),
        tickets_365d=Count("pk", filter=Q(created_at__gte=cutoff - YEAR)),
    )


def _days_before(cutoff: datetime, moments: pd.Series) -> pd.Series:
    moments = pd.to_datetime(moments, utc=True)
    return (pd.Timestamp(cutoff) - moments).dt.total_seconds() / 86400


def _customer_frame(profiles: list[dict], *, cutoff: datetime, scope: CustomerRange):
    """One row per customer of `profiles` with every column of CUSTOMER_FEATURES."""
    if not profiles:
        return pd.DataFrame(columns=CUSTOMER_FEATURES.columns, index=pd.Index([], name="id"))
    profile = pd.DataFrame(profiles).set_index("pk")
    profile.index.name = "id"
    frame = profile.join(
        [
            _order_figures(cutoff=cutoff, scope=scope),
            _interaction_figures(cutoff=cutoff, scope=scope),
            _campaign_figures(cutoff=cutoff, scope=scope),
            _ticket_figures(cutoff=cutoff, scope=scope),
        ]
    )
    birthdays = pd.to_datetime(frame["birthday"])
    frame["age"] = (pd.Timestamp(cutoff.date()) - birthdays).dt.days / 365.25
    frame["tenure_days"] = _days_before(cutoff, frame["created_at"]).clip(lower=0)
    frame["recency_days"] = _days_before(cutoff, frame["last_order_at"])
    frame["days_since_contact"] = _days_before(cutoff, frame["last_contact_at"])
    frame["annual_income"] = pd.to_numeric(frame["annual_income"], errors="coerce")
    frame["has_company"] = frame["company_id"].notna()
    for column in _COUNTS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype(float)
    for column in CUSTOMER_FEATURES.categorical:
        frame[column] = frame[column].astype(object)
    return frame[CUSTOMER_FEATURES.columns]


def customer_feature_rows(*, cutoff: datetime, customer_ids: list[int]) -> pd.DataFrame:
    """Feature rows of these customers as of `cutoff`, indexed by customer id (erased
    customers, and those that did not exist yet, have none)."""
    scope = CustomerRange(ids=tuple(int(pk) for pk in customer_ids))
    return _customer_frame(_profiles(cutoff=cutoff, scope=scope), cutoff=cutoff, scope=scope)


def customer_feature_chunks(
    *, cutoff: datetime, active_only: bool = False, size: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Feature rows as of `cutoff` of every customer, `size` customers at a time in primary-key
    order; with `active_only`, of those who ordered in the year before the cutoff."""
    after_pk = 0
    while True:
        profiles = _profiles(cutoff=cutoff, scope=CustomerRange(after_pk=after_pk), limit=size)
        if not profiles:
            return
        scope = CustomerRange(after_pk=after_pk, up_to_pk=profiles[-1]["pk"])
        frame = _customer_frame(profiles, cutoff=cutoff, scope=scope)
        if active_only:
            frame = frame[frame["orders_365d"] > 0]
        yield frame
        after_pk = scope.up_to_pk


def customer_feature_chunk_count(*, size: int = CHUNK_ROWS) -> int:
    """How many chunks customer_feature_chunks yields: it walks every customer not erased."""
    return math.ceil(Customer.objects.filter(erased_at__isnull=True).count() / size)


def customers_ordering_between(
    *, start: datetime, end: datetime, customer_ids: list[int]
) -> set[int]:
    """Which of these customers placed an order (one that went through) in [start, end)."""
    if not customer_ids:
        return set()
    lowest, highest = min(customer_ids), max(customer_ids)
    return set(
        Order.objects.filter(
            customer_id__gte=lowest,
            customer_id__lte=highest,
            ordered_at__gte=start,
            ordered_at__lt=end,
        )
        .exclude(status__in=NOT_BOUGHT)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class _Labelled:
    rows: pd.DataFrame
    labels: np.ndarray


def _labelled_rows(
    *, cutoff: datetime, horizon: timedelta, active_only: bool, churn: bool, seed: int
) -> _Labelled:
    """Rows as of `cutoff`, labelled with what happened in [cutoff, cutoff + horizon): 1 when the
    customer ordered then (or, for churn, when they did not). A seeded random sample of at most
    TRAINING_ROWS_CAP rows, drawn chunk by chunk."""
    existing = Customer.objects.filter(erased_at__isnull=True, created_at__lt=cutoff).count()
    keep_share = min(1.0, TRAINING_ROWS_CAP / existing) if existing else 1.0
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    for chunk in customer_feature_chunks(cutoff=cutoff, active_only=active_only):
        if keep_share < 1.0:
            chunk = chunk[rng.random(len(chunk)) < keep_share]
        if chunk.empty:
            continue
        ids = [int(pk) for pk in chunk.index]
        ordered = customers_ordering_between(start=cutoff, end=cutoff + horizon, customer_ids=ids)
        bought = np.array([pk in ordered for pk in ids], dtype=int)
        frames.append(chunk)
        labels.append(1 - bought if churn else bought)
    if not frames:
        return _Labelled(
            rows=_customer_frame([], cutoff=cutoff, scope=CustomerRange()),
            labels=np.array([], dtype=int),
        )
    rows = pd.concat(frames)
    rows.attrs.update(as_of=cutoff, label_until=cutoff + horizon)
    return _Labelled(rows=rows, labels=np.concatenate(labels) if labels else np.array([], int))


def _check_enough(*, what: str, train: np.ndarray, test: np.ndarray, positive: str) -> None:
    for rows, minimum, part in (
        (train, MIN_TRAINING_ROWS, _("training")),
        (test, MIN_HELD_OUT_ROWS, _("held-out")),
    ):
        positives = int(rows.sum())
        if len(rows) < minimum:
            raise NotEnoughData(
                _("%(model)s needs at least %(minimum)s %(part)s rows; the CRM holds %(count)s.")
                % {"model": what, "minimum": minimum, "part": part, "count": len(rows)}
            )
        if min(positives, len(rows) - positives) < MIN_ROWS_PER_CLASS:
            raise NotEnoughData(
                _(
                    "%(model)s needs at least %(minimum)s %(part)s rows of each outcome; "
                    "%(positives)s of %(count)s are %(positive)s."
                )
                % {
                    "model": what,
                    "minimum": MIN_ROWS_PER_CLASS,
                    "part": part,
                    "positives": positives,
                    "count": len(rows),
                    "positive": positive,
                }
            )


def _time_split(
    *, now: datetime, horizon: timedelta, active_only: bool, churn: bool
) -> tuple[_Labelled, _Labelled]:
    """Training rows as of now - 2 horizons, labelled by the horizon after; held-out rows as of
    now - 1 horizon, labelled by the horizon up to now. No training label comes from the
    held-out period, and both label windows are complete."""
    train = _labelled_rows(
        cutoff=now - 2 * horizon,
        horizon=horizon,
        active_only=active_only,
        churn=churn,
        seed=SAMPLE_SEED,
    )
    test = _labelled_rows(
        cutoff=now - horizon,
        horizon=horizon,
        active_only=active_only,
        churn=churn,
        seed=SAMPLE_SEED + 1,
    )
    return train, test


def _split_text(train_cutoff: datetime, test_cutoff: datetime, horizon: timedelta) -> str:
    return _(
        "Features as of %(train)s labelled by the next %(days)s days, tested on features as of "
        "%(test)s labelled by the %(days)s days after."
    ) % {
        "train": train_cutoff.date().isoformat(),
        "test": test_cutoff.date().isoformat(),
        "days": horizon.days,
    }


def _customer_training_set(
    *, now: datetime, horizon: timedelta, churn: bool, what: str, positive: str
) -> TrainingSet:
    # Only customers active at the cutoff can stop ordering, so churn reads those alone.
    train, test = _time_split(now=now, horizon=horizon, active_only=churn, churn=churn)
    _check_enough(what=what, train=train.labels, test=test.labels, positive=positive)
    return TrainingSet(
        train=train.rows,
        y_train=train.labels,
        test=test.rows,
        y_test=test.labels,
        features=CUSTOMER_FEATURES,
        split=_split_text(now - 2 * horizon, now - horizon, horizon),
    )


def purchase_training_set(*, now: datetime) -> TrainingSet:
    """Purchase propensity: did a customer order in the 90 days after the cutoff?"""
    return _customer_training_set(
        now=now,
        horizon=PURCHASE_HORIZON,
        churn=False,
        what=_("Purchase propensity"),
        positive=_("customers who ordered"),
    )


def churn_training_set(*, now: datetime) -> TrainingSet:
    """Churn risk: did a customer active at the cutoff (an order in the year before it) place
    no order in the 180 days after?"""
    return _customer_training_set(
        now=now,
        horizon=CHURN_HORIZON,
        churn=True,
        what=_("Churn risk"),
        positive=_("active customers who stopped ordering"),
    )


def _ticket_values(tickets) -> pd.DataFrame:
    message_count = Subquery(
        TicketMessage.objects.filter(ticket=OuterRef("pk"))
        .order_by()
        .values("ticket")
        .annotate(count=Count("pk"))
        .values("count"),
        output_field=IntegerField(),
    )
    rows = list(
        tickets.annotate(message_count=Coalesce(message_count, Value(0))).values(
            "pk",
            "type",
            "channel",
            "priority",
            "category__name",
            "customer__tier",
            "first_response_seconds",
            "resolution_seconds",
            "first_response_breached",
            "resolution_breached",
            "reopened_count",
            "message_count",
            "subject",
            "description",
            "satisfaction_rating",
        )
    )
    columns = [*TICKET_FEATURES.columns, "satisfaction_rating"]
    if not rows:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="id"))
    frame = pd.DataFrame(rows).set_index("pk")
    frame.index.name = "id"
    frame = frame.rename(columns={"category__name": "category", "customer__tier": "customer_tier"})
    frame["text"] = frame["subject"].fillna("") + "\n" + frame["description"].fillna("")
    for column in TICKET_FEATURES.numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in TICKET_FEATURES.categorical:
        frame[column] = frame[column].astype(object)
    return frame[columns]


def ticket_feature_rows(*, ticket_ids: list[int]) -> pd.DataFrame:
    """Feature rows of these tickets, indexed by ticket id."""
    tickets = Ticket.objects.filter(pk__in=[int(pk) for pk in ticket_ids])
    return _ticket_values(tickets)[TICKET_FEATURES.columns]


def tickets_to_score_chunks(*, size: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Feature rows of the tickets whose satisfaction is still to come (not rated, not closed),
    `size` at a time in primary-key order."""
    unrated = Ticket.objects.filter(satisfaction_rating__isnull=True).exclude(
        status=Ticket.Status.CLOSED
    )
    after_pk = 0
    while True:
        frame = _ticket_values(unrated.filter(pk__gt=after_pk).order_by("pk")[:size])
        if frame.empty:
            return
        yield frame[TICKET_FEATURES.columns]
        after_pk = int(frame.index.max())


def tickets_to_score_chunk_count(*, size: int = CHUNK_ROWS) -> int:
    unrated = Ticket.objects.filter(satisfaction_rating__isnull=True).exclude(
        status=Ticket.Status.CLOSED
    )
    return math.ceil(unrated.count() / size)


def satisfaction_training_set() -> TrainingSet:
    """Satisfaction: was a rated ticket rated 4 or 5? The newest TRAINING_ROWS_CAP rated
    tickets, the oldest 80% to fit on and the newest 20% held out."""
    newest_ids = list(
        Ticket.objects.filter(satisfaction_rating__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[:TRAINING_ROWS_CAP]
    )
    newest_ids.reverse()
    frames = [
        _ticket_values(Ticket.objects.filter(pk__in=newest_ids[start : start + CHUNK_ROWS]))
        for start in range(0, len(newest_ids), CHUNK_ROWS)
    ]
    rows = (
        pd.concat(frames).reindex(newest_ids) if frames else _ticket_values(Ticket.objects.none())
    )
    labels = (rows["satisfaction_rating"].astype(float) >= 4).astype(int).to_numpy()
    held_out_from = int(len(rows) * 0.8)
    features = rows[TICKET_FEATURES.columns]
    _check_enough(
        what=_("Satisfaction"),
        train=labels[:held_out_from],
        test=labels[held_out_from:],
        positive=_("rated 4 or 5"),
    )
    return TrainingSet(
        train=features.iloc[:held_out_from],
        y_train=labels[:held_out_from],
        test=features.iloc[held_out_from:],
        y_test=labels[held_out_from:],
        features=TICKET_FEATURES,
        split=_("The oldest %(train)s rated tickets, tested on the newest %(test)s.")
        % {"train": held_out_from, "test": len(rows) - held_out_from},
    )
