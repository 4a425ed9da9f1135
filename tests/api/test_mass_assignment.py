"""No mass assignment: every create and update of every API resource refuses unknown fields and
fields callers may not write (ids, owners the service sets, versions, scores, aggregates, audit
times) with a 400 naming each one, and changes nothing.

The read-only fields come from the API itself (OPTIONS), so a new field is covered as it appears."""

import pytest

from crm.api_urls import router
from customers.models import Customer
from tests.api.records import HIDDEN, SHARED, World
from tests.collaboration.factories import (
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
)
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

UNKNOWN = "no_such_field"
CREATES = sorted(prefix for prefix, viewset, _name in router.registry if hasattr(viewset, "create"))
UPDATES = sorted(
    (prefix, basename)
    for prefix, viewset, basename in router.registry
    if hasattr(viewset, "partial_update")
)


def send(client, method: str, url: str, payload: dict):
    response = getattr(client, method)(url, payload, content_type="application/json")
    if response.status_code == 415:  # an upload: multipart only
        response = client.generic(
            method.upper(), url, _multipart(client, payload), content_type=_MULTIPART
        )
    return response


_MULTIPART = "multipart/form-data; boundary=BoUnDaRy"


def _multipart(client, payload: dict) -> bytes:
    from django.test.client import encode_multipart

    return encode_multipart("BoUnDaRy", {name: str(value) for name, value in payload.items()})


def read_only_fields(client, url: str, verb: str) -> list[str]:
    options = client.options(url).json()
    fields = options.get("actions", {}).get(verb, {})
    return sorted(name for name, meta in fields.items() if meta.get("read_only"))


REFUSALS = (["Unknown field."], ["This field is read-only."])
# Never writable, whatever the resource (an `id` may name another record in an action's input).
ALWAYS_READ_ONLY = {"created_at", "updated_at", "created_by"}


def is_generic(viewset, action: str) -> bool:
    """The action reads its input with the serializer OPTIONS describes (DRF's own method)."""
    return getattr(viewset, action).__qualname__.split(".")[0] in {
        "CreateModelMixin",
        "UpdateModelMixin",
    }


def assert_refused(response, read_only: list[str], *, exact: bool) -> None:
    """Refused before any other check, naming the unknown field, every field that is never
    writable, and (where OPTIONS describes the input) every read-only one."""
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = error["fields"]
    assert fields[UNKNOWN] == ["Unknown field."]
    assert all(messages in REFUSALS for messages in fields.values()), fields
    assert set(fields) <= {UNKNOWN, *read_only}
    assert ALWAYS_READ_ONLY & set(read_only) <= set(fields)
    if exact:
        assert fields == {UNKNOWN: ["Unknown field."]} | {
            name: ["This field is read-only."] for name in read_only
        }


VIEWSETS = {prefix: viewset for prefix, viewset, _name in router.registry}


@pytest.mark.parametrize("prefix", CREATES)
def test_a_create_refuses_unknown_and_read_only_fields(prefix, admin_user, client_for):
    # given an admin, who may create anything
    client = client_for(admin_user)
    url = f"/api/v1/{prefix}/"
    read_only = read_only_fields(client, url, "POST")
    before = client.get(url).content

    # when they send every read-only field and one the API does not know
    response = send(client, "post", url, {UNKNOWN: 1} | dict.fromkeys(read_only, 1))

    # then each is refused by name, and nothing was created
    assert_refused(response, read_only, exact=is_generic(VIEWSETS[prefix], "create"))
    assert client.get(url).content == before


def own_chat_message(user):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=user)
    return ChatMessageFactory(room=room, author=user)


@pytest.mark.parametrize(("prefix", "basename"), UPDATES)
def test_an_update_refuses_unknown_and_read_only_fields(
    prefix, basename, admin_user, client_for, other_team_rep, other_team
):
    # given a record the admin sees
    if basename in SHARED:
        record = SHARED[basename]()
    elif basename == "chat-message":  # only its author edits a message
        record = own_chat_message(admin_user)
    else:
        record = HIDDEN[basename][1](World(other=other_team_rep, other_team=other_team))
    client = client_for(admin_user)
    url = f"/api/v1/{prefix}/{record.pk}/"
    # DRF describes PUT with the serializer of a create, so fields only an update may write
    # (a campaign member's response) show as read-only: the refusal need not be exact.
    read_only = read_only_fields(client, url, "PUT")
    before = client.get(url)

    # when they patch every read-only field and one the API does not know
    response = send(client, "patch", url, {UNKNOWN: 1} | dict.fromkeys(read_only, 1))

    # then each is refused by name, and the record is unchanged
    assert before.status_code == 200, before.content
    assert_refused(response, read_only, exact=False)
    assert client.get(url).content == before.content


@pytest.mark.parametrize(
    "field",
    ["id", "version", "total_spend", "order_count", "created_at", "updated_at", "created_by"],
)
def test_a_customers_protected_fields_are_refused(field, rep, rep_client):
    # given a rep's customer
    customer = CustomerFactory(owner=rep, name="Ada Wong")

    # when they try to set a protected field on create and on update
    created = rep_client.post(
        "/api/v1/customers/", {"name": "Bo Li", field: 7}, content_type="application/json"
    )
    updated = rep_client.patch(
        f"/api/v1/customers/{customer.pk}/", {field: 7}, content_type="application/json"
    )

    # then both are refused and nothing changed
    for response in (created, updated):
        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"][field] in (
            ["This field is read-only."],
            ["Unknown field."],
        )
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ada Wong"]
