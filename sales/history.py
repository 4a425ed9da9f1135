"""The sales app's records whose pages show their history (crm.audit's registry)."""

from django.urls import reverse

from crm.audit.registry import register_record_history
from sales.models import AssignmentRule, Campaign, Deal, Pipeline, SalesTarget, WebForm
from sales.selectors.campaigns import campaign_list_visible
from sales.selectors.deals import deal_list_visible
from sales.selectors.forecasts import target_list_visible
from sales.selectors.webforms import assignment_rule_list, webform_list_visible


def record_histories_register() -> None:
    register_record_history(
        model=Deal,
        visible=deal_list_visible,
        url=lambda pk: reverse("sales:deal_detail", args=[pk]),
    )
    register_record_history(
        model=Campaign,
        visible=campaign_list_visible,
        url=lambda pk: reverse("sales:campaign_detail", args=[pk]),
    )
    register_record_history(
        model=WebForm,
        visible=webform_list_visible,
        url=lambda pk: reverse("sales:webform_detail", args=[pk]),
    )
    register_record_history(
        model=SalesTarget,
        visible=target_list_visible,
        url=lambda pk: reverse("sales:target_edit", args=[pk]),
    )
    # How selling is set up is shared: whoever may view pipelines or rules sees them all.
    register_record_history(
        model=Pipeline,
        visible=lambda *, user: Pipeline.objects.all(),
        url=lambda pk: reverse("sales:pipeline_edit", args=[pk]),
    )
    register_record_history(
        model=AssignmentRule,
        visible=lambda *, user: assignment_rule_list(),
        url=lambda pk: reverse("sales:rule_edit", args=[pk]),
    )
