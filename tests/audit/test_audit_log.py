"""The audit log: its pages and API for admins only, read-only everywhere, and the events that
the services record (exports, privacy requests, tokens, permission changes)."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from crm.accounts import roles
from crm.accounts.services import api_token_create, api_token_revoke
from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from customers.models import Customer, Interaction
from customers.services import importing
from customers.services.privacy import customer_erase, customer_personal_data_export
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def events(kind: str):
    return AuditEvent.objects.filter(kind=kind).order_by("id")


def test_only_admins_reach_the_audit_log(rep, manager, admin_user, superuser, client_for):
    # given  # when  # then
    assert client_for(rep).get("/audit/").status_code == 403
    assert client_for(manager).get("/audit/changes/").status_code == 403
    assert client_for(admin_user).get("/audit/").status_code == 200
    html = client_for(superuser).get("/audit/changes/").content.decode()
    assert 'href="/audit/"' in html
    assert 'href="/audit/"' not in client_for(rep).get("/").content.decode()


def test_the_events_tab_filters_by_kind_user_date_and_address(
    admin_user, rep, client_for, django_assert_max_num_queries
):
    # given events of several kinds, people, days and addresses
    audit_event_record(kind=AuditEvent.Kind.EXPORT, actor=rep, details={"rows": 3})
    audit_event_record(kind=AuditEvent.Kind.TOKEN_CREATED, actor=admin_user)
    old = audit_event_record(kind=AuditEvent.Kind.EXPORT, actor=admin_user)
    AuditEvent.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=10))
    AuditEvent.objects.create(kind=AuditEvent.Kind.LOGIN_FAILED, ip_address="203.0.113.9")
    for _n in range(30):
        audit_event_record(kind=AuditEvent.Kind.LOGIN, actor=rep)
    client = client_for(admin_user)
    client.get("/audit/")

    def shown(**query) -> int:
        return client.get("/audit/", query).content.decode().count("data-audit-event=")

    # when  # then
    assert shown(kind="export") == 2
    assert shown(kind="export", user=rep.pk) == 1
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert shown(kind="export", since=since) == 1
    assert shown(ip_address="203.0.113.9") == 1
    with django_assert_max_num_queries(12):
        page = client.get("/audit/")
    assert page.content.decode().count("data-audit-event=") == min(AuditEvent.objects.count(), 50)


def test_the_changes_tab_lists_a_record_types_changes_with_links(admin_user, rep, client_for):
    # given a customer created and changed by the rep, and another deleted
    customer = CustomerFactory(name="Ada", owner=rep)
    customer.name = "Ada L"
    customer.save()
    gone = CustomerFactory(name="Gone")
    gone.delete()
    client = client_for(admin_user)

    def rows(**query) -> str:
        return client.get("/audit/changes/", {"type": "customers.customer", **query})

    # when  # then
    assert rows(record=customer.pk).content.decode().count("data-record-change=") == 2
    changed = rows(action="~").content.decode()
    assert changed.count("data-record-change=") == 1
    assert f'href="/customers/{customer.pk}/"' in changed
    deleted = rows(action="-").content.decode()
    assert (
        deleted.count("data-record-change=") == 1 and f'href="/customers/{gone.pk}/"' not in deleted
    )
    assert client.get("/audit/changes/", {"type": "sales.deal"}).status_code == 200


def test_the_audit_event_admin_is_read_only_even_for_superusers(superuser, client_for):
    # given an event
    event = audit_event_record(kind=AuditEvent.Kind.LOGIN, actor=superuser)
    client = client_for(superuser)
    model_admin = admin.site._registry[AuditEvent]

    # when  # then
    listing = client.get("/admin/audit/auditevent/")
    assert listing.status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert (
        client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    request = listing.wsgi_request
    assert not model_admin.has_change_permission(request, event)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_records_admin_shows_its_history_but_cannot_revert(superuser, client_for):
    # given a changed customer
    customer = CustomerFactory(name="Ada")
    customer.name = "Ada L"
    customer.save()
    first = customer.history.order_by("history_id").first()
    client = client_for(superuser)

    # when  # then
    history = client.get(f"/admin/customers/customer/{customer.pk}/history/")
    assert history.status_code == 200 and "Ada L" in history.content.decode()
    client.post(f"/admin/customers/customer/{customer.pk}/history/{first.history_id}/", {})
    customer.refresh_from_db()
    assert customer.name == "Ada L"


def test_the_api_lists_events_and_changes_for_admins_and_refuses_writes(
    admin_user, rep, client_for
):
    # given an event and a changed customer
    audit_event_record(kind=AuditEvent.Kind.EXPORT, actor=rep)
    customer = CustomerFactory(name="Ada", owner=rep)
    customer.name = "Ada L"
    customer.save()
    client = client_for(admin_user)

    # when
    listed = client.get("/api/v1/audit-events/", {"kind": "export"})
    changes = client.get(
        "/api/v1/record-changes/", {"type": "customers.customer", "record": customer.pk}
    )
    no_type = client.get("/api/v1/record-changes/")

    # then
    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    assert changes.status_code == 200
    assert [row["action"] for row in changes.json()["results"]] == ["~", "+"]
    assert changes.json()["results"][0]["values"]["name"] == "Ada L"
    assert no_type.status_code == 400
    assert client_for(rep).get("/api/v1/audit-events/").status_code == 403
    event_id = AuditEvent.objects.first().pk
    for method, url in [
        ("post", "/api/v1/audit-events/"),
        ("put", f"/api/v1/audit-events/{event_id}/"),
        ("patch", f"/api/v1/audit-events/{event_id}/"),
        ("delete", f"/api/v1/audit-events/{event_id}/"),
        ("post", "/api/v1/record-changes/?type=customers.customer"),
    ]:
        response = getattr(client, method)(url, {}, content_type="application/json")
        assert response.status_code == 405, (method, url)


def test_no_role_may_write_the_audit_trail():
    # given the roles as synced  # when
    roles.sync_roles()
    writes = Permission.objects.filter(roles.AUDIT_TRAIL_WRITES)

    # then not even Admin holds one, though Admin reads the log and histories
    assert writes.exists()
    for group in Group.objects.filter(name__in=roles.ROLE_PERMISSIONS):
        assert not group.permissions.filter(pk__in=writes).exists(), group.name
    admin_group = Group.objects.get(name=roles.ADMIN)
    assert admin_group.permissions.filter(codename="view_auditevent").exists()
    assert (
        not Group.objects.get(name=roles.MANAGER)
        .permissions.filter(Q(codename="view_auditevent"))
        .exists()
    )


def test_a_write_permission_given_to_a_role_is_taken_back_on_sync():
    # given an admin who gave the Admin role a write on the audit log
    roles.sync_roles()
    admin_group = Group.objects.get(name=roles.ADMIN)
    admin_group.permissions.add(Permission.objects.get(codename="delete_historicalcustomer"))

    # when the roles are synced again  # then it is gone
    roles.sync_roles()
    assert not admin_group.permissions.filter(codename="delete_historicalcustomer").exists()


def test_token_creation_and_revocation_are_audited(rep):
    # given  # when
    token, _plain = api_token_create(user=rep, name="Script")
    api_token_revoke(actor=rep, token=token)
    api_token_revoke(actor=rep, token=token)

    # then each is one event naming the token
    created, revoked = events("token_created"), events("token_revoked")
    assert [(e.actor, e.target_id, e.details["prefix"]) for e in created] == [
        (rep, token.pk, token.prefix)
    ]
    assert revoked.count() == 1


def test_permission_changes_are_audited(admin_user, rep):
    # given a user
    someone = UserFactory(username="someone")
    marketing = Group.objects.get(name=roles.MARKETING)
    permission = Permission.objects.get(codename="view_customer")

    # when roles, direct permissions, a role's permissions and the staff flag change
    someone.groups.add(marketing)
    marketing.user_set.remove(someone)
    someone.user_permissions.add(permission)
    someone.user_permissions.clear()
    someone.is_staff = True
    someone.save()
    someone.save(update_fields=["last_login"])

    # then each is an event about whom it changed
    changed = [
        (e.target_id, e.details["change"], e.details.get("action"), e.details.get("names"))
        for e in events("permission_changed").filter(
            target_type__model="user", target_id=someone.pk
        )
    ]
    assert changed == [
        (someone.pk, "roles", "added", [roles.MARKETING]),
        (someone.pk, "roles", "removed", [roles.MARKETING]),
        (someone.pk, "user permissions", "added", ["customers.view_customer"]),
        (someone.pk, "user permissions", "removed", ["customers.view_customer"]),
        (someone.pk, "flags", None, None),
    ]


def test_a_customer_export_is_audited(manager, client_for):
    # given customers the manager may export
    CustomerFactory.create_batch(3, owner=manager)

    # when they download the list
    response = client_for(manager).get("/api/v1/customers/export/")
    b"".join(response.streaming_content)

    # then one event says who exported how many rows
    (event,) = events("export")
    assert (event.actor, event.details["what"], event.details["rows"]) == (manager, "customers", 3)


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("/sales/reports/csv/?report=outcomes", "sales report: outcomes"),
        ("/sales/campaigns/report.csv", "campaign report"),
        ("/service/dashboard/trend.csv", "service trend"),
    ],
)
def test_report_downloads_are_audited(manager, client_for, url, what):
    # when a manager downloads a report
    response = client_for(manager).get(url)
    assert response.status_code == 200

    # then one event says who downloaded which report
    (event,) = events("export")
    assert (event.actor, event.details["what"], event.details["format"]) == (manager, what, "csv")


def test_privacy_requests_are_audited_and_erasure_scrubs_the_history(superuser):
    # given a customer whose history holds personal data
    customer = CustomerFactory(name="Ada Lovelace", email="ada@example.com", notes="Allergic")
    customer.phone = "+8613900000001"
    customer.save()
    InteractionFactory(customer=customer, subject="Call about her divorce")

    # when their data is exported and then they are erased
    customer_personal_data_export(actor=superuser, customer=customer)
    customer_erase(actor=superuser, customer=customer, reason="Asked to be forgotten")

    # then both requests are events, and no earlier version keeps what was erased
    assert [e.details["request"] for e in events("privacy_request")] == ["export", "erasure"]
    versions = Customer.history.filter(id=customer.pk)
    assert versions.count() >= 3
    assert not versions.filter(
        Q(name="Ada Lovelace")
        | Q(email="ada@example.com")
        | Q(notes="Allergic")
        | Q(phone="+8613900000001")
    ).exists()
    assert not Interaction.history.filter(customer_id=customer.pk).exclude(subject="").exists()


def test_imported_customers_get_history_rows_naming_the_importer(manager):
    # given an existing customer and a file that changes them and adds another
    CustomerFactory(name="Bo Li", email="bo@example.com", city="", owner=manager)
    job = importing.import_job_create(
        actor=manager,
        file=ContentFile(
            b"Name,Email,City\nAnn Lee,ann@example.com,Shanghai\nBo Li,bo@example.com,Beijing\n",
            name="customers.csv",
        ),
        options={},
    )

    # when the import runs
    importing.import_job_run(job_id=job.pk)

    # then each customer created or changed has a row naming the manager
    ann = Customer.objects.get(email="ann@example.com")
    bo = Customer.objects.get(email="bo@example.com")
    assert ann.history.get().history_type == "+"
    assert ann.history.get().history_user == manager
    latest = bo.history.order_by("-history_id").first()
    assert (latest.history_type, latest.city, latest.history_user) == ("~", "Beijing", manager)
