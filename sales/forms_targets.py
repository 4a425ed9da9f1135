"""Forms of the targets, forecast and reports pages: they parse what the browser sends; the rules
live in sales.services.targets and the selectors."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from sales.models import SalesTarget
from sales.selectors.deals import pipeline_list_active
from sales.selectors.forecasts import (
    Period,
    period_current,
    period_parse,
    target_reps_manageable,
    target_teams_manageable,
)
from sales.selectors.reports import (
    REPORT_GROUPS,
    ReportScope,
    report_reps_for,
    report_teams_for,
)

PERIOD_HELP = _("A month as 2026-11 or a quarter as 2026-Q4.")


class PeriodField(forms.CharField):
    """A month (2026-11) or a quarter (2026-Q4), cleaned into a Period."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", PERIOD_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "2026-11")
        self.widget.attrs.setdefault("maxlength", "10")

    def prepare_value(self, value):
        return value.key if isinstance(value, Period) else value

    def to_python(self, value) -> Period | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return period_parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class TargetForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Rep"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("A target is for one rep or for one team."),
    )
    period = PeriodField(label=_("Period"))
    amount = forms.DecimalField(
        label=_("Target amount"), max_digits=14, decimal_places=2, min_value=0
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        help_text=_("ISO code; left empty, the default currency."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = target_reps_manageable(user=user)
        self.fields["team"].queryset = target_teams_manageable(user=user)

    @classmethod
    def initial_for(cls, target: SalesTarget) -> dict[str, Any]:
        return {
            "owner": target.owner_id,
            "team": target.team_id,
            "period": Period(kind=target.period, start=target.period_start),
            "amount": target.amount,
            "currency": target.currency,
        }

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        period: Period = values.pop("period")
        return {**values, "period": period.kind, "period_start": period.start}

    def add_service_error(self, error: ValidationError) -> None:
        """A service error on the field it names (the period's two parts are one field here)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            name = "period" if name == "period_start" else name
            self.add_error(name if name in self.fields else None, messages)


class PeriodForm(forms.Form):
    """The period picker of the targets and forecast pages; the current month by default."""

    period = PeriodField(label=_("Period"), required=False)

    def chosen_period(self) -> Period:
        if self.is_valid() and self.cleaned_data["period"] is not None:
            return self.cleaned_data["period"]
        return period_current()


class ReportFilterForm(forms.Form):
    start = PeriodField(label=_("From"), required=False, help_text="")
    end = PeriodField(label=_("To"), required=False, help_text="")
    owner = forms.ModelChoiceField(
        label=_("Rep"), queryset=User.objects.none(), required=False, empty_label=_("Any rep")
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("Any team")
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"),
        queryset=pipeline_list_active(),
        required=False,
        empty_label=_("Default pipeline (funnel) / all"),
    )
    group = forms.ChoiceField(
        label=_("Group by"), choices=list(REPORT_GROUPS.items()), required=False
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = report_reps_for(user=user)
        self.fields["team"].queryset = report_teams_for(user=user)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        end = cleaned.get("end") or period_current()
        start = cleaned.get("start") or Period(kind=end.kind, start=end.start)
        if not cleaned.get("start") and not cleaned.get("end"):
            # By default the last three months, month by month.
            start = end.previous().previous()
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def scope(self) -> ReportScope:
        """The report scope; ValidationError naming the field when the input makes no sense."""
        if not self.is_valid():
            raise ValidationError(self.errors)
        values = self.cleaned_data
        try:
            return ReportScope(
                user=self.user,
                start=values["start"],
                end=values["end"],
                owner=values["owner"],
                team=values["team"],
                pipeline=values["pipeline"],
                group=values["group"] or "",
            )
        except ValueError as exc:
            self.add_error("end", str(exc))
            raise ValidationError(self.errors) from exc
