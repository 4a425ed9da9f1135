"""The forecast page: one period's Won, Commit, Best case, Weighted and Pipeline by rep and by
team, over the deals the user may see, with each row's target and Projected (Won + Commit)
against it. The definitions live in sales.selectors.forecasts and show on the page.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from crm.accounts.field_security import field_access
from crm.formatting import format_money
from crm.home import HomePanel
from crm.replicas import reads_from_replica
from sales.forms_targets import PeriodForm
from sales.models import Deal, SalesTarget
from sales.selectors.forecasts import (
    GROUP_REP,
    GROUP_TEAM,
    forecast_for,
    percent_of,
    period_current,
    target_list_visible,
)


@login_required
@permission_required("sales.view_deal", raise_exception=True)
@reads_from_replica
def forecast(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    period = form.chosen_period()
    # Every figure of the forecast is a sum of deal amounts.
    amounts_hidden = not field_access(user=request.user, model=Deal).can_see("amount")
    return render(
        request,
        "sales/forecast.html",
        {
            "form": form,
            "period": period,
            "this_month": period_current(),
            "this_quarter": period_current(kind=SalesTarget.Period.QUARTER),
            "amounts_hidden": amounts_hidden,
            "by_rep": None
            if amounts_hidden
            else forecast_for(user=request.user, period=period, group=GROUP_REP),
            "by_team": None
            if amounts_hidden
            else forecast_for(user=request.user, period=period, group=GROUP_TEAM),
        },
    )


def my_target_panel(request: HttpRequest) -> HomePanel | None:
    """The home page's figure: how far the user is on their own target this month."""
    if not request.user.has_perm("sales.view_salestarget") or not field_access(
        user=request.user, model=Deal
    ).can_see("amount"):
        return None
    period = period_current()
    target = (
        target_list_visible(user=request.user, period=period).filter(owner=request.user).first()
    )
    if target is None:
        return None
    percent = percent_of(target.attained, target.amount)
    return HomePanel(
        title=_("My target"),
        figure="—" if percent is None else f"{percent}%",
        caption=_("of %(amount)s won in %(period)s")
        % {"amount": format_money(target.amount, target.currency), "period": period.label},
        url=reverse("sales:forecast"),
    )


urlpatterns = [
    path("forecast/", forecast, name="forecast"),
]
