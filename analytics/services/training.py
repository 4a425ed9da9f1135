"""Training, the model registry and batch scoring, for every kind of model.

A retrain is a ModelVersion that goes queued -> training -> scoring -> done (or failed).
- Lock: the version takes `PredictiveModel.training_version` with a conditional UPDATE, so two
  retrains of one model never run at once. A lock older than the Celery hard time limit belonged
  to a worker that died; the next retrain takes it over and marks that version failed. On
  PostgreSQL a run also holds the version's run lock, which dies with its worker: the task the
  broker delivers again takes the same version up at once (no second version is made).
- Promotion: the new version becomes active only if its held-out ROC AUC is not worse than the
  active version's. Activation is one short transaction after the artifact is saved, so a crash
  at any point before leaves the active version as it was.
- Scoring: after training, the active version scores everything its spec offers, in batches, and
  stores each score with the features that pushed it up or down. An activation by hand scores
  again in a scoring AnalyticsJob of the model, whose progress moves batch by batch.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.ml.artifacts import ArtifactTampered, artifact_dumps, artifact_loads
from analytics.ml.evaluation import (
    binary_metrics,
    explain_rows,
    feature_importance,
    multiclass_metrics,
    reference_row,
)
from analytics.models import AnalyticsJob, ModelVersion, PredictiveModel
from analytics.services.jobs import (
    ACTIVE_STATUSES,
    analytics_job_queue,
    analytics_job_run,
    progress_save,
    stale_before,
)
from analytics.specs import ModelSpec, NotEnoughData, model_spec
from crm.accounts.models import User
from crm.queueing import BROKER_UNREACHABLE_MESSAGE, task_send_on_commit
from crm.replicas import replica_reads
from crm.run_locks import MODEL_TRAINING, run_lock, run_locks_supported

logger = logging.getLogger(__name__)


# A version in one of these states whose run lock is free lost its worker.
_UNDER_WAY = (ModelVersion.Status.TRAINING, ModelVersion.Status.SCORING)


class ModelBusy(Exception):
    """A retrain of this model is already queued or running."""


class ModelUnavailable(Exception):
    """The model has no active version to predict with."""


@dataclass(frozen=True)
class Bundle:
    """What an artifact holds: the fitted pipeline and what is needed to use and explain it."""

    pipeline: object
    columns: list[str]
    reference: dict
    classes: list


def _number_next(model: PredictiveModel) -> int:
    return (model.versions.aggregate(highest=Max("number"))["highest"] or 0) + 1


def model_retrain_request(
    *, model: PredictiveModel, trigger: str, user: User | None = None, queue: bool = True
) -> ModelVersion:
    """Queue a retrain and return its version; ModelBusy while another one holds the lock.

    The lock is taken here, not in the task, so a second click answers at once. With `queue`
    False nothing is sent to Celery: the caller (an operator's command) runs model_train_run
    itself."""
    with transaction.atomic():
        locked = PredictiveModel.objects.select_for_update().get(pk=model.pk)
        holder = locked.training_version
        if holder is not None and locked.training_started_at >= stale_before():
            raise ModelBusy(
                _("Version %(number)s of this model is still training.") % {"number": holder.number}
            )
        if holder is not None:
            ModelVersion.objects.filter(pk=holder.pk).exclude(
                status=ModelVersion.Status.DONE
            ).update(
                status=ModelVersion.Status.FAILED,
                error=_("The worker stopped before this run finished."),
                finished_at=timezone.now(),
            )
        version = ModelVersion.objects.create(
            model=locked,
            number=_number_next(locked),
            trigger=trigger,
            started_by=user,
            stage=_("Waiting for a worker"),
        )
        locked.training_version = version
        locked.training_started_at = timezone.now()
        locked.save(update_fields=["training_version", "training_started_at", "updated_at"])

    if queue:
        from analytics.tasks.training import model_train_task

        task_send_on_commit(
            task=model_train_task, args=(version.pk,), on_unsent=lambda: _unsent(version)
        )
    return version


def _unsent(version: ModelVersion) -> None:
    ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.QUEUED).update(
        status=ModelVersion.Status.FAILED,
        stage="",
        error=str(BROKER_UNREACHABLE_MESSAGE),
        finished_at=timezone.now(),
    )
    _release(version)


def _release(version: ModelVersion) -> None:
    PredictiveModel.objects.filter(pk=version.model_id, training_version=version).update(
        training_version=None, training_started_at=None
    )


def _still_holds_lock(version: ModelVersion) -> bool:
    return PredictiveModel.objects.filter(pk=version.model_id, training_version=version).exists()


def _evaluate(pipeline, training, classes: list) -> dict:
    probabilities = pipeline.predict_proba(training.test)
    if len(classes) == 2:
        return binary_metrics(training.y_test, probabilities[:, -1])
    return multiclass_metrics(training.y_test, probabilities, classes)


def _auc(version: ModelVersion | None) -> float | None:
    return None if version is None else version.metrics.get("roc_auc")


def _decide(version: ModelVersion) -> None:
    """Make `version` active if its held-out AUC is not worse than the active one's."""
    with transaction.atomic():
        model = PredictiveModel.objects.select_for_update().get(pk=version.model_id)
        active = model.active_version
        new_auc, active_auc = _auc(version), _auc(active)
        if active is None or active_auc is None or (new_auc is not None and new_auc >= active_auc):
            version.decision = ModelVersion.Decision.PROMOTED
            version.decision_note = (
                _("First version of this model.")
                if active is None
                else _("Held-out AUC %(new)s against %(old)s of version %(number)s.")
                % {"new": new_auc, "old": active_auc, "number": active.number}
            )
            model.active_version = version
            model.save(update_fields=["active_version", "updated_at"])
        else:
            version.decision = ModelVersion.Decision.REFUSED
            version.decision_note = _(
                "Held-out AUC %(new)s is worse than %(old)s of active version %(number)s."
            ) % {"new": new_auc, "old": active_auc, "number": active.number}
        version.save(update_fields=["decision", "decision_note", "updated_at"])


def model_train_run(*, version_id: int) -> ModelVersion:
    """Train, judge, register and (if promoted) score with one queued version. Safe to run twice:
    a version that has lost the model's lock, or that a live worker is running, is left alone;
    one whose worker died (the broker delivers the task again) is taken up again."""
    with run_lock(kind=MODEL_TRAINING, pk=version_id) as ours:
        version = ModelVersion.objects.select_related("model").get(pk=version_id)
        if not ours or not _still_holds_lock(version):
            return version
        if version.status == ModelVersion.Status.QUEUED:
            steps = _train_and_score
        elif version.status in _UNDER_WAY and run_locks_supported():
            steps = _resume
        else:
            return version
        try:
            steps(version)
            progress_save(
                version,
                progress=100,
                stage="",
                status=ModelVersion.Status.DONE,
                finished_at=timezone.now(),
            )
        except Exception as error:
            if not isinstance(error, NotEnoughData):
                logger.exception("training %s v%s failed", version.model.name, version.number)
            progress_save(
                version,
                progress=version.progress,
                stage="",
                status=ModelVersion.Status.FAILED,
                error=str(error) or error.__class__.__name__,
                finished_at=timezone.now(),
            )
        finally:
            _release(version)
    return version


def _train_and_score(version: ModelVersion) -> None:
    model = version.model
    spec = model_spec(model.kind)
    started = time.monotonic()
    progress_save(
        version,
        progress=5,
        stage=_("Reading the data"),
        status=ModelVersion.Status.TRAINING,
        started_at=timezone.now(),
    )
    with replica_reads():
        training = spec.training_set(model)
    progress_save(version, progress=30, stage=_("Fitting"))
    fitted = spec.fit(training, model)
    pipeline = fitted.pipeline
    classes = list(pipeline.classes_)
    progress_save(version, progress=60, stage=_("Judging on held-out rows"))
    metrics = _evaluate(pipeline, training, classes)
    metrics["split"] = training.split
    if fitted.selection:
        metrics["selection"] = fitted.selection
    columns = training.features.columns
    importance = feature_importance(pipeline, training.test, training.y_test, columns=columns)
    reference = reference_row(training.train, columns=columns)
    content, sha256 = artifact_dumps(
        {"pipeline": pipeline, "columns": columns, "reference": reference, "classes": classes}
    )
    version.artifact.save(
        f"{model.name}-v{version.number}.joblib", ContentFile(content), save=False
    )
    y_train = np.asarray(training.y_train)
    progress_save(
        version,
        progress=70,
        stage=_("Registering"),
        algorithm=fitted.algorithm,
        parameters=fitted.parameters,
        features=columns,
        train_rows=len(training.train),
        test_rows=len(training.test),
        positive_rate=float(np.mean(y_train == classes[-1])) if len(classes) == 2 else None,
        metrics=metrics,
        feature_importance=importance,
        training_seconds=round(time.monotonic() - started, 2),
        artifact=version.artifact.name,
        artifact_sha256=sha256,
    )
    _decide(version)
    bundle = Bundle(pipeline=pipeline, columns=columns, reference=reference, classes=classes)
    _score_if_active(version, spec=spec, bundle=bundle)


def _score_if_active(version: ModelVersion, *, spec: ModelSpec, bundle: Bundle) -> None:
    version.model.refresh_from_db(fields=["active_version"])
    if version.model.active_version_id == version.pk and spec.scoring_batches is not None:
        progress_save(version, progress=75, stage=_("Scoring"), status=ModelVersion.Status.SCORING)
        _score_all(
            version=version,
            spec=spec,
            bundle=bundle,
            on_batch=_progress_by_batch(version, spec=spec, start=75, stage=_("Scoring")),
        )


def _resume(version: ModelVersion) -> None:
    """Take up a version whose worker died: train it again from the start if it was not judged
    yet, otherwise score again with its registered artifact (a score replaces the customer's
    earlier one, so scoring twice still leaves one score per customer)."""
    if version.decision == ModelVersion.Decision.PENDING:
        if version.artifact:
            version.artifact.delete(save=False)
        _train_and_score(version)
        return
    spec = model_spec(version.model.kind)
    _score_if_active(version, spec=spec, bundle=bundle_load(version=version))


# Called after each scoring batch with how many batches are done and how many rows are scored.
BatchDone = Callable[[int, int], None]


def _progress_by_batch(run, *, spec: ModelSpec, start: int, stage: str) -> BatchDone:
    """Move `run` (a version or a job) from `start` towards 99% as the batches its spec says
    scoring will take are done; the run's end sets 100%."""
    total = spec.scoring_batch_count(run.model) if spec.scoring_batch_count else 0

    def batch_done(done: int, _scored: int) -> None:
        if total:
            progress = start + (99 - start) * min(done, total) // total
            progress_save(run, progress=progress, stage=stage)

    return batch_done


def _score_all(
    *, version: ModelVersion, spec: ModelSpec, bundle: Bundle, on_batch: BatchDone | None = None
) -> int:
    model = version.model
    started = time.monotonic()
    scored = 0
    for done, batch in enumerate(spec.scoring_batches(model), start=1):
        if not batch.empty:
            scored += scores_store_batch(version=version, spec=spec, bundle=bundle, rows=batch)
            ModelVersion.objects.filter(pk=version.pk).update(scored_rows=scored)
        if on_batch is not None:
            on_batch(done, scored)
    if spec.finish_scoring is not None:
        spec.finish_scoring(model, version)
    version.scored_rows = scored
    version.scoring_seconds = round(time.monotonic() - started, 2)
    version.save(update_fields=["scored_rows", "scoring_seconds", "updated_at"])
    return scored


def scores_store_batch(*, version: ModelVersion, spec: ModelSpec, bundle: Bundle, rows) -> int:
    """Score one batch of feature rows (indexed by subject id) and hand them to the spec."""
    probabilities = bundle.pipeline.predict_proba(rows[bundle.columns])
    reasons = None
    if spec.explain and len(bundle.classes) == 2:
        reasons = explain_rows(
            bundle.pipeline,
            rows[bundle.columns],
            reference=bundle.reference,
            columns=bundle.columns,
        )
    spec.store_scores(
        version.model, version, list(rows.index), probabilities, bundle.classes, reasons
    )
    return len(rows)


def model_rescore_run(*, job_id: int) -> AnalyticsJob:
    """Run the queued scoring job `job_id`: score everything again with its model's active
    version, batch by batch; done with the version and how many rows were scored, or failed."""
    return analytics_job_run(
        job_id=job_id,
        kind=AnalyticsJob.Kind.SCORING,
        work=_rescore,
        expected=(ModelUnavailable, ArtifactTampered),
    )


def _rescore(job: AnalyticsJob) -> dict:
    model = PredictiveModel.objects.select_related("active_version").get(pk=job.model_id)
    version = model.active_version
    if version is None:
        raise ModelUnavailable(_("%(model)s has no active version.") % {"model": model})
    spec = model_spec(model.kind)
    bundle = bundle_load(version=version)
    stage = _("Scoring with version %(number)s") % {"number": version.number}
    progress_save(job, progress=5, stage=stage)
    scored = _score_all(
        version=version,
        spec=spec,
        bundle=bundle,
        on_batch=_progress_by_batch(job, spec=spec, start=5, stage=stage),
    )
    return {"version": version.number, "scored": scored}


def _scoring_job_create(
    *, model: PredictiveModel, version: ModelVersion, user: User, trigger: str
) -> AnalyticsJob:
    """A queued scoring job of `model`, sent to a worker on commit. A run of this model that has
    not moved since its worker's hard time limit belonged to a worker that died: it is marked
    failed, so the page stops waiting for it."""
    model.jobs.filter(
        kind=AnalyticsJob.Kind.SCORING,
        status__in=ACTIVE_STATUSES,
        updated_at__lt=stale_before(),
    ).update(
        status=AnalyticsJob.Status.FAILED,
        error=_("The worker stopped before this run finished."),
        finished_at=timezone.now(),
    )
    job = AnalyticsJob.objects.create(
        kind=AnalyticsJob.Kind.SCORING,
        model=model,
        trigger=trigger,
        started_by=user,
        stage=_("Waiting for a worker"),
        stats={"version": version.number},
    )
    from analytics.tasks.training import model_rescore_task

    analytics_job_queue(job=job, task=model_rescore_task)
    return job


_bundles: dict[str, Bundle] = {}
_BUNDLES_KEPT = 8


def bundle_load(*, version: ModelVersion) -> Bundle:
    """The version's artifact, loaded once per process; ArtifactTampered if its bytes changed."""
    cached = _bundles.get(version.artifact_sha256)
    if cached is not None:
        return cached
    if not version.artifact:
        raise ModelUnavailable(
            _("Version %(number)s has no artifact.") % {"number": version.number}
        )
    with version.artifact.open("rb") as handle:
        content = handle.read()
    data = artifact_loads(content, sha256=version.artifact_sha256)
    bundle = Bundle(
        pipeline=data["pipeline"],
        columns=data["columns"],
        reference=data["reference"],
        classes=data["classes"],
    )
    if len(_bundles) >= _BUNDLES_KEPT:
        _bundles.pop(next(iter(_bundles)))
    _bundles[version.artifact_sha256] = bundle
    return bundle


def model_version_activate(
    *,
    version: ModelVersion,
    user: User,
    rollback: bool = False,
    trigger: str = ModelVersion.Trigger.BUTTON,
) -> ModelVersion:
    """A manager's override: make a trained version active whatever its AUC (a rollback when it
    is older than the active one), then score with it in a scoring job whose progress the
    model's page and API show. ValidationError when the version has not finished training or its
    artifact is missing or changed: the page, the API and the admin each show that refusal the
    way they show any other."""
    if version.status not in {ModelVersion.Status.DONE, ModelVersion.Status.SCORING}:
        raise ValidationError(_("Only a version that finished training can be activated."))
    try:
        bundle_load(version=version)
    except (ModelUnavailable, ArtifactTampered) as error:
        raise ValidationError(str(error)) from error
    with transaction.atomic():
        model = PredictiveModel.objects.select_for_update().get(pk=version.model_id)
        previous = model.active_version
        model.active_version = version
        model.save(update_fields=["active_version", "updated_at"])
        is_rollback = rollback or (previous is not None and previous.number > version.number)
        version.decision = (
            ModelVersion.Decision.ROLLED_BACK
            if is_rollback
            else ModelVersion.Decision.ACTIVATED_BY_HAND
        )
        version.decision_note = (
            _("Replaced version %(number)s.") % {"number": previous.number} if previous else ""
        )
        version.decided_by = user
        version.save(update_fields=["decision", "decision_note", "decided_by", "updated_at"])
        if model_spec(model.kind).scoring_batches is not None:
            _scoring_job_create(model=model, version=version, user=user, trigger=trigger)
    return version


def predictive_model_ensure(
    *, kind: str, name: str, title: str, subject: str, description: str = ""
):
    """The built-in models exist from the first migrate on (created on demand, never twice)."""
    model, _created = PredictiveModel.objects.get_or_create(
        name=name,
        defaults={"kind": kind, "title": title, "subject": subject, "description": description},
    )
    return model


def models_retrain_nightly() -> list[int]:
    """Queue a retrain of every model that is not already training; returns the versions."""
    queued = []
    for model in PredictiveModel.objects.filter(
        Q(training_version__isnull=True) | Q(training_started_at__lt=stale_before())
    ):
        try:
            queued.append(
                model_retrain_request(model=model, trigger=ModelVersion.Trigger.SCHEDULE).pk
            )
        except ModelBusy:
            continue
    return queued
