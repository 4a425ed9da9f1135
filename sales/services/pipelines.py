"""Shaping pipelines and their stages: the one path the pipeline pages, the API and the admin use,
so each rule is written once and answers with the same message everywhere.

The rules:
- a won stage has a probability of 100 %, a lost one 0 %, any stage at most 100 %;
- a pipeline's stage names are unique, and a stage stays in its pipeline;
- every write to a pipeline's stages leaves it at least one open stage (deals need one to start
  in); only a pipeline created without stages (the API adds them one by one) has none;
- one pipeline is the default, and it is active: making another the default moves the flag in
  the same transaction, and the flag cannot be taken off (or the default deactivated or deleted)
  without giving it to another pipeline;
- a pipeline or stage that deals use (now, or in their stage history) is not deleted; the refusal
  says how many deals use it.

Stage writes lock their pipeline's row first, so two editors cannot each remove a different
"last" open stage or add the same name twice.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.accounts.models import User
from sales.locks import pipeline_lock
from sales.models import Deal, DealStageChange, Pipeline, Stage

PIPELINE_EDITABLE_FIELDS = ("name", "description", "is_default", "is_active", "position")
STAGE_EDITABLE_FIELDS = ("name", "position", "kind", "probability", "stale_after_days")

StageValues = Mapping[str, Any]
Errors = dict[str, list[str]]


class RecordInUse(ValidationError):
    """A deletion refused because deals use the pipeline or stage."""

    def __init__(self, message: str):
        super().__init__(message, code="in_use")


class PipelineInvalid(ValidationError):
    """Refused pipeline values, keyed by field. Messages about the stages given with it are under
    "stages"; `stage_rows` also holds each refused stage's errors by field, keyed by its index in
    the stages given, and `stage_set` the messages about the stages as a whole, so a form can
    show each message where it belongs."""

    def __init__(
        self, errors: Errors, *, stage_rows: dict[int, Errors] | None = None, stage_set=()
    ):
        super().__init__(errors)
        self.stage_rows = stage_rows or {}
        self.stage_set = list(stage_set)


# Checks ------------------------------------------------------------------------------------------


def _require_perm(actor: User | None, permission: str) -> None:
    """No actor is the system itself (migrations, the demo), which may do anything."""
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _refuse_unknown(values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def _model_errors(record: Pipeline | Stage, *, exclude: list[str] | None = None) -> Errors:
    """The fields' own checks (required, length, range, choices); the constraints are checked by
    the rules below, with messages that say what to do."""
    try:
        record.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return dict(exc.message_dict)
    return {}


def _pipeline_errors(pipeline: Pipeline, *, was_default: bool) -> Errors:
    errors = _model_errors(pipeline)
    if (
        "name" not in errors
        and Pipeline.objects.filter(name=pipeline.name).exclude(pk=pipeline.pk).exists()
    ):
        errors["name"] = [
            _("There is already a pipeline named “%(name)s”.") % {"name": pipeline.name}
        ]
    if was_default and not pipeline.is_default:
        errors.setdefault("is_default", []).append(
            _("There is always a default pipeline; make another one the default instead.")
        )
    if pipeline.is_default and not pipeline.is_active:
        errors.setdefault("is_active", []).append(
            _("The default pipeline stays active; make another one the default first.")
        )
    return errors


def _stage_errors(stage: Stage) -> Errors:
    errors = _model_errors(stage, exclude=["pipeline"])
    if "probability" in errors or "kind" in errors:
        return errors
    if stage.probability > 100:
        errors["probability"] = [_("A probability is at most 100 %.")]
    elif stage.kind == Stage.Kind.WON and stage.probability != 100:
        errors["probability"] = [_("A won stage has a probability of 100 %.")]
    elif stage.kind == Stage.Kind.LOST and stage.probability != 0:
        errors["probability"] = [_("A lost stage has a probability of 0 %.")]
    return errors


def _needs_open_stage(pipeline: Pipeline) -> str:
    return _("The pipeline “%(name)s” needs at least one open stage.") % {"name": pipeline.name}


def deals_using_stage_count(*, stage: Stage) -> int:
    """Deals in the stage now or with it in their history (which keeps it from being deleted)."""
    passed = DealStageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage))
    return Deal.objects.filter(Q(stage=stage) | Q(pk__in=passed.values("deal_id"))).count()


def deals_using_pipeline_count(*, pipeline: Pipeline) -> int:
    passed = DealStageChange.objects.filter(
        Q(from_stage__pipeline=pipeline) | Q(to_stage__pipeline=pipeline)
    )
    return Deal.objects.filter(Q(pipeline=pipeline) | Q(pk__in=passed.values("deal_id"))).count()


def _stage_in_use(stage: Stage) -> str | None:
    count = deals_using_stage_count(stage=stage)
    if not count:
        return None
    return ngettext(
        "The stage “%(name)s” is used by %(count)d deal (now or in its history), so it cannot "
        "be deleted.",
        "The stage “%(name)s” is used by %(count)d deals (now or in their history), so it cannot "
        "be deleted.",
        count,
    ) % {"name": stage.name, "count": count}


# Stage sets --------------------------------------------------------------------------------------


@dataclass
class _StagePlan:
    """What a write to a pipeline's stages would do, and what is wrong with it."""

    deleted: list[Stage] = field(default_factory=list)
    written: dict[int, Stage] = field(default_factory=dict)
    changed: list[Stage] = field(default_factory=list)
    rows: dict[int, Errors] = field(default_factory=dict)
    whole: list[str] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.rows or self.whole or self.in_use)


def _stages_plan(
    pipeline: Pipeline, *, rows: Iterable[StageValues], deleted: Iterable[Stage]
) -> _StagePlan:
    """Apply `rows` (each a stage's values, with the `id` of an existing stage of the pipeline
    or none for a new one) and `deleted` to the pipeline's stages in memory, and check the
    result. Stages of the pipeline named in neither stay as they are."""
    plan = _StagePlan()
    existing = (
        {stage.pk: stage for stage in pipeline.stages.order_by("position", "pk")}
        if pipeline.pk
        else {}
    )
    for stage in deleted:
        if stage.pk not in existing:
            plan.whole.append(
                _("“%(stage)s” is not a stage of this pipeline.") % {"stage": stage.name}
            )
            continue
        plan.deleted.append(existing.pop(stage.pk))
        refusal = _stage_in_use(stage)
        if refusal:
            plan.in_use.append(refusal)
    for index, given in enumerate(rows):
        values = dict(given)
        pk = values.pop("id", None)
        try:
            _refuse_unknown(values, STAGE_EDITABLE_FIELDS)
        except ValidationError as exc:
            plan.rows[index] = dict(exc.message_dict)
            continue
        if pk is None:
            stage = Stage(pipeline=pipeline)
        elif pk in existing:
            stage = existing[pk]
        else:
            plan.rows[index] = {"id": [_("No such stage in this pipeline.")]}
            continue
        before = {name: getattr(stage, name) for name in STAGE_EDITABLE_FIELDS}
        for name, value in values.items():
            setattr(stage, name, value)
        errors = _stage_errors(stage)
        if errors:
            plan.rows[index] = errors
        plan.written[index] = stage
        if stage.pk is None or before != {name: getattr(stage, name) for name in before}:
            plan.changed.append(stage)
    written = list(plan.written.values())
    kept = [stage for stage in existing.values() if stage not in written] + written
    names = Counter(stage.name for stage in kept)
    for index, stage in plan.written.items():
        if names[stage.name] > 1 and "name" not in plan.rows.get(index, {}):
            plan.rows.setdefault(index, {})["name"] = [
                _("This pipeline already has a stage named “%(name)s”.") % {"name": stage.name}
            ]
    if not any(stage.kind == Stage.Kind.OPEN for stage in kept):
        plan.whole.append(_needs_open_stage(pipeline))
    return plan


def _stages_save(pipeline: Pipeline, plan: _StagePlan) -> None:
    for stage in plan.deleted:
        stage.delete()
    for stage in plan.changed:
        stage.pipeline = pipeline
        stage.save()


def _raise_for_pipeline(errors: Errors, plan: _StagePlan | None) -> None:
    if plan is None or not plan.refused:
        if errors:
            raise PipelineInvalid(errors)
        return
    stage_messages = [*plan.in_use, *plan.whole]
    for index, row in sorted(plan.rows.items()):
        for name, messages in row.items():
            label = _("Stage %(number)d") % {"number": index + 1}
            stage_messages += [f"{label}, {name}: {message}" for message in messages]
    raise PipelineInvalid(
        {**errors, "stages": stage_messages},
        stage_rows=plan.rows,
        stage_set=[*plan.in_use, *plan.whole],
    )


def _pipeline_save(pipeline: Pipeline) -> None:
    if pipeline.is_default:
        # The flag moves: the old default loses it in the same transaction (the database allows
        # one default at a time).
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    pipeline.save()


# Pipelines ---------------------------------------------------------------------------------------


def pipeline_create(
    *, actor: User | None, stages: Iterable[StageValues] | None = None, **values
) -> Pipeline:
    """Create a pipeline, with `stages` (each a new stage's values) when given; they must include
    an open stage. Made the default, it takes the flag from the current default."""
    _refuse_unknown(values, PIPELINE_EDITABLE_FIELDS)
    _require_perm(actor, "sales.add_pipeline")
    pipeline = Pipeline(**values)
    with transaction.atomic():
        errors = _pipeline_errors(pipeline, was_default=False)
        plan = _stages_plan(pipeline, rows=stages, deleted=()) if stages is not None else None
        _raise_for_pipeline(errors, plan)
        _pipeline_save(pipeline)
        if plan is not None:
            _stages_save(pipeline, plan)
    return pipeline


def pipeline_update(
    *,
    actor: User | None,
    pipeline: Pipeline,
    stages: Iterable[StageValues] | None = None,
    deleted: Iterable[Stage] = (),
    **values,
) -> Pipeline:
    """Change a pipeline and, when `stages` or `deleted` are given, its stages with it, all or
    nothing: each of `stages` is a stage's values with the `id` of the existing stage it changes
    (none for a new one), `deleted` the stages to remove."""
    _refuse_unknown(values, PIPELINE_EDITABLE_FIELDS)
    _require_perm(actor, "sales.change_pipeline")
    deleted = list(deleted)
    with transaction.atomic():
        locked = pipeline_lock(pipeline_id=pipeline.pk)
        was_default = locked.is_default
        for name, value in values.items():
            setattr(locked, name, value)
        errors = _pipeline_errors(locked, was_default=was_default)
        plan = None
        if stages is not None or deleted:
            plan = _stages_plan(locked, rows=stages or [], deleted=deleted)
        _raise_for_pipeline(errors, plan)
        _pipeline_save(locked)
        if plan is not None:
            _stages_save(locked, plan)
    return locked


def pipeline_delete(*, actor: User | None, pipeline: Pipeline) -> None:
    """Delete a pipeline and its stages, unless deals use it or it is the default."""
    _require_perm(actor, "sales.delete_pipeline")
    with transaction.atomic():
        locked = pipeline_lock(pipeline_id=pipeline.pk)
        count = deals_using_pipeline_count(pipeline=locked)
        if count:
            raise RecordInUse(
                ngettext(
                    "The pipeline “%(name)s” is used by %(count)d deal, so it cannot be deleted; "
                    "deactivate it instead.",
                    "The pipeline “%(name)s” is used by %(count)d deals, so it cannot be deleted; "
                    "deactivate it instead.",
                    count,
                )
                % {"name": locked.name, "count": count}
            )
        if locked.is_default:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _(
                        "The default pipeline cannot be deleted; make another one the default "
                        "first."
                    )
                }
            )
        locked.delete()


# Stages one by one -------------------------------------------------------------------------------


def _raise_for_stage(plan: _StagePlan, *, set_field: str) -> None:
    if plan.in_use:
        raise RecordInUse(plan.in_use[0])
    if not plan.rows and not plan.whole:
        return
    errors = dict(plan.rows.get(0, {}))
    if plan.whole:
        errors.setdefault(set_field, []).extend(plan.whole)
    raise ValidationError(errors)


def stage_create(*, actor: User | None, pipeline: Pipeline, **values) -> Stage:
    """Add a stage to a pipeline; the first stage of a pipeline must be an open one."""
    _require_perm(actor, "sales.add_stage")
    _refuse_unknown(values, STAGE_EDITABLE_FIELDS)
    with transaction.atomic():
        locked = pipeline_lock(pipeline_id=pipeline.pk)
        plan = _stages_plan(locked, rows=[values], deleted=())
        _raise_for_stage(plan, set_field="kind")
        _stages_save(locked, plan)
    return plan.written[0]


def stage_update(*, actor: User | None, stage: Stage, **values) -> Stage:
    """Change a stage. `pipeline` may be given only as the stage's own: a stage stays in its
    pipeline, since its deals and their history point at both."""
    _require_perm(actor, "sales.change_stage")
    pipeline = values.pop("pipeline", None)
    if pipeline is not None and pipeline.pk != stage.pipeline_id:
        raise ValidationError(
            {"pipeline": _("A stage stays in its pipeline; add a stage to the other one instead.")}
        )
    _refuse_unknown(values, STAGE_EDITABLE_FIELDS)
    with transaction.atomic():
        locked = pipeline_lock(pipeline_id=stage.pipeline_id)
        plan = _stages_plan(locked, rows=[{**values, "id": stage.pk}], deleted=())
        _raise_for_stage(plan, set_field="kind")
        _stages_save(locked, plan)
    return plan.written[0]


def stage_delete(*, actor: User | None, stage: Stage) -> None:
    """Delete a stage, unless deals use it or it is its pipeline's last open stage."""
    _require_perm(actor, "sales.delete_stage")
    with transaction.atomic():
        locked = pipeline_lock(pipeline_id=stage.pipeline_id)
        plan = _stages_plan(locked, rows=[], deleted=[stage])
        _raise_for_stage(plan, set_field=NON_FIELD_ERRORS)
        _stages_save(locked, plan)
