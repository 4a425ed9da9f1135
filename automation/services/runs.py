"""Running rules: from an event (or a date, or a schedule) to a run row, and from the run row,
in a Celery worker, to the actions done.

- Runs are created on commit of the change that set them off and carried out by
  `automation.rule_run_task`, so a rule never holds up or undoes the user's change.
- Conditions are judged when the run starts, on the record as it is then, among the records the
  rule's owner may see; actions are done as the owner, each in its own transaction, and the run
  remembers how far it got.
- An action that fails for a reason that may pass (the network, a lock, a rate limit) is tried
  again from that action, with exponential backoff, up to CRM_AUTOMATION_ACTION_ATTEMPTS; one
  refused for good (a missing address, no permission) fails the run at once. A failed or
  stopped run is reported to the rule's owner.
- Each run knows the chain of rule runs whose actions led to it. A rule that comes round again
  on the same record in its own chain is a loop, and a chain longer than
  CRM_AUTOMATION_MAX_CHAIN is cut: either way the run is stopped and reported. The one
  exception is a rule set off by its own action on the record it is acting on (a rule on
  "updated" that adds a tag): that is the rule's own change, not news, and makes no run at all.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from automation.actions import ActionContext, ActionRefused
from automation.actions.catalogue import action_describe, action_type_get
from automation.conditions import conditions_q
from automation.models import Rule, RuleAction, RuleRun
from automation.record_types import RecordKind, record_kind
from automation.selectors import rule_conditions_judge, rule_own_conditions
from automation.triggers import (
    EVENT_ROUTES,
    TIME_TRIGGERS,
    date_filter,
    date_target,
    next_slot,
    trigger_matches_event,
)
from collaboration.models import Notification
from collaboration.services.notifications import notification_send
from crm.audit.context import changes_made_for
from crm.queueing import task_send_on_commit
from crm.webhooks.events import event_cause_set

logger = logging.getLogger(__name__)

# A run claimed by a worker that then died is taken up again after this long.
RUN_LEASE = timedelta(minutes=10)
PERMANENT_ERRORS = (ActionRefused, ValidationError, PermissionDenied, ObjectDoesNotExist)
MAX_ERROR_LENGTH = 1000


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)[:MAX_ERROR_LENGTH]
    if isinstance(error, PermissionDenied):
        return (str(error) or _("The rule's owner may not do this."))[:MAX_ERROR_LENGTH]
    return (str(error) or type(error).__name__)[:MAX_ERROR_LENGTH]


# Creating runs -----------------------------------------------------------------------------------


def _loop_message(rule: Rule, chain: list, key: str) -> str:
    names = dict(Rule.objects.filter(pk__in=[link[0] for link in chain]).values_list("pk", "name"))
    path = " → ".join(f"“{names.get(rule_id, rule_id)}” ({record})" for rule_id, record in chain)
    return _("Loop stopped: %(path)s would run “%(rule)s” on %(record)s again.") % {
        "path": path,
        "rule": rule.name,
        "record": key,
    }


def _run_new(
    rule: Rule,
    kind: RecordKind,
    record: Model,
    *,
    cause: str,
    cause_data: dict,
    chain,
    once_key: str = "",
    now: datetime,
) -> RuleRun:
    key = kind.record_key(record.pk)
    chain = [list(link) for link in chain]
    run = RuleRun(
        rule=rule,
        record_type=kind.key,
        record_id=record.pk,
        record_label=str(record)[:200],
        cause=cause,
        cause_data=cause_data or {},
        chain=chain,
        once_key=once_key,
        next_attempt_at=now,
    )
    if [rule.pk, key] in chain:
        run.status = RuleRun.Status.STOPPED
        run.error = _loop_message(rule, chain, key)
    elif len(chain) >= settings.CRM_AUTOMATION_MAX_CHAIN:
        run.status = RuleRun.Status.STOPPED
        run.error = _(
            "Stopped: %(count)d rules in a row set one another off, the most allowed."
        ) % {"count": len(chain)}
    if run.status == RuleRun.Status.STOPPED:
        run.finished_at = now
        run.next_attempt_at = None
    return run


def _runs_start(runs: list[RuleRun]) -> list[RuleRun]:
    """Store the runs and queue the ones to carry out (on commit); report the stopped ones."""
    if not runs:
        return []
    from automation.tasks import rule_run_task

    with transaction.atomic():
        stored = RuleRun.objects.bulk_create(runs)
        for run in stored:
            if run.status == RuleRun.Status.QUEUED:
                # When the broker cannot be reached, the run stays queued and the beat sends it.
                task_send_on_commit(task=rule_run_task, args=(run.pk,))
            else:
                transaction.on_commit(lambda run=run: run_report(run))
    return stored


def _is_own_change(rule: Rule, key: str, cause) -> bool:
    return bool(cause) and list(cause[-1]) == [rule.pk, key]


def runs_create_for_event(*, event: str, announcements: list[tuple[Model, dict]], cause) -> None:
    """The event listener: one run per enabled rule whose trigger the event fits, per record
    the rule's owner may see (a rule neither acts on nor lists records beyond its owner's
    reach)."""
    routes = EVENT_ROUTES.get(event)
    if not routes:
        return
    rules = list(
        Rule.objects.filter(
            is_enabled=True,
            owner__isnull=False,
            trigger__in={route.trigger for route in routes},
            record_type__in={route.kind for route in routes},
        )
        .select_related("owner")
        .order_by("pk")
    )
    if not rules:
        return
    now = timezone.now()
    runs = []
    for route in routes:
        kind = record_kind(route.kind)
        targets = [(route.target(source), extra or {}) for source, extra in announcements]
        targets = [(record, extra) for record, extra in targets if record is not None]
        for rule in rules:
            if rule.trigger != route.trigger or rule.record_type != route.kind:
                continue
            fitting = [
                (record, extra)
                for record, extra in targets
                if not _is_own_change(rule, kind.record_key(record.pk), cause)
                and trigger_matches_event(rule, extra)
            ]
            if not fitting:
                continue
            seen = set(
                kind.visible(user=rule.owner)
                .filter(pk__in=[record.pk for record, _extra in fitting])
                .values_list("pk", flat=True)
            )
            runs += [
                _run_new(
                    rule,
                    kind,
                    record,
                    cause=event,
                    cause_data=extra,
                    chain=cause or (),
                    now=now,
                )
                for record, extra in fitting
                if record.pk in seen
            ]
    _runs_start(runs)


# Dates and schedules -----------------------------------------------------------------------------


def _time_rule_records(rule: Rule, kind: RecordKind, *, slot: datetime, once_key: str):
    records = kind.visible(user=rule.owner)
    own = rule_own_conditions(rule)
    records = records.filter(
        conditions_q(kind=kind, conditions=own, match_any=rule.match == Rule.Match.ANY)
    )
    if rule.trigger == Rule.Trigger.DATE_REACHED:
        records = records.filter(date_filter(rule, kind, day=date_target(rule, slot=slot)))
    done = RuleRun.objects.filter(rule=rule, once_key=once_key).values("record_id")
    return records.exclude(pk__in=done).order_by("pk")


def rule_time_pass(*, rule: Rule, slot: datetime, now: datetime) -> int:
    """One pass of a date or schedule rule: a run for each record due, at most
    CRM_AUTOMATION_BATCH_SIZE (the rest are taken on the next beat, as their once-key marks
    those done)."""
    kind = record_kind(rule.record_type)
    if rule.trigger == Rule.Trigger.DATE_REACHED:
        once_key = f"date:{date_target(rule, slot=slot).isoformat()}"
    else:
        once_key = f"schedule:{timezone.localtime(slot).strftime('%Y-%m-%dT%H:%M')}"
    batch = list(
        _time_rule_records(rule, kind, slot=slot, once_key=once_key)[
            : settings.CRM_AUTOMATION_BATCH_SIZE
        ]
    )
    cause = "date" if rule.trigger == Rule.Trigger.DATE_REACHED else "schedule"
    runs = [
        _run_new(
            rule,
            kind,
            record,
            cause=cause,
            cause_data={"slot": timezone.localtime(slot).isoformat()},
            chain=(),
            once_key=once_key,
            now=now,
        )
        for record in batch
    ]
    _runs_start(runs)
    return len(runs)


def rules_run_due(*, now: datetime | None = None) -> int:
    """Run the date and schedule rules whose time has come. Each pass holds its rule's row
    (skipping rows another beat holds), so one slot is never run twice at once; a slot with more
    records than a batch keeps its rule due until all are taken."""
    now = now or timezone.now()
    created = 0
    due_ids = list(
        Rule.objects.filter(
            is_enabled=True, trigger__in=TIME_TRIGGERS, next_run_at__lte=now, owner__isnull=False
        ).values_list("pk", flat=True)
    )
    for rule_id in due_ids:
        with transaction.atomic():
            rule = (
                Rule.objects.select_for_update(skip_locked=True)
                .filter(pk=rule_id, is_enabled=True, next_run_at__lte=now)
                .first()
            )
            if rule is None:
                continue
            slot = rule.next_run_at
            count = rule_time_pass(rule=rule, slot=slot, now=now)
            following = (
                slot
                if count >= settings.CRM_AUTOMATION_BATCH_SIZE
                else next_slot(rule, after=max(now, slot))
            )
            # An UPDATE, not save(): moving the clock on is not a change to the rule's history.
            Rule.objects.filter(pk=rule.pk).update(next_run_at=following, last_run_at=now)
        created += count
    return created


def runs_queue_due(*, now: datetime | None = None) -> int:
    """Send again the runs whose retry is due, whose task was lost (queued long ago), or whose
    worker died (running past its lease)."""
    from automation.tasks import rule_run_task

    now = now or timezone.now()
    due = RuleRun.objects.filter(
        Q(status=RuleRun.Status.RETRYING, next_attempt_at__lte=now)
        | Q(
            status__in=[RuleRun.Status.QUEUED, RuleRun.Status.RUNNING],
            next_attempt_at__lte=now - RUN_LEASE,
        )
    ).values_list("pk", flat=True)[: settings.CRM_AUTOMATION_BATCH_SIZE]
    ids = list(due)
    for run_id in ids:
        rule_run_task.delay(run_id)
    return len(ids)


# Carrying out a run ------------------------------------------------------------------------------


def _claim(run_id: int, now: datetime) -> bool:
    # Running past the lease counts as lost, so a retry by the beat may take it over.
    return bool(
        RuleRun.objects.filter(
            Q(status__in=[RuleRun.Status.QUEUED, RuleRun.Status.RETRYING])
            | Q(status=RuleRun.Status.RUNNING, next_attempt_at__lte=now - RUN_LEASE),
            pk=run_id,
        ).update(
            status=RuleRun.Status.RUNNING,
            attempts=F("attempts") + 1,
            next_attempt_at=now,
            started_at=now,
        )
    )


def _finish(run: RuleRun, status: str, *, error: str = "") -> RuleRun:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.next_attempt_at = None
    run.save(
        update_fields=[
            "status",
            "error",
            "finished_at",
            "next_attempt_at",
            "conditions_met",
            "condition_results",
            "action_results",
            "next_action",
        ]
    )
    if status in (RuleRun.Status.FAILED, RuleRun.Status.STOPPED):
        run_report(run)
    return run


def _record_get(kind: RecordKind, run: RuleRun) -> Model | None:
    return kind.model._default_manager.filter(pk=run.record_id).first()


def _judge(run: RuleRun, rule: Rule) -> bool | None:
    """Record each condition's result on the run; whether the rule's conditions are met, or
    None when its owner may not see the record."""
    judgement = rule_conditions_judge(rule=rule, record_pk=run.record_id)
    if judgement is None:
        return None
    run.condition_results, run.conditions_met = judgement
    return run.conditions_met


def _action_result(action: RuleAction, kind: RecordKind, *, status: str, detail: str) -> dict:
    return {
        "position": action.position,
        "action": action_describe(action, kind),
        "status": status,
        "detail": detail,
    }


def _do_action(rule: Rule, kind: RecordKind, action: RuleAction, record: Model) -> str:
    """Carry out one action; what it did, in words."""
    action_type = action_type_get(action.action_type)
    if action_type is None:
        raise ActionRefused(_("This action no longer exists."))
    context = ActionContext(rule=rule, kind=kind, record=record, actor=rule.owner)
    with transaction.atomic():
        plan = action_type.plan(context, action.params)
        if plan.perform is None:
            return plan.summary
        plan.perform()
    return plan.summary


def rule_run_execute(*, run_id: int) -> str | None:
    """Carry out the run if it is waiting; its status when done (None: someone else has it)."""
    now = timezone.now()
    if not _claim(run_id, now):
        return None
    run = RuleRun.objects.select_related("rule__owner").get(pk=run_id)
    rule = run.rule
    kind = record_kind(run.record_type)
    owner = rule.owner
    if owner is None or not owner.is_active:
        return _finish(
            run, RuleRun.Status.FAILED, error=_("The rule has no active owner to act as.")
        ).status
    if not rule.is_enabled:
        return _finish(run, RuleRun.Status.SKIPPED, error=_("The rule was switched off.")).status
    if _record_get(kind, run) is None:
        return _finish(run, RuleRun.Status.SKIPPED, error=_("The record no longer exists.")).status
    if run.next_action == 0 and not run.action_results:
        met = _judge(run, rule)
        if met is None:
            return _finish(
                run, RuleRun.Status.SKIPPED, error=_("The rule's owner may not see this record.")
            ).status
        if not met:
            return _finish(run, RuleRun.Status.SKIPPED).status
    actions = list(rule.actions.order_by("position", "pk"))
    results = [item for item in run.action_results if item.get("status") != "failed"]
    chain = [*run.chain, [rule.pk, run.record_key]]
    with (
        event_cause_set(tuple(tuple(link) for link in chain)),
        changes_made_for(user=owner, reason=_("Workflow rule: %(rule)s") % {"rule": rule.name}),
    ):
        for index in range(run.next_action, len(actions)):
            action = actions[index]
            record = _record_get(kind, run)
            if record is None:
                run.action_results = results
                return _finish(
                    run,
                    RuleRun.Status.FAILED,
                    error=_("The record was deleted while the rule ran."),
                ).status
            try:
                detail = _do_action(rule, kind, action, record)
            except Exception as error:  # noqa: BLE001 - every failure is recorded on the run
                return _action_failed(run, kind, actions, index, results, error).status
            results.append(_action_result(action, kind, status="done", detail=detail))
            run.action_results = results
            run.next_action = index + 1
            run.save(
                update_fields=[
                    "action_results",
                    "next_action",
                    "conditions_met",
                    "condition_results",
                ]
            )
    run.action_results = results
    return _finish(run, RuleRun.Status.SUCCEEDED).status


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.CRM_AUTOMATION_RETRY_SECONDS * 2 ** max(0, attempts - 1))


def _action_failed(
    run: RuleRun,
    kind: RecordKind,
    actions: list[RuleAction],
    index: int,
    results: list,
    error: Exception,
) -> RuleRun:
    permanent = isinstance(error, PERMANENT_ERRORS)
    if not permanent:
        logger.warning("rule run %s: action %s failed: %r", run.pk, index, error)
    message = _error_text(error)
    run.action_results = [
        *results,
        _action_result(actions[index], kind, status="failed", detail=message),
    ]
    run.next_action = index
    if not permanent and run.attempts < settings.CRM_AUTOMATION_ACTION_ATTEMPTS:
        run.status = RuleRun.Status.RETRYING
        run.error = message
        run.next_attempt_at = timezone.now() + _retry_delay(run.attempts)
        run.save(
            update_fields=[
                "status",
                "error",
                "next_attempt_at",
                "action_results",
                "next_action",
                "conditions_met",
                "condition_results",
            ]
        )
        return run
    run.action_results += [
        _action_result(action, kind, status="not_run", detail="") for action in actions[index + 1 :]
    ]
    if not permanent:
        message = _("%(error)s (gave up after %(attempts)d attempts)") % {
            "error": message,
            "attempts": run.attempts,
        }
    return _finish(run, RuleRun.Status.FAILED, error=message)


# Reporting ---------------------------------------------------------------------------------------


def run_report(run: RuleRun) -> None:
    """Tell the rule's owner that a run failed or was stopped."""
    owner = run.rule.owner
    if owner is None or not owner.is_active:
        return
    title = (
        _("Rule “%(rule)s” failed on %(record)s")
        if run.status == RuleRun.Status.FAILED
        else _("Rule “%(rule)s” was stopped on %(record)s")
    ) % {"rule": run.rule.name, "record": run.record_label}
    notification_send(
        recipient=owner,
        kind=Notification.Kind.AUTOMATION,
        title=title[:200],
        body=run.error,
        url=reverse("automation:run_detail", args=[run.pk]),
        related=run.rule,
    )
