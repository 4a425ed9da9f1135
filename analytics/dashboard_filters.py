"""What every analytics dashboard is narrowed to (a period, a team, an owner), read from the query
string of a page, a chart's JSON or CSV, or the API, and validated the same way everywhere.

Periods (from and to both included, in the current time zone):
- last_30_days, last_90_days: the days up to today;
- this_quarter, this_year: the whole calendar quarter or year, so open deals expected to close
  later in it count towards its forecast;
- last_12_months (the default): the current month and the eleven before it, whole months;
- or `from` and `to` as ISO dates (both needed), at most MAX_DAYS days.

Figures are bucketed by week for periods up to WEEKLY_UP_TO_DAYS days and by month beyond,
unless `granularity` says otherwise.

Figures are cached for crm.cache.FIGURES_SECONDS under a key holding the user's id
(crm.cache.user_figures_key): two users never share cached figures, since they may see different
records (the visibility rule).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django import forms
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import User
from crm.cache import FIGURES_SECONDS, user_figures_key
from sales.selectors.reports import report_reps_for, report_teams_for

PERIOD_LAST_30_DAYS = "last_30_days"
PERIOD_LAST_90_DAYS = "last_90_days"
PERIOD_THIS_QUARTER = "this_quarter"
PERIOD_LAST_12_MONTHS = "last_12_months"
PERIOD_THIS_YEAR = "this_year"
PERIOD_CUSTOM = "custom"
PERIODS = {
    PERIOD_LAST_30_DAYS: gettext_lazy("Last 30 days"),
    PERIOD_LAST_90_DAYS: gettext_lazy("Last 90 days"),
    PERIOD_THIS_QUARTER: gettext_lazy("This quarter"),
    PERIOD_LAST_12_MONTHS: gettext_lazy("Last 12 months"),
    PERIOD_THIS_YEAR: gettext_lazy("This year"),
    PERIOD_CUSTOM: gettext_lazy("From … to …"),
}
DEFAULT_PERIOD = PERIOD_LAST_12_MONTHS

GRANULARITY_WEEK = "week"
GRANULARITY_MONTH = "month"
GRANULARITIES = {
    GRANULARITY_WEEK: gettext_lazy("By week"),
    GRANULARITY_MONTH: gettext_lazy("By month"),
}
WEEKLY_UP_TO_DAYS = 92
# The service figures refuse longer periods (service.selectors.metrics.MAX_DAYS).
MAX_DAYS = 731

T = TypeVar("T")


class DashboardFilterInvalid(ValueError):
    """The query string does not describe a dashboard filter; str() is a message for people,
    `fields` the messages by query parameter (the period as a whole under "period")."""

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.fields = fields or {}


def _first_of_month(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def period_range(period: str, *, today: date) -> tuple[date, date]:
    """The first and last day of a named period around `today`."""
    if period == PERIOD_LAST_30_DAYS:
        return today - timedelta(days=29), today
    if period == PERIOD_LAST_90_DAYS:
        return today - timedelta(days=89), today
    if period == PERIOD_THIS_QUARTER:
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return start, _first_of_month(start, -3) - timedelta(days=1)
    if period == PERIOD_THIS_YEAR:
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if period == PERIOD_LAST_12_MONTHS:
        return _first_of_month(today, 11), _first_of_month(today, -1) - timedelta(days=1)
    raise DashboardFilterInvalid(_("Unknown period “%(period)s”.") % {"period": period})


@dataclass(frozen=True)
class DashboardFilter:
    """A period of whole days (`period_start` to `period_end`, both included), optionally one
    team's and one owner's records, bucketed by week or month."""

    period_start: date
    period_end: date
    team_id: int | None = None
    owner_id: int | None = None
    granularity: str = GRANULARITY_MONTH
    # The preset the period came from (or "custom"), so the form shows it again.
    period: str = DEFAULT_PERIOD

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.period_start, time.min))

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return timezone.make_aware(datetime.combine(self.period_end + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    def to_params(self) -> dict[str, str]:
        """The query parameters that give this filter back."""
        params = {"period": self.period}
        if self.period == PERIOD_CUSTOM:
            params["from"] = self.period_start.isoformat()
            params["to"] = self.period_end.isoformat()
        if self.team_id is not None:
            params["team"] = str(self.team_id)
        if self.owner_id is not None:
            params["owner"] = str(self.owner_id)
        params["granularity"] = self.granularity
        return params

    def cache_key(self, *, user: User, name: str) -> str:
        """Where figure `name` for `user` under this filter is cached: per user (what they see),
        per language (titles and labels arrive translated) and per filter."""
        return user_figures_key(
            "analytics:dashboard",
            user=user,
            parts=(
                name,
                self.period_start.isoformat(),
                self.period_end.isoformat(),
                self.team_id,
                self.owner_id,
                self.granularity,
            ),
        )


class DashboardFilterForm(forms.Form):
    """The filter bar of a dashboard page; also the parser of every dashboard query string.

    Teams and owners are those whose records the user sees, as on the sales reports."""

    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=list(PERIODS.items()),
        required=False,
        # The select shows the period the figures are for when the query string names none.
        initial=DEFAULT_PERIOD,
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All teams"),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Everyone"),
    )
    granularity = forms.ChoiceField(
        label=gettext_lazy("Group by"),
        choices=[("", gettext_lazy("Automatic")), *GRANULARITIES.items()],
        required=False,
    )

    # The query string says from/to, which are not Python names.
    PARAM_NAMES = {"start": "from", "end": "to"}

    def __init__(self, data: Mapping | None = None, *, user: User, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["team"].queryset = report_teams_for(user=user)
        self.fields["owner"].queryset = report_reps_for(user=user)
        self.fields["owner"].label_from_instance = lambda owner: owner.get_full_name() or str(owner)
        self.fields["start"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["end"].widget = forms.DateInput(attrs={"type": "date"})

    def add_prefix(self, field_name: str) -> str:
        # The widgets are named as the query string is (from, to), so a submitted form, a chart
        # URL and an API call read the same parameters.
        return self.PARAM_NAMES.get(field_name, field_name)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        period = cleaned.get("period") or ""
        if start or end or period == PERIOD_CUSTOM:
            if not (start and end):
                raise forms.ValidationError(_("Give both the first and the last day."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("A period covers at most %(days)s days.") % {"days": MAX_DAYS}
                )
            cleaned["period"] = PERIOD_CUSTOM
        else:
            cleaned["period"] = period or DEFAULT_PERIOD
            cleaned["start"], cleaned["end"] = period_range(
                cleaned["period"], today=timezone.localdate()
            )
        return cleaned

    def dashboard_filter(self) -> DashboardFilter:
        """The filter of a valid form."""
        data = self.cleaned_data
        start, end = data["start"], data["end"]
        granularity = data.get("granularity") or (
            GRANULARITY_WEEK if (end - start).days + 1 <= WEEKLY_UP_TO_DAYS else GRANULARITY_MONTH
        )
        return DashboardFilter(
            period_start=start,
            period_end=end,
            team_id=data["team"].pk if data.get("team") else None,
            owner_id=data["owner"].pk if data.get("owner") else None,
            granularity=granularity,
            period=data["period"],
        )

    def error_fields(self) -> dict[str, list[str]]:
        """The errors by query parameter; those about the period as a whole under "period"."""
        fields: dict[str, list[str]] = {}
        for name, errors in self.errors.items():
            param = "period" if name == NON_FIELD_ERRORS else self.PARAM_NAMES.get(name, name)
            fields.setdefault(param, []).extend(str(error) for error in errors)
        return fields

    def error_message(self) -> str:
        """Every error of an invalid form in one sentence list, named by query parameter."""
        parts = []
        for name, errors in self.errors.items():
            text = " ".join(str(error) for error in errors)
            if name == NON_FIELD_ERRORS:
                parts.append(text)
            else:
                parts.append(f"{self.PARAM_NAMES.get(name, name)}: {text}")
        return " ".join(parts)


def dashboard_filter_form(*, user: User, params: Mapping) -> DashboardFilterForm:
    """The filter bar of a page, bound to its query string; without a period, bound to the
    default one, so the select shows the period the figures are for and the charts, which read
    the form's values, ask for the same."""
    data = params.copy()
    if not any(data.get(name) for name in ("period", "from", "to")):
        data["period"] = DEFAULT_PERIOD
    return DashboardFilterForm(data, user=user)


def dashboard_filter_parse(*, user: User, params: Mapping) -> DashboardFilter:
    """The filter a query string describes; DashboardFilterInvalid with a message otherwise.

    An unknown team or owner, or one whose records the user does not see, is refused."""
    form = DashboardFilterForm(params, user=user)
    if not form.is_valid():
        raise DashboardFilterInvalid(form.error_message(), fields=form.error_fields())
    return form.dashboard_filter()


def dashboard_cached(
    *, user: User, filters: DashboardFilter, name: str, build: Callable[[], T]
) -> T:
    """Figure `name` for `user` under `filters`, computed by `build` at most once a minute."""
    return cache.get_or_set(filters.cache_key(user=user, name=name), build, FIGURES_SECONDS)


def dashboard_cached_many(
    *, user: User, filters: DashboardFilter, builds: Mapping[str, Callable[[], T]]
) -> dict[str, T]:
    """Figures `builds` (name: build) for `user` under `filters`, as dashboard_cached gives each:
    read from the cache in one round trip, so a dashboard of a dozen cached charts costs one
    call to Redis rather than a dozen; the missing ones are computed and kept together."""
    keys = {name: filters.cache_key(user=user, name=name) for name in builds}
    found = cache.get_many(list(keys.values()))
    figures, computed = {}, {}
    for name, build in builds.items():
        if keys[name] in found:
            figures[name] = found[keys[name]]
        else:
            figures[name] = computed[keys[name]] = build()
    if computed:
        cache.set_many(computed, FIGURES_SECONDS)
    return figures


def dashboard_cached_unless(
    *,
    user: User,
    filters: DashboardFilter,
    builds: Mapping[str, Callable[[], T]],
    instead: Mapping[str, T | None],
) -> list[T]:
    """Figures `builds` in their order, as dashboard_cached_many gives them, except where
    `instead` holds a value for the name: one decided before the cache (a chart computed from a
    field hidden from `user` comes without figures), so a new field rule applies at once."""
    cached = dashboard_cached_many(
        user=user,
        filters=filters,
        builds={name: build for name, build in builds.items() if instead.get(name) is None},
    )
    return [instead.get(name) or cached[name] for name in builds]
