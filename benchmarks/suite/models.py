"""Scenario 5 of the suite: retrain each built-in model and score everything it scores.

Each model is retrained in its own child process, so the peak memory measured is that model's
alone: the child runs the service the Celery task calls (`model_train_run` on a version queued
without a broker), which reads the features, fits, judges on held-out rows, registers the
artifact and, once the version is promoted, scores every customer or ticket in batches.

The child times the phases from inside the same run by wrapping the model's spec (the service
looks the spec up at each run), so each figure has a baseline from the same run:
- training: the scikit-learn fit alone on the same training rows; the ratio is what reading the
  features, judging and registering add on top of it;
- scoring: reading the feature rows alone (the batch queries and building the frames); the ratio
  is what predicting, explaining each score and writing the scores add on top of it.

    .venv/bin/python benchmarks/bench.py --scale 0.002 --only models --reuse-seed
"""

import json
import sys
import time
from dataclasses import replace

from benchmarks.suite.core import PYTHON, BenchContext, Measurement, run_measured

SCENARIO = "models"
MODELS = ("purchase", "churn", "satisfaction", "ticket-category", "ticket-sentiment")
PEAK_TARGET_MIB = 1024
# A child that takes longer than this at full scale has a problem worth stopping for.
CHILD_TIMEOUT = 1800


def _timed(function, totals: dict, key: str):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - started

    return wrapper


def _timed_batches(function, totals: dict, key: str):
    """Time only what the batch generator itself spends, not what its consumer does."""

    def wrapper(*args, **kwargs):
        batches = iter(function(*args, **kwargs))
        while True:
            started = time.perf_counter()
            try:
                batch = next(batches)
            except StopIteration:
                return
            finally:
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - started
            yield batch

    return wrapper


def retrain(name: str) -> dict:
    """In a child process: retrain model `name` as the worker would; its figures as a dict."""
    import django

    django.setup()
    from analytics.models import ModelVersion, PredictiveModel
    from analytics.services.training import model_retrain_request, model_train_run
    from analytics.specs import model_spec, register_model_spec

    model = PredictiveModel.objects.get(name=name)
    spec = model_spec(model.kind)
    totals: dict[str, float] = {}
    register_model_spec(
        replace(
            spec,
            training_set=_timed(spec.training_set, totals, "read_training"),
            fit=_timed(spec.fit, totals, "fit"),
            scoring_batches=(
                _timed_batches(spec.scoring_batches, totals, "read_scoring")
                if spec.scoring_batches
                else None
            ),
            store_scores=(
                _timed(spec.store_scores, totals, "store") if spec.store_scores else None
            ),
        )
    )
    started = time.perf_counter()
    version = model.training_version
    # A seeded database holds the retrain seed_demo queued for a worker: take that one up, as
    # the worker would, since it holds the model's training lock.
    if version is None or version.status != ModelVersion.Status.QUEUED:
        version = model_retrain_request(
            model=model, trigger=ModelVersion.Trigger.COMMAND, queue=False
        )
    version = model_train_run(version_id=version.pk)
    return {
        "model": name,
        "status": version.status,
        "error": version.error,
        "decision": version.decision,
        "wall_seconds": time.perf_counter() - started,
        "training_seconds": version.training_seconds,
        "scoring_seconds": version.scoring_seconds,
        "scored_rows": version.scored_rows,
        "train_rows": version.train_rows,
        "test_rows": version.test_rows,
        "roc_auc": version.roc_auc,
        "algorithm": version.algorithm,
        **{f"{key}_seconds": round(value, 2) for key, value in totals.items()},
    }


def _measure(context: BenchContext, name: str) -> list[Measurement]:
    wall, peak_mib, output = run_measured(
        [PYTHON, "-m", "benchmarks.suite.models", name],
        env=context.environment(),
        timeout=CHILD_TIMEOUT,
    )
    figures = json.loads(output.strip().splitlines()[-1])
    context.log(f"models: {name}: {figures}")
    if figures["status"] != "done":
        # Too little data for this model at this scale: say so in the table rather than fail.
        return [
            Measurement(
                scenario=SCENARIO,
                case=f"{name}: retrain (not trained)",
                unit="s",
                value=wall,
                details=figures,
            )
        ]
    peak = Measurement(
        scenario=SCENARIO,
        case=f"{name}: peak memory of retrain and scoring",
        unit="MiB",
        value=peak_mib,
        target=f"< {PEAK_TARGET_MIB} MiB",
        target_met=peak_mib < PEAK_TARGET_MIB,
        details={"child_wall_seconds": round(wall, 1)},
    )
    training = Measurement(
        scenario=SCENARIO,
        case=f"{name}: training",
        unit="s",
        value=figures["training_seconds"],
        baseline_case="scikit-learn fit alone",
        baseline_value=figures.get("fit_seconds"),
        details={
            key: figures.get(key)
            for key in ("train_rows", "test_rows", "roc_auc", "algorithm", "read_training_seconds")
        },
    )
    if figures["scoring_seconds"] is None:
        # Refused (its held-out AUC was worse than the active version's): nothing was scored.
        return [training, peak]
    scoring_seconds = figures["scoring_seconds"] or 0.0
    scoring = Measurement(
        scenario=SCENARIO,
        case=f"{name}: scoring every row",
        unit="s",
        value=scoring_seconds,
        baseline_case="reading the feature rows alone",
        baseline_value=figures.get("read_scoring_seconds"),
        details={
            "scored_rows": figures["scored_rows"],
            "rows_per_second": round(figures["scored_rows"] / scoring_seconds)
            if scoring_seconds
            else None,
            "store_seconds": figures.get("store_seconds"),
        },
    )
    return [training, scoring, peak]


def run(context: BenchContext) -> list[Measurement]:
    measurements = []
    for name in MODELS:
        measurements += _measure(context, name)
    return measurements


if __name__ == "__main__":
    print(json.dumps(retrain(sys.argv[1]), default=str))
