"""Long jobs end with a visible outcome: once a retrain is over, the progress box says how the
last run ended (its error when it failed), and a failed graph build shows why."""

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalyticsJob, ModelVersion
from tests.analytics.factories import ModelVersionFactory, PredictiveModelFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_the_progress_box_shows_the_error_of_a_failed_retrain(client_for, rep):
    model = PredictiveModelFactory()
    ModelVersionFactory(model=model, number=1)
    ModelVersionFactory(
        model=model,
        number=2,
        status=ModelVersion.Status.FAILED,
        error="Too few rows with an outcome to learn from (3).",
    )
    client = client_for(rep)

    box = client.get(reverse("analytics:model_progress", args=[model.name]), headers=HTMX)
    page = client.get(reverse("analytics:model_detail", args=[model.name]))

    for response in (box, page):
        content = response.content.decode()
        assert 'role="alert"' in content
        assert "Training version 2 failed." in content
        assert "Too few rows with an outcome to learn from (3)." in content
    assert "hx-trigger" not in box.content.decode()


def test_the_progress_box_tells_a_finished_retrain_and_its_decision(client_for, rep):
    model = PredictiveModelFactory()
    ModelVersionFactory(model=model, number=3, decision=ModelVersion.Decision.PROMOTED)

    content = client_for(rep).get(reverse("analytics:model_detail", args=[model.name])).content

    assert "Version 3 is trained: Activated: held-out AUC not worse." in content.decode()


def test_a_failed_graph_build_shows_its_error(client_for, manager):
    AnalyticsJob.objects.create(
        kind=AnalyticsJob.Kind.GRAPH,
        status=AnalyticsJob.Status.FAILED,
        finished_at=timezone.now(),
        error="The database went away.",
    )

    content = client_for(manager).get(reverse("analytics:graph_job"), headers=HTMX).content

    assert "The last build failed" in content.decode()
    assert "The database went away." in content.decode()


def test_a_running_graph_build_has_a_labelled_progress_bar(client_for, manager):
    AnalyticsJob.objects.create(
        kind=AnalyticsJob.Kind.GRAPH, status=AnalyticsJob.Status.RUNNING, progress=40
    )

    content = client_for(manager).get(reverse("analytics:graph_job"), headers=HTMX).content

    assert 'role="progressbar" aria-label="Graph build progress" aria-valuenow="40"' in (
        content.decode()
    )
