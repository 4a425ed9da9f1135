"""What a rule can do. Each action type checks its settings (the same check for the rule form
and the API) and plans its work on one record: the plan says in words what it would do, and
holds the step that does it. A dry run shows the plans; a run carries them out, so a test of a
rule says what the rule will really do."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils.functional import Promise

from automation.models import Rule
from automation.record_types import RecordKind
from crm.accounts.models import User


class ActionRefused(Exception):
    """The action cannot be done on this record (and would not be on a retry): a missing
    address, a recipient who may not see the record. The message says why."""


@dataclass(frozen=True)
class ActionContext:
    rule: Rule
    kind: RecordKind
    record: Model
    # Actions are done as the rule's owner, with their permissions and field rules.
    actor: User


@dataclass(frozen=True)
class Plan:
    summary: str
    # None when there is nothing to do (the field already has the value).
    perform: Callable[[], Any] | None = None


@dataclass(frozen=True)
class ActionType:
    key: str
    label: str | Promise
    # params_clean(params=, kind=, user=) -> the settings in stored form, or ValidationError.
    params_clean: Callable[..., dict]
    # describe(params, kind) -> the action in a sentence, without a record.
    describe: Callable[[dict, RecordKind], str]
    # plan(context, params) -> Plan, or ActionRefused.
    plan: Callable[[ActionContext, dict], Plan]
    # Record kinds it applies to; empty: all.
    kinds: tuple[str, ...] = ()
