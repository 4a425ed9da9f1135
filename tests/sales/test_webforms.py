"""Web forms: the builder's pages and API, and the hosted page a visitor fills in: a lead created
or a known customer's blanks filled in, with its campaign response, interaction, submission and
owner notification, all or nothing; the honeypot, the rate limit, and framing."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache

from collaboration.models import Notification
from crm.accounts import roles
from customers.models import Company, Customer, Interaction
from sales.models import Assignment, CampaignMember, WebForm, WebFormSubmission
from sales.services.webforms import SUBMISSION_LIMIT
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CompanyFactory, CustomerFactory
from tests.sales.factories import (
    AssignmentRuleFactory,
    CampaignFactory,
    WebFormFactory,
    WebFormSubmissionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    # The rate limit counts in the cache; each test starts with no submissions counted.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def webform(rep, team):
    return WebFormFactory(
        name="Contact us",
        slug="contact",
        title="Talk to sales",
        fields=["name", "email", "phone", "company_name", "city", "message"],
        thank_you_text="Thanks, we will call you.",
        owner=rep,
        team=team,
        source=Customer.Source.WEBSITE,
    )


def submit(client, form, **data):
    return client.post(f"/sales/f/{form.slug}/", data)


def visitor_data(**overrides):
    return {
        "name": "Ada Lovelace",
        "email": "Ada@Example.com",
        "phone": "",
        "company_name": "Analytical Engines",
        "city": "London",
        "message": "Please call me about pricing.",
        **overrides,
    }


# The hosted page ---------------------------------------------------------------------------------


def test_hosted_page_shows_the_chosen_fields_and_may_be_framed(client, webform):
    # when
    response = client.get("/sales/f/contact/")

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "Talk to sales" in body
    for name in ("name", "email", "phone", "company_name", "city", "message"):
        assert f'name="{name}"' in body
    assert 'name="job_title"' not in body
    assert 'class="webform-extra"' in body and 'name="website"' in body
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in response.headers["Content-Security-Policy"]


def test_other_pages_still_refuse_framing(client, webform):
    # when
    response = client.get("/accounts/login/")

    # then
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_inactive_or_unknown_form_is_not_found(client, webform):
    # given
    webform.is_active = False
    webform.save()

    # when  # then
    assert client.get("/sales/f/contact/").status_code == 404
    assert submit(client, webform, **visitor_data()).status_code == 404
    assert client.get("/sales/f/nothing-here/").status_code == 404
    assert not Customer.objects.exists()


def test_submission_creates_a_lead_with_everything_it_brings(
    client, webform, rep, team, django_capture_on_commit_callbacks
):
    # given
    campaign = CampaignFactory(name="Spring fair")
    webform.campaign = campaign
    webform.save()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, webform, **visitor_data())

    # then the visitor sees the thank-you text
    assert response.status_code == 200
    assert "Thanks, we will call you." in response.content.decode()
    # and a lead exists, owned by the form's target
    lead = Customer.objects.get()
    assert lead.name == "Ada Lovelace"
    assert lead.email == "ada@example.com"
    assert lead.status == Customer.Status.LEAD
    assert lead.source == Customer.Source.WEBSITE
    assert lead.city == "London"
    assert lead.company.name == "Analytical Engines"
    assert (lead.owner, lead.team) == (rep, team)
    # with its campaign response
    member = CampaignMember.objects.get(campaign=campaign, customer=lead)
    assert member.response == CampaignMember.Response.RESPONDED
    assert member.responded_at is not None
    # an inbound web form interaction
    interaction = Interaction.objects.get(customer=lead)
    assert interaction.channel == Interaction.Channel.WEB_FORM
    assert interaction.direction == Interaction.Direction.INBOUND
    assert interaction.subject == "Web form: Contact us"
    assert interaction.summary == "Please call me about pricing."
    # the submission
    submission = WebFormSubmission.objects.get()
    assert submission.form == webform
    assert submission.customer == lead
    assert submission.created_lead is True
    assert submission.ip_address == "127.0.0.1"
    assert submission.data["email"] == "ada@example.com"
    # and the owner is told
    notification = Notification.objects.get(recipient=rep)
    assert notification.kind == Notification.Kind.RECORD_ASSIGNED
    assert "Ada Lovelace" in notification.title
    assert notification.url == f"/customers/{lead.pk}/"
    # no rule decided, so no assignment is recorded
    assert not Assignment.objects.exists()


def test_existing_customer_matched_by_email_gets_only_blanks_filled(
    client, webform, other_team_rep
):
    # given a customer the team already knows, with a city of their own and no phone or company
    known = CustomerFactory(
        name="Ada King",
        email="ada@example.com",
        phone="",
        city="Shanghai",
        job_title="",
        source="",
        owner=other_team_rep,
        status=Customer.Status.CUSTOMER,
    )

    # when
    response = submit(client, webform, **visitor_data(phone="+44 20 7946 0958", city="London"))

    # then no duplicate is made and nothing the team entered changes
    assert response.status_code == 200
    assert Customer.objects.count() == 1
    known.refresh_from_db()
    assert known.name == "Ada King"
    assert known.city == "Shanghai"
    assert known.status == Customer.Status.CUSTOMER
    assert known.owner == other_team_rep
    # while the blanks are filled in
    assert known.phone == "+442079460958"
    assert known.company.name == "Analytical Engines"
    assert known.source == Customer.Source.WEBSITE
    submission = WebFormSubmission.objects.get()
    assert (submission.customer, submission.created_lead) == (known, False)
    assert Interaction.objects.filter(customer=known, channel="web_form").count() == 1


def test_existing_customer_matched_by_phone(client, webform):
    # given
    known = CustomerFactory(name="Ada", email="", phone="+8613800138000", city="")

    # when
    submit(client, webform, **visitor_data(email="", phone="138 0013 8000"))

    # then
    assert Customer.objects.count() == 1
    known.refresh_from_db()
    assert known.city == "London"
    assert WebFormSubmission.objects.get().customer == known


def test_existing_company_is_linked_not_duplicated(client, webform):
    # given
    company = CompanyFactory(name="Analytical Engines")

    # when
    submit(client, webform, **visitor_data(company_name="analytical engines"))

    # then
    assert Company.objects.count() == 1
    assert Customer.objects.get().company == company


def test_phone_of_another_customer_is_not_copied(client, webform):
    # given one customer with the email, another with the phone
    by_email = CustomerFactory(email="ada@example.com", phone="")
    CustomerFactory(email="", phone="+8613800138000")

    # when
    submit(client, webform, **visitor_data(phone="13800138000"))

    # then
    by_email.refresh_from_db()
    assert by_email.phone == ""
    assert Customer.objects.count() == 2


def test_response_is_the_same_for_a_new_and_a_known_email(client, webform):
    # given
    CustomerFactory(email="known@example.com")

    # when
    for_known = submit(client, webform, **visitor_data(email="known@example.com"))
    for_new = submit(client, webform, **visitor_data(email="new@example.com"))

    # then
    assert for_known.status_code == for_new.status_code == 200
    assert for_known.content == for_new.content


def test_honeypot_pretends_success_and_stores_nothing(
    client, webform, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, webform, **visitor_data(website="http://spam.example"))

    # then
    assert response.status_code == 200
    assert "Thanks, we will call you." in response.content.decode()
    assert not Customer.objects.exists()
    assert not WebFormSubmission.objects.exists()
    assert not Interaction.objects.exists()
    assert not Notification.objects.exists()


def test_invalid_input_names_the_field_and_stores_nothing(client, webform):
    # when
    bad_email = submit(client, webform, **visitor_data(email="not-an-email"))
    no_contact = submit(client, webform, **visitor_data(email="", phone=""))
    no_name = submit(client, webform, **visitor_data(name="  "))
    bad_phone = submit(client, webform, **visitor_data(email="", phone="12"))

    # then
    assert bad_email.status_code == 400
    assert "is not a valid email address" in bad_email.content.decode()
    assert "Please give an email address or a phone number." in no_contact.content.decode()
    assert "Please tell us your name." in no_name.content.decode()
    assert "is not a possible phone number" in bad_phone.content.decode()
    # and what was typed is kept on the form
    assert 'value="Ada Lovelace"' in bad_email.content.decode()
    assert not Customer.objects.exists()
    assert not WebFormSubmission.objects.exists()


def test_rate_limit_per_address_and_form(client, webform, rep, team):
    # given
    other_form = WebFormFactory(slug="other", owner=rep, team=team)
    for number in range(SUBMISSION_LIMIT):
        response = submit(client, webform, **visitor_data(email=f"v{number}@example.com"))
        assert response.status_code == 200

    # when
    limited = submit(client, webform, **visitor_data(email="late@example.com"))
    other_address = client.post(
        "/sales/f/contact/",
        visitor_data(email="elsewhere@example.com"),
        REMOTE_ADDR="10.0.0.9",
    )
    other_form_response = submit(client, other_form, **visitor_data(email="o@example.com"))

    # then
    assert limited.status_code == 429
    assert "Please wait about ten minutes" in limited.content.decode()
    assert not Customer.objects.filter(email="late@example.com").exists()
    assert other_address.status_code == 200
    assert other_form_response.status_code == 200
    assert WebFormSubmission.objects.count() == SUBMISSION_LIMIT + 2


def test_lead_follows_the_assignment_rules_before_the_form_target(
    client,
    webform,
    rep,
    rep_teammate,
    other_team,
    other_team_rep,
    django_capture_on_commit_callbacks,
):
    # given a rule that sends London leads to someone else
    rule = AssignmentRuleFactory(
        name="London",
        applies_to="leads",
        match="city",
        match_values="Paris, london",
        strategy="fixed",
        owner=other_team_rep,
        team=other_team,
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, webform, **visitor_data())
        submit(client, webform, **visitor_data(email="bob@example.com", city="Beijing"))

    # then
    london = Customer.objects.get(email="ada@example.com")
    assert (london.owner, london.team) == (other_team_rep, other_team)
    assignment = Assignment.objects.get()
    assert assignment.rule == rule
    assert assignment.assigned_to == other_team_rep
    assert assignment.content_type == ContentType.objects.get_for_model(Customer)
    assert assignment.object_id == london.pk
    assert Notification.objects.filter(recipient=other_team_rep).count() == 1
    beijing = Customer.objects.get(email="bob@example.com")
    assert beijing.owner == rep


def test_a_failure_part_way_leaves_nothing_behind(client, webform, monkeypatch):
    # given the interaction cannot be written
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("sales.services.webforms.interaction_log", broken)
    rule = AssignmentRuleFactory(strategy="round_robin", team=webform.team, applies_to="leads")

    # when
    with pytest.raises(RuntimeError):
        submit(client, webform, **visitor_data())

    # then
    assert not Customer.objects.exists()
    assert not Company.objects.exists()
    assert not Assignment.objects.exists()
    rule.refresh_from_db()
    assert rule.last_assigned is None


def test_campaign_member_already_converted_stays_converted(client, webform):
    # given
    campaign = CampaignFactory()
    webform.campaign = campaign
    webform.save()
    known = CustomerFactory(email="ada@example.com")
    CampaignMember.objects.create(
        campaign=campaign, customer=known, response=CampaignMember.Response.CONVERTED
    )

    # when
    submit(client, webform, **visitor_data())

    # then
    member = CampaignMember.objects.get()
    assert member.response == CampaignMember.Response.CONVERTED
    assert member.responded_at is not None


# The builder pages -------------------------------------------------------------------------------


def builder_data(**overrides):
    data = {
        "name": "Trade show",
        "slug": "trade-show",
        "title": "Meet us",
        "fields": ["name", "email", "message"],
        "thank_you_text": "See you there.",
        "owner": "",
        "team": "",
        "campaign": "",
        "source": "event",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_manager_builds_a_form_and_sees_its_snippet(client_for, manager, team):
    # given
    client = client_for(manager)

    # when
    response = client.post("/sales/web-forms/new/", builder_data(team=team.pk))

    # then
    form = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sales/web-forms/{form.pk}/"
    assert form.fields == ["name", "email", "message"]
    assert form.source == "event"
    detail = client.get(f"/sales/web-forms/{form.pk}/").content.decode()
    assert "http://testserver/sales/f/trade-show/" in detail
    assert "&lt;iframe src=&quot;http://testserver/sales/f/trade-show/&quot;" in detail


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["email", "message"], "The form must ask for the name."),
        (["name", "city"], "The form must ask for an email or a phone number (or both)."),
    ],
)
def test_builder_refuses_a_form_that_cannot_make_a_lead(client_for, manager, team, fields, message):
    # when
    response = client_for(manager).post(
        "/sales/web-forms/new/", builder_data(fields=fields, team=team.pk)
    )

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebForm.objects.exists()


def test_builder_needs_a_target_and_a_free_address(client_for, manager, team, webform):
    # when
    no_target = client_for(manager).post("/sales/web-forms/new/", builder_data())
    taken = client_for(manager).post(
        "/sales/web-forms/new/", builder_data(slug="contact", team=team.pk)
    )

    # then
    assert "Choose who gets the leads" in no_target.content.decode()
    assert "already exists" in taken.content.decode()
    assert WebForm.objects.count() == 1


def test_manager_edits_and_deletes_a_form(client_for, manager, webform):
    # given
    client = client_for(manager)
    WebFormSubmissionFactory(form=webform)

    # when
    edited = client.post(
        f"/sales/web-forms/{webform.pk}/edit/",
        builder_data(name="Contact", slug="contact", owner=webform.owner.pk, team=webform.team.pk),
    )
    deleted = client.post(f"/sales/web-forms/{webform.pk}/delete/")

    # then
    assert edited.status_code == 302
    assert deleted.status_code == 302
    assert not WebForm.objects.exists()
    assert not WebFormSubmission.objects.exists()


def test_list_and_detail_pages_are_bounded(
    client_for, manager, webform, django_assert_max_num_queries
):
    # given
    client = client_for(manager)
    for number in range(30):
        WebFormSubmissionFactory(form=webform, customer=CustomerFactory(), data={"n": number})
    WebFormFactory.create_batch(5, team=webform.team)

    # when  # then
    with django_assert_max_num_queries(12):
        listing = client.get("/sales/web-forms/")
    assert listing.status_code == 200
    assert "Contact us" in listing.content.decode()
    with django_assert_max_num_queries(14):
        detail = client.get(f"/sales/web-forms/{webform.pk}/")
    assert detail.status_code == 200
    assert "Page 1 of 2" in detail.content.decode()


def test_marketing_builds_forms_of_its_team(client_for, marketer, team):
    # when
    response = client_for(marketer).post("/sales/web-forms/new/", builder_data(team=team.pk))

    # then
    assert response.status_code == 302
    assert WebForm.objects.get().team == team


def test_rep_cannot_see_build_edit_or_delete_forms(rep_client, webform):
    # when  # then
    assert rep_client.get("/sales/web-forms/").status_code == 403
    assert rep_client.get(f"/sales/web-forms/{webform.pk}/").status_code == 403
    assert rep_client.get("/sales/web-forms/new/").status_code == 403
    assert rep_client.post("/sales/web-forms/new/", builder_data()).status_code == 403
    assert rep_client.get(f"/sales/web-forms/{webform.pk}/edit/").status_code == 403
    assert rep_client.post(f"/sales/web-forms/{webform.pk}/delete/").status_code == 403
    assert WebForm.objects.filter(pk=webform.pk).exists()


def test_forms_of_another_team_are_hidden_from_its_manager(client_for, other_team):
    # given a manager of another team
    outsider = UserFactory(username="outsider", roles=[roles.MANAGER])
    other_team.manager = outsider
    other_team.save()
    hidden = WebFormFactory(name="Hidden", slug="hidden", team=None, owner=None)

    # when  # then
    client = client_for(outsider)
    assert "Hidden" not in client.get("/sales/web-forms/").content.decode()
    assert client.get(f"/sales/web-forms/{hidden.pk}/").status_code == 404


# The API -----------------------------------------------------------------------------------------


def test_api_web_form_crud(client_for, admin_user, team):
    # given
    client = client_for(admin_user)
    body = {
        "name": "API form",
        "slug": "api-form",
        "fields": ["name", "phone"],
        "team": team.pk,
        "source": "social",
    }

    # when
    created = client.post("/api/v1/web-forms/", body, content_type="application/json")
    form_id = created.json()["id"]
    patched = client.patch(
        f"/api/v1/web-forms/{form_id}/", {"is_active": False}, content_type="application/json"
    )
    listed = client.get("/api/v1/web-forms/")
    deleted = client.delete(f"/api/v1/web-forms/{form_id}/")

    # then
    assert created.status_code == 201, created.content
    assert created.json()["hosted_url"] == "http://testserver/sales/f/api-form/"
    assert created.json()["submission_count"] == 0
    assert patched.json()["is_active"] is False
    assert [row["slug"] for row in listed.json()["results"]] == ["api-form"]
    assert deleted.status_code == 204
    assert not WebForm.objects.exists()


def test_api_refuses_invalid_forms_by_field(client_for, admin_user, team):
    # when
    response = client_for(admin_user).post(
        "/api/v1/web-forms/",
        {"name": "Bad", "slug": "bad", "fields": ["email", "shoe_size"], "team": team.pk},
        content_type="application/json",
    )
    no_name = client_for(admin_user).post(
        "/api/v1/web-forms/",
        {"name": "Bad", "slug": "bad", "fields": ["email"], "team": team.pk},
        content_type="application/json",
    )

    # then
    assert response.status_code == 400
    assert "fields" in response.json()["error"]["fields"]
    assert no_name.json()["error"]["fields"]["fields"] == ["The form must ask for the name."]


def test_api_submissions_are_read_only_and_visible_by_form(
    client_for, marketer, admin_user, webform, other_team_rep, other_team
):
    # given
    mine = WebFormSubmissionFactory(form=webform)
    WebFormSubmissionFactory(form=WebFormFactory(team=other_team, owner=other_team_rep))
    client = client_for(marketer)

    # when
    listed = client.get("/api/v1/web-form-submissions/")
    written = client_for(admin_user).post(
        "/api/v1/web-form-submissions/", {"form": webform.pk}, content_type="application/json"
    )

    # then
    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    assert written.status_code == 405


def test_api_rep_cannot_write_web_forms(rep_client, webform):
    # when
    created = rep_client.post(
        "/api/v1/web-forms/",
        {"name": "X", "slug": "x", "fields": ["name", "email"], "owner": webform.owner_id},
        content_type="application/json",
    )
    patched = rep_client.patch(
        f"/api/v1/web-forms/{webform.pk}/", {"name": "Y"}, content_type="application/json"
    )

    # then
    assert created.status_code == 403
    assert patched.status_code == 403


def test_builder_pages_render(client_for, manager, webform):
    # given
    client = client_for(manager)

    # when  # then
    for url in (
        "/sales/web-forms/",
        "/sales/web-forms/new/",
        f"/sales/web-forms/{webform.pk}/",
        f"/sales/web-forms/{webform.pk}/edit/",
        f"/sales/web-forms/{webform.pk}/delete/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    edit = client.get(f"/sales/web-forms/{webform.pk}/edit/").content.decode()
    assert 'value="contact"' in edit
    assert 'value="email" class="form-check-input" id="id_fields_1" checked>' in edit
    assert 'value="job_title" class="form-check-input" id="id_fields_4">' in edit
