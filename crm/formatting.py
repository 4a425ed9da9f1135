"""Numbers and money written the way the active language writes them (Babel's CLDR data): the
currency's own symbol and decimals, the locale's grouping, the sign where the locale puts it.

Django's own number formatting knows separators but not currencies, so every amount on a page
goes through `format_money` rather than "{{ amount }} {{ currency }}".
"""

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.utils import translation

NO_VALUE = "—"


@lru_cache(maxsize=16)
def _babel_locale(language: str) -> Locale:
    try:
        # Django's "zh-hans" is Babel's "zh_Hans", whose figures are those of mainland China.
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(translation.to_locale(settings.LANGUAGE_CODE))


def active_babel_locale() -> Locale:
    """The Babel locale of the language active for this request (or the default one)."""
    return _babel_locale(translation.get_language() or settings.LANGUAGE_CODE)


def format_money(amount: Decimal | int | float | None, currency: str) -> str:
    """`amount` of `currency` (a three-letter code), such as "CN¥300,000.00" in English and
    "¥300,000.00" in Chinese; without a currency, the number with two decimals."""
    if amount is None or amount == "":
        return NO_VALUE
    currency = (currency or "").strip().upper()
    if not currency:
        return format_number(amount, decimal_places=2)
    return format_currency(Decimal(str(amount)), currency, locale=active_babel_locale())


def format_number(value: Decimal | int | float | None, *, decimal_places: int | None = None) -> str:
    """`value` with the locale's grouping and decimal sign; with `decimal_places`, exactly that
    many decimals, otherwise up to three as needed."""
    if value is None or value == "":
        return NO_VALUE
    pattern = None
    if decimal_places is not None:
        pattern = "#,##0" + ("." + "0" * decimal_places if decimal_places > 0 else "")
    return format_decimal(Decimal(str(value)), format=pattern, locale=active_babel_locale())
