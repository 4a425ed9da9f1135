"""Template filters over crm.formatting: `{{ deal.amount|money:deal.currency }}` and
`{{ value|number }}` or `{{ value|number:2 }}`, in the active language's way of writing them."""

from django import template

from crm.formatting import format_money, format_number

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    return format_money(amount, currency)


@register.filter
def number(value, decimal_places: int | str | None = None) -> str:
    places = None if decimal_places in (None, "") else int(decimal_places)
    return format_number(value, decimal_places=places)
