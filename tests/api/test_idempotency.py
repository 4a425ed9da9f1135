"""`Idempotency-Key` on POSTs under /api/: a retry gets the first response and creates nothing
twice; a key belongs to its caller; reuse, concurrency, failures and expiry."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from crm.accounts import roles
from crm.accounts.services import api_token_create
from crm.api.models import IdempotencyKey
from crm.api.tasks import idempotency_keys_purge_task
from customers.models import Customer
from sales.models import Deal, Stage
from sales.services.deals import deal_create, deal_move_stage
from service.models import Ticket
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def post(client, url, data, key=None, **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data, content_type="application/json", **headers)


def error_code(response, status_code: int) -> str:
    assert response.status_code == status_code, response.content
    return response.json()["error"]["code"]


def test_a_retry_gets_the_first_response_and_creates_nothing_twice(rep_client):
    # given a customer created with a key
    first = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="create-ada-1")

    # when the client retries the same request with the same key
    retry = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="create-ada-1")

    # then there is one customer, and the retry got the same answer, marked as a replay
    assert first.status_code == 201, first.content
    assert Customer.objects.count() == 1
    assert (retry.status_code, retry.content) == (201, first.content)
    assert retry["Content-Type"] == first["Content-Type"] == "application/json"
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def test_a_key_reused_for_another_request_is_refused(rep_client):
    # given
    post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="k-1")

    # when the same key comes with another body, or to another path
    other_body = post(rep_client, CUSTOMERS, {"name": "Bo Li"}, key="k-1")
    other_path = post(rep_client, f"{CUSTOMERS}?x=1", {"name": "Ada Wong"}, key="k-1")

    # then
    assert error_code(other_body, 422) == "idempotency_key_reused"
    assert error_code(other_path, 422) == "idempotency_key_reused"
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ada Wong"]


def test_two_callers_may_use_the_same_key(rep_client, rep_teammate, client_for):
    # given  # when
    mine = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="same")
    theirs = post(client_for(rep_teammate), CUSTOMERS, {"name": "Ada Wong"}, key="same")

    # then both ran
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs
    assert Customer.objects.count() == 2
    assert IdempotencyKey.objects.filter(key="same").count() == 2


def test_without_a_key_every_post_runs(rep_client):
    # given  # when
    post(rep_client, CUSTOMERS, {"name": "Ada Wong"})
    post(rep_client, CUSTOMERS, {"name": "Ada Wong"})

    # then
    assert Customer.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_too_long_key_is_a_400(rep_client, key):
    # given  # when
    response = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key=key)

    # then
    assert error_code(response, 400) == "idempotency_key_invalid"
    assert response.json()["error"]["fields"] == {}
    assert not Customer.objects.exists()


def test_a_key_of_255_characters_is_fine(rep_client):
    # given  # when
    response = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="k" * 255)

    # then
    assert response.status_code == 201, response.content


def make_deal(rep) -> Deal:
    customer = CustomerFactory(owner=rep)
    return deal_create(actor=None, owner=rep, team=rep.teams.first(), customer=customer, name="Tea")


def proposal() -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name="Proposal")


def test_a_retry_while_the_first_request_runs_is_told_to_wait(rep, rep_client):
    # given a move that is retried while the first one is still running
    deal = make_deal(rep)
    url = f"/api/v1/deals/{deal.pk}/move/"
    payload = {"stage": proposal().pk, "version": 1}
    retries = []

    def move_slowly(**kwargs):
        retries.append(post(rep_client, url, payload, key="busy"))
        return deal_move_stage(**kwargs)

    # when
    with mock.patch("sales.services.deals.deal_move_stage", side_effect=move_slowly):
        first = post(rep_client, url, payload, key="busy")

    # then the retry was told to come back, and the first one finished
    assert error_code(retries[0], 409) == "idempotency_in_progress"
    assert retries[0]["Retry-After"] == "1"
    assert first.status_code == 200, first.content
    assert deal.stage_changes.count() == 2


def test_a_request_that_died_unfinished_long_ago_frees_its_key(rep, rep_client):
    # given a row left unfinished by a process that died twenty minutes ago
    row = IdempotencyKey.objects.create(scope=f"user:{rep.pk}", key="dead", fingerprint="?")
    IdempotencyKey.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(minutes=20)
    )

    # when
    response = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="dead")

    # then
    assert response.status_code == 201, response.content
    assert Customer.objects.count() == 1


@override_settings(CRM_IDEMPOTENCY_TTL_HOURS=24)
def test_an_expired_key_runs_again(rep_client):
    # given a key used 25 hours ago
    post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    # when it comes again, even with another request
    again = post(rep_client, CUSTOMERS, {"name": "Ada Wong"}, key="old")
    other = post(rep_client, CUSTOMERS, {"name": "Bo Li"}, key="old")

    # then the first of these ran, and the key now belongs to it
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Customer.objects.count() == 2
    assert error_code(other, 422) == "idempotency_key_reused"


def test_a_server_error_is_not_kept_so_the_client_may_retry(rep, rep_client):
    # given a deal whose move fails inside the server the first time
    deal = make_deal(rep)
    url = f"/api/v1/deals/{deal.pk}/move/"
    payload = {"stage": proposal().pk, "version": 1}
    broken = Client(raise_request_exception=False)
    broken.force_login(rep)

    # when
    with mock.patch("sales.services.deals.deal_move_stage", side_effect=RuntimeError("boom")):
        failed = post(broken, url, payload, key="move-1")
    retried = post(rep_client, url, payload, key="move-1")

    # then the retry ran
    assert failed.status_code == 500
    assert retried.status_code == 200, retried.content
    assert "Idempotent-Replayed" not in retried
    assert Deal.objects.get(pk=deal.pk).stage == proposal()


def test_an_action_is_replayed(rep, rep_client):
    # given a deal moved with a key
    deal = make_deal(rep)
    url = f"/api/v1/deals/{deal.pk}/move/"
    first = post(rep_client, url, {"stage": proposal().pk, "version": 1}, key="move-2")

    # when the move is retried (its version is stale by now)
    retry = post(rep_client, url, {"stage": proposal().pk, "version": 1}, key="move-2")

    # then it got the first answer instead of a 409, and the deal moved once
    assert first.status_code == 200, first.content
    assert (retry.status_code, retry.content) == (200, first.content)
    assert retry["Idempotent-Replayed"] == "true"
    assert deal.stage_changes.count() == 2


def test_a_refusal_is_replayed_too(rep_client):
    # given a request the API refused for bad input
    first = post(rep_client, CUSTOMERS, {"email": "ada@example.com"}, key="bad")

    # when  # then the same request gets the same refusal
    retry = post(rep_client, CUSTOMERS, {"email": "ada@example.com"}, key="bad")
    assert first.status_code == 400
    assert (retry.status_code, retry.content) == (400, first.content)
    assert retry["Idempotent-Replayed"] == "true"


def test_a_request_without_permission_is_not_kept(client_for):
    # given an agent, whose role may not add pipelines
    agent_client = client_for(UserFactory(roles=[roles.SERVICE_AGENT]))

    # when
    refused = post(agent_client, "/api/v1/pipelines/", {"name": "Mine"}, key="p-1")

    # then the key is free for when they are given the permission
    assert refused.status_code == 403
    assert not IdempotencyKey.objects.exists()


def test_an_anonymous_post_has_no_key_and_is_refused(client):
    # given  # when
    response = post(client, CUSTOMERS, {"name": "Ada Wong"}, key="anon")

    # then
    assert response.status_code in (401, 403)
    assert not IdempotencyKey.objects.exists()


def test_a_token_caller_and_its_session_share_their_keys(rep, client):
    # given a rep's token
    _token, plain = api_token_create(user=rep, name="Sync")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    # when the token client creates with a key and retries
    first = post(client, CUSTOMERS, {"name": "Ada Wong"}, key="tok-1", **bearer)
    retry = post(client, CUSTOMERS, {"name": "Ada Wong"}, key="tok-1", **bearer)

    # then
    assert first.status_code == 201, first.content
    assert (retry.status_code, retry.content) == (201, first.content)
    assert retry["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().scope == f"user:{rep.pk}"
    assert Customer.objects.count() == 1


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64)
def test_an_upload_bigger_than_the_memory_limit_is_replayed(client_for, team):
    # given an agent creating a ticket with a file, in a body over the in-memory limit
    agent = UserFactory(roles=[roles.SERVICE_AGENT])
    agent.team_memberships.create(team=team)
    agent_client = client_for(agent)
    customer = CustomerFactory(team=team)

    def send():
        upload = SimpleUploadedFile("photo.txt", b"a picture" * 20, content_type="text/plain")
        return agent_client.post(
            "/api/v1/tickets/",
            {"customer": customer.pk, "subject": "See attached", "attachments": [upload]},
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    # when it is sent twice
    first = send()
    retry = send()

    # then the file arrived once, and the retry was a replay
    assert first.status_code == 201, first.content
    assert [file.size for file in Ticket.objects.get().messages.get().attachments.all()] == [180]
    assert (retry.status_code, retry.content) == (201, first.content)


def test_only_posts_under_the_api_are_concerned(rep_client, rep):
    # given a customer  # when it is patched twice with a key
    customer = CustomerFactory(owner=rep)
    for _ in range(2):
        rep_client.patch(
            f"{CUSTOMERS}{customer.pk}/",
            {"notes": "x"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="patch",
        )

    # then no key was kept
    assert not IdempotencyKey.objects.exists()


@override_settings(CRM_IDEMPOTENCY_TTL_HOURS=24)
def test_the_purge_task_deletes_expired_keys(rep, eager_tasks):
    # given an old key and a fresh one
    old = IdempotencyKey.objects.create(scope=f"user:{rep.pk}", key="old", fingerprint="a")
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.create(scope=f"user:{rep.pk}", key="new", fingerprint="b")

    # when
    deleted = idempotency_keys_purge_task.delay().get()

    # then
    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_purge_runs_on_the_beat_schedule():
    from crm.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "api.idempotency_keys_purge_task" in tasks


def test_the_schema_documents_the_header_on_every_post(admin_user, client_for):
    # given  # when
    schema = client_for(admin_user).get("/api/v1/schema/", {"format": "json"}).json()

    # then
    posts = [ops["post"] for ops in schema["paths"].values() if "post" in ops]
    assert posts
    for operation in posts:
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [p["name"] for p in headers] == ["Idempotency-Key"], operation["operationId"]
    assert not any(
        p["name"] == "Idempotency-Key"
        for ops in schema["paths"].values()
        for p in ops.get("get", {}).get("parameters", [])
    )


def test_the_admin_shows_a_key_without_letting_anyone_change_it(rep, superuser, client_for):
    # given a kept response
    key = IdempotencyKey.objects.create(
        scope=f"user:{rep.pk}",
        key="k",
        fingerprint="f",
        status_code=201,
        response_body=b'{"id": 1}',
    )
    client = client_for(superuser)

    # when
    page = client.get(reverse("admin:api_idempotencykey_change", args=[key.pk]))
    changelist = client.get(reverse("admin:api_idempotencykey_changelist"), {"q": "k"})

    # then
    assert page.status_code == 200
    assert b"{&quot;id&quot;: 1}" in page.content
    assert b'name="_save"' not in page.content
    assert changelist.status_code == 200
