"""/api/v1/email-signature/: the caller's own signature, the one the signature page edits."""

import pytest

from mail.models import EmailSignature

pytestmark = pytest.mark.django_db

URL = "/api/v1/email-signature/"


def test_a_user_reads_and_changes_their_own_signature(rep, rep_client, manager):
    EmailSignature.objects.create(user=manager, body="The manager")
    assert rep_client.get(URL).json() == {"body": ""}

    response = rep_client.put(URL, {"body": "Li Na\nSales East"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"body": "Li Na\nSales East"}
    assert EmailSignature.objects.get(user=rep).body == "Li Na\nSales East"
    assert EmailSignature.objects.get(user=manager).body == "The manager"


def test_a_signature_too_long_or_with_unknown_fields_is_refused_and_nothing_changes(
    rep, rep_client
):
    EmailSignature.objects.create(user=rep, body="Kept")

    too_long = rep_client.put(URL, {"body": "x" * 2001}, content_type="application/json")
    unknown = rep_client.put(URL, {"body": "New", "user": 1}, content_type="application/json")

    assert too_long.status_code == 400
    assert too_long.json()["error"]["fields"]["body"]
    assert unknown.status_code == 400
    assert EmailSignature.objects.get(user=rep).body == "Kept"


def test_anonymous_callers_are_told_to_authenticate(client):
    assert client.get(URL).status_code == 401
