"""The model registry in the admin: read-only versions, and the Retrain and Activate actions,
which go through the training services and only for those allowed to train."""

import pytest
from django.urls import reverse

from analytics.models import ModelVersion
from tests.accounts.factories import UserFactory
from tests.analytics.models_toy import toy_model_make, toy_version_train

pytestmark = pytest.mark.django_db


def _action(client, url: str, action: str, pks: list[int]):
    return client.post(
        url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True
    )


def test_the_retrain_action_queues_a_version_and_reports_a_busy_model(
    client_for, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    # given
    model = toy_model_make()
    client = client_for(admin_user)
    url = reverse("admin:analytics_predictivemodel_changelist")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(client, url, "retrain", [model.pk])

    # then
    assert response.status_code == 200
    version = ModelVersion.objects.get(model=model)
    assert version.status == ModelVersion.Status.DONE, version.error
    model.refresh_from_db()
    assert model.active_version == version

    # when a retrain is already queued
    _action(client, url, "retrain", [model.pk])
    busy = _action(client, url, "retrain", [model.pk])

    # then the second one is refused with a message
    assert "is still training" in busy.content.decode()
    assert ModelVersion.objects.filter(model=model).count() == 2


def test_activate_this_version_overrides_the_auc_rule_and_rolls_back(client_for, admin_user):
    # given a refused second version
    model = toy_model_make()
    first = toy_version_train(model)
    second = toy_version_train(model, strength=0.05)
    client = client_for(admin_user)
    url = reverse("admin:analytics_modelversion_changelist")

    # when
    _action(client, url, "activate", [second.pk])

    # then
    model.refresh_from_db()
    assert model.active_version == second

    # when two are selected, nothing changes
    refused = _action(client, url, "activate", [first.pk, second.pk])
    assert "Select exactly one version." in refused.content.decode()

    # when rolling back
    _action(client, url, "activate", [first.pk])

    # then
    model.refresh_from_db()
    first.refresh_from_db()
    assert model.active_version == first
    assert first.decision == ModelVersion.Decision.ROLLED_BACK


def test_staff_who_are_not_admins_cannot_reach_the_actions(client_for, rep):
    # given a staff user in the rep role (reads analytics, trains nothing)
    rep.is_staff = True
    rep.save(update_fields=["is_staff"])
    model = toy_model_make()
    version = toy_version_train(model)
    client = client_for(rep)

    # when
    models_page = client.get(reverse("admin:analytics_predictivemodel_changelist"))
    versions_page = client.get(reverse("admin:analytics_modelversion_changelist"))
    forced = _action(
        client, reverse("admin:analytics_modelversion_changelist"), "activate", [version.pk]
    )

    # then the admin sends them to its login, and nothing is decided
    assert models_page.status_code == 302
    assert versions_page.status_code == 302
    assert models_page["Location"].startswith("/admin/login/")
    assert forced.status_code == 200
    version.refresh_from_db()
    assert version.decided_by is None


def test_a_version_is_read_only_in_the_admin(client_for):
    # given an admin who holds every permission
    superuser = UserFactory(username="root-b", is_staff=True, is_superuser=True)
    version = toy_version_train(toy_model_make())

    # when
    response = client_for(superuser).get(
        reverse("admin:analytics_modelversion_change", args=[version.pk])
    )

    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert version.artifact_sha256 in content
    assert 'name="metrics"' not in content
