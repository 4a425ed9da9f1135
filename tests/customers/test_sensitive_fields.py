"""Identity numbers and private notes: encrypted at rest (records and their history), editable
on the form and the API, shown and exported only to the roles that may see them, never
filtered, searched, sent in webhooks or kept in merge snapshots, given back by the privacy export
and cleared by erasure."""

import csv
import io
import json

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.urls import reverse

from crm.accounts import roles
from crm.encryption import CIPHERTEXT_PREFIX
from customers.api.customers import customer_payload
from customers.models import Customer, CustomerMerge
from customers.services.customers import customer_update
from customers.services.merge import customer_merge
from customers.services.privacy import customer_erase
from tests.accounts.factories import UserFactory
from tests.customers.export_downloads import export_download
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

IDENTITY = "310101198503021234"
NOTES = "Prefers calls after 6 pm; going through a divorce."


def stored(table: str, column: str, where: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {where} = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(
        name="Ada Lin", owner=rep, team=team, identity_number=IDENTITY, private_notes=NOTES
    )


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", roles=[roles.SERVICE_AGENT])


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    team.memberships.create(user=user)
    return user


def test_values_are_stored_encrypted_and_read_back_in_clear(customer):
    # given a customer saved with an identity number and private notes  # when read raw
    raw_identity = stored("customers_customer", "identity_number", "id", customer.pk)
    raw_notes = stored("customers_customer", "private_notes", "id", customer.pk)

    # then the columns hold ciphertext, and the model gives back the plain text
    assert raw_identity.startswith(CIPHERTEXT_PREFIX)
    assert IDENTITY not in raw_identity
    assert NOTES not in raw_notes
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.identity_number, fresh.private_notes) == (IDENTITY, NOTES)


def test_history_rows_hold_ciphertext_too(customer, rep):
    # given a change of the identity number
    customer_update(actor=rep, customer=customer, identity_number="G12345678")

    # when the historical rows are read raw
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT identity_number FROM customers_historicalcustomer WHERE id = %s", [customer.pk]
        )
        raw_values = [row[0] for row in cursor.fetchall()]

    # then none holds a value in clear, and the history reads them back
    assert len(raw_values) == 2
    assert all(value.startswith(CIPHERTEXT_PREFIX) for value in raw_values)
    assert not any(IDENTITY in value or "G12345678" in value for value in raw_values)
    assert {row.identity_number for row in customer.history.all()} == {IDENTITY, "G12345678"}


def test_filtering_by_value_is_refused_and_by_emptiness_works(customer):
    # given a customer with an identity number and one without
    CustomerFactory(name="Bo")

    # when filtered by value  # then a clear error, not a silently empty list
    with pytest.raises(FieldError, match="identity_number is encrypted"):
        list(Customer.objects.filter(identity_number=IDENTITY))
    with pytest.raises(FieldError):
        list(Customer.objects.filter(identity_number__icontains="3101"))
    # and emptiness can still be asked
    assert list(Customer.objects.filter(identity_number="")) == [Customer.objects.get(name="Bo")]
    assert list(Customer.objects.exclude(identity_number="")) == [customer]


def test_the_list_search_does_not_match_encrypted_values(rep_client, customer):
    # given  # when a rep searches for the identity number
    response = rep_client.get(reverse("customers:customer_list"), {"q": IDENTITY})

    # then nothing matches (and nothing breaks)
    assert response.status_code == 200
    assert "Ada Lin" not in response.content.decode()


def test_the_form_saves_them_and_the_profile_shows_them_to_the_owner(rep, rep_client):
    # given  # when a rep creates a customer with both fields
    response = rep_client.post(
        reverse("customers:customer_new"),
        {
            "name": "Chen Wei",
            "status": "lead",
            "tier": "normal",
            "identity_number": IDENTITY,
            "private_notes": NOTES,
        },
    )

    # then they are saved and shown on the profile, in the Sensitive section
    assert response.status_code == 302, response.content
    customer = Customer.objects.get(name="Chen Wei")
    assert (customer.identity_number, customer.private_notes) == (IDENTITY, NOTES)
    page = rep_client.get(reverse("customers:customer_detail", args=[customer.pk])).content
    assert "Sensitive" in page.decode()
    assert IDENTITY in page.decode()


def test_the_profile_hides_them_from_a_service_agent(client_for, agent, customer):
    # given an agent, from whom migration 0009 hides both fields  # when they open the profile
    response = client_for(agent).get(reverse("customers:customer_detail", args=[customer.pk]))

    # then the customer shows, without the fields or even their labels
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Lin" in page
    assert IDENTITY not in page
    assert "Prefers calls" not in page
    assert "Identity number" not in page


def test_the_api_reads_and_writes_them(rep_client, customer):
    # given  # when the owner reads and changes the customer through the API
    url = f"/api/v1/customers/{customer.pk}/"
    before = rep_client.get(url).json()
    response = rep_client.patch(
        url, {"identity_number": "G12345678"}, content_type="application/json"
    )

    # then both fields are part of the record
    assert before["identity_number"] == IDENTITY
    assert before["private_notes"] == NOTES
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.identity_number == "G12345678"


def csv_export(client) -> list[list[str]]:
    response = export_download(client, "csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_the_export_has_them_for_a_manager_and_not_for_marketing(
    client_for, manager, marketer, customer
):
    # given a manager of the customer's team, and a marketer from whom 0009 hides both fields
    # when each exports the customer list
    manager_rows = csv_export(client_for(manager))
    marketer_rows = csv_export(client_for(marketer))

    # then the manager's file has the columns and values, the marketer's neither
    assert manager_rows[1][manager_rows[0].index("Identity number")] == IDENTITY
    assert manager_rows[1][manager_rows[0].index("Private notes")] == NOTES
    assert "Identity number" not in marketer_rows[0]
    assert "Private notes" not in marketer_rows[0]
    assert not any(IDENTITY in cell for row in marketer_rows for cell in row)


def test_the_privacy_export_gives_the_data_subject_their_own_values(
    client_for, admin_user, customer
):
    # given  # when an admin exports the customer's personal data
    response = client_for(admin_user).post(
        reverse("customers:customer_privacy_export", args=[customer.pk])
    )

    # then both values are in it, in clear
    data = json.loads(response.content)
    assert data["customer"]["identity_number"] == IDENTITY
    assert data["customer"]["private_notes"] == NOTES


def test_erasure_clears_them(admin_user, customer):
    # given  # when the customer is erased
    customer_erase(actor=admin_user, customer=customer, reason="Asked by phone")

    # then both are gone
    customer.refresh_from_db()
    assert (customer.identity_number, customer.private_notes) == ("", "")


def test_webhook_payloads_leave_them_out(customer):
    # given  # when the webhook record of the customer is built
    payload = customer_payload(customer)

    # then it has the customer but not the encrypted values
    assert payload["name"] == "Ada Lin"
    assert "identity_number" not in payload
    assert IDENTITY not in json.dumps(payload)


def test_a_merge_fills_a_blank_value_and_keeps_none_in_its_snapshot(manager, rep, team, customer):
    # given a duplicate without an identity number
    kept = CustomerFactory(name="Ada Lin", owner=rep, team=team)

    # when the customer with one is merged into it
    merge = customer_merge(actor=manager, kept=kept, merged=customer)

    # then the kept customer takes the value, and the snapshot (a JSON column) holds neither
    kept.refresh_from_db()
    assert kept.identity_number == IDENTITY
    snapshot = CustomerMerge.objects.get(pk=merge.pk).merged_snapshot
    assert "identity_number" not in snapshot
    assert IDENTITY not in json.dumps(snapshot)
    assert NOTES not in json.dumps(snapshot)
