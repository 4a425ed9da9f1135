"""POST /api/v1/customers/bulk-upsert/: up to 1,000 customers per call, cleaned and matched by the
CSV import's rules, one result per item in order; a failing item writes nothing and does not stop
the others."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.webhooks.events import record_type_for
from customers.models import Customer
from customers.services.bulk_upsert import customer_bulk_upsert
from tests.accounts.factories import UserFactory
from tests.customers.factories import CompanyFactory, CustomerFactory
from tests.customers.test_import_outcomes import without_history_inserts

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/bulk-upsert/"


def upsert(client, customers, **options):
    return client.post(URL, json.dumps({"customers": customers, **options}), "application/json")


def results_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def published(monkeypatch, django_capture_on_commit_callbacks):
    """The events that reach webhook delivery when the call's transaction commits."""
    calls = []

    def record_many(*, event, announcements):
        for record, extra in announcements:
            record_type_for(type(record))
            calls.append((event, record.pk, extra))
        return []

    monkeypatch.setattr("crm.webhooks.services.webhook_deliveries_create_many", record_many)

    class Capture:
        def __enter__(self):
            calls.clear()
            self._inner = django_capture_on_commit_callbacks(execute=True)
            self._inner.__enter__()
            return calls

        def __exit__(self, *exc):
            return self._inner.__exit__(*exc)

    return Capture


# Outcomes ----------------------------------------------------------------------------------------


def test_each_item_is_created_updated_unchanged_or_failed_in_order(rep, team, rep_client):
    # given
    known = CustomerFactory(name="Ada Lovelace", email="ada@example.com", city="", owner=rep)
    same = CustomerFactory(name="Alan Turing", email="alan@example.com", city="London", owner=rep)

    # when
    response = upsert(
        rep_client,
        [
            {"name": "Grace Hopper", "email": "grace@example.com", "city": "Arlington"},
            {"email": "ada@example.com", "city": "London"},
            {"email": "alan@example.com", "city": "London"},
            {"name": "Bad Email", "email": "not-an-email"},
        ],
    )

    # then
    body = response.json()
    assert body["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "failed": 1}
    created, updated, unchanged, failed = results_of(response)
    grace = Customer.objects.get(email="grace@example.com")
    assert created == {
        "index": 0,
        "outcome": "created",
        "id": grace.pk,
        "matched_on": None,
        "merged_into": None,
        "changed_fields": [],
        "errors": {},
        "notes": [],
    }
    assert (grace.owner, grace.team, grace.name) == (rep, team, "Grace Hopper")
    assert updated["outcome"] == "updated"
    assert (updated["id"], updated["matched_on"]) == (known.pk, "email")
    assert updated["changed_fields"] == ["city"]
    known.refresh_from_db()
    assert known.city == "London"
    assert (unchanged["outcome"], unchanged["id"]) == ("unchanged", same.pk)
    assert failed["outcome"] == "failed"
    assert failed["id"] is None
    assert list(failed["errors"]) == ["email"]
    assert not Customer.objects.filter(name="Bad Email").exists()


def test_a_matched_customer_takes_the_items_values_and_keeps_what_it_does_not_give(rep, rep_client):
    # given
    customer = CustomerFactory(
        name="Ada Lovelace", email="ada@example.com", city="London", job_title="Analyst", owner=rep
    )
    customer.tags.create(name="vip")

    # when
    [result] = results_of(
        upsert(
            rep_client,
            [
                {
                    "email": "ada@example.com",
                    "city": "Paris",
                    "job_title": None,
                    "tags": ["newsletter"],
                    "custom_attributes": {"shoe_size": 38},
                }
            ],
        )
    )

    # then
    assert result["outcome"] == "updated"
    assert result["changed_fields"] == ["city", "custom_attributes", "tags"]
    customer.refresh_from_db()
    assert (customer.city, customer.job_title) == ("Paris", "Analyst")
    assert customer.custom_attributes == {"shoe_size": 38}
    assert sorted(customer.tags.values_list("name", flat=True)) == ["newsletter", "vip"]


# Matching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ({"external_id": "shop-7"}, "external_id"),
        ({"email": "ADA@example.com "}, "email"),
        ({"phone": "+86 138-0013-8000"}, "phone"),
    ],
)
def test_a_customer_is_matched_by_each_key(rep, rep_client, item, key):
    # given
    customer = CustomerFactory(
        external_id="shop-7", email="ada@example.com", phone="+8613800138000", owner=rep
    )

    # when
    [result] = results_of(upsert(rep_client, [{**item, "job_title": "Engineer"}]))

    # then
    assert (result["outcome"], result["id"], result["matched_on"]) == ("updated", customer.pk, key)
    assert Customer.objects.count() == 1


def test_the_external_id_is_trusted_before_the_email(rep, rep_client):
    # given one customer with the external id and another with the email
    by_id = CustomerFactory(external_id="shop-7", email="first@example.com", owner=rep)
    by_email = CustomerFactory(email="ada@example.com", owner=rep)

    # when
    [result] = results_of(
        upsert(rep_client, [{"external_id": "shop-7", "email": "ada@example.com"}])
    )

    # then the external id wins and the other customer's email is not copied
    assert (result["id"], result["matched_on"]) == (by_id.pk, "external_id")
    assert any("email" in note for note in result["notes"])
    by_id.refresh_from_db()
    assert by_id.email == "first@example.com"
    assert by_email.pk != by_id.pk


def test_match_on_chooses_the_keys_and_their_order(rep, rep_client):
    # given
    by_id = CustomerFactory(external_id="shop-7", email="first@example.com", owner=rep)
    by_email = CustomerFactory(email="ada@example.com", owner=rep, city="")

    # when the caller trusts the email first
    [result] = results_of(
        upsert(
            rep_client,
            [{"external_id": "shop-7", "email": "ada@example.com", "city": "Paris"}],
            match_on=["email", "external_id"],
        )
    )

    # then
    assert (result["id"], result["matched_on"]) == (by_email.pk, "email")
    by_email.refresh_from_db()
    assert by_email.city == "Paris"
    assert by_email.external_id == ""  # it belongs to another customer
    assert by_id.pk != by_email.pk


def test_match_on_without_a_key_creates_a_new_customer(rep, rep_client):
    # given
    CustomerFactory(email="ada@example.com", phone="+8613800138000", owner=rep)

    # when
    [result] = results_of(
        upsert(
            rep_client,
            [{"name": "Ada Two", "phone": "13800138000", "email": "ada2@example.com"}],
            match_on=["email"],
        )
    )

    # then the phone is not used to match, and not copied since another customer has it
    assert result["outcome"] == "created"
    assert Customer.objects.get(pk=result["id"]).phone == ""


def test_two_items_of_the_same_customer_follow_the_imports_duplicate_rule(rep, rep_client):
    # when
    first, second = results_of(
        upsert(
            rep_client,
            [
                {"name": "Ada Lovelace", "email": "ada@example.com", "city": "London"},
                {
                    "name": "A. Lovelace",
                    "email": "ADA@example.com",
                    "city": "Paris",
                    "phone": "13800138000",
                },
            ],
        )
    )

    # then the second fills in only what the first left blank
    assert first["outcome"] == "created"
    assert second["outcome"] == "updated"
    assert (second["id"], second["merged_into"], second["matched_on"]) == (first["id"], 0, "email")
    assert second["changed_fields"] == ["phone"]
    customer = Customer.objects.get()
    assert (customer.name, customer.city, customer.phone) == (
        "Ada Lovelace",
        "London",
        "+8613800138000",
    )


# Cleaning ----------------------------------------------------------------------------------------


def test_values_are_cleaned_as_the_import_cleans_them(rep, rep_client):
    # when
    [result] = results_of(
        upsert(
            rep_client,
            [
                {
                    "name": "  Ada \t Lovelace ",
                    "email": " Ada.Lovelace@Example.COM ",
                    "phone": "138 0013 8000",
                    "birthday": "1985-03-02",
                    "annual_income": "¥120,000",
                    "status": "client",
                    "marketing_consent": True,
                    "country": "China",
                    "tags": [" VIP ", "vip", "Newsletter"],
                }
            ],
        )
    )

    # then
    customer = Customer.objects.get(pk=result["id"])
    assert customer.name == "Ada Lovelace"
    assert customer.email == "ada.lovelace@example.com"
    assert customer.phone == "+8613800138000"
    assert str(customer.birthday) == "1985-03-02"
    assert (str(customer.annual_income), customer.income_currency) == ("120000.00", "CNY")
    assert customer.status == Customer.Status.CUSTOMER
    assert customer.marketing_consent and customer.marketing_consent_at is not None
    assert customer.country == "CN"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["newsletter", "vip"]


def test_an_invalid_item_does_not_stop_the_others(rep, rep_client):
    # when
    results = results_of(
        upsert(
            rep_client,
            [
                {"name": "Bad", "phone": "12", "birthday": "2999-01-01"},
                {"email": "nobody@example.com"},
                "not an object",
                {"name": "Good", "email": "good@example.com"},
            ],
        )
    )

    # then
    assert [r["outcome"] for r in results] == ["failed", "failed", "failed", "created"]
    assert set(results[0]["errors"]) == {"phone", "birthday"}
    assert results[1]["errors"] == {"name": ["a new customer needs a name"]}
    assert list(results[2]["errors"]) == ["non_field_errors"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["Good"]


def test_read_only_and_unknown_fields_fail_their_item(rep, rep_client, rep_teammate):
    # when
    results = results_of(
        upsert(
            rep_client,
            [
                {"name": "Owned", "owner": rep_teammate.pk},
                {"name": "Spender", "total_spend": "100.00", "id": 3},
                {"name": "Typo", "emial": "typo@example.com"},
                {"name": "Fine"},
            ],
        )
    )

    # then
    assert results[0]["errors"] == {"owner": ["This field is read-only."]}
    assert results[1]["errors"] == {
        "id": ["This field is read-only."],
        "total_spend": ["This field is read-only."],
    }
    assert results[2]["errors"] == {"emial": ["Unknown field."]}
    assert results[3]["outcome"] == "created"
    assert list(Customer.objects.values_list("name", flat=True)) == ["Fine"]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"annual_income": "9" * 40}, "annual_income"),
        ({"company": 10**30}, "company"),
        ({"city": "Ber\x00lin"}, "city"),
        ({"custom_attributes": {"key\x00": 1}}, "custom_attributes"),
        ({"tags": "vip"}, "tags"),
        ({"language": "xx"}, "language"),
    ],
)
def test_values_no_database_could_store_fail_their_item(rep_client, value, field):
    # when
    results = results_of(upsert(rep_client, [{"name": "Odd", **value}, {"name": "Fine"}]))

    # then
    assert list(results[0]["errors"]) == [field]
    assert results[1]["outcome"] == "created"


def test_a_company_is_given_by_the_id_of_a_company_the_caller_sees(rep, team, rep_client):
    # given
    mine = CompanyFactory(name="Blue Summit", owner=rep, team=team)
    hidden = CompanyFactory(name="Secret Co", owner=UserFactory())

    # when
    ok, refused = results_of(
        upsert(
            rep_client,
            [{"name": "Ada", "company": mine.pk}, {"name": "Bob", "company": hidden.pk}],
        )
    )

    # then
    assert Customer.objects.get(pk=ok["id"]).company == mine
    assert refused["outcome"] == "failed"
    assert list(refused["errors"]) == ["company"]


# Visibility and permissions ----------------------------------------------------------------------


def test_a_customer_the_caller_cannot_change_is_not_matched_nor_named(
    rep, rep_client, other_team_rep
):
    # given
    theirs = CustomerFactory(
        name="Hidden Person", email="hidden@example.com", city="Berlin", owner=other_team_rep
    )

    # when
    response = upsert(
        rep_client, [{"name": "Someone", "email": "hidden@example.com", "city": "Rome"}]
    )

    # then the item fails without a duplicate, and nothing of the customer is shown
    [result] = results_of(response)
    assert result["outcome"] == "failed"
    assert result["id"] is None
    assert list(result["errors"]) == ["email"]
    assert "Hidden Person" not in response.content.decode()
    assert f"#{theirs.pk}" not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.city == "Berlin"
    assert Customer.objects.count() == 1


def test_a_role_without_add_customer_is_refused(rep, client_for):
    # given someone who may change customers but not add them
    user = UserFactory(username="changer")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers", codename__in=["view_customer", "change_customer"]
        )
    )

    # when
    response = upsert(client_for(user), [{"name": "Ada"}])

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Customer.objects.exists()


def test_anonymous_callers_are_refused(client):
    assert upsert(client, [{"name": "Ada"}]).status_code in (401, 403)


# The request -------------------------------------------------------------------------------------


def test_more_than_a_thousand_items_are_refused_whole(rep_client):
    # when
    response = upsert(rep_client, [{"name": f"Customer {i}"} for i in range(1001)])

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["customers"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"customers": {"name": "Ada"}},
        {"customers": "Ada"},
        {},
        {"customers": [], "match_on": ["name"]},
        {"customers": [], "match_on": []},
        {"customers": [], "overwrite": True},
    ],
)
def test_a_malformed_request_is_refused_in_the_error_shape(rep_client, body):
    response = rep_client.post(URL, json.dumps(body), "application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_dry_run_writes_nothing(rep, rep_client, published):
    # given
    customer = CustomerFactory(email="ada@example.com", city="", owner=rep)

    # when
    with published() as events:
        response = upsert(
            rep_client,
            [{"email": "ada@example.com", "city": "Paris"}, {"name": "New", "tags": ["x"]}],
            dry_run=True,
        )

    # then the results say what would happen
    updated, created = results_of(response)
    assert (updated["outcome"], updated["id"], updated["changed_fields"]) == (
        "updated",
        customer.pk,
        ["city"],
    )
    assert (created["outcome"], created["id"]) == ("created", None)
    customer.refresh_from_db()
    assert customer.city == ""
    assert Customer.objects.count() == 1
    assert events == []


# Events and queries ------------------------------------------------------------------------------


def test_created_and_updated_customers_are_announced_once_each(rep, rep_client, published):
    # given
    changed = CustomerFactory(email="ada@example.com", city="", owner=rep)
    CustomerFactory(email="same@example.com", city="Rome", owner=rep)

    # when
    with published() as events:
        results = results_of(
            upsert(
                rep_client,
                [
                    {"name": "New", "email": "new@example.com"},
                    {"email": "new@example.com", "city": "Oslo"},
                    {"email": "ada@example.com", "city": "Paris"},
                    {"email": "same@example.com", "city": "Rome"},
                ],
            )
        )

    # then
    assert sorted(events) == sorted(
        [
            ("customer.created", results[0]["id"], {}),
            ("customer.updated", changed.pk, {"changed_fields": ["city"]}),
        ]
    )


def test_queries_do_not_grow_with_the_items(rep, rep_client):
    # given customers to update, and a call that warms the caches and creates the tag
    for index in range(120):
        CustomerFactory(email=f"c{index}@example.com", owner=rep).tags.create(name=f"t{index}")
    results_of(upsert(rep_client, [{"email": "c0@example.com", "tags": ["a"]}]))

    def queries(items) -> int:
        with CaptureQueriesContext(connection) as context:
            results = results_of(upsert(rep_client, items))
        assert {r["outcome"] for r in results} == {"updated"}
        return len(without_history_inserts(context))

    # when
    ten = queries(
        [{"email": f"c{i}@example.com", "city": "Paris", "tags": ["a"]} for i in range(1, 11)]
    )
    hundred = queries(
        [{"email": f"c{i}@example.com", "city": "Paris", "tags": ["a"]} for i in range(11, 111)]
    )

    # then
    assert hundred == ten


def test_a_thousand_items_take_a_bounded_number_of_queries(
    rep, rep_client, django_assert_max_num_queries
):
    # given half of them known
    known = [CustomerFactory.build(email=f"known{i}@example.com", owner=rep) for i in range(500)]
    Customer.objects.bulk_create(known)
    items = [{"email": f"known{i}@example.com", "city": "Paris"} for i in range(500)]
    items += [{"name": f"New {i}", "email": f"new{i}@example.com"} for i in range(500)]

    # when (SQLite takes its inserts some thirty rows a statement, and the history rows some
    # twenty; PostgreSQL copies the customers in one and inserts their history in one)
    with django_assert_max_num_queries(80):
        response = upsert(rep_client, items)

    # then
    assert response.json()["counts"] == {
        "created": 500,
        "updated": 500,
        "unchanged": 0,
        "failed": 0,
    }


def test_the_service_refuses_too_many_items(rep):
    with pytest.raises(Exception, match="At most 1,000"):
        customer_bulk_upsert(actor=rep, items=[{}] * 1001)


def test_the_endpoint_is_documented(rep_client):
    schema = rep_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    operation = schema.json()["paths"]["/api/v1/customers/bulk-upsert/"]["post"]
    assert operation["operationId"] == "customers_bulk_upsert"
    assert operation["summary"]
    assert "200" in operation["responses"] and "400" in operation["responses"]
