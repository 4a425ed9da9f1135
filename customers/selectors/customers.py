"""Reads of customers, companies and saved segments, always through the visibility rule.

`CustomerFilter` and `customer_list_filter` are the one filter implementation: the list page, the
API, segments and exports all describe what they want as a CustomerFilter and get it from here.

Search on PostgreSQL uses the trigram indexes of migration customers/0003 (on UPPER(name),
UPPER(email), phone and UPPER(company.name)). Every condition of a search is on the customer
table, so PostgreSQL can OR the index scans together (BitmapOr); a join to the company, or an
`IN (subquery)`, inside the OR would make it read every customer instead. A trigram index can
only serve a LIKE pattern that contains a whole trigram, so a one- or two-character term
(a Chinese given name, 秀英) matches the start or the end of a name there, which the index
can serve, rather than anywhere in it, which would read every row.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.contrib.postgres.expressions import ArraySubquery
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from crm.accounts.field_security import field_access
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from crm.sort_keys import datetime_nulls_last
from customers.cleaning import fold_whitespace, phone_search_digits
from customers.importing.rows import KEY_FIELDS
from customers.models import Company, Customer, Segment

DEFAULT_ORDERING = "name"
# Each ordering follows one of the model's indexes exactly (direction of the tie-breaker
# included), so the first page of a million rows is read from the index, not sorted. A customer
# never contacted sorts last both ways, by the key the API's cursor pages use too.
CUSTOMER_ORDERINGS = {
    "name": (F("name").asc(), F("id").asc()),
    "-name": (F("name").desc(), F("id").desc()),
    "created_at": (F("created_at").asc(), F("id").desc()),
    "-created_at": (F("created_at").desc(), F("id").asc()),
    "total_spend": (F("total_spend").asc(), F("id").asc()),
    "-total_spend": (F("total_spend").desc(), F("id").desc()),
    "last_contact_at": (
        datetime_nulls_last("last_contact_at", descending=False).asc(),
        F("id").asc(),
    ),
    "-last_contact_at": (
        datetime_nulls_last("last_contact_at", descending=True).desc(),
        F("id").desc(),
    ),
}
# Left to itself, PostgreSQL may answer a search by walking the sort's index and testing each
# row, hoping to meet a page of matches soon; when the matches sit together far down that order
# the walk reads most of the table. They do for a search (Chinese names sort after Latin ones,
# a given name's matches after most surnames) and for a city (its customers' names are mostly
# in its language). Sorting first by a key that is the same for every row but that no index
# holds makes it gather the matches from their indexes and sort those instead.
_GATHER_MATCHES_FIRST = ExpressionWrapper(Q(pk__isnull=True), output_field=BooleanField())
COMPANY_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
# Lists count at most this many rows (see CappedPaginator).
COUNT_CAP = 10_000
# Below this many characters a term cannot use a trigram index (see the module docstring).
TRIGRAM_LENGTH = 3


@dataclass(frozen=True)
class CustomerFilter:
    """What a customer list is narrowed to; empty values do not filter.

    Saved in a segment as `to_json()`, whose keys are the list page's query parameters.
    """

    search: str = ""
    statuses: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    owner_id: int | None = None
    team_id: int | None = None
    tags: tuple[str, ...] = ()
    city: str = ""
    age_min: int | None = None
    age_max: int | None = None
    spend_min: Decimal | None = None
    spend_max: Decimal | None = None
    contacted_after: date | None = None
    contacted_before: date | None = None
    never_contacted: bool = False
    company_id: int | None = None

    def to_json(self) -> dict:
        values = {
            "q": self.search,
            "status": list(self.statuses),
            "tier": list(self.tiers),
            "owner": self.owner_id,
            "team": self.team_id,
            "tag": list(self.tags),
            "city": self.city,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "spend_min": None if self.spend_min is None else str(self.spend_min),
            "spend_max": None if self.spend_max is None else str(self.spend_max),
            "contacted_after": self.contacted_after and self.contacted_after.isoformat(),
            "contacted_before": self.contacted_before and self.contacted_before.isoformat(),
            "never_contacted": self.never_contacted,
            "company": self.company_id,
        }
        return {key: value for key, value in values.items() if not _is_empty(value)}

    @classmethod
    def from_json(cls, data: Mapping) -> "CustomerFilter":
        """The filter saved by `to_json`; ValueError if the data was changed into nonsense."""
        if not isinstance(data, Mapping):
            raise ValueError("filters must be an object")
        unknown = set(data) - set(_JSON_READERS)
        if unknown:
            raise ValueError(f"unknown filter keys: {', '.join(sorted(unknown))}")
        values = {}
        for key, raw in data.items():
            attribute, read = _JSON_READERS[key]
            try:
                values[attribute] = read(raw)
            except (TypeError, ValueError, InvalidOperation) as exc:
                raise ValueError(f"filter {key}: {raw!r} is not valid") from exc
        return cls(**values)


_NO_FILTER = CustomerFilter()


def _is_empty(value) -> bool:
    return value is None or value is False or value == "" or value == []


def _string(raw) -> str:
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw


def _strings(raw) -> tuple[str, ...]:
    if isinstance(raw, str) or not all(isinstance(item, str) for item in raw):
        raise TypeError(raw)
    return tuple(raw)


def _integer(raw) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError(raw)
    return raw


def _boolean(raw) -> bool:
    if not isinstance(raw, bool):
        raise TypeError(raw)
    return raw


_JSON_READERS = {
    "q": ("search", _string),
    "status": ("statuses", _strings),
    "tier": ("tiers", _strings),
    "owner": ("owner_id", _integer),
    "team": ("team_id", _integer),
    "tag": ("tags", _strings),
    "city": ("city", _string),
    "age_min": ("age_min", _integer),
    "age_max": ("age_max", _integer),
    "spend_min": ("spend_min", Decimal),
    "spend_max": ("spend_max", Decimal),
    "contacted_after": ("contacted_after", date.fromisoformat),
    "contacted_before": ("contacted_before", date.fromisoformat),
    "never_contacted": ("never_contacted", _boolean),
    "company": ("company_id", _integer),
}


# The filter keys that read a securable field, and that field.
FILTERS_ON_FIELD = {
    "city": "city",
    "age_min": "birthday",
    "age_max": "birthday",
}


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class _EqualsAny(Func):
    """`column = ANY(array)` on PostgreSQL."""

    template = "(%(expressions)s))"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _search_condition(term: str, hidden: frozenset[str]) -> Q:
    postgresql = connection.vendor == "postgresql"
    if postgresql and len(term) < TRIGRAM_LENGTH:
        condition = Q(name__istartswith=term) | Q(name__iendswith=term)
        companies = Company.objects.filter(Q(name__istartswith=term) | Q(name__iendswith=term))
    else:
        condition = Q(name__icontains=term)
        if "email" not in hidden:
            condition |= Q(email__icontains=term)
        companies = Company.objects.filter(name__icontains=term)
    # Phones are stored in E.164: a whole number typed in any format is normalised first; a
    # fragment (0013 8000) is also looked for as the digits typed.
    typed_digits = re.sub(r"\D", "", term)
    if "phone" not in hidden and len(typed_digits) >= TRIGRAM_LENGTH:
        # A number that contains the other (8613800138000 and 13800138000) finds nothing the
        # other does not: only the shorter is looked for, one trigram scan instead of two.
        candidates = {phone_search_digits(term), typed_digits}
        for digits in sorted(candidates):
            if not any(other != digits and other in digits for other in candidates):
                condition |= Q(phone__contains=digits)
    company_ids = companies.order_by().values("pk")
    if postgresql:
        # company_id = ANY(ARRAY(SELECT ...)): the company ids are computed once and looked up
        # in the customer table's company index, inside the same BitmapOr as the other terms.
        return condition | Q(_EqualsAny(F("company_id"), ArraySubquery(company_ids)))
    return condition | Q(company_id__in=company_ids)


def customer_filter_hidden_keys(*, filters: CustomerFilter, hidden: frozenset[str]) -> list[str]:
    """The keys of `filters` that narrow by a field hidden from the user (see FILTERS_ON_FIELD)."""
    given = filters.to_json()
    return [key for key, field in FILTERS_ON_FIELD.items() if key in given and field in hidden]


def customer_list_filter(
    *, queryset: QuerySet[Customer], filters: CustomerFilter, hidden: frozenset[str] = frozenset()
) -> QuerySet:
    """Narrow `queryset` (already visible to someone) to the customers matching `filters`.

    Conditions on `hidden` fields are left out: a search or filter that matched on a field the
    user may not see would tell them its value."""
    dropped = {
        _JSON_READERS[key][0] for key in customer_filter_hidden_keys(filters=filters, hidden=hidden)
    }
    filters = replace(filters, **{name: getattr(_NO_FILTER, name) for name in dropped})
    conditions = Q()
    search = fold_whitespace(filters.search)
    if search:
        conditions &= _search_condition(search, hidden)
    if filters.statuses:
        conditions &= Q(status__in=filters.statuses)
    if filters.tiers:
        conditions &= Q(tier__in=filters.tiers)
    if filters.owner_id is not None:
        conditions &= Q(owner_id=filters.owner_id)
    if filters.team_id is not None:
        conditions &= Q(team_id=filters.team_id)
    if filters.company_id is not None:
        conditions &= Q(company_id=filters.company_id)
    city = fold_whitespace(filters.city)
    if city:
        conditions &= Q(city=city)
    # Ages become birthday bounds, so the birthday index answers and no age is stored.
    today = timezone.localdate()
    if filters.age_min is not None:
        conditions &= Q(birthday__lte=_years_before(today, filters.age_min))
    if filters.age_max is not None:
        conditions &= Q(birthday__gt=_years_before(today, filters.age_max + 1))
    if filters.spend_min is not None:
        conditions &= Q(total_spend__gte=filters.spend_min)
    if filters.spend_max is not None:
        conditions &= Q(total_spend__lte=filters.spend_max)
    if filters.contacted_after is not None:
        conditions &= Q(last_contact_at__gte=_start_of(filters.contacted_after))
    if filters.contacted_before is not None:
        conditions &= Q(last_contact_at__lt=_start_of(filters.contacted_before))
    if filters.never_contacted:
        conditions &= Q(last_contact_at__isnull=True)
    if filters.tags:
        tagged = Customer.tags.through.objects.filter(
            customer_id=OuterRef("pk"), tag__name__in=filters.tags
        )
        conditions &= Q(Exists(tagged))
    return queryset.filter(conditions)


def customer_ordering(ordering: str | None) -> str:
    """The ordering asked for when it is one the lists offer, else the default."""
    return ordering if ordering in CUSTOMER_ORDERINGS else DEFAULT_ORDERING


def customer_list_gathers_first(*, search: str, city: str) -> bool:
    """Whether the matches of these filters sort together (see _GATHER_MATCHES_FIRST)."""
    return bool(fold_whitespace(search) or fold_whitespace(city))


def customer_list_order(
    *, queryset: QuerySet[Customer], ordering: str | None, gather_first: bool = False
) -> QuerySet[Customer]:
    """Sort by one of CUSTOMER_ORDERINGS (the default for anything else); `gather_first` when
    the list is narrowed by a search or a city (customer_list_gathers_first)."""
    keys = CUSTOMER_ORDERINGS[customer_ordering(ordering)]
    if gather_first:
        keys = (_GATHER_MATCHES_FIRST, *keys)
    return queryset.order_by(*keys)


def customer_list_visible(
    *, user: User, filters: CustomerFilter | None = None, ordering: str = DEFAULT_ORDERING
) -> QuerySet[Customer]:
    customers = records_visible_to(user=user, queryset=Customer.objects.all())
    if filters is not None:
        customers = customer_list_filter(
            queryset=customers,
            filters=filters,
            hidden=field_access(user=user, model=Customer).hidden,
        )
    return customer_list_order(
        queryset=customers.select_related("company", "owner", "team"),
        ordering=ordering,
        gather_first=filters is not None
        and customer_list_gathers_first(search=filters.search, city=filters.city),
    )


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, and sorts a page of few matches from their ids.

    An exact COUNT(*) over the hundreds of thousands of customers a manager sees costs more
    than the page itself, and past page 200 a narrower filter serves better than paging: beyond
    the cap the count reads "10,000+" and the pages stop there. The count fetches the ids of at
    most cap + 1 matching rows, unordered, so PostgreSQL answers from the cheapest plan (the
    trigram bitmap of a search). When that is all of them, the page is cut from those ids: the
    database sorts a few rows instead of walking the sort index past a million that do not match.
    """

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def _matching_ids(self) -> list[int] | None:
        """The ids of every matching row, or None when more than `cap` rows match."""
        ids = list(self.object_list.order_by().values_list("pk", flat=True)[: self.cap + 1])
        return ids if len(ids) <= self.cap else None

    @cached_property
    def count(self) -> int:
        return self.cap if self._matching_ids is None else len(self._matching_ids)

    @property
    def count_is_exact(self) -> bool:
        return self._matching_ids is not None

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if self._matching_ids is not None:
            rows = rows.filter(pk__in=self._matching_ids)
            if not rows.query.annotations:
                # The page's ids are sorted from the matching rows alone, and only the page's
                # rows are filtered again and joined (company, owner, team): doing that to every
                # match before the sort cost ~5 times more at a few thousand matches.
                page_ids = (
                    rows.model.objects.filter(pk__in=self._matching_ids)
                    .order_by(*(rows.query.order_by or rows.model._meta.ordering))
                    .values("pk")[bottom:top]
                )
                return self._get_page(self.object_list.filter(pk__in=page_ids), number, self)
        return self._get_page(rows[bottom:top], number, self)


def customer_get_visible(*, user: User, pk: int) -> Customer:
    customers = records_visible_to(user=user, queryset=Customer.objects.all())
    return customers.select_related("company", "owner", "team").prefetch_related("tags").get(pk=pk)


def customer_count_owned_by(*, user: User) -> int:
    return Customer.objects.filter(owner=user).count()


def company_ordering(ordering: str | None) -> str:
    return ordering if ordering in COMPANY_ORDERINGS else DEFAULT_ORDERING


def company_list_visible(
    *,
    user: User,
    search: str = "",
    industry: str = "",
    city: str = "",
    ordering: str = DEFAULT_ORDERING,
) -> QuerySet[Company]:
    companies = records_visible_to(user=user, queryset=Company.objects.all())
    search = fold_whitespace(search)
    if search:
        companies = companies.filter(Q(name__icontains=search) | Q(city__icontains=search))
    if industry:
        companies = companies.filter(industry=fold_whitespace(industry))
    if city:
        companies = companies.filter(city=fold_whitespace(city))
    return companies.select_related("owner", "team").order_by(
        *COMPANY_ORDERINGS[company_ordering(ordering)]
    )


def company_get_visible(*, user: User, pk: int) -> Company:
    companies = records_visible_to(user=user, queryset=Company.objects.all())
    return companies.select_related("owner", "team").get(pk=pk)


def company_customers_visible(*, user: User, company: Company) -> QuerySet[Customer]:
    customers = records_visible_to(user=user, queryset=company.customers.all())
    return customers.select_related("owner").order_by("name", "id")


def segment_list_visible(*, user: User) -> QuerySet[Segment]:
    segments = records_visible_to(user=user, queryset=Segment.objects.all())
    return segments.select_related("owner", "team").order_by("name", "id")


def segment_get_visible(*, user: User, pk: int) -> Segment:
    return segment_list_visible(user=user).get(pk=pk)


def segment_customers_visible(
    *, user: User, segment: Segment, ordering: str = DEFAULT_ORDERING
) -> QuerySet[Customer]:
    """The segment's members now, among the customers `user` may see.

    The saved filters on fields hidden from `user` still apply: whoever saved them could see
    those fields (segment_create refuses the others), and the pages still hide the values. The
    search term matches only the fields `user` may see, as on the list. Raises ValueError when
    the saved filters no longer read as a filter.
    """
    filters = CustomerFilter.from_json(segment.filters)
    customers = records_visible_to(user=user, queryset=Customer.objects.all())
    hidden = field_access(user=user, model=Customer).hidden - set(FILTERS_ON_FIELD.values())
    return customer_list_order(
        queryset=customer_list_filter(
            queryset=customers, filters=filters, hidden=hidden
        ).select_related("company", "owner", "team"),
        ordering=ordering,
        gather_first=customer_list_gathers_first(search=filters.search, city=filters.city),
    )


def customer_find_same(
    *, external_id: str = "", email: str = "", phone: str = ""
) -> Customer | None:
    """The customer the import would take these (already normalised) values for: the oldest
    with the same external id, else email, else phone, whoever owns them.

    The lowest id is picked in Python from the few matches, so the lookup is the equality index
    alone and never a walk down the primary key."""
    given = {"external_id": external_id, "email": email, "phone": phone}
    for name in KEY_FIELDS:
        if given[name]:
            ids = Customer.objects.filter(**{name: given[name]}).values_list("pk", flat=True)
            found = min(ids, default=None)
            if found is not None:
                return Customer.objects.get(pk=found)
    return None
