"""Cleaning of customer values, shared by the forms, the API and the CSV import.

Each function returns the clean value or raises CleaningError with a message that says what was
wrong; callers attach the field (and, in an import, the row and column).
"""

import re
from datetime import date
from decimal import Decimal

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


# Dates ------------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_TIME_SUFFIX = re.compile(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT_YMD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CHINESE_YMD = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4}|\d{2})$")
_MONTH_NAME_DAY = re.compile(r"^([a-z]+)\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{4}|\d{2})$")


def _full_year(year: str) -> int:
    """A two-digit year is the most recent such year that is not in the future (85 → 1985)."""
    if len(year) == 4:
        return int(year)
    this_year = date.today().year
    candidate = this_year - this_year % 100 + int(year)
    return candidate if candidate <= this_year else candidate - 100


def parse_date(value: str | None, *, day_first: bool = True) -> date | None:
    """A date written in any of the common ways, or None when blank.

    Reads ISO (1985-03-02, also with a time), 1985/03/02, 19850302, 1985年3月2日, 2 Mar 1985,
    March 2, 1985 and the numeric forms 03/02/1985, 03-02-85 and 03.02.1985. The numeric forms are
    ambiguous: they are read day first (2 March) unless `day_first` is False (3 February). A value
    that does not fit the order asked for (13/25/1985 read day first) is refused, not swapped,
    because a file is written in one order and silently swapping would misread its other rows.
    """
    text = fold_whitespace(value)
    if not text:
        return None
    text = _TIME_SUFFIX.sub("", text).strip()
    lowered = text.lower()
    year = month = day = None
    if match := _YMD.match(text) or _COMPACT_YMD.match(text) or _CHINESE_YMD.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _NUMERIC_DATE.match(text):
        first, second, year_text = match.groups()
        day, month = (first, second) if day_first else (second, first)
        year, month, day = _full_year(year_text), int(month), int(day)
    elif (match := _DAY_MONTH_NAME.match(lowered)) and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], _full_year(match.group(3))
    elif (match := _MONTH_NAME_DAY.match(lowered)) and match.group(1) in _MONTHS:
        month, day, year = _MONTHS[match.group(1)], int(match.group(2)), _full_year(match.group(3))
    if year is None:
        raise CleaningError(
            _("“%(value)s” is not a date we can read; write it like 1985-03-02.") % {"value": text}
        )
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CleaningError(_("“%(value)s” is not a valid date.") % {"value": text}) from exc


# Amounts ----------------------------------------------------------------------------------------

# Longest first, so "US$" wins over "$" and "RMB" is not read as a number with junk around it.
_CURRENCY_MARKS = [
    ("人民币", "CNY"),
    ("US$", "USD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("RMB", "CNY"),
    ("¥", "CNY"),
    ("￥", "CNY"),
    ("元", "CNY"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
]
_CURRENCY_CODE = re.compile(r"\b([A-Za-z]{3})\b")
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "k": Decimal(1_000)}
_AMOUNT = re.compile(r"^(\d+(\.\d+)?)$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_GROUPED_DOTS = re.compile(r"^\d{1,3}(\.\d{3}){2,}(,\d+)?$|^\d{1,3}\.\d{3},\d+$")


def _plain_number(text: str) -> str | None:
    """Digits with at most one decimal point from the ways people group thousands.

    1,234.50 and 1.234,50 and 1 234,50 all mean 1234.50: when both marks appear the last one is
    the decimal mark; a lone comma is a thousands mark when it groups by three (1,234) and a
    decimal mark otherwise (12,5); a lone dot is a decimal mark unless it groups by three more
    than once (1.234.567).
    """
    text = re.sub(r"[\s'\u00a0\u202f]", "", text)
    if _GROUPED.match(text):
        return text.replace(",", "")
    if _GROUPED_DOTS.match(text):
        return text.replace(".", "").replace(",", ".")
    if "," in text and "." not in text and text.count(",") == 1:
        return text.replace(",", ".")
    return text if _AMOUNT.match(text) else None


def parse_money(value: str | None) -> tuple[Decimal | None, str]:
    """(amount, ISO currency or "") from text like ¥1,234.50, $1,234, 1.234,50 € or 12万.

    Chinese 万 and 亿 and a trailing k multiply the amount; a lone $ is read as US dollars. The
    currency is "" when the text names none; the caller decides the default.
    """
    text = fold_whitespace(value)
    if not text:
        return None, ""
    currency = ""
    rest = text
    for mark, code in _CURRENCY_MARKS:
        if mark in rest:
            currency = currency or code
            rest = rest.replace(mark, " ")
    if match := _CURRENCY_CODE.search(rest):
        currency = currency or match.group(1).upper()
        rest = rest[: match.start()] + rest[match.end() :]
    rest = rest.strip()
    negative = rest.startswith("-") or (rest.startswith("(") and rest.endswith(")"))
    rest = rest.strip("-()").strip()
    multiplier = Decimal(1)
    if rest and rest[-1].lower() in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[rest[-1].lower()]
        rest = rest[:-1].strip()
    number = _plain_number(rest)
    if number is None:
        raise CleaningError(_("“%(value)s” is not an amount.") % {"value": text})
    amount = Decimal(number) * multiplier
    return (-amount if negative else amount), currency


# Choices ----------------------------------------------------------------------------------------

_GENDERS = {
    "male": ("m", "male", "man", "men", "mr", "mr.", "男", "男性", "先生"),
    "female": ("f", "female", "woman", "women", "ms", "ms.", "mrs", "mrs.", "女", "女性", "女士"),
    "other": ("other", "x", "diverse", "non-binary", "nonbinary", "其他", "其它"),
    "": ("unknown", "u", "n/a", "na", "-", "prefer not to say", "未知", "保密", "不详"),
}
_GENDER_LOOKUP = {word: gender for gender, words in _GENDERS.items() for word in words}
_TRUE_WORDS = {"yes", "y", "true", "t", "1", "x", "on", "opt in", "opted in", "是", "同意", "✓"}
_FALSE_WORDS = {"no", "n", "false", "f", "0", "off", "opt out", "opted out", "否", "不同意"}


def parse_gender(value: str | None) -> str:
    """One of "male", "female", "other" or "" (unknown), from English or Chinese words."""
    text = fold_whitespace(value).lower()
    if not text:
        return ""
    try:
        return _GENDER_LOOKUP[text]
    except KeyError:
        raise CleaningError(
            _("“%(value)s” is not a gender we know (male, female, other).") % {"value": value}
        ) from None


def parse_boolean(value: str | None) -> bool | None:
    """True or False from yes/no words in English or Chinese, or None when blank."""
    text = fold_whitespace(value).lower()
    if not text:
        return None
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise CleaningError(_("“%(value)s” is neither yes nor no.") % {"value": value})


# Names people write for the countries customers most often live in; any other country is
# accepted by its ISO code.
_COUNTRY_NAMES = {
    "AE": ("united arab emirates", "uae", "阿联酋"),
    "AR": ("argentina", "阿根廷"),
    "AT": ("austria", "奥地利"),
    "AU": ("australia", "澳大利亚"),
    "BE": ("belgium", "比利时"),
    "BR": ("brazil", "巴西"),
    "CA": ("canada", "加拿大"),
    "CH": ("switzerland", "瑞士"),
    "CL": ("chile", "智利"),
    "CN": ("china", "prc", "mainland china", "chn", "中国", "中国大陆", "中华人民共和国"),
    "CZ": ("czech republic", "czechia", "捷克"),
    "DE": ("germany", "deutschland", "德国"),
    "DK": ("denmark", "丹麦"),
    "EG": ("egypt", "埃及"),
    "ES": ("spain", "españa", "西班牙"),
    "FI": ("finland", "芬兰"),
    "FR": ("france", "法国"),
    "GB": ("united kingdom", "uk", "great britain", "britain", "england", "gbr", "英国"),
    "GR": ("greece", "希腊"),
    "HK": ("hong kong", "hkg", "香港", "中国香港"),
    "HU": ("hungary", "匈牙利"),
    "ID": ("indonesia", "印度尼西亚", "印尼"),
    "IE": ("ireland", "爱尔兰"),
    "IL": ("israel", "以色列"),
    "IN": ("india", "印度"),
    "IT": ("italy", "italia", "意大利"),
    "JP": ("japan", "日本"),
    "KH": ("cambodia", "柬埔寨"),
    "KR": ("south korea", "korea", "republic of korea", "韩国"),
    "KZ": ("kazakhstan", "哈萨克斯坦"),
    "LA": ("laos", "老挝"),
    "MM": ("myanmar", "缅甸"),
    "MN": ("mongolia", "蒙古"),
    "MO": ("macau", "macao", "澳门", "中国澳门"),
    "MX": ("mexico", "墨西哥"),
    "MY": ("malaysia", "马来西亚"),
    "NG": ("nigeria", "尼日利亚"),
    "NL": ("netherlands", "the netherlands", "holland", "荷兰"),
    "NO": ("norway", "挪威"),
    "NZ": ("new zealand", "新西兰"),
    "PH": ("philippines", "菲律宾"),
    "PK": ("pakistan", "巴基斯坦"),
    "PL": ("poland", "波兰"),
    "PT": ("portugal", "葡萄牙"),
    "RU": ("russia", "russian federation", "俄罗斯"),
    "SA": ("saudi arabia", "沙特阿拉伯", "沙特"),
    "SE": ("sweden", "瑞典"),
    "SG": ("singapore", "sgp", "新加坡"),
    "TH": ("thailand", "泰国"),
    "TR": ("turkey", "türkiye", "土耳其"),
    "TW": ("taiwan", "台湾", "中国台湾"),
    "UA": ("ukraine", "乌克兰"),
    "US": ("united states", "united states of america", "usa", "u.s.", "u.s.a.", "america", "美国"),
    "VN": ("vietnam", "viet nam", "越南"),
    "ZA": ("south africa", "南非"),
}
_COUNTRIES = {name: code for code, names in _COUNTRY_NAMES.items() for name in names}


def parse_country(value: str | None) -> str:
    """The ISO 3166 two-letter code of a country given by its code, or by its English or Chinese
    name for the countries in _COUNTRY_NAMES."""
    text = fold_whitespace(value)
    if not text:
        return ""
    if len(text) == 2 and text.upper() in phonenumbers.SUPPORTED_REGIONS:
        return text.upper()
    try:
        return _COUNTRIES[text.casefold()]
    except KeyError:
        raise CleaningError(
            _("“%(value)s” is not a country we know; use its two-letter ISO code.")
            % {"value": text}
        ) from None
