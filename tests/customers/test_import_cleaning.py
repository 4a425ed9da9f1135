"""Every cleaning rule of the import, through the cleaning functions and through an import."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from customers.cleaning import (
    CleaningError,
    parse_boolean,
    parse_country,
    parse_date,
    parse_gender,
    parse_money,
)
from customers.importing.mapping import mapping_suggest
from customers.models import Company, Customer, ImportJob
from customers.services import importing
from tests.customers.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def import_text(text: str, *, owner=None, **options) -> tuple[ImportJob, list[dict]]:
    job = importing.import_job_create(
        actor=None,
        owner=owner,
        file=ContentFile(text.encode(), name="customers.csv"),
        options=options,
    )
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    with job.report.open("rb") as report:
        return job, list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))


def one_customer(header: str, row: str, **options) -> Customer:
    _job, report = import_text(f"{header}\n{row}\n", **options)
    assert report[0]["outcome"] == "created", report[0]
    return Customer.objects.get()


def rejection(header: str, row: str, **options) -> tuple[str, str]:
    _job, report = import_text(f"{header}\n{row}\n", **options)
    assert report[0]["outcome"] == "rejected", report[0]
    assert not Customer.objects.exists()
    return report[0]["column"], report[0]["reason"]


# The cleaning functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1985-03-02",
        "1985/3/2",
        "19850302",
        "1985-03-02T08:30:00Z",
        "1985-03-02 08:30",
        "1985年3月2日",
        "1985年03月02号",
        "2 Mar 1985",
        "2-Mar-85",
        "2nd March 1985",
        "March 2, 1985",
        "Mar. 2 1985",
        "02/03/1985",
        "2.3.1985",
    ],
)
def test_parse_date_reads_common_formats_day_first(value):
    assert parse_date(value, day_first=True) == date(1985, 3, 2)


def test_parse_date_numeric_order_follows_the_policy():
    assert parse_date("03/02/1985", day_first=True) == date(1985, 2, 3)
    assert parse_date("03/02/1985", day_first=False) == date(1985, 3, 2)
    assert parse_date("12/25/85", day_first=False) == date(1985, 12, 25)
    assert parse_date("  ", day_first=True) is None


@pytest.mark.parametrize("value", ["12/25/1985", "31.02.1985", "next Tuesday", "1985-13-01"])
def test_parse_date_refuses_what_it_cannot_read(value):
    with pytest.raises(CleaningError):
        parse_date(value, day_first=True)


@pytest.mark.parametrize(
    ("value", "amount", "currency"),
    [
        ("¥1,234.50", "1234.50", "CNY"),
        ("￥1234.5", "1234.5", "CNY"),
        ("RMB 3,000", "3000", "CNY"),
        ("$1,234", "1234", "USD"),
        ("US$ 99.90", "99.90", "USD"),
        ("1.234,50 €", "1234.50", "EUR"),
        ("1 234,50", "1234.50", ""),
        ("1,234,567.89", "1234567.89", ""),
        ("1.234.567", "1234567", ""),
        ("12,5", "12.5", ""),
        ("12万", "120000", ""),
        ("1.5亿", "150000000.0", ""),
        ("80k", "80000", ""),
        ("GBP 1,000", "1000", "GBP"),
        ("(1,000)", "-1000", ""),
    ],
)
def test_parse_money(value, amount, currency):
    assert parse_money(value) == (Decimal(amount), currency)


@pytest.mark.parametrize("value", ["about ten", "1,2,3.4.5", "$"])
def test_parse_money_refuses_non_amounts(value):
    with pytest.raises(CleaningError):
        parse_money(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("男", "male"),
        ("M", "male"),
        ("Female", "female"),
        ("女士", "female"),
        ("其他", "other"),
        ("未知", ""),
        ("", ""),
    ],
)
def test_parse_gender(value, expected):
    assert parse_gender(value) == expected


def test_parse_gender_refuses_unknown_words():
    with pytest.raises(CleaningError):
        parse_gender("robot")


def test_parse_boolean_and_country():
    assert [parse_boolean(v) for v in ("yes", "是", "0", "")] == [True, True, False, None]
    assert [parse_country(v) for v in ("China", "中国", "usa", "United Kingdom", "de", "")] == [
        "CN",
        "CN",
        "US",
        "GB",
        "DE",
        "",
    ]
    with pytest.raises(CleaningError):
        parse_country("Atlantis")


# Header mapping ------------------------------------------------------------------------------


def test_headers_of_common_english_exports_are_mapped():
    headers = [
        "First Name",
        "Last Name",
        "Email Address",
        "Mobile",
        "Phone",
        "Mailing Street",
        "Mailing City",
        "Mailing State/Province",
        "Mailing Zip/Postal Code",
        "Mailing Country",
        "Birthdate",
        "Annual Income",
        "Account Name",
        "Title",
        "Lead Source",
        "External Id",
        "Shoe size",
    ]
    assert mapping_suggest(headers) == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email Address": "email",
        "Mobile": "phone",
        "Mailing Street": "street",
        "Mailing City": "city",
        "Mailing State/Province": "province",
        "Mailing Zip/Postal Code": "postcode",
        "Mailing Country": "country",
        "Birthdate": "birthday",
        "Annual Income": "annual_income",
        "Account Name": "company",
        "Title": "job_title",
        "Lead Source": "source",
        "External Id": "external_id",
    }


def test_chinese_headers_and_our_own_field_names_are_mapped():
    chinese = [
        "姓名",
        "性别",
        "生日",
        "电话",
        "手机",
        "邮箱",
        "地址",
        "城市",
        "省份",
        "收入",
        "公司",
        "职位",
    ]
    assert mapping_suggest(chinese) == {
        "姓名": "name",
        "性别": "gender",
        "生日": "birthday",
        "手机": "phone",
        "邮箱": "email",
        "地址": "street",
        "城市": "city",
        "省份": "province",
        "收入": "annual_income",
        "公司": "company",
        "职位": "job_title",
    }
    ours = ["name", "job_title", "annual_income", "external_id", "marketing_consent"]
    assert mapping_suggest(ours) == {name: name for name in ours}


# Rows through an import -------------------------------------------------------------------


def test_whitespace_is_trimmed_and_folded():
    customer = one_customer(
        "Name,City,Job Title", '"  Ann \t  Lee ",\u3000Shanghai ,  Chief   Buyer'
    )
    assert (customer.name, customer.city, customer.job_title) == (
        "Ann Lee",
        "Shanghai",
        "Chief Buyer",
    )


def test_email_is_lower_cased_and_validated():
    assert (
        one_customer("Name,Email", "Ann Lee, Ann.Lee@Example.COM ").email == "ann.lee@example.com"
    )
    Customer.objects.all().delete()
    column, reason = rejection("Name,E-mail", "Ann Lee,ann.lee@")
    assert column == "E-mail"
    assert "not a valid email address" in reason


def test_phone_is_normalised_in_the_default_region_or_the_rows_country():
    assert one_customer("Name,手机", "王芳,138 0013 8000").phone == "+8613800138000"
    Customer.objects.all().delete()
    assert one_customer("Name,Phone,Country", "Ann Lee,(415) 555-0134,USA").phone == "+14155550134"
    Customer.objects.all().delete()
    column, reason = rejection("Name,Phone", "Ann Lee,12")
    assert (column, reason) == ("Phone", "“12” is not a possible phone number.")


def test_dates_are_read_day_first_by_default_and_month_first_when_asked():
    assert one_customer("Name,Birthdate", "Ann Lee,03/02/1985").birthday == date(1985, 2, 3)
    Customer.objects.all().delete()
    customer = one_customer("Name,Birthdate", "Ann Lee,03/02/1985", date_order="mdy")
    assert customer.birthday == date(1985, 3, 2)


def test_dates_are_read_month_first_by_default_in_a_us_installation(settings):
    settings.CRM_DEFAULT_PHONE_REGION = "US"
    assert one_customer("Name,Birthdate", "Ann Lee,03/02/1985").birthday == date(1985, 3, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1985-03-02", date(1985, 3, 2)),
        ("2 Mar 1985", date(1985, 3, 2)),
        ("1985年3月2日", date(1985, 3, 2)),
        ("02/03/1985", date(1985, 3, 2)),
    ],
)
def test_birthdays_in_common_formats(value, expected):
    assert one_customer("Name,生日", f"Ann Lee,{value}").birthday == expected


def test_a_date_that_does_not_fit_the_order_is_rejected_not_swapped():
    column, reason = rejection("Name,Birthdate", "Ann Lee,12/25/1985")
    assert column == "Birthdate"
    assert reason == "“12/25/1985” is not a valid date."


@pytest.mark.parametrize(
    ("value", "amount", "currency"),
    [
        ('"¥1,234.50"', "1234.50", "CNY"),
        ('"$1,234"', "1234.00", "USD"),
        ('"1.234,50 €"', "1234.50", "EUR"),
        ("12万", "120000.00", "CNY"),
        ("88000.005", "88000.01", "CNY"),
    ],
)
def test_incomes_with_currency_symbols_and_separators(value, amount, currency):
    customer = one_customer("Name,Annual Income", f"Ann Lee,{value}")
    assert (customer.annual_income, customer.income_currency) == (Decimal(amount), currency)


def test_income_currency_column_and_its_conflicts():
    customer = one_customer("Name,Income,Currency", "Ann Lee,5000,usd")
    assert (customer.annual_income, customer.income_currency) == (Decimal("5000.00"), "USD")
    Customer.objects.all().delete()
    column, reason = rejection("Name,Income,Currency", "Ann Lee,$5000,EUR")
    assert column == "Income"
    assert "in USD but the currency column says EUR" in reason


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("Age", "-1", "An age of -1 is not plausible (0 to 120)."),
        ("年龄", "121岁", "An age of 121 is not plausible (0 to 120)."),
        ("Birthdate", "2999-01-01", "A birthday cannot be in the future."),
        ("Birthdate", "1890-01-01", "A birthday more than 120 years ago is not plausible."),
        ("Annual Income", "-500", "An income cannot be negative."),
        ("Tier", "Gold", "“Gold” is not one of normal, vip, premium."),
        ("Gender", "robot", "“robot” is not a gender we know (male, female, other)."),
        (
            "Country",
            "Atlantis",
            "“Atlantis” is not a country we know; use its two-letter ISO code.",
        ),
    ],
)
def test_impossible_values_are_rejected_with_column_and_reason(header, value, reason):
    assert rejection(f"Name,{header}", f"Ann Lee,{value}") == (header, reason)


def test_a_plausible_age_is_checked_but_not_stored():
    customer = one_customer("Name,Age", "Ann Lee,42")
    assert customer.birthday is None


def test_birthday_of_today_is_accepted():
    today = timezone.localdate().isoformat()
    assert one_customer("Name,Birthdate", f"Ann Lee,{today}").birthday == timezone.localdate()


def test_choices_are_read_from_english_and_chinese_words():
    customer = one_customer(
        "姓名,性别,状态,等级,来源,营销同意,标签",
        '王芳,女,潜在客户,VIP,展会,是,"newsletter， Key-Account"',
    )
    assert customer.gender == "female"
    assert customer.status == Customer.Status.PROSPECT
    assert customer.tier == Customer.Tier.VIP
    assert customer.source == Customer.Source.EVENT
    assert customer.marketing_consent is True
    assert customer.marketing_consent_at is not None
    assert sorted(customer.tags.values_list("name", flat=True)) == ["key-account", "newsletter"]


def test_an_unknown_source_is_recorded_as_other_and_noted():
    _job, report = import_text("Name,Lead Source\nAnn Lee,Billboard on Route 9\n")
    assert Customer.objects.get().source == Customer.Source.OTHER
    assert "source “Billboard on Route 9” recorded as other" in report[0]["notes"]


def test_defaults_of_a_new_customer():
    customer = one_customer("Name", "Ann Lee")
    assert customer.status == Customer.Status.LEAD
    assert customer.tier == Customer.Tier.NORMAL
    assert customer.source == Customer.Source.IMPORT
    assert customer.marketing_consent is False


def test_missing_address_stays_empty_and_is_flagged_never_invented():
    # given rows with no address at all, a street without a city, and a full address
    text = (
        "Name,Phone,Street,City,Country\n"
        "Ann Lee,+14155550134,,,\n"
        "Bo Li,,1 Main St,,\n"
        "Cy Wu,,2 Main St,Austin,US\n"
    )

    # when
    _job, report = import_text(text)

    # then nothing is made up from the phone or anything else, and the gaps are flagged
    ann = Customer.objects.get(name="Ann Lee")
    assert (ann.street, ann.city, ann.province, ann.postcode, ann.country) == ("", "", "", "", "")
    assert [row["notes"] for row in report] == [
        "no address given: left empty",
        "address has no city: left empty",
        "",
    ]


def test_a_new_customer_needs_a_name():
    assert rejection("Name,Email", ",ann@example.com") == ("Name", "a new customer needs a name")


def test_first_and_last_names_are_combined():
    text = "First Name,Last Name,Email\nAnn,Lee,ann@example.com\n芳,王,wf@example.cn\n"
    import_text(text)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Ann Lee", "王芳"]


def test_unknown_columns_are_reported_as_ignored_or_kept_as_custom_attributes():
    text = "Name,Shoe size,Favourite colour\nAnn Lee,38,teal\n"
    _job, _report = import_text(text)
    assert Customer.objects.get().custom_attributes == {}
    Customer.objects.all().delete()

    _job, _report = import_text(text, keep_extra_columns=True)
    assert Customer.objects.get().custom_attributes == {
        "Shoe size": "38",
        "Favourite colour": "teal",
    }


def test_companies_are_found_or_created_by_name_ignoring_case(django_assert_max_num_queries):
    # given an existing company, and rows naming it and a new one in different cases
    existing = CompanyFactory(name="Blue Summit Labs")
    text = (
        "Name,Company\n"
        "Ann Lee,blue summit labs\n"
        "Bo Li,Harbor Trading Co.\n"
        "Cy Wu,HARBOR TRADING CO.\n"
    )

    # when
    import_text(text)

    # then one new company, named as first written, and each customer linked
    assert Company.objects.count() == 2
    harbor = Company.objects.exclude(pk=existing.pk).get()
    assert harbor.name == "Harbor Trading Co."
    assert Customer.objects.get(name="Ann Lee").company == existing
    assert set(Customer.objects.filter(company=harbor).values_list("name", flat=True)) == {
        "Bo Li",
        "Cy Wu",
    }


def test_new_customers_and_companies_belong_to_the_owner_and_their_first_team(rep, team):
    import_text("Name,Company\nAnn Lee,Harbor Trading Co.\n", owner=rep)
    customer = Customer.objects.select_related("company").get()
    assert (customer.owner, customer.team) == (rep, team)
    assert (customer.company.owner, customer.company.team) == (rep, team)


def test_birthday_120_years_ago_is_the_limit():
    old = timezone.localdate() - timedelta(days=365 * 119)
    assert one_customer("Name,Birthdate", f"Ann Lee,{old.isoformat()}").birthday == old
