"""A graph or recommendations build asked for while the broker is down fails at once, saying so,
instead of waiting for a worker that will never hear of it."""

import pytest
from kombu.exceptions import OperationalError

from analytics.models import AnalyticsJob
from analytics.services.network import graph_build_request
from analytics.services.recommendations import recommendations_build_request
from analytics.tasks.network import graph_build_task
from analytics.tasks.recommendations import recommendations_build_task
from crm.queueing import BROKER_UNREACHABLE_MESSAGE

pytestmark = pytest.mark.django_db


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize(
    ("request_build", "task"),
    [
        (graph_build_request, graph_build_task),
        (recommendations_build_request, recommendations_build_task),
    ],
)
def test_a_build_that_cannot_be_queued_fails_with_a_message(
    request_build, task, monkeypatch, django_capture_on_commit_callbacks
):
    # given a broker that does not answer
    monkeypatch.setattr(task, "apply_async", broker_down)

    # when a build is asked for
    with django_capture_on_commit_callbacks(execute=True):
        job = request_build(trigger="manual", user=None)

    # then its job says why it did not start, and a new build may be asked for
    job.refresh_from_db()
    assert job.status == AnalyticsJob.Status.FAILED
    assert job.error == str(BROKER_UNREACHABLE_MESSAGE)
    assert job.finished_at is not None
