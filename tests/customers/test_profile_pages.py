"""The customer 360 page: figures, profile, inline edit through htmx, the new-customer page, the
company picker, the lists beside the timeline and the panels other apps contribute."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.services import record_share
from customers import registry
from customers.models import Customer, Tag
from customers.services import records as record_services
from tests.accounts.factories import UserFactory
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(customer) -> str:
    return f"/customers/{customer.pk}/"


def profile_form(customer, **changes) -> dict:
    """What the browser sends from the edit form: the current values, with `changes`."""
    data = {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "status": customer.status,
        "tier": customer.tier,
        "owner": customer.owner_id or "",
        "team": customer.team_id or "",
        "company": customer.company_id or "",
    }
    data.update(changes)
    return data


@pytest.fixture
def busy_customer(rep, team):
    """A customer of the rep with orders, interactions, needs and relationships."""
    customer = CustomerFactory(name="王芳", owner=rep, team=team, tier="vip")
    now = timezone.now()
    for index in range(12):
        order = OrderFactory(customer=customer, ordered_at=now - timedelta(days=index))
        OrderLineFactory(order=order)
    for index in range(30):
        InteractionFactory(customer=customer, occurred_at=now - timedelta(hours=index))
    NeedFactory.create_batch(4, customer=customer)
    for _index in range(3):
        RelationshipFactory(from_customer=customer, to_customer=CustomerFactory(owner=rep))
    return customer


def test_the_360_page_shows_the_profile_figures_and_lists(rep, rep_client):
    # given a customer with a company, tags, an order, a call and an open need
    company = CompanyFactory(name="Blue Summit Labs")
    customer = CustomerFactory(
        name="王芳",
        owner=rep,
        company=company,
        status="customer",
        tier="vip",
        notes="Prefers WeChat",
    )
    customer.tags.add(Tag.objects.create(name="key-account"))
    product = ProductFactory(name="Tea set", unit_price=Decimal("88.00"))
    record_services.order_create(
        actor=rep, customer=customer, number="SO-1", lines=[{"product": product, "quantity": 2}]
    )
    record_services.interaction_log(
        actor=rep, customer=customer, channel="call", direction="outbound", subject="Intro call"
    )
    record_services.need_create(actor=rep, customer=customer, text="A quote for forty chairs")

    # when
    response = rep_client.get(detail_url(customer))

    # then the profile, the figures, the lists and the timeline are there
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "王芳",
        "Blue Summit Labs",
        "VIP",
        "key-account",
        customer.email,
        "Riley Chen",
        "Sales East" if customer.team else "—",
        "Prefers WeChat",
        "SO-1",
        "Intro call",
        "A quote for forty chairs",
        "CN¥176.00",
    ):
        assert text in body, text
    assert '<dd class="fs-5 fw-semibold mb-0" data-figure="order-count">1</dd>' in body
    assert 'data-figure="last-contact">Never' not in body


def test_the_360_page_of_a_new_customer_says_never_contacted(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    body = rep_client.get(detail_url(customer)).content.decode()

    # then
    assert 'data-figure="last-contact">Never' in body
    assert "Nothing has happened with this customer yet." in body
    assert "No orders yet." in body


def test_the_360_page_costs_the_same_queries_however_busy_the_customer(
    rep, rep_client, busy_customer, django_assert_max_num_queries
):
    # given a quiet customer, measured
    quiet = CustomerFactory(owner=rep)
    rep_client.get(detail_url(quiet))
    with CaptureQueriesContext(connection) as quiet_queries:
        rep_client.get(detail_url(quiet))

    # when the busy customer's page is opened
    with django_assert_max_num_queries(len(quiet_queries)):
        response = rep_client.get(detail_url(busy_customer))

    # then it costs no more, and shows one page of the timeline with a link to older entries
    assert response.status_code == 200
    assert len(response.context["timeline"].entries) == 20
    assert "Older entries" in response.content.decode()
    # and the cost is a fixed base (with whether the user may edit and the field rules that apply
    # to them) plus one query per timeline source and panel
    per_source = len(registry.timeline_sources()) + len(registry.profile_panels())
    assert len(quiet_queries) <= 14 + per_source


def test_the_360_page_of_an_invisible_customer_is_404(rep_client, other_team_rep, other_team):
    # given
    customer = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then
    assert rep_client.get(detail_url(customer)).status_code == 404
    assert rep_client.get(f"{detail_url(customer)}edit/").status_code == 404
    assert rep_client.get(f"{detail_url(customer)}edit/", **HTMX).status_code == 404
    assert rep_client.get(f"{detail_url(customer)}profile-card/", **HTMX).status_code == 404
    assert rep_client.get(f"{detail_url(customer)}timeline/").status_code == 404


def test_a_user_without_a_role_gets_403(user_without_role, client_for):
    # given
    customer = CustomerFactory(owner=user_without_role)
    client = client_for(user_without_role)

    # when  # then
    for url in (
        detail_url(customer),
        f"{detail_url(customer)}edit/",
        f"{detail_url(customer)}timeline/",
        "/customers/new/",
        "/customers/pickers/companies/?q=a",
    ):
        assert client.get(url).status_code == 403, url


def test_the_lists_show_only_what_the_rep_may_see(rep, rep_client, other_team_rep, other_team):
    # given a customer of the rep related to a visible and to an invisible customer
    customer = CustomerFactory(owner=rep)
    RelationshipFactory(
        from_customer=customer, to_customer=CustomerFactory(name="Visible friend", owner=rep)
    )
    hidden = CustomerFactory(name="Hidden partner", owner=other_team_rep, team=other_team)
    RelationshipFactory(from_customer=customer, to_customer=hidden, kind="partner")
    RelationshipFactory(from_customer=hidden, to_customer=customer, kind="family")

    # when
    body = rep_client.get(detail_url(customer)).content.decode()

    # then
    assert "Visible friend" in body
    assert "Hidden partner" not in body


def test_the_lists_read_relationships_from_this_customers_side(rep, rep_client):
    # given Bo was referred by Ada
    ada = CustomerFactory(name="Ada", owner=rep)
    bo = CustomerFactory(name="Bo", owner=rep)
    RelationshipFactory(from_customer=bo, to_customer=ada, kind="referred_by")

    # when  # then
    related = rep_client.get(detail_url(ada)).context["related"]
    assert [(item.label, item.other.name) for item in related] == [("Referred", "Bo")]
    related = rep_client.get(detail_url(bo)).context["related"]
    assert [(item.label, item.other.name) for item in related] == [("Referred by", "Ada")]


def test_only_open_needs_are_listed(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    NeedFactory(customer=customer, text="Still open")
    NeedFactory(customer=customer, text="In the works", status="in_progress")
    NeedFactory(customer=customer, text="Done already", status="met")

    # when
    needs = rep_client.get(detail_url(customer)).context["open_needs"]

    # then
    assert sorted(need.text for need in needs) == ["In the works", "Still open"]


def test_profile_panels_from_other_apps_are_shown(rep, rep_client):
    # given an app that contributes a score panel, and one that has nothing for this customer
    customer = CustomerFactory(owner=rep)

    def score_panel(panel_customer, user):
        return registry.ProfilePanel(
            title="Scores",
            rows=[("Churn risk", f"{panel_customer.pk % 7}0 %"), ("Viewer", str(user))],
        )

    providers = [(50, score_panel), (60, lambda panel_customer, user: None)]
    for order, provider in providers:
        registry.register_profile_panel(order=order, provider=provider)
    try:
        # when
        body = rep_client.get(detail_url(customer)).content.decode()
    finally:
        for entry in providers:
            registry._profile_panels.remove(entry)

    # then
    assert "Scores" in body
    assert "Churn risk" in body
    assert "Riley Chen" in body


# Inline edit -------------------------------------------------------------------------------------


def test_edit_through_htmx_swaps_the_card_for_the_form(rep, rep_client):
    # given
    customer = CustomerFactory(
        name="Ada", owner=rep, company=CompanyFactory(name="Harbor Group", owner=rep)
    )
    customer.tags.add(Tag.objects.create(name="newsletter"))

    # when
    response = rep_client.get(f"{detail_url(customer)}edit/", **HTMX)

    # then the form partial comes back, filled in, without the page around it
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card mb-3" id="profile-card"')
    assert "<html" not in body
    assert 'value="Ada"' in body
    assert 'value="Harbor Group"' in body
    assert 'value="newsletter"' in body
    assert f'hx-post="/customers/{customer.pk}/edit/"' in body


def test_saving_through_htmx_swaps_the_card_back_with_the_new_figures(rep, rep_client, team):
    # given
    customer = CustomerFactory(name="Ada", owner=rep, team=team)
    company = CompanyFactory(name="Harbor Group", owner=rep)
    form = {
        "name": "Ada  Lovelace",
        "email": "ADA@Example.com",
        "phone": "138 0013 8000",
        "company": company.pk,
        "status": "customer",
        "tier": "premium",
        "owner": rep.pk,
        "team": team.pk,
        "tags": "key-account, newsletter，wechat",
        "marketing_consent": "on",
        "birthday": "1985-03-02",
    }

    # when
    response = rep_client.post(f"{detail_url(customer)}edit/", form, **HTMX)

    # then the card comes back with the saved values, and the summary is swapped out of band
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card mb-3" id="profile-card"')
    assert 'id="customer-summary" hx-swap-oob="true"' in body
    assert "Premium" in body
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone) == (
        "Ada Lovelace",
        "ada@example.com",
        "+8613800138000",
    )
    assert customer.company == company
    assert customer.marketing_consent_at is not None
    assert sorted(customer.tags.values_list("name", flat=True)) == [
        "key-account",
        "newsletter",
        "wechat",
    ]


def test_validation_errors_are_shown_in_place(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)

    # when the phone is not a phone and the birthday is in the future
    response = rep_client.post(
        f"{detail_url(customer)}edit/",
        {
            "name": "Ada",
            "status": "lead",
            "tier": "normal",
            "phone": "12",
            "birthday": (timezone.localdate() + timedelta(days=3)).isoformat(),
        },
        **HTMX,
    )

    # then the form comes back with the errors next to the fields, and nothing is saved
    body = response.content.decode()
    assert response.status_code == 200
    assert "<form" in body
    assert "is-invalid" in body
    assert "A birthday cannot be in the future." in body
    customer.refresh_from_db()
    assert customer.phone != "12"


def test_form_field_errors_come_back_in_place_too(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)

    # when
    response = rep_client.post(
        f"{detail_url(customer)}edit/", {"name": "", "status": "lead", "tier": "gold"}, **HTMX
    )

    # then
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice." in body


def test_cancel_swaps_the_card_back(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)

    # when
    response = rep_client.get(f"{detail_url(customer)}profile-card/", **HTMX)

    # then
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card mb-3" id="profile-card"')
    assert f'hx-get="/customers/{customer.pk}/edit/"' in body
    assert "<html" not in body


def test_the_card_alone_without_htmx_goes_to_the_page(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when  # then
    response = rep_client.get(f"{detail_url(customer)}profile-card/")
    assert response.status_code == 302
    assert response["Location"] == detail_url(customer)


def test_edit_without_htmx_is_a_page_that_redirects_after_saving(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)

    # when
    page = rep_client.get(f"{detail_url(customer)}edit/")
    saved = rep_client.post(f"{detail_url(customer)}edit/", profile_form(customer, name="Ada B"))

    # then
    assert "<html" in page.content.decode()
    assert saved.status_code == 302
    assert saved["Location"] == detail_url(customer)
    customer.refresh_from_db()
    assert customer.name == "Ada B"


def test_handing_a_customer_away_leaves_the_page(rep, rep_client, other_team_rep, other_team):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)

    # when the rep gives the customer to another team's rep
    response = rep_client.post(
        f"{detail_url(customer)}edit/",
        {
            "name": "Ada",
            "status": "lead",
            "tier": "normal",
            "owner": other_team_rep.pk,
            "team": other_team.pk,
        },
        **HTMX,
    )

    # then the browser is sent to the list, since the page is out of the rep's reach now
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/customers/"
    customer.refresh_from_db()
    assert customer.owner == other_team_rep


def test_the_company_must_be_one_the_user_may_see(rep, rep_client, other_team_rep, other_team):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)
    hidden = CompanyFactory(owner=other_team_rep, team=other_team)

    # when
    response = rep_client.post(
        f"{detail_url(customer)}edit/",
        {"name": "Ada", "status": "lead", "tier": "normal", "company": hidden.pk},
        **HTMX,
    )

    # then
    assert "Select a valid choice." in response.content.decode()
    customer.refresh_from_db()
    assert customer.company is None


def test_a_company_out_of_reach_stays_on_an_edited_customer(
    rep, rep_client, other_team_rep, other_team
):
    # given the rep's customer works for a company another team owns
    company = CompanyFactory(name="Their Company", owner=other_team_rep, team=other_team)
    customer = CustomerFactory(name="Ada", owner=rep, company=company)

    # when the rep opens the form and saves it with the company untouched
    form = rep_client.get(f"{detail_url(customer)}edit/", **HTMX).content.decode()
    response = rep_client.post(
        f"{detail_url(customer)}edit/",
        profile_form(customer, name="Ada B"),
        **HTMX,
    )

    # then the form names the company and the save keeps it
    assert 'value="Their Company"' in form
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.company) == ("Ada B", company)


def test_edit_needs_the_change_permission(rep, client_for):
    # given a user who may only look at customers
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer"))
    customer = CustomerFactory(owner=viewer)
    client = client_for(viewer)

    # when  # then
    assert client.get(detail_url(customer)).status_code == 200
    assert 'hx-target="#profile-card"' not in client.get(detail_url(customer)).content.decode()
    assert client.get(f"{detail_url(customer)}edit/").status_code == 403


# New customer and the company picker -------------------------------------------------------------


def test_new_customer_page_creates_a_customer_owned_by_the_rep(rep, rep_client, team):
    # given
    company = CompanyFactory(name="Harbor Group", owner=rep)

    # when
    page = rep_client.get("/customers/new/")
    response = rep_client.post(
        "/customers/new/",
        {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "company": company.pk,
            "status": "prospect",
            "tier": "normal",
            "tags": "navy",
        },
    )

    # then
    assert page.status_code == 200
    assert "data-record-picker" in page.content.decode()
    customer = Customer.objects.get(name="Grace Hopper")
    assert response.status_code == 302
    assert response["Location"] == detail_url(customer)
    assert (customer.owner, customer.team, customer.company) == (rep, team, company)
    assert list(customer.tags.values_list("name", flat=True)) == ["navy"]


def test_new_customer_page_shows_errors(rep, rep_client):
    # given  # when
    response = rep_client.post(
        "/customers/new/",
        {"name": "Grace", "email": "not-an-email", "status": "lead", "tier": "normal"},
    )

    # then
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not Customer.objects.exists()


def test_company_picker_lists_visible_matches(rep, rep_client, other_team_rep, other_team):
    # given
    CompanyFactory(name="Harbor Group", city="Shanghai", owner=rep)
    CompanyFactory(name="Harbor Hidden", owner=other_team_rep, team=other_team)
    CompanyFactory(name="Summit", owner=rep)

    # when
    response = rep_client.get("/customers/pickers/companies/", {"q": "harbor"}, **HTMX)
    empty = rep_client.get("/customers/pickers/companies/", {"q": ""}, **HTMX)
    none = rep_client.get("/customers/pickers/companies/", {"q": "zzz"}, **HTMX)

    # then
    body = response.content.decode()
    assert [company.name for company in response.context["options"]] == ["Harbor Group"]
    assert 'data-label="Harbor Group"' in body
    assert "Harbor Hidden" not in body
    assert empty.content.decode().strip() == ""
    assert "No company matches." in none.content.decode()


@pytest.mark.parametrize(("access", "editable"), [("read", False), ("edit", True)])
def test_the_edit_button_follows_the_share(rep, other_team_rep, client_for, access, editable):
    # given another team's customer shared with the rep to view or to edit
    customer = CustomerFactory(owner=other_team_rep)
    record_share(record=customer, shared_by=other_team_rep, user=rep, access=access)

    # when the rep opens the profile
    page = client_for(rep).get(f"/customers/{customer.pk}/")

    # then the Edit button is there only when the share lets them edit
    assert page.status_code == 200
    edit_link = f'href="/customers/{customer.pk}/edit/"'
    assert (edit_link in page.content.decode()) is editable
