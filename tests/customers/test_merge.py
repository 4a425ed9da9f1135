"""Merging a duplicate customer into the one kept: the service, the confirmation page, the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.models import RecordShare
from customers import registry
from customers.models import Customer, CustomerMerge, Order, PrivacyRequest, Relationship, Tag
from customers.services.merge import customer_merge
from tests.accounts.factories import TeamFactory, UserFactory
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    CustomerMergeFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    PrivacyRequestFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def merge_handlers(monkeypatch):
    """Handlers registered during a test are forgotten after it."""
    monkeypatch.setattr(registry, "_merge_handlers", registry.merge_handlers())


@pytest.fixture
def pair(manager, team):
    """Two records of one person in the manager's team: the kept one has gaps the other fills."""
    kept = CustomerFactory(
        name="Chen Wei",
        email="chen.wei@example.com",
        phone="",
        city="",
        job_title="",
        tier=Customer.Tier.VIP,
        team=team,
        custom_attributes={"source_file": "crm.csv", "shoe_size": "42"},
    )
    merged = CustomerFactory(
        name="Wei Chen",
        email="wei.chen@example.org",
        phone="+8613800138000",
        city="Hangzhou",
        job_title="Buyer",
        tier=Customer.Tier.NORMAL,
        team=team,
        external_id="ERP-77",
        custom_attributes={"shoe_size": "43", "wechat": "chenwei"},
    )
    return kept, merged


def test_merge_moves_every_related_row_and_records_it(manager, pair):
    # given a merged customer with orders (and lines), interactions, needs, tags and a share
    kept, merged = pair
    OrderFactory(customer=kept, total_amount=Decimal("100.00"))
    order = OrderFactory(customer=merged, total_amount=Decimal("250.00"))
    OrderLineFactory(order=order)
    OrderFactory(customer=merged, total_amount=Decimal("50.00"), status=Order.Status.CANCELLED)
    last_call = timezone.now() - timedelta(days=1)
    InteractionFactory(customer=merged, occurred_at=last_call)
    InteractionFactory(customer=kept, occurred_at=last_call - timedelta(days=5))
    NeedFactory(customer=merged)
    shared_tag, own_tag = Tag.objects.create(name="key-account"), Tag.objects.create(name="expo")
    kept.tags.add(shared_tag)
    merged.tags.add(shared_tag, own_tag)
    content_type = ContentType.objects.get_for_model(Customer)
    colleague = UserFactory(username="colleague")
    RecordShare.objects.create(content_type=content_type, object_id=merged.pk, user=colleague)
    earlier = CustomerMergeFactory(kept=merged)
    request = PrivacyRequestFactory(customer=merged)

    # when
    merge = customer_merge(actor=manager, kept=kept, merged=merged)

    # then everything points to the kept customer, and the merged one is gone
    merged_id = merged.pk
    assert not Customer.objects.filter(pk=merged_id).exists()
    assert kept.orders.count() == 3
    assert kept.interactions.count() == 2
    assert kept.needs.count() == 1
    assert set(kept.tags.values_list("name", flat=True)) == {"key-account", "expo"}
    assert RecordShare.objects.get(user=colleague).object_id == kept.pk
    earlier.refresh_from_db()
    request.refresh_from_db()
    assert earlier.kept_id == kept.pk
    assert request.customer_id == kept.pk
    # the aggregates are recomputed: cancelled orders do not count as spend
    kept.refresh_from_db()
    assert kept.order_count == 2
    assert kept.total_spend == Decimal("350.00")
    assert kept.last_contact_at == last_call
    # the merge is recorded with the merged customer's data and what moved
    assert merge.kept == kept
    assert merge.merged_by == manager
    assert merge.merged_customer_id == merged_id
    assert merge.merged_snapshot["name"] == "Wei Chen"
    assert merge.merged_snapshot["external_id"] == "ERP-77"
    assert merge.merged_snapshot["tags"] == ["expo", "key-account"]
    # (apps built on customers add their own keys through the registry)
    customers_own = {
        "orders": 2,
        "interactions": 1,
        "needs": 1,
        "relationships": 0,
        "relationships_dropped": 0,
        "tags": 1,
        "record_shares": 1,
        "merges": 1,
        "privacy_requests": 1,
    }
    assert {key: merge.moved_rows[key] for key in customers_own} == customers_own


def test_merge_fills_blank_fields_and_keeps_filled_ones(manager, pair):
    # given the kept customer has no phone, city, job title or external id
    kept, merged = pair

    # when
    customer_merge(actor=manager, kept=kept, merged=merged)

    # then its blanks are filled from the merged customer, its own values stay
    kept.refresh_from_db()
    assert kept.phone == "+8613800138000"
    assert kept.city == "Hangzhou"
    assert kept.job_title == "Buyer"
    assert kept.external_id == "ERP-77"
    assert kept.name == "Chen Wei"
    assert kept.email == "chen.wei@example.com"
    assert kept.tier == Customer.Tier.VIP
    # custom attributes are merged, the kept customer's winning on a clash
    assert kept.custom_attributes == {
        "source_file": "crm.csv",
        "shoe_size": "42",
        "wechat": "chenwei",
    }


def test_merge_applies_the_chosen_values(manager, pair, team):
    # given the merged customer gave marketing consent a while ago
    kept, merged = pair
    consent_at = timezone.now() - timedelta(days=90)
    Customer.objects.filter(pk=merged.pk).update(
        marketing_consent=True, marketing_consent_at=consent_at
    )
    merged.refresh_from_db()

    # when the merged customer's email, tier and consent are chosen, and the kept phone (blank)
    customer_merge(
        actor=manager,
        kept=kept,
        merged=merged,
        field_choices={
            "email": "merged",
            "tier": "merged",
            "marketing_consent": "merged",
            "name": "kept",
        },
    )

    # then those values win; the consent keeps the date it was given
    kept.refresh_from_db()
    assert kept.email == "wei.chen@example.org"
    assert kept.tier == Customer.Tier.NORMAL
    assert kept.name == "Chen Wei"
    assert kept.marketing_consent is True
    assert kept.marketing_consent_at == consent_at


def test_merge_drops_self_and_repeated_relationships(manager, pair, team):
    # given relationships between the pair and with others, some of which the kept one has
    kept, merged = pair
    friend = CustomerFactory(team=team)
    referrer = CustomerFactory(team=team)
    RelationshipFactory(from_customer=merged, to_customer=kept, kind="family")
    RelationshipFactory(from_customer=kept, to_customer=merged, kind="colleague")
    RelationshipFactory(from_customer=kept, to_customer=friend, kind="colleague")
    RelationshipFactory(from_customer=merged, to_customer=friend, kind="colleague")
    RelationshipFactory(from_customer=merged, to_customer=friend, kind="partner")
    RelationshipFactory(from_customer=referrer, to_customer=kept, kind="referred_by")
    RelationshipFactory(from_customer=referrer, to_customer=merged, kind="referred_by")
    RelationshipFactory(from_customer=referrer, to_customer=merged, kind="family")
    # a colleague reads the same both ways; being referred by someone does not
    RelationshipFactory(from_customer=friend, to_customer=merged, kind="colleague")
    RelationshipFactory(from_customer=kept, to_customer=referrer, kind="referred_by")
    RelationshipFactory(from_customer=merged, to_customer=referrer, kind="family")

    # when
    merge = customer_merge(actor=manager, kept=kept, merged=merged)

    # then no self-relationship and no repeat remain; the new ones moved
    edges = set(Relationship.objects.values_list("from_customer", "to_customer", "kind"))
    assert edges == {
        (kept.pk, friend.pk, "colleague"),
        (kept.pk, friend.pk, "partner"),
        (kept.pk, referrer.pk, "referred_by"),
        (kept.pk, referrer.pk, "family"),
        (referrer.pk, kept.pk, "referred_by"),
    }
    assert merge.moved_rows["relationships"] == 2
    assert merge.moved_rows["relationships_dropped"] == 6


def test_merge_drops_a_share_the_kept_customer_already_has(manager, pair, other_team):
    # given both customers are shared with the same team
    kept, merged = pair
    content_type = ContentType.objects.get_for_model(Customer)
    for customer in (kept, merged):
        RecordShare.objects.create(
            content_type=content_type, object_id=customer.pk, team=other_team
        )

    # when
    merge = customer_merge(actor=manager, kept=kept, merged=merged)

    # then one share remains, on the kept customer
    assert list(RecordShare.objects.values_list("object_id", flat=True)) == [kept.pk]
    assert merge.moved_rows["record_shares"] == 0


def test_merge_calls_every_registered_merge_handler(manager, pair, merge_handlers):
    # given an app that registered a merge handler
    kept, merged = pair
    calls = []

    def move_deals(from_customer, to_customer):
        calls.append((from_customer.pk, to_customer.pk))
        return 3

    registry.register_merge_handler(key="deals", handler=move_deals)
    merged_id = merged.pk

    # when
    merge = customer_merge(actor=manager, kept=kept, merged=merged)

    # then it was asked to move its rows before the merged customer went, and its count is kept
    assert calls == [(merged_id, kept.pk)]
    assert merge.moved_rows["deals"] == 3


def test_a_failing_merge_handler_leaves_both_customers_untouched(manager, pair, merge_handlers):
    # given a handler that fails halfway
    kept, merged = pair
    OrderFactory(customer=merged)

    def broken(from_customer, to_customer):
        raise RuntimeError("deals table is locked")

    registry.register_merge_handler(key="deals", handler=broken)

    # when
    with pytest.raises(RuntimeError):
        customer_merge(actor=manager, kept=kept, merged=merged)

    # then nothing moved
    assert Customer.objects.filter(pk=merged.pk).exists()
    assert merged.orders.count() == 1
    assert not CustomerMerge.objects.exists()


def test_merge_refuses_a_customer_into_itself(manager, pair):
    # given
    kept, _merged = pair

    # when  # then
    with pytest.raises(ValidationError) as raised:
        customer_merge(actor=manager, kept=kept, merged=kept)
    assert raised.value.message_dict == {"merged": ["A customer cannot be merged into itself."]}


@pytest.mark.parametrize("erased", ["kept", "merged"])
def test_merge_refuses_an_erased_customer(manager, pair, erased):
    # given one of the two was erased
    kept, merged = pair
    target = kept if erased == "kept" else merged
    target.erased_at = timezone.now()
    target.save(update_fields=["erased_at"])

    # when  # then
    with pytest.raises(ValidationError) as raised:
        customer_merge(actor=manager, kept=kept, merged=merged)
    assert raised.value.message_dict == {erased: ["An erased customer cannot be merged."]}
    assert Customer.objects.filter(pk=merged.pk).exists()


def test_merge_refuses_unknown_field_choices(manager, pair):
    # given
    kept, merged = pair

    # when  # then
    with pytest.raises(ValidationError) as raised:
        customer_merge(
            actor=manager,
            kept=kept,
            merged=merged,
            field_choices={"total_spend": "merged", "email": "both"},
        )
    assert set(raised.value.message_dict) == {"fields"}
    assert len(raised.value.message_dict["fields"]) == 2


def test_merge_needs_the_permission_and_both_customers_visible(rep, manager, pair, other_team):
    # given a rep (no merge permission) and a customer of another team
    kept, merged = pair
    stranger = CustomerFactory(team=other_team)

    # when  # then
    with pytest.raises(PermissionDenied):
        customer_merge(actor=rep, kept=kept, merged=merged)
    with pytest.raises(Customer.DoesNotExist):
        customer_merge(actor=manager, kept=kept, merged=stranger)
    assert Customer.objects.filter(pk=merged.pk).exists()


@pytest.mark.postgres
def test_merge_locks_both_customers_in_primary_key_order(manager, pair):
    # given the customer kept has the higher id
    first, second = pair

    # when
    with CaptureQueriesContext(connection) as queries:
        customer_merge(actor=manager, kept=second, merged=first)

    # then one SELECT ... FOR UPDATE takes both rows, ordered by id
    locks = [query["sql"] for query in queries if "FOR UPDATE" in query["sql"]]
    assert len(locks) == 1
    assert 'ORDER BY "customers_customer"."id" ASC' in locks[0]


# --- the confirmation page -----------------------------------------------------------------


def merge_url(kept, merged) -> str:
    return f"/customers/{kept.pk}/merge/?merged={merged.pk}"


def test_merge_page_compares_the_two_and_asks_only_about_conflicts(manager, client_for, pair):
    # given
    kept, merged = pair

    # when
    response = client_for(manager).get(merge_url(kept, merged))

    # then conflicting fields get a choice; a blank the merged one fills is announced
    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"name", "email", "tier"}
    rows = {str(row["label"]): row["outcome"] for row in response.context["rows"]}
    assert rows["phone"] == rows["city"] == rows["external id"] == "filled"
    assert rows["gender"] == rows["street"] == "kept"
    assert rows["email"] == "choose"
    page = response.content.decode()
    assert 'name="email" value="merged"' in page
    assert f"/customers/{merged.pk}/merge/?merged={kept.pk}" in page


def test_merge_page_post_merges_with_the_chosen_values_and_redirects(manager, client_for, pair):
    # given
    kept, merged = pair
    client = client_for(manager)

    # when the merged customer's email is chosen
    response = client.post(
        merge_url(kept, merged), {"name": "kept", "email": "merged", "tier": "kept"}, follow=True
    )

    # then the user lands on the kept customer's page with a success toast
    assert response.redirect_chain == [(f"/customers/{kept.pk}/", 302)]
    assert "Wei Chen was merged into Chen Wei." in [str(m) for m in response.context["messages"]]
    kept.refresh_from_db()
    assert kept.email == "wei.chen@example.org"
    assert not Customer.objects.filter(pk=merged.pk).exists()


def test_merge_page_shows_the_refusal_of_a_self_merge(manager, client_for, pair):
    # given
    kept, _merged = pair

    # when
    response = client_for(manager).post(merge_url(kept, kept))

    # then
    assert response.status_code == 200
    assert "A customer cannot be merged into itself." in response.content.decode()
    assert Customer.objects.filter(pk=kept.pk).exists()


def test_merge_page_needs_the_permission(rep, client_for, pair):
    # given a rep of the team (sees both, may not merge)
    kept, merged = pair

    # when  # then
    assert client_for(rep).get(merge_url(kept, merged)).status_code == 403
    assert client_for(rep).post(merge_url(kept, merged)).status_code == 403


def test_merge_page_is_404_for_a_customer_the_user_cannot_see(manager, client_for, pair):
    # given a customer of a team the manager does not manage
    kept, _merged = pair
    stranger = CustomerFactory(team=TeamFactory())
    client = client_for(manager)

    # when  # then
    assert client.get(merge_url(kept, stranger)).status_code == 404
    assert client.get(merge_url(stranger, kept)).status_code == 404
    assert client.get(f"/customers/{kept.pk}/merge/?merged=abc").status_code == 404
    assert client.get(f"/customers/{kept.pk}/merge/").status_code == 404


# --- the API -------------------------------------------------------------------------------


def api_merge(client, kept, body):
    return client.post(f"/api/v1/customers/{kept.pk}/merge/", body, content_type="application/json")


def test_api_merge_answers_with_the_kept_customer(manager, client_for, pair):
    # given
    kept, merged = pair

    # when
    response = api_merge(
        client_for(manager), kept, {"merged": merged.pk, "fields": {"tier": "merged"}}
    )

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == kept.pk
    assert body["tier"] == "normal"
    assert body["phone"] == "+8613800138000"
    assert CustomerMerge.objects.get().merged_customer_id == merged.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"merged": "self"}, "merged"),
        ({"merged": "other", "fields": {"email": "neither"}}, "fields"),
        ({"merged": "other", "extra": 1}, "extra"),
        ({}, "merged"),
    ],
)
def test_api_merge_refusals_are_400_in_the_error_shape(manager, client_for, pair, body, field):
    # given
    kept, merged = pair
    ids = {"self": kept.pk, "other": merged.pk}
    if "merged" in body:
        body = {**body, "merged": ids[body["merged"]]}

    # when
    response = api_merge(client_for(manager), kept, body)

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert Customer.objects.filter(pk=merged.pk).exists()


def test_api_merge_is_404_for_invisible_customers_and_403_without_permission(
    manager, rep, client_for, pair
):
    # given
    kept, merged = pair
    stranger = CustomerFactory(team=TeamFactory())
    client = client_for(manager)

    # when  # then
    hidden_merged = api_merge(client, kept, {"merged": stranger.pk})
    hidden_kept = api_merge(client, stranger, {"merged": kept.pk})
    forbidden = api_merge(client_for(rep), kept, {"merged": merged.pk})
    assert hidden_merged.status_code == hidden_kept.status_code == 404
    assert hidden_merged.json()["error"]["code"] == "not_found"
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert Customer.objects.filter(pk=merged.pk).exists()


def test_an_erased_customer_cannot_be_merged_through_the_api(admin_user, client_for, pair):
    # given
    kept, merged = pair
    merged.erased_at = timezone.now()
    merged.save(update_fields=["erased_at"])

    # when
    response = api_merge(client_for(admin_user), kept, {"merged": merged.pk})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "merged": ["An erased customer cannot be merged."]
    }


def test_merge_keeps_the_company_link_and_privacy_requests(manager, team):
    # given a merged customer at a company, and a kept one without
    company = CompanyFactory(name="Blue Summit Labs")
    kept = CustomerFactory(team=team, company=None)
    merged = CustomerFactory(team=team, company=company)
    PrivacyRequest.objects.create(
        customer=merged, customer_reference=f"#{merged.pk}", kind="export"
    )

    # when
    customer_merge(actor=manager, kept=kept, merged=merged)

    # then
    kept.refresh_from_db()
    assert kept.company == company
    assert kept.privacy_requests.get().customer_reference == f"#{merged.pk}"
