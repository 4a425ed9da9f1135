"""Which column of a file goes into which customer field: the targets and the automatic guess.

A mapping is a dict from a column's header to a target: a customer field (or one of the helper
targets below), CUSTOM to keep the column in the customer's custom attributes, or IGNORE. A
column the mapping does not mention is kept as a custom attribute when the import is asked to
keep extra columns, and is reported as ignored otherwise.
"""

import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CUSTOM = "custom"
IGNORE = ""

# Field targets in the order the mapping page lists them. first_name/last_name are combined into
# the name; age is checked (0–120) but never stored, because it is derived from the birthday.
TARGETS = {
    "name": gettext_lazy("Name"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "gender": gettext_lazy("Gender"),
    "birthday": gettext_lazy("Birthday"),
    "age": gettext_lazy("Age (checked, not stored)"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "province": gettext_lazy("Province/state"),
    "postcode": gettext_lazy("Postcode"),
    "country": gettext_lazy("Country"),
    "annual_income": gettext_lazy("Annual income"),
    "income_currency": gettext_lazy("Income currency"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "source": gettext_lazy("Source"),
    "status": gettext_lazy("Lifecycle status"),
    "tier": gettext_lazy("Service tier"),
    "tags": gettext_lazy("Tags"),
    "marketing_consent": gettext_lazy("Marketing consent"),
    "notes": gettext_lazy("Notes"),
    "external_id": gettext_lazy("External id"),
}
IDENTIFYING_TARGETS = {"name", "first_name", "last_name", "email", "phone", "external_id"}

# Headers people's files use for each target, best first: when two columns fit one target (Mobile
# and Phone), the better one is suggested and the other is left to the person mapping.
_ALIASES = {
    "name": [
        "name",
        "full name",
        "contact name",
        "customer name",
        "contact",
        "姓名",
        "名字",
        "客户姓名",
        "客户名称",
        "联系人",
    ],
    "first_name": ["first name", "given name", "firstname", "名"],
    "last_name": ["last name", "surname", "family name", "lastname", "姓"],
    "gender": ["gender", "sex", "性别"],
    "birthday": ["birthday", "birthdate", "date of birth", "dob", "birth date", "生日", "出生日期"],
    "age": ["age", "年龄"],
    "email": ["email", "email address", "e-mail", "mail", "邮箱", "电子邮件", "电子邮箱", "邮件"],
    "phone": [
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "手机",
        "手机号",
        "手机号码",
        "移动电话",
        "phone",
        "phone number",
        "telephone",
        "tel",
        "business phone",
        "work phone",
        "电话",
        "联系电话",
        "电话号码",
        "座机",
    ],
    "street": [
        "street",
        "mailing street",
        "street address",
        "address",
        "address line 1",
        "billing street",
        "地址",
        "街道",
        "详细地址",
        "联系地址",
    ],
    "city": ["city", "mailing city", "town", "billing city", "城市", "市"],
    "province": [
        "province",
        "state",
        "state/province",
        "mailing state/province",
        "mailing state",
        "region",
        "billing state/province",
        "省份",
        "省",
        "州",
    ],
    "postcode": [
        "postcode",
        "postal code",
        "zip",
        "zip code",
        "zip/postal code",
        "mailing zip/postal code",
        "mailing postal code",
        "billing zip/postal code",
        "邮编",
        "邮政编码",
    ],
    "country": ["country", "mailing country", "billing country", "国家", "国家/地区"],
    "annual_income": ["annual income", "income", "annual revenue", "salary", "收入", "年收入"],
    "income_currency": ["income currency", "currency", "币种", "货币"],
    "company": [
        "company",
        "account name",
        "company name",
        "account",
        "organization",
        "organisation",
        "employer",
        "公司",
        "公司名称",
        "单位",
        "工作单位",
    ],
    "job_title": ["job title", "title", "position", "role", "职位", "职务", "岗位"],
    "source": ["source", "lead source", "来源", "客户来源"],
    "status": ["status", "lifecycle status", "lead status", "stage", "状态", "客户状态"],
    "tier": ["tier", "service tier", "level", "等级", "客户等级", "级别", "会员等级"],
    "tags": ["tags", "tag", "labels", "标签"],
    "marketing_consent": [
        "marketing consent",
        "email opt in",
        "opt in",
        "consent",
        "营销同意",
        "接受营销",
    ],
    "notes": ["notes", "note", "description", "comments", "remarks", "备注", "说明"],
    "external_id": [
        "external id",
        "external_id",
        "id",
        "contact id",
        "customer id",
        "record id",
        "外部编号",
        "外部id",
        "客户编号",
        "编号",
    ],
}


def header_key(header: str) -> str:
    """A header reduced to its letters and digits, lower case: "Mailing Zip/Postal Code" and
    "mailing_zip_postal_code" meet at "mailingzippostalcode"."""
    text = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\W_]+", "", text)


_ALIAS_RANK = {
    header_key(alias): (target, rank)
    for target, aliases in _ALIASES.items()
    for rank, alias in enumerate([target, *aliases])
}


def mapping_suggest(headers: list[str]) -> dict[str, str]:
    """The likeliest target of every header we recognise; one column per target."""
    best: dict[str, tuple[int, int, str]] = {}
    for position, header in enumerate(headers):
        found = _ALIAS_RANK.get(header_key(header))
        if found is None:
            continue
        target, rank = found
        if target not in best or (rank, position) < best[target][:2]:
            best[target] = (rank, position, header)
    return {header: target for target, (_rank, _position, header) in best.items()}


def mapping_errors(*, headers: list[str], mapping: dict) -> list[str]:
    """What is wrong with a mapping for these headers; empty when it can be used."""
    errors = []
    if not isinstance(mapping, dict):
        return [_("The column mapping must map column names to fields.")]
    for header, target in mapping.items():
        if header not in headers:
            errors.append(_("The file has no column “%(header)s”.") % {"header": header})
        elif target not in TARGETS and target not in (CUSTOM, IGNORE):
            errors.append(
                _("“%(target)s” is not a field a column can be imported into.") % {"target": target}
            )
    targets = [target for target in mapping.values() if target not in (CUSTOM, IGNORE)]
    repeated = sorted({target for target in targets if targets.count(target) > 1})
    if repeated:
        errors.append(
            _("Only one column can go into each field: %(fields)s.")
            % {"fields": ", ".join(repeated)}
        )
    if not IDENTIFYING_TARGETS & set(targets):
        errors.append(_("At least one column must give the name, email, phone or external id."))
    return errors
