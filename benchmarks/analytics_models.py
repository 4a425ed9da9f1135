"""Time training and batch scoring of the purchase-propensity and churn-risk models, and single
predictions through the API, on a large database (benchmarks/analytics_dataset.py makes one).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_analytics
    .venv/bin/python benchmarks/analytics_models.py --models purchase churn --predictions 50

Each model is retrained in this process (as a worker would): reading the features as of two
cutoffs, fitting, judging on the held-out cutoff, saving the artifact, then scoring every
eligible customer with the reasons behind each score. The version's own timings are printed
(training_seconds, scoring_seconds, scored_rows), so the figures are what the model page shows.
Then `--predictions` requests to POST /api/v1/predict/<model>/ for random customers give the
median and slowest latency. Results go to benchmarks/analytics_models_results.md by hand.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Local settings keep the artifacts in MEDIA_ROOT; the test settings would lose them on exit.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")


def train(name: str) -> None:
    from analytics.models import ModelVersion, PredictiveModel
    from analytics.services.training import model_retrain_request, model_train_run

    model = PredictiveModel.objects.get(name=name)
    started = time.perf_counter()
    version = model_retrain_request(model=model, trigger=ModelVersion.Trigger.COMMAND, queue=False)
    version = model_train_run(version_id=version.pk)
    wall = time.perf_counter() - started
    if version.status != ModelVersion.Status.DONE:
        print(f"{name}: {version.status} {version.error}")
        return
    rate = version.scored_rows / version.scoring_seconds if version.scoring_seconds else 0
    print(
        f"{name} v{version.number}: {version.train_rows} training rows, {version.test_rows} "
        f"held out, AUC {version.metrics.get('roc_auc')}, {version.decision}; "
        f"training {version.training_seconds:.1f} s, scoring {version.scored_rows} customers in "
        f"{version.scoring_seconds or 0:.1f} s ({rate:.0f}/s); wall {wall:.1f} s"
    )


def predictions(name: str, count: int) -> None:
    from django.test import Client

    from crm.accounts.models import User
    from customers.models import Customer

    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        "bench_models_admin", "bench@example.com", "x"
    )
    client = Client()
    client.force_login(admin)
    highest = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    rng = random.Random(7)
    timings = []
    for _ in range(count):
        customer = rng.randint(1, highest)
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/predict/{name}/", {"customer": customer}, content_type="application/json"
        )
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == 200:
            timings.append(elapsed)
    if timings:
        print(
            f"predict {name}: {len(timings)} answers, median {statistics.median(timings):.0f} ms, "
            f"slowest {max(timings):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["purchase", "churn"])
    parser.add_argument("--predictions", type=int, default=50)
    parser.add_argument(
        "--predict-only", action="store_true", help="time predictions with the active versions"
    )
    options = parser.parse_args()

    import django

    django.setup()
    for name in options.models:
        if not options.predict_only:
            train(name)
        predictions(name, options.predictions)


if __name__ == "__main__":
    main()
