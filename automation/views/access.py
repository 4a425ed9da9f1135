"""Finding the rule, condition, action or run a page is about: through the selectors, so a rule
someone else owns is missing (404) rather than forbidden."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from automation import selectors
from automation.models import Rule, RuleAction, RuleCondition, RuleRun


def rule_or_404(request: HttpRequest, pk: int) -> Rule:
    try:
        return selectors.rule_get_visible(user=request.user, pk=pk)
    except Rule.DoesNotExist as exc:
        raise Http404(_("No such rule.")) from exc


def condition_or_404(request: HttpRequest, pk: int) -> RuleCondition:
    try:
        return selectors.rule_condition_get_visible(user=request.user, pk=pk)
    except RuleCondition.DoesNotExist as exc:
        raise Http404(_("No such condition.")) from exc


def action_or_404(request: HttpRequest, pk: int) -> RuleAction:
    try:
        return selectors.rule_action_get_visible(user=request.user, pk=pk)
    except RuleAction.DoesNotExist as exc:
        raise Http404(_("No such action.")) from exc


def run_or_404(request: HttpRequest, pk: int) -> RuleRun:
    try:
        return selectors.run_get_visible(user=request.user, pk=pk)
    except RuleRun.DoesNotExist as exc:
        raise Http404(_("No such run.")) from exc


def errors_as_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)
