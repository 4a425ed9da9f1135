"""Each time a rule ran: the list of a rule's runs, and one run with what it found and did."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse

from automation import selectors
from automation.models import RuleRun
from automation.record_types import RECORD_KINDS
from automation.views.access import rule_or_404, run_or_404
from crm.pages import render_list_page

RUNS_PER_PAGE = 50


@login_required
@permission_required("automation.view_rule", raise_exception=True)
def run_list(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    status = request.GET.get("status", "")
    runs = selectors.rule_runs_visible(user=request.user, rule=rule)
    if status in RuleRun.Status.values:
        runs = runs.filter(status=status)
    else:
        status = ""
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render_list_page(
        request,
        "automation/run_list.html",
        {"rule": rule, "page": page, "status": status, "statuses": RuleRun.Status.choices},
    )


@login_required
@permission_required("automation.view_rule", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = run_or_404(request, pk)
    kind = RECORD_KINDS.get(run.record_type)
    record_url = ""
    if kind is not None and kind.visible(user=request.user).filter(pk=run.record_id).exists():
        record_url = reverse(kind.url_name, args=[run.record_id])
    chain_ids = [link[0] for link in run.chain if isinstance(link, list | tuple) and link]
    chain_rules = dict(
        selectors.rule_list_visible(user=request.user)
        .filter(pk__in=chain_ids)
        .values_list("pk", "name")
    )
    chain = [
        {"rule_id": link[0], "name": chain_rules.get(link[0], ""), "record": link[1]}
        for link in run.chain
        if isinstance(link, list | tuple) and len(link) == 2
    ]
    return render(
        request,
        "automation/run_detail.html",
        {"run": run, "rule": run.rule, "kind": kind, "record_url": record_url, "chain": chain},
    )


urlpatterns = [
    path("rules/<int:pk>/runs/", run_list, name="run_list"),
    path("runs/<int:pk>/", run_detail, name="run_detail"),
]
