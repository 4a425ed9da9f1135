"""The five role groups: made by the migrations, kept in step after migrate, only added to."""

import pytest
from django.contrib.auth.models import Group, Permission

from crm.accounts import roles
from crm.accounts.roles import sync_roles
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLE_NAMES = {roles.SALES_REP, roles.SERVICE_AGENT, roles.MARKETING, roles.MANAGER, roles.ADMIN}


def codenames(role: str) -> set[str]:
    permissions = Group.objects.get(name=role).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def test_the_five_role_groups_exist_after_migrations():
    # given a migrated database  # when  # then
    assert set(Group.objects.values_list("name", flat=True)) >= ROLE_NAMES


@pytest.mark.parametrize(
    ("role", "granted", "refused"),
    [
        (
            roles.SALES_REP,
            {
                "customers.view_customer",
                "customers.add_customer",
                "customers.change_customer",
                "customers.view_company",
                "accounts.view_team",
                "accounts.view_user",
                "accounts.add_recordshare",
                "collaboration.add_chatmessage",
                "collaboration.delete_attachment",
            },
            {
                "customers.delete_customer",
                "accounts.change_team",
                "accounts.add_user",
                "collaboration.delete_chatroom",
            },
        ),
        (
            roles.SERVICE_AGENT,
            {"customers.view_customer", "customers.change_customer", "accounts.view_team"},
            {"customers.delete_customer", "accounts.change_user"},
        ),
        (
            roles.MARKETING,
            {"customers.view_customer", "customers.add_customer"},
            {"customers.delete_customer", "accounts.change_team"},
        ),
        (
            roles.MANAGER,
            {
                "customers.view_customer",
                "customers.change_customer",
                "customers.delete_customer",
                "accounts.change_team",
                "accounts.add_teammembership",
                "accounts.delete_recordshare",
            },
            {"accounts.add_team", "accounts.delete_team", "accounts.change_user"},
        ),
    ],
)
def test_role_permissions(role, granted, refused):
    # given the role's group  # when
    permissions = codenames(role)

    # then
    assert granted <= permissions, granted - permissions
    assert not refused & permissions, refused & permissions


def test_admin_role_has_every_permission_but_writing_the_audit_trail():
    # given every permission in the database  # when  # then
    expected = Permission.objects.exclude(roles.AUDIT_TRAIL_WRITES)
    granted = Group.objects.get(name=roles.ADMIN).permissions.all()
    assert set(granted) == set(expected)
    assert Permission.objects.filter(roles.AUDIT_TRAIL_WRITES).exists()


def test_a_user_gets_the_permissions_of_their_role():
    # given a sales rep
    rep = UserFactory(roles=[roles.SALES_REP])

    # when / then
    assert rep.has_perm("customers.change_customer")
    assert not rep.has_perm("customers.delete_customer")


def test_sync_roles_is_idempotent():
    # given the groups as the migrations left them
    before = {role: codenames(role) for role in ROLE_NAMES}
    group_count = Group.objects.count()

    # when the roles are synced twice more
    sync_roles()
    sync_roles()

    # then nothing changed
    assert Group.objects.count() == group_count
    assert {role: codenames(role) for role in ROLE_NAMES} == before


def test_sync_roles_keeps_permissions_an_admin_added():
    # given an admin who gave sales reps the right to delete customers
    group = Group.objects.get(name=roles.SALES_REP)
    group.permissions.add(Permission.objects.get(codename="delete_customer"))

    # when the roles are synced (as after every migrate)
    sync_roles()

    # then the extra permission is still there
    assert "customers.delete_customer" in codenames(roles.SALES_REP)


def test_sync_roles_restores_a_deleted_group():
    # given a role group someone deleted
    Group.objects.filter(name=roles.MARKETING).delete()

    # when the roles are synced
    sync_roles()

    # then it is back with its permissions
    assert "customers.view_customer" in codenames(roles.MARKETING)
