"""Cleaning of customer values, shared by the forms, the API and the CSV import.

Each function returns the clean value or raises CleaningError with a message that says what was
wrong; callers attach the field (and, in an import, the row and column).
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

_WHITESPACE = re.compile(r"\s+")


class CleaningError(ValueError):
    pass


def fold_whitespace(value: str | None) -> str:
    """Trim, and fold every run of whitespace (tabs, newlines, full-width spaces) to one space."""
    if value is None:
        return ""
    return _WHITESPACE.sub(" ", str(value).replace("\u3000", " ")).strip()


def normalise_email(value: str | None) -> str:
    email = fold_whitespace(value).replace(" ", "").lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as exc:
        raise CleaningError(
            _("“%(value)s” is not a valid email address.") % {"value": value}
        ) from exc
    return email


def normalise_phone(value: str | None, *, region: str | None = None) -> str:
    """The number in E.164 (+8613800138000), read in the configured region when it has no +."""
    raw = fold_whitespace(value)
    if not raw:
        return ""
    region = region or settings.CRM_DEFAULT_PHONE_REGION
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise CleaningError(_("“%(value)s” is not a phone number.") % {"value": raw}) from exc
    if not phonenumbers.is_possible_number(number):
        raise CleaningError(_("“%(value)s” is not a possible phone number.") % {"value": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_digits(value: str) -> str:
    """Digits to look for in stored E.164 numbers from whatever the user typed.

    A full number is normalised (so 138 0013 8000 finds +8613800138000); a fragment is searched
    as its digits, with a leading trunk 0 dropped.
    """
    try:
        return normalise_phone(value).lstrip("+")
    except CleaningError:
        digits = re.sub(r"\D", "", value)
        return digits.lstrip("0") if len(digits) > 6 else digits
