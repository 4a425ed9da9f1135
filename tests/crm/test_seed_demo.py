"""seed_demo: the demo users, teams, companies and customers, reproducible from a seed."""

import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Max

from crm.accounts import roles
from crm.accounts.models import Team, User
from customers.models import Company, Customer
from tests.customers.factories import CustomerFactory

CHINESE = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
ENGLISH = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$")
DEMO_ROLES = {
    "admin": roles.ADMIN,
    "manager": roles.MANAGER,
    "rep": roles.SALES_REP,
    "agent": roles.SERVICE_AGENT,
    "marketer": roles.MARKETING,
}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def customer_fingerprint() -> list[tuple[str, str, str]]:
    return list(Customer.objects.order_by("pk").values_list("name", "email", "phone"))


@pytest.mark.django_db
def test_seed_demo_creates_users_teams_companies_and_customers(client):
    # given an empty database  # when
    output = seed(customers=200, seed=7)

    # then every role has its demo login
    for username, role in DEMO_ROLES.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role], username
    assert User.objects.get(username="admin").is_superuser
    assert set(Team.objects.values_list("name", flat=True)) == {
        "Sales East",
        "Sales West",
        "Service",
        "Marketing",
    }
    assert Team.objects.get(name="Sales East").members.filter(username="rep").exists()

    # and the companies and customers are there, with Chinese and English names
    assert Company.objects.count() == 10
    assert Customer.objects.count() == 200
    names = list(Customer.objects.values_list("name", flat=True))
    chinese = [name for name in names if CHINESE.match(name)]
    english = [name for name in names if ENGLISH.match(name)]
    assert len(chinese) + len(english) == 200
    assert len(chinese) > 50
    assert len(english) > 50
    assert not Customer.objects.filter(owner__isnull=True).exists()

    # and the logins are printed, and work
    assert "Demo logins (password for all: crm-demo-2026):" in output
    for username, role in DEMO_ROLES.items():
        assert re.search(rf"^\s+{username}\s+{role}$", output, re.MULTILINE), username
    assert client.login(username="rep", password="crm-demo-2026")


@pytest.mark.django_db
def test_seeded_rep_sees_their_teams_customers(client):
    # given seeded demo data
    seed(customers=200, seed=7)
    rep = User.objects.get(username="rep")
    sales_east = Team.objects.get(name="Sales East")
    expected = Customer.objects.filter(team=sales_east).count()
    assert 0 < expected < 200

    # when the rep pages through the customer API
    client.force_login(rep)
    seen, url, params = [], "/api/v1/customers/", {"page_size": 500, "fields": "id"}
    while url:
        body = client.get(url, params).json()
        seen += [customer["id"] for customer in body["results"]]
        url, params = body["next"], None

    # then they see their team's customers, not everyone's
    assert sorted(seen) == sorted(
        Customer.objects.filter(team=sales_east).values_list("pk", flat=True)
    )
    assert len(seen) == expected


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_customers():
    # given a database seeded with seed 7
    seed(customers=200, seed=7)
    first = customer_fingerprint()

    # when the database is flushed and seeded again with the same seed
    call_command("flush", interactive=False, verbosity=0)
    assert Group.objects.filter(name=roles.SALES_REP).exists(), "flush re-syncs the roles"
    seed(customers=200, seed=7)

    # then the customers are the same
    assert customer_fingerprint() == first
    assert len(first) == 200


@pytest.mark.django_db(transaction=True)
def test_a_different_seed_gives_different_customers():
    # given  # when
    seed(customers=50, seed=7)
    first = customer_fingerprint()
    call_command("flush", interactive=False, verbosity=0)
    seed(customers=50, seed=8)

    # then
    assert customer_fingerprint() != first


@pytest.mark.django_db
def test_if_empty_does_not_seed_twice():
    # given seeded demo data
    seed(customers=60, seed=7)

    # when seed_demo runs again with --if-empty
    output = seed(customers=60, seed=7, if_empty=True)

    # then nothing is added, and the logins are printed anyway
    assert Customer.objects.count() == 60
    assert "Demo data already present; not seeding again." in output
    assert "Demo logins" in output


@pytest.mark.django_db
def test_if_empty_seeds_an_empty_database():
    # given  # when
    seed(customers=20, seed=7, if_empty=True)

    # then
    assert Customer.objects.count() == 20


@pytest.mark.django_db
def test_negative_customer_count_is_refused():
    # given  # when  # then
    with pytest.raises(CommandError, match="--customers"):
        seed(customers=-1)


@pytest.mark.postgres
@pytest.mark.django_db
def test_seed_demo_on_postgresql_uses_copy():
    # given PostgreSQL  # when
    seed(customers=200, seed=7)

    # then the rows went in through COPY, text and all
    assert connection.vendor == "postgresql"
    assert Company.objects.count() == 10
    assert Customer.objects.count() == 200
    assert Customer.objects.filter(name__regex=r"^[一-鿿]+$").exists()
    assert Customer.objects.filter(street__contains="号").exists()
    assert Customer.tags.through.objects.exists()
    assert Customer.objects.values("created_at").distinct().count() > 100

    # and the id sequence moved past the copied rows, so ordinary inserts still work
    highest_seeded = Customer.objects.aggregate(highest=Max("pk"))["highest"]
    assert CustomerFactory().pk > highest_seeded
