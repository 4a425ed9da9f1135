"""What the prediction builder can learn from: the customer's standard fields and every key of its
imported custom attributes, with the type each has, inferred from the values.

Custom attributes come from CSV imports as text, so a column is numeric when (nearly) all its
values read as numbers, categorical when it has few distinct values, and left out when it looks
like an identifier (almost every value different: a phone number, an account number, a row
number), which would let a model memorise rows instead of learning anything.

Rows are read in primary-key chunks with values_list, never as model instances, so reading a
million customers' attributes holds one chunk at a time.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from django.db.models import QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.models import PredictiveModel
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer

NUMERIC = "numeric"
CATEGORICAL = "categorical"
UNUSABLE = "unusable"

STANDARD = "standard"
CUSTOM = "custom"
# A custom attribute whose key is also a standard field's name is reached with this prefix.
CUSTOM_PREFIX = "custom."

CHUNK_ROWS = 20_000
# The field list is profiled on the latest customers only, so the page stays quick at a million.
PROFILE_ROWS = 20_000
# A field can be predicted when it has between two and this many distinct values.
MAX_TARGET_VALUES = 50
# Values listed per field on the page and in the API.
LISTED_VALUES = 20
# A column is numeric when at least this share of its values read as numbers.
NUMERIC_SHARE = 0.95
# Below this many values no column is called an identifier: too few to tell.
IDENTIFIER_MIN_ROWS = 20
IDENTIFIER_DISTINCT_SHARE = 0.9
YES, NO = "yes", "no"


@dataclass(frozen=True)
class StandardField:
    label: str
    kind: str
    # The values_list path it is read from.
    path: str


STANDARD_FIELDS: dict[str, StandardField] = {
    "gender": StandardField(gettext_lazy("Gender"), CATEGORICAL, "gender"),
    "tier": StandardField(gettext_lazy("Service tier"), CATEGORICAL, "tier"),
    "status": StandardField(gettext_lazy("Lifecycle status"), CATEGORICAL, "status"),
    "source": StandardField(gettext_lazy("Source"), CATEGORICAL, "source"),
    "city": StandardField(gettext_lazy("City"), CATEGORICAL, "city"),
    "province": StandardField(gettext_lazy("Province/state"), CATEGORICAL, "province"),
    "country": StandardField(gettext_lazy("Country"), CATEGORICAL, "country"),
    "language": StandardField(gettext_lazy("Preferred language"), CATEGORICAL, "language"),
    "marketing_consent": StandardField(
        gettext_lazy("Marketing consent"), CATEGORICAL, "marketing_consent"
    ),
    "company_size": StandardField(gettext_lazy("Company size"), CATEGORICAL, "company__size"),
    "company_industry": StandardField(
        gettext_lazy("Company industry"), CATEGORICAL, "company__industry"
    ),
    "annual_income": StandardField(gettext_lazy("Annual income"), NUMERIC, "annual_income"),
    "order_count": StandardField(gettext_lazy("Orders"), NUMERIC, "order_count"),
    "total_spend": StandardField(gettext_lazy("Total spend"), NUMERIC, "total_spend"),
    "age": StandardField(gettext_lazy("Age (from the birthday)"), NUMERIC, "birthday"),
}
_PATHS = ["pk", *(spec.path for spec in STANDARD_FIELDS.values()), "custom_attributes"]


@dataclass(frozen=True)
class ColumnProfile:
    """What a column's values say about it: its type, how many rows have a value, how many
    distinct values it has, the commonest ones, and why it is left out if it is."""

    kind: str
    present: int
    distinct: int
    values: list[tuple[str, int]] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class BuilderField:
    name: str
    label: str
    source: str
    profile: ColumnProfile

    @property
    def kind(self) -> str:
        return self.profile.kind

    @property
    def can_be_predicted(self) -> bool:
        """Yes/no and categorical fields (a custom 0/1 or 1-5 rating too), not standard numbers."""
        is_standard_number = self.source == STANDARD and self.kind == NUMERIC
        return not is_standard_number and 2 <= self.profile.distinct <= MAX_TARGET_VALUES

    @property
    def can_be_used(self) -> bool:
        return self.kind != UNUSABLE


def _text(value) -> str | None:
    """A custom or categorical value as the text the builder compares and one-hot encodes."""
    if value is None:
        return None
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and np.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _age(birthday: date | None, today: date) -> float:
    if birthday is None:
        return np.nan
    had_birthday = (today.month, today.day) >= (birthday.month, birthday.day)
    return float(today.year - birthday.year - (0 if had_birthday else 1))


def custom_column_name(key: str) -> str:
    return f"{CUSTOM_PREFIX}{key}" if key in STANDARD_FIELDS else key


def _custom_key(name: str) -> str:
    return name[len(CUSTOM_PREFIX) :] if name.startswith(CUSTOM_PREFIX) else name


def rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """values_list rows (pk, standard paths..., custom_attributes) as a frame indexed by pk:
    standard numbers as floats, everything else as text or None."""
    today = date.today()
    pks = [row[0] for row in rows]
    columns: dict[str, list] = {}
    for position, (name, spec) in enumerate(STANDARD_FIELDS.items(), start=1):
        values = [row[position] for row in rows]
        if name == "age":
            columns[name] = [_age(value, today) for value in values]
        elif spec.kind == NUMERIC:
            columns[name] = [np.nan if value is None else float(value) for value in values]
        else:
            columns[name] = [_text(value) for value in values]
    frame = pd.DataFrame(columns, index=pd.Index(pks, name="pk"))
    custom = pd.DataFrame.from_records(
        [
            {
                custom_column_name(key): _text(value)
                for key, value in (row[-1] or {}).items()
                if not isinstance(value, (dict, list))
            }
            for row in rows
        ],
        index=frame.index,
    )
    if custom.empty:
        return frame
    return pd.concat([frame, custom.astype(object).where(custom.notna(), None)], axis=1)


def customer_rows(
    *, queryset: QuerySet | None = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Frames of every non-erased customer of `queryset` (all of them by default), chunk by
    chunk in primary-key order."""
    base = (queryset if queryset is not None else Customer.objects.all()).filter(
        erased_at__isnull=True
    )
    last_pk = 0
    while True:
        rows = list(base.filter(pk__gt=last_pk).order_by("pk").values_list(*_PATHS)[:chunk_rows])
        if not rows:
            return
        yield rows_frame(rows)
        last_pk = rows[-1][0]


def customer_row_chunk_count(*, chunk_rows: int = CHUNK_ROWS) -> int:
    """How many frames customer_rows yields for every customer."""
    return math.ceil(Customer.objects.filter(erased_at__isnull=True).count() / chunk_rows)


def customer_rows_for(*, ids: list[int]) -> pd.DataFrame:
    rows = list(
        Customer.objects.filter(pk__in=ids, erased_at__isnull=True)
        .order_by("pk")
        .values_list(*_PATHS)
    )
    return rows_frame(rows)


def numeric_values(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def column_profile(values: pd.Series, *, kind: str | None = None) -> ColumnProfile:
    """Infer a column's type from its values (or take the given `kind`) and say whether it can
    be used: not when it is empty, has one value only, or looks like an identifier."""
    present = values.dropna()
    count = len(present)
    if count == 0:
        return ColumnProfile(UNUSABLE, 0, 0, reason=_("no customer has a value"))
    numbers = numeric_values(present) if kind != CATEGORICAL else None
    if kind is None:
        parsed_share = float(numbers.notna().mean())
        kind = NUMERIC if parsed_share >= NUMERIC_SHARE else CATEGORICAL
    as_text = present.map(_text) if kind == CATEGORICAL else numbers.dropna().map(_number_text)
    counts = as_text.value_counts()
    distinct = len(counts)
    listed = (
        [(str(value), int(number)) for value, number in counts.head(LISTED_VALUES).items()]
        if distinct <= MAX_TARGET_VALUES
        else []
    )
    reason = ""
    # One-hot encoding keeps "missing" as a category of its own, so a categorical value that
    # only some customers have still tells them apart; a number's gaps are filled in instead.
    varies = distinct > 1 or (kind == CATEGORICAL and count < len(values))
    if not varies:
        reason = _("every customer has the same value")
    elif _looks_like_identifier(kind, numbers, distinct, count):
        reason = _("almost every value is different, like an identifier")
        listed = []
    return ColumnProfile(UNUSABLE if reason else kind, count, distinct, listed, reason)


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _looks_like_identifier(kind: str, numbers, distinct: int, count: int) -> bool:
    if count < IDENTIFIER_MIN_ROWS or distinct < IDENTIFIER_DISTINCT_SHARE * count:
        return False
    if kind == CATEGORICAL:
        return True
    # A whole number that never repeats counts rows (or phones); measurements with decimals
    # may all differ and still mean something.
    whole = numbers.dropna()
    return bool(np.all(np.equal(np.mod(whole, 1), 0)))


def _profile_queryset(user: User | None) -> QuerySet:
    queryset = Customer.objects.all()
    if user is not None:
        queryset = records_visible_to(user=user, queryset=queryset)
    return queryset.filter(erased_at__isnull=True)


def builder_fields(*, user: User | None) -> list[BuilderField]:
    """Every field a builder model could predict or use, profiled on the latest customers the
    user may see (all of them for an operator): standard fields first, then custom attributes
    by name."""
    rows = list(_profile_queryset(user).order_by("-pk").values_list(*_PATHS)[:PROFILE_ROWS])
    frame = rows_frame(rows)
    fields = [
        BuilderField(
            name=name,
            label=str(spec.label),
            source=STANDARD,
            profile=column_profile(frame[name], kind=spec.kind),
        )
        for name, spec in STANDARD_FIELDS.items()
    ]
    custom_names = sorted(name for name in frame.columns if name not in STANDARD_FIELDS)
    fields += [
        BuilderField(
            name=name, label=_custom_key(name), source=CUSTOM, profile=column_profile(frame[name])
        )
        for name in custom_names
    ]
    return fields


def builder_value_exists(*, user: User | None, field_name: str, value: str) -> bool:
    """Whether any customer the user may see has `value` in the field, beyond the profiled ones."""
    queryset = _profile_queryset(user)
    spec = STANDARD_FIELDS.get(field_name)
    if spec is None:
        # The cast makes SQLite compare text with text instead of reading `value` as JSON.
        key_text = KeyTextTransform(_custom_key(field_name), "custom_attributes")
        queryset = queryset.annotate(builder_value=Cast(key_text, TextField())).filter(
            builder_value=value
        )
    elif field_name == "marketing_consent":
        if value not in (YES, NO):
            return False
        queryset = queryset.filter(marketing_consent=value == YES)
    else:
        queryset = queryset.filter(**{spec.path: value})
    return queryset.exists()


def labelled_customers(*, field_name: str) -> QuerySet:
    """The non-erased customers that may hold a value in the field (a custom attribute may be
    present and empty), to read and sample training rows from."""
    queryset = Customer.objects.filter(erased_at__isnull=True)
    spec = STANDARD_FIELDS.get(field_name)
    if spec is None:
        return queryset.filter(custom_attributes__has_key=_custom_key(field_name))
    if field_name == "marketing_consent":
        return queryset
    return queryset.exclude(**{spec.path: ""}).exclude(**{f"{spec.path}__isnull": True})


def builder_model_list() -> QuerySet[PredictiveModel]:
    return (
        PredictiveModel.objects.filter(kind=PredictiveModel.Kind.BUILDER)
        .select_related("active_version", "training_version", "created_by")
        .order_by("-created_at", "-id")
    )
