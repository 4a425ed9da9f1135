"""Reads of the ticket text models: the labelled tickets they learn from (the category agents
chose; the satisfaction rating as the sentiment), the texts they score, the suggestion shown on a
ticket, and the feedback-topics report over the tickets a user may see.

Text is the subject and the description as the customer wrote them, in whatever language: the
pipeline reads character n-grams, which need no word segmentation for Chinese.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from django.db.models import Avg, Count, F, Q, QuerySet, Window
from django.db.models.fields import DateField
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.ml.pipelines import Features
from analytics.ml.text import distinctive_terms
from analytics.models import PredictiveModel, TicketPrediction
from analytics.specs import NotEnoughData, TrainingSet
from crm.accounts.models import User
from service.models import Ticket
from service.selectors.tickets import ticket_list_visible

CATEGORY_MODEL = "ticket-category"
SENTIMENT_MODEL = "ticket-sentiment"
TEXT_COLUMN = "text"
TEXT_FEATURES = Features(text=TEXT_COLUMN)

# Ratings of 4 and 5 are a satisfied customer, as the satisfaction model counts them.
POSITIVE_RATING = 4
# Below this chance of a positive reading a ticket counts as negative in the report.
NEGATIVE_BELOW = 0.5
MIN_LABELLED_TICKETS = 20
# Training reads the newest labelled tickets only: enough to learn the vocabulary, bounded in
# memory however old the CRM gets.
TRAINING_TICKETS_MAX = 50_000
TRAIN_SHARE = 0.8
SCORING_BATCH = 2000
# Batch scoring covers open tickets and those opened in this window (what the report reads).
SCORING_WINDOW = timedelta(days=400)
# Where tickets of a category were routed lately is the team it "usually goes to".
ROUTING_WINDOW = timedelta(days=365)


def _ticket_text(subject: str, description: str, comment: str = "") -> str:
    return "\n".join(part for part in (subject, description, comment) if part)


def _cut(rows: int) -> int:
    """Rows before the cut train; at least one row is held out."""
    return min(round(rows * TRAIN_SHARE), rows - 1)


def _text_training_set(
    train: pd.DataFrame, test: pd.DataFrame, *, last_trained: datetime
) -> TrainingSet:
    """Labelled text rows (oldest to train, newest held out) as a training set."""
    split = _(
        "Trained on the %(train)s oldest labelled texts (tickets opened up to %(date)s), judged "
        "on the %(test)s newest."
    ) % {"train": len(train), "test": len(test), "date": timezone.localtime(last_trained).date()}
    return TrainingSet(
        train=train[[TEXT_COLUMN]],
        y_train=train["label"].to_numpy(),
        test=test[[TEXT_COLUMN]],
        y_test=test["label"].to_numpy(),
        features=TEXT_FEATURES,
        split=split,
    )


def ticket_category_training_set(model: PredictiveModel) -> TrainingSet:
    """Tickets with a category chosen by an agent, the oldest 80% to train on and the newest
    20% held out; a held-out ticket of a category unseen in training cannot be judged and is
    left out."""
    rows = list(
        Ticket.objects.filter(category__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("subject", "description", "category__name", "created_at")[
            :TRAINING_TICKETS_MAX
        ]
    )
    rows.reverse()
    if len(rows) < MIN_LABELLED_TICKETS:
        raise NotEnoughData(
            _("Only %(count)s tickets have a category; %(needed)s are needed to train.")
            % {"count": len(rows), "needed": MIN_LABELLED_TICKETS}
        )
    frame = pd.DataFrame(
        {
            TEXT_COLUMN: [_ticket_text(subject, description) for subject, description, *_ in rows],
            "label": [row[2] for row in rows],
        }
    )
    cut = _cut(len(frame))
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    if train["label"].nunique() < 2:
        raise NotEnoughData(_("The older tickets hold a single category; two are needed."))
    test = test[test["label"].isin(set(train["label"]))]
    if test.empty:
        raise NotEnoughData(_("No newer ticket has a category the older ones taught."))
    return _text_training_set(train, test, last_trained=rows[cut - 1][3])


def ticket_sentiment_training_set(model: PredictiveModel) -> TrainingSet:
    """Rated tickets, split by when they were opened (oldest 80% train). Each gives one row of
    its subject and description labelled by its rating, and its satisfaction comment, if any,
    one row of its own with the same label.

    The comment is not joined to the ticket's text: a new ticket has no comment yet, and a model
    fitted on joined texts leans on the comment's words and reads the description alone worse.
    As rows of their own, comments teach the words of feedback (非常满意, "very disappointed")
    that the report and the classify API are asked about, and no held-out ticket leaks into
    training through its comment, since both rows fall on the same side of the split."""
    tickets = list(
        Ticket.objects.filter(satisfaction_rating__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list(
            "subject", "description", "satisfaction_comment", "satisfaction_rating", "created_at"
        )[:TRAINING_TICKETS_MAX]
    )
    tickets.reverse()
    if len(tickets) < MIN_LABELLED_TICKETS:
        raise NotEnoughData(
            _("Only %(count)s tickets have a satisfaction rating; %(needed)s are needed to train.")
            % {"count": len(tickets), "needed": MIN_LABELLED_TICKETS}
        )

    def rows_of(part: list) -> pd.DataFrame:
        texts, labels = [], []
        for subject, description, comment, rating, _created in part:
            positive = int(rating >= POSITIVE_RATING)
            texts.append(_ticket_text(subject, description))
            labels.append(positive)
            if comment.strip():
                texts.append(comment.strip())
                labels.append(positive)
        return pd.DataFrame({TEXT_COLUMN: texts, "label": labels})

    cut = _cut(len(tickets))
    train, test = rows_of(tickets[:cut]), rows_of(tickets[cut:])
    if train["label"].nunique() < 2:
        raise NotEnoughData(
            _("The older rated tickets are all satisfied or all unsatisfied; both are needed.")
        )
    return _text_training_set(train, test, last_trained=tickets[cut - 1][4])


def _text_frame(rows: list[tuple], *, with_comment: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            TEXT_COLUMN: [
                _ticket_text(row[1], row[2], row[3] if with_comment else "") for row in rows
            ]
        },
        index=pd.Index([row[0] for row in rows], name="ticket"),
    )


_TEXT_FIELDS = ("pk", "subject", "description", "satisfaction_comment")


def ticket_category_rows(model: PredictiveModel, ticket_ids: list[int]) -> pd.DataFrame:
    """What the category model reads of each ticket: its subject and description."""
    rows = list(Ticket.objects.filter(pk__in=ticket_ids).values_list(*_TEXT_FIELDS))
    return _text_frame(rows, with_comment=False)


def ticket_sentiment_rows(model: PredictiveModel, ticket_ids: list[int]) -> pd.DataFrame:
    """What the sentiment model reads of each ticket: everything the customer wrote, the
    satisfaction comment included once there is one."""
    rows = list(Ticket.objects.filter(pk__in=ticket_ids).values_list(*_TEXT_FIELDS))
    return _text_frame(rows, with_comment=True)


def _scoring_batches(*, with_comment: bool) -> Iterator[pd.DataFrame]:
    tickets = Ticket.objects.filter(
        Q(status__in=Ticket.OPEN_STATUSES) | Q(created_at__gte=timezone.now() - SCORING_WINDOW)
    ).order_by("pk")
    last = 0
    while True:
        rows = list(tickets.filter(pk__gt=last).values_list(*_TEXT_FIELDS)[:SCORING_BATCH])
        if not rows:
            return
        last = rows[-1][0]
        yield _text_frame(rows, with_comment=with_comment)


def ticket_category_batches(model: PredictiveModel) -> Iterator[pd.DataFrame]:
    return _scoring_batches(with_comment=False)


def ticket_sentiment_batches(model: PredictiveModel) -> Iterator[pd.DataFrame]:
    return _scoring_batches(with_comment=True)


def text_model_get(*, name: str) -> PredictiveModel:
    return PredictiveModel.objects.select_related("active_version").get(name=name)


# A ticket's page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsualTeam:
    team_id: int
    name: str
    tickets: int


@dataclass(frozen=True)
class TicketSuggestion:
    prediction: TicketPrediction
    usual_team: UsualTeam | None

    @property
    def is_positive(self) -> bool | None:
        probability = self.prediction.positive_probability
        return None if probability is None else probability >= NEGATIVE_BELOW


def category_usual_team(*, category_id: int) -> UsualTeam | None:
    """The team most tickets of the category went to over the last year (ties: the lower id);
    one grouped query.

    It counts every ticket, not just those the reader sees: it shows no ticket, only how the
    service desk routes that kind of work."""
    row = (
        Ticket.objects.filter(
            category_id=category_id,
            team__isnull=False,
            created_at__gte=timezone.now() - ROUTING_WINDOW,
        )
        .values("team_id", "team__name")
        .annotate(tickets=Count("pk"))
        .order_by("-tickets", "team_id")
        .first()
    )
    if row is None:
        return None
    return UsualTeam(team_id=row["team_id"], name=row["team__name"], tickets=row["tickets"])


def ticket_suggestion(*, ticket: Ticket) -> TicketSuggestion | None:
    """The text models' reading of a ticket and the team its suggested category usually goes
    to; None until a model has read it."""
    prediction = (
        TicketPrediction.objects.select_related("category").filter(ticket_id=ticket.pk).first()
    )
    if prediction is None or (
        prediction.category_id is None and prediction.positive_probability is None
    ):
        return None
    usual_team = (
        category_usual_team(category_id=prediction.category_id)
        if prediction.category_id is not None
        else None
    )
    return TicketSuggestion(prediction=prediction, usual_team=usual_team)


# The feedback-topics report ----------------------------------------------------------------------

PERIODS = {
    "30d": (30, gettext_lazy("Last 30 days")),
    "90d": (90, gettext_lazy("Last 90 days")),
    "365d": (365, gettext_lazy("Last 12 months")),
}
DEFAULT_PERIOD = "90d"
# How many of each topic's newest texts are read to find its words: enough to be typical,
# bounded in SQL whatever the period holds.
TERMS_SAMPLE = 300
TERMS_SHOWN = 8
# The trend chart draws this many topics (the largest) and adds the rest up as "Other".
TREND_TOPICS = 6
UNCATEGORISED = "none"


@dataclass(frozen=True)
class FeedbackTopic:
    key: str
    name: str
    tickets: int
    # Tickets the sentiment model has read, and those it read as negative.
    scored: int
    negative: int
    rated: int
    csat_average: float | None
    terms: list[str]

    @property
    def negative_share(self) -> float | None:
        return None if not self.scored else round(self.negative / self.scored, 4)


@dataclass(frozen=True)
class FeedbackTopicsReport:
    period: str
    start: date
    end: date
    topics: list[FeedbackTopic]
    months: list[date]
    # Tickets opened per month, per topic key, in the order of `months`.
    trend: dict[str, list[int]]

    @property
    def tickets(self) -> int:
        return sum(topic.tickets for topic in self.topics)


def feedback_period(*, period: str, today: date | None = None) -> tuple[date, date]:
    """The days (both included) a period key covers, ending today; ValueError for an unknown
    key."""
    if period not in PERIODS:
        raise ValueError(_("Choose one of the periods offered."))
    today = today or timezone.localdate()
    return today - timedelta(days=PERIODS[period][0] - 1), today


def _topic_tickets(*, user: User, start: date, end: date) -> QuerySet[Ticket]:
    """The tickets `user` may see opened in the period, each with its topic: the category an
    agent chose, or else the one the category model suggests."""
    start_at = timezone.make_aware(datetime.combine(start, time.min))
    end_at = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return (
        ticket_list_visible(user=user)
        .select_related(None)
        .order_by()
        .filter(created_at__gte=start_at, created_at__lt=end_at)
        .annotate(
            topic=Coalesce("category_id", "prediction__category_id"),
            topic_name=Coalesce("category__name", "prediction__category__name"),
        )
    )


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _key(topic_id: int | None) -> str:
    return UNCATEGORISED if topic_id is None else str(topic_id)


def _topic_texts(tickets: QuerySet[Ticket]) -> dict[str, list[str]]:
    """Each topic's newest texts, at most TERMS_SAMPLE of each, in one query."""
    newest_first = tickets.annotate(
        rank=Window(RowNumber(), partition_by=[F("topic")], order_by=[F("created_at").desc()])
    ).filter(rank__lte=TERMS_SAMPLE)
    texts: dict[str, list[str]] = {}
    for topic, subject, description, comment in newest_first.values_list(
        "topic", "subject", "description", "satisfaction_comment"
    ):
        texts.setdefault(_key(topic), []).append(_ticket_text(subject, description, comment))
    return texts


def feedback_topics_report(
    *,
    user: User,
    period: str = DEFAULT_PERIOD,
    today: date | None = None,
    with_terms: bool = True,
) -> FeedbackTopicsReport:
    """Per topic over the period: tickets, the share the sentiment model reads as negative,
    the average satisfaction rating, the words that set its texts apart (unless `with_terms`
    is false, for the charts), and tickets per month. Three queries, and the words counted in
    memory over a bounded sample."""
    start, end = feedback_period(period=period, today=today)
    tickets = _topic_tickets(user=user, start=start, end=end)
    figures = list(
        tickets.values("topic", "topic_name")
        .annotate(
            tickets=Count("pk"),
            scored=Count("prediction__positive_probability"),
            negative=Count("pk", filter=Q(prediction__positive_probability__lt=NEGATIVE_BELOW)),
            rated=Count("satisfaction_rating"),
            csat_average=Avg("satisfaction_rating"),
        )
        .order_by("-tickets", "topic_name")
    )
    monthly = tickets.annotate(month=TruncMonth("created_at", output_field=DateField()))
    counts = {
        (_key(row["topic"]), row["month"]): row["tickets"]
        for row in monthly.values("topic", "month").annotate(tickets=Count("pk"))
    }
    terms = distinctive_terms(_topic_texts(tickets), top=TERMS_SHOWN) if with_terms else {}
    months = _months(start, end)
    topics = [
        FeedbackTopic(
            key=_key(row["topic"]),
            name=row["topic_name"] or _("Uncategorised"),
            tickets=row["tickets"],
            scored=row["scored"],
            negative=row["negative"],
            rated=row["rated"],
            csat_average=None if row["csat_average"] is None else round(row["csat_average"], 2),
            terms=terms.get(_key(row["topic"]), []),
        )
        for row in figures
    ]
    trend = {topic.key: [counts.get((topic.key, month), 0) for month in months] for topic in topics}
    return FeedbackTopicsReport(
        period=period, start=start, end=end, topics=topics, months=months, trend=trend
    )


def feedback_trend_series(*, report: FeedbackTopicsReport) -> list[tuple[str, list[int]]]:
    """The trend chart's lines: the largest topics, then the rest added up as "Other"."""
    shown, rest = report.topics[:TREND_TOPICS], report.topics[TREND_TOPICS:]
    series = [(topic.name, report.trend[topic.key]) for topic in shown]
    if rest:
        other = np.sum([report.trend[topic.key] for topic in rest], axis=0)
        series.append((_("Other"), [int(value) for value in other]))
    return series
