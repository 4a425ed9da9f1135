"""Cleaning one row of a file into the values of a customer, or the reasons it cannot be used.

The rules are those of the forms and the API (customers/cleaning.py, validate_birthday and the
model's own field validation), applied to text from a file:

- every text value is trimmed and its runs of whitespace folded to one space (notes keep their
  line breaks);
- emails are lower-cased and validated; phones become E.164, read in the row's country when it
  has one and in CRM_DEFAULT_PHONE_REGION otherwise;
- dates are read by `parse_date`; numeric dates such as 03/02/1985 are read day first, unless
  the import's date order is month first (the default when CRM_DEFAULT_PHONE_REGION is US);
- amounts may carry a currency symbol or code, thousands separators and 万/亿; an amount without
  a currency is in CRM_DEFAULT_CURRENCY;
- impossible values are refused with the column and the reason: a birthday in the future or
  more than 120 years ago, an age below 0 or above 120, a negative income.

Missing values are never invented: a blank cell leaves the field empty (or, on a customer that
already exists, leaves its current value alone). A new customer without any address, or with a
street but no city, is flagged in the report. The only defaults are those of a new customer
created by hand (status lead, tier normal), plus source "import" when the file gives none.
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _

from customers.cleaning import (
    CleaningError,
    fold_whitespace,
    normalise_email,
    normalise_phone,
    parse_boolean,
    parse_country,
    parse_date,
    parse_gender,
    parse_money,
)
from customers.importing.mapping import CUSTOM, TARGETS
from customers.models import Company, Customer, Tag
from customers.services.customers import MAX_AGE_YEARS, validate_birthday

DAY_FIRST = "dmy"
MONTH_FIRST = "mdy"
KEY_FIELDS = ("external_id", "email", "phone")  # the order in which a match is trusted
TEXT_FIELDS = ("street", "city", "province", "postcode", "job_title", "external_id")
ADDRESS_FIELDS = ("street", "city", "province", "postcode", "country")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_AGE = re.compile(r"^(-?\d+)\s*(岁|周岁|years?|yrs?)?$", re.IGNORECASE)
_TAG_SEPARATORS = re.compile(r"[,;|，；、]")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENTS = Decimal("0.01")
# Cells whose values repeat across a file (dates, genders, countries, amounts, choices, tags,
# companies, cities): each distinct value is cleaned and validated once per import. Names,
# emails, phones, ids, streets and notes are nearly all distinct, so they are not remembered.
_REMEMBERED = frozenset(
    {
        "birthday",
        "age",
        "gender",
        "country",
        "annual_income",
        "income_currency",
        "status",
        "tier",
        "source",
        "marketing_consent",
        "tags",
        "company",
        "city",
        "province",
        "postcode",
        "job_title",
        "language",
    }
)
# Distinct values remembered before the memory is emptied, which bounds it on any file.
_REMEMBERED_LIMIT = 50_000

_CHOICE_WORDS = {
    "status": {
        Customer.Status.LEAD: ["new", "线索", "新线索"],
        Customer.Status.PROSPECT: ["qualified", "潜在客户", "意向客户", "商机"],
        Customer.Status.CUSTOMER: ["client", "active", "won", "客户", "成交客户", "正式客户"],
        Customer.Status.CHURNED: ["lost", "inactive", "流失", "已流失", "流失客户"],
    },
    "tier": {
        Customer.Tier.NORMAL: ["standard", "regular", "basic", "普通", "标准"],
        Customer.Tier.VIP: ["贵宾"],
        Customer.Tier.PREMIUM: ["platinum", "高级", "尊享", "白金"],
    },
    "source": {
        Customer.Source.WEBSITE: ["web", "web form", "online", "网站", "官网", "网络"],
        Customer.Source.REFERRAL: ["partner referral", "word of mouth", "推荐", "转介绍"],
        Customer.Source.EVENT: ["trade show", "seminar", "conference", "展会", "活动", "会议"],
        Customer.Source.ADVERTISING: ["ads", "advertisement", "广告"],
        Customer.Source.COLD_CALL: ["cold calling", "电话营销", "陌拜"],
        Customer.Source.SOCIAL: ["social", "wechat", "微信", "社交媒体", "微博"],
        Customer.Source.PARTNER: ["合作伙伴", "渠道"],
        Customer.Source.IMPORT: ["导入"],
        Customer.Source.OTHER: ["其他", "其它"],
    },
}
_CHOICES = {
    "status": Customer.Status.choices,
    "tier": Customer.Tier.choices,
    "source": Customer.Source.choices,
}
_CHOICE_LOOKUP: dict[str, dict[str, str]] = {}


def _choice_lookup(name: str) -> dict[str, str]:
    if name not in _CHOICE_LOOKUP:
        lookup = {}
        for value, label in _CHOICES[name]:
            lookup[value.casefold()] = value
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    lookup[str(label).casefold()] = value
        for value, words in _CHOICE_WORDS[name].items():
            lookup.update({word.casefold(): value for word in words})
        _CHOICE_LOOKUP[name] = lookup
    return _CHOICE_LOOKUP[name]


def default_date_order() -> str:
    return MONTH_FIRST if settings.CRM_DEFAULT_PHONE_REGION == "US" else DAY_FIRST


@dataclass
class CleanRow:
    """One row of the file, cleaned: customer field values that were given, or why it failed."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    company: str = ""
    tags: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def identities(self) -> list[tuple[str, str]]:
        """(field, value) of the identifying values this row has, most trusted first."""
        return [(name, self.values[name]) for name in KEY_FIELDS if self.values.get(name)]


def address_notes(values: dict[str, Any]) -> list[str]:
    """The flags a new customer's address earns under the missing-value policy."""
    if not any(values.get(name) for name in ADDRESS_FIELDS):
        return [_("no address given: left empty")]
    if values.get("street") and not values.get("city"):
        return [_("address has no city: left empty")]
    return []


class _Remembered(dict):
    """Outcomes by key, computed once each; emptied when _REMEMBERED_LIMIT keys are held, which
    bounds the memory on any file."""

    def outcome(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self:
            if len(self) >= _REMEMBERED_LIMIT:
                self.clear()
            self[key] = compute()
        return self[key]


class RowCleaner:
    """Cleans rows of one file, given its headers, the mapping and the import's options."""

    def __init__(
        self,
        *,
        headers: list[str],
        mapping: dict[str, str],
        keep_extra_columns: bool,
        date_order: str,
    ):
        self.headers = headers
        self.width = len(headers)
        self.day_first = date_order != MONTH_FIRST
        self.default_currency = settings.CRM_DEFAULT_CURRENCY
        self.columns: dict[str, int] = {}
        self.custom_columns: list[int] = []
        self.ignored_headers: list[str] = []
        for position, header in enumerate(headers):
            target = mapping.get(header)
            if target in TARGETS:
                self.columns[target] = position
            elif target == CUSTOM or (target is None and keep_extra_columns):
                self.custom_columns.append(position)
            else:
                self.ignored_headers.append(header)
        self._model_fields = {field.name: field for field in Customer._meta.concrete_fields}
        # normalise_email has already run validate_email on the very value the field checks;
        # the field's other checks (its length) remain.
        email_field = copy.copy(self._model_fields["email"])
        email_field.validators = [v for v in email_field.validators if v is not validate_email]
        self._model_fields["email"] = email_field
        self._cleaned = _Remembered()
        self._validated = _Remembered()

    def column_of(self, target: str) -> str:
        """The header a target was read from, for the report ("First Name + Last Name")."""
        if target == "name" and "name" not in self.columns:
            parts = [
                self.headers[self.columns[name]]
                for name in ("first_name", "last_name")
                if name in self.columns
            ]
            return " + ".join(parts) or target
        position = self.columns.get(target)
        return self.headers[position] if position is not None else target

    def clean(self, number: int, cells: list[str]) -> CleanRow:
        row = CleanRow(number=number)
        if not any(cell.strip() for cell in cells):
            row.errors.append(("", _("empty row")))
            return row
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            row.errors.append(
                (
                    "",
                    _("the row has %(found)s values but the header has %(expected)s columns")
                    % {"found": len(cells), "expected": self.width},
                )
            )
            return row
        raw = {
            target: cells[position] if position < len(cells) else ""
            for target, position in self.columns.items()
        }
        for target, value in raw.items():
            if not value.strip() or target in ("first_name", "last_name", "phone"):
                continue
            if target in _REMEMBERED:
                self._clean_remembered(row, target, value, raw)
                continue
            try:
                self._clean_value(row, target, value, raw)
            except CleaningError as exc:
                row.errors.append((self.column_of(target), str(exc)))
        self._clean_name(row, raw)
        self._clean_phone(row, raw)
        for position in self.custom_columns:
            value = fold_whitespace(cells[position]) if position < len(cells) else ""
            if value:
                row.custom[self.headers[position]] = value
        self._validate_model_fields(row)
        return row

    def _clean_remembered(self, row: CleanRow, target: str, value: str, raw: dict) -> None:
        """_clean_value for a cell whose value repeats: what it gave the first time is applied
        again (its values, tags, company and notes, or its error)."""

        def clean_once() -> tuple:
            scratch = CleanRow(number=row.number)
            try:
                self._clean_value(scratch, target, value, raw)
            except CleaningError as exc:
                return ({}, [], "", [], str(exc))
            return (scratch.values, scratch.tags, scratch.company, scratch.notes, "")

        key = (target, value, raw.get("income_currency", "") if target == "annual_income" else "")
        values, tags, company, notes, error = self._cleaned.outcome(key, clean_once)
        if error:
            row.errors.append((self.column_of(target), error))
            return
        row.values.update(values)
        if tags:
            row.tags = list(tags)
        if company:
            row.company = company
        row.notes.extend(notes)

    def _clean_value(self, row: CleanRow, target: str, value: str, raw: dict) -> None:
        values = row.values
        if target == "email":
            values["email"] = normalise_email(value)
        elif target == "birthday":
            birthday = parse_date(value, day_first=self.day_first)
            validate_birthday(birthday)
            values["birthday"] = birthday
        elif target == "age":
            self._check_age(value)
        elif target == "gender":
            values["gender"] = parse_gender(value)
        elif target == "country":
            values["country"] = parse_country(value)
        elif target == "annual_income":
            values.update(self._income(value, raw.get("income_currency", "")))
        elif target in ("status", "tier", "source"):
            values[target] = self._choice(row, target, value)
        elif target == "marketing_consent":
            values["marketing_consent"] = parse_boolean(value)
        elif target == "tags":
            row.tags = self._tags(value)
        elif target == "company":
            row.company = fold_whitespace(value)
        elif target == "notes":
            lines = (fold_whitespace(line) for line in value.strip().splitlines())
            values["notes"] = "\n".join(lines)
        elif target in TEXT_FIELDS or target == "name":
            values[target] = fold_whitespace(value)

    def _clean_name(self, row: CleanRow, raw: dict) -> None:
        if row.values.get("name"):
            return
        first = fold_whitespace(raw.get("first_name", ""))
        last = fold_whitespace(raw.get("last_name", ""))
        # Chinese names are written family name first, with no space.
        name = f"{last}{first}" if _CJK.search(first + last) else f"{first} {last}".strip()
        if name:
            row.values["name"] = name

    def _clean_phone(self, row: CleanRow, raw: dict) -> None:
        value = raw.get("phone", "")
        if not value.strip():
            return
        region = row.values.get("country") or None
        try:
            row.values["phone"] = normalise_phone(value, region=region)
        except CleaningError as exc:
            row.errors.append((self.column_of("phone"), str(exc)))

    def _check_age(self, value: str) -> None:
        match = _AGE.match(fold_whitespace(value))
        if not match:
            raise CleaningError(_("“%(value)s” is not an age in years.") % {"value": value})
        age = int(match.group(1))
        if not 0 <= age <= MAX_AGE_YEARS:
            raise CleaningError(
                _("An age of %(age)s is not plausible (0 to %(max)s).")
                % {"age": age, "max": MAX_AGE_YEARS}
            )

    def _income(self, value: str, currency_cell: str) -> dict[str, Any]:
        amount, currency = parse_money(value)
        if amount < 0:
            raise CleaningError(_("An income cannot be negative."))
        column_currency = self._currency(currency_cell)
        if currency and column_currency and currency != column_currency:
            raise CleaningError(
                _("The amount is in %(amount)s but the currency column says %(column)s.")
                % {"amount": currency, "column": column_currency}
            )
        try:
            amount = amount.quantize(_CENTS, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than a Decimal context holds
            raise CleaningError(
                _("“%(value)s” is too large an amount.") % {"value": fold_whitespace(value)}
            ) from None
        return {
            "annual_income": amount,
            "income_currency": column_currency or currency or self.default_currency,
        }

    def _currency(self, cell: str) -> str:
        text = fold_whitespace(cell)
        if not text:
            return ""
        _amount, currency = parse_money(f"0 {text}")
        currency = currency or text.upper()
        if not _CURRENCY.match(currency):
            raise CleaningError(_("“%(value)s” is not a currency code.") % {"value": text})
        return currency

    def _choice(self, row: CleanRow, target: str, value: str) -> str:
        text = fold_whitespace(value)
        found = _choice_lookup(target).get(text.casefold())
        if found is not None:
            return found
        if target == "source":
            row.notes.append(_("source “%(value)s” recorded as other") % {"value": text})
            return Customer.Source.OTHER
        choices = ", ".join(value for value, _label in _CHOICES[target])
        raise CleaningError(
            _("“%(value)s” is not one of %(choices)s.") % {"value": text, "choices": choices}
        )

    def _tags(self, value: str) -> list[str]:
        names = [fold_whitespace(part).lower() for part in _TAG_SEPARATORS.split(value)]
        names = list(dict.fromkeys(name for name in names if name))
        limit = Tag._meta.get_field("name").max_length
        too_long = [name for name in names if len(name) > limit]
        if too_long:
            raise CleaningError(
                _("The tag “%(tag)s” is longer than %(limit)s characters.")
                % {"tag": too_long[0], "limit": limit}
            )
        return names

    def _validate_model_fields(self, row: CleanRow) -> None:
        """The model's own checks of each value (length, choices, format): what full_clean's
        clean_fields runs, field by field, without building a model instance per row."""
        failed = {self._target_of_error(column) for column, _reason in row.errors}
        values = {name: value for name, value in row.values.items() if name not in failed}
        if values.get("marketing_consent") is None:
            values.pop("marketing_consent", None)
        row.values = values
        for name, value in values.items():
            error = self._model_error(name, value)
            if error:
                row.errors.append((self.column_of(name), error))
        limit = Company._meta.get_field("name").max_length
        if len(row.company) > limit:
            row.errors.append(
                (
                    self.column_of("company"),
                    _("A company name has at most %(limit)s characters.") % {"limit": limit},
                )
            )

    def _model_error(self, name: str, value: Any) -> str:
        """The model field's complaint about a value ("" when valid), remembered per distinct
        value of the fields whose values repeat."""
        if name not in _REMEMBERED:
            return self._model_check(name, value)
        # The type and the text: Decimal("1.0") equals Decimal("1.00") but not for max_digits.
        key = (name, type(value), str(value))
        return self._validated.outcome(key, lambda: self._model_check(name, value))

    def _model_check(self, name: str, value: Any) -> str:
        try:
            self._model_fields[name].clean(value, None)
        except ValidationError as exc:
            return " ".join(exc.messages)
        return ""

    def _target_of_error(self, column: str) -> str:
        for target in self.columns:
            if self.column_of(target) == column:
                return target
        return column
