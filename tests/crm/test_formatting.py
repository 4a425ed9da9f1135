"""Money and numbers are written the way the active language writes them."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from crm.formatting import format_money, format_number


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", Decimal("300000"), "CNY", "CN¥300,000.00"),
        ("zh-hans", Decimal("300000"), "CNY", "¥300,000.00"),
        ("en", Decimal("1234.5"), "USD", "$1,234.50"),
        ("zh-hans", Decimal("1234.5"), "USD", "US$1,234.50"),
        ("en", Decimal("1234.5"), "EUR", "€1,234.50"),
        ("en", Decimal("1234"), "JPY", "¥1,234"),
        ("zh-hans", Decimal("-20.5"), "CNY", "-¥20.50"),
        ("en", 0, "CNY", "CN¥0.00"),
        ("en", Decimal("99.9"), "", "99.90"),
        ("en", None, "CNY", "—"),
    ],
)
def test_money_is_written_in_the_active_language(language, amount, currency, expected):
    with translation.override(language):
        assert format_money(amount, currency) == expected


def test_an_unknown_language_falls_back_to_the_site_language():
    with translation.override("xx-yy"):
        assert format_money(Decimal("5"), "CNY") == "CN¥5.00"


@pytest.mark.parametrize(
    ("language", "value", "places", "expected"),
    [
        ("en", Decimal("1234567.891"), None, "1,234,567.891"),
        ("zh-hans", Decimal("1234567.5"), 2, "1,234,567.50"),
        ("en", 42, 0, "42"),
        ("en", None, None, "—"),
    ],
)
def test_numbers_are_written_in_the_active_language(language, value, places, expected):
    with translation.override(language):
        assert format_number(value, decimal_places=places) == expected


def test_the_template_filters_format_money_and_numbers():
    template = Template(
        "{% load crm_format %}"
        "{{ amount|money:currency }} · {{ count|number }} · {{ rate|number:1 }}"
    )
    context = Context({"amount": Decimal("1500"), "currency": "cny", "count": 12000, "rate": 0.26})
    with translation.override("zh-hans"):
        assert template.render(context) == "¥1,500.00 · 12,000 · 0.3"
