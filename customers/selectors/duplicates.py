"""Likely duplicate customers among those a user may see.

Three rules, listed in this order:
- the same email (emails are stored normalised by customers.cleaning, so equal means the same);
- the same phone (stored in E.164, so every way of typing a number compares equal);
- similar names within the same company (never across companies).

Counting every group at a million customers costs a full scan, so the list is paged by
position (a cursor) instead of by page number: each page reads the next groups in key order and
stops as soon as it has enough. Email and phone groups come from a GROUP BY ... HAVING
COUNT(*) > 1 that PostgreSQL answers in key order from the field's index alone; the values found
are then counted again among the customers the user sees. Name groups are computed in Python one
company at a time (a company's customers are the candidate group), and a page reads at most
NAME_SCAN_BUDGET customers, so its cost stays bounded even where no name is repeated; such a
page may hold fewer groups and still offer a next one. A page that ends with the last group of
one rule offers the next rule without reading it ahead, so the last page may be empty.

Erased customers take part in no rule: their email and phone are blank and their name is gone.
"""

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, Interaction, Need, Order, Relationship

EMAIL = "email"
PHONE = "phone"
NAME = "name"
RULES = (EMAIL, PHONE, NAME)
RULE_LABELS = {
    EMAIL: _("Same email"),
    PHONE: _("Same phone"),
    NAME: _("Similar name in the same company"),
}

# Two names are similar when difflib's ratio of their normalised forms reaches this. It flags
# "Jon Smith"/"John Smith" (0.95) and "Karen Clark"/"Karen Clarke" (0.96), not "Li Na"/"Li Ni"
# (0.8); two-character Chinese names are only similar when they are equal.
NAME_SIMILARITY = 0.85
# A page reads customers with a company in chunks, in company order, until it has its groups
# or has read NAME_SCAN_BUDGET of them (rounded up to whole companies).
NAME_CHUNK = 5_000
NAME_SCAN_BUDGET = 20_000
# How many following names (in sorted order) each name is compared with, within one company.
NAME_WINDOW = 50
# A group shows at most this many of its customers (its size counts them all).
MEMBERS_SHOWN = 10
DEFAULT_PAGE_SIZE = 20
SHARED_BATCH_GROWTH = 8

_WORD = re.compile(r"\w+")


class DuplicateQueryError(ValueError):
    pass


@dataclass(frozen=True)
class DuplicateGroup:
    rule: str
    key: str
    size: int
    customers: list[Customer]

    @property
    def rule_label(self) -> str:
        return str(RULE_LABELS[self.rule])


@dataclass(frozen=True)
class DuplicatePage:
    groups: list[DuplicateGroup]
    next_cursor: str


def _cursor_encode(*, rule: str, after: str) -> str:
    raw = json.dumps([rule, after], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rule, after = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise DuplicateQueryError(_("This page position is not valid.")) from exc
    if rule not in RULES or not isinstance(after, str):
        raise DuplicateQueryError(_("This page position is not valid."))
    if rule == NAME and after and not after.isdigit():
        raise DuplicateQueryError(_("This page position is not valid."))
    return rule, after


def _name_words(name: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", name).casefold())


def _name_key(name: str) -> str:
    """Case, width, punctuation and word order do not matter: "CHEN, Wei" is "chen wei"."""
    return " ".join(sorted(_name_words(name)))


def _ratio_reaches(first: str, second: str) -> bool:
    matcher = SequenceMatcher(None, first, second, autojunk=False)
    return (
        matcher.real_quick_ratio() >= NAME_SIMILARITY
        and matcher.quick_ratio() >= NAME_SIMILARITY
        and matcher.ratio() >= NAME_SIMILARITY
    )


def _names_similar(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Each name as (its words in order, its words sorted).

    Sorted words match "Wei Chen" with "Chen Wei"; words in order match a typo in the first
    word ("Carl Dahl", "Karl Dahl") that sorting would move away.
    """
    (first_words, first_key), (second_words, second_key) = first, second
    return (
        first_key == second_key
        or first_key.replace(" ", "") == second_key.replace(" ", "")
        or _ratio_reaches(first_words, second_words)
        or _ratio_reaches(first_key, second_key)
    )


def _similar_name_clusters(people: list[tuple[int, str]]) -> list[list[int]]:
    """Clusters (of two or more ids, lowest first) of one company's customers with similar names.

    Each name is compared with the NAME_WINDOW names that follow it in sorted order: every pair
    in a company of up to NAME_WINDOW + 1 customers, and a bounded number of neighbours per
    name in a larger one.
    """
    entries = sorted(
        (" ".join(sorted(words)), " ".join(words), pk)
        for pk, name in people
        if (words := _name_words(name))
    )
    parent = {pk: pk for _key, _words, pk in entries}

    def root(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for index, (key, words, pk) in enumerate(entries):
        for other_key, other_words, other_pk in entries[index + 1 : index + 1 + NAME_WINDOW]:
            if root(pk) != root(other_pk) and _names_similar(
                (words, key), (other_words, other_key)
            ):
                parent[root(other_pk)] = root(pk)
    clusters: dict[int, list[int]] = {}
    for _key, _words, pk in entries:
        clusters.setdefault(root(pk), []).append(pk)
    return sorted(sorted(members) for members in clusters.values() if len(members) > 1)


def _members_by_value(
    *, customers: QuerySet[Customer], field: str, values: list[str]
) -> dict[str, list[Customer]]:
    ranked = (
        customers.filter(**{f"{field}__in": values})
        .select_related("company", "owner", "team")
        .prefetch_related("tags")
        .annotate(rank=Window(RowNumber(), partition_by=F(field), order_by=F("id").asc()))
        .filter(rank__lte=MEMBERS_SHOWN)
        .order_by(field, "id")
    )
    members: dict[str, list[Customer]] = {}
    for customer in ranked:
        members.setdefault(getattr(customer, field), []).append(customer)
    return members


def _value_groups(
    *, customers: QuerySet[Customer], rule: str, after: str, limit: int
) -> tuple[list[DuplicateGroup], str]:
    field = rule
    # Values shared by any two customers are read first, from the field's index alone (COUNT(*)
    # needs no other column); only those are then counted among the customers the user sees.
    # Batches grow so a user who sees few customers needs few rounds.
    shared_values = (
        Customer.objects.exclude(**{field: ""})
        .order_by()
        .values(field)
        .annotate(size=Count("*"))
        .filter(size__gt=1)
        .order_by(field)
    )
    rows: list[dict] = []
    batch = limit + 1
    while len(rows) <= limit:
        shared = [row[field] for row in shared_values.filter(**{f"{field}__gt": after})[:batch]]
        if shared:
            rows += (
                customers.filter(**{f"{field}__in": shared})
                .order_by()
                .values(field)
                .annotate(size=Count("*"))
                .filter(size__gt=1)
                .order_by(field)
            )
            after = shared[-1]
        if len(shared) < batch:
            break
        batch *= SHARED_BATCH_GROWTH
    more = len(rows) > limit
    rows = rows[:limit]
    members = _members_by_value(
        customers=customers, field=field, values=[row[field] for row in rows]
    )
    groups = [
        DuplicateGroup(rule=rule, key=row[field], size=row["size"], customers=members[row[field]])
        for row in rows
        if row[field] in members
    ]
    return groups, rows[-1][field] if more else ""


def _name_groups(
    *, customers: QuerySet[Customer], after: str, limit: int
) -> tuple[list[DuplicateGroup], str]:
    candidates = (
        customers.filter(company__isnull=False)
        .order_by("company_id", "id")
        .values_list("id", "name", "company_id")
    )
    last_company = int(after or 0)
    clusters: list[list[int]] = []
    scanned = 0
    exhausted = False
    while not exhausted and len(clusters) < limit and scanned < NAME_SCAN_BUDGET:
        rows = list(candidates.filter(company_id__gt=last_company)[:NAME_CHUNK])
        scanned += len(rows)
        exhausted = len(rows) < NAME_CHUNK
        people: dict[int, list[tuple[int, str]]] = {}
        for pk, name, company_id in rows:
            people.setdefault(company_id, []).append((pk, name))
        if not exhausted:
            # A full chunk may stop inside its last company: read that one whole, next time,
            # or now on its own when it fills the chunk alone.
            cut_company = rows[-1][2]
            if len(people) > 1:
                del people[cut_company]
            else:
                people[cut_company] = [
                    (pk, name) for pk, name, _company in candidates.filter(company_id=cut_company)
                ]
                scanned += len(people[cut_company]) - len(rows)
        for company_id, company_people in people.items():
            clusters.extend(_similar_name_clusters(company_people))
            last_company = company_id
            if len(clusters) >= limit:
                exhausted = exhausted and company_id == rows[-1][2]
                break
    shown = {pk for members in clusters for pk in members[:MEMBERS_SHOWN]}
    by_pk = (
        customers.filter(pk__in=shown)
        .select_related("company", "owner", "team")
        .prefetch_related("tags")
        .in_bulk()
    )
    groups = [
        DuplicateGroup(
            rule=NAME,
            key=_name_key(by_pk[members[0]].name),
            size=len(members),
            customers=[by_pk[pk] for pk in members[:MEMBERS_SHOWN] if pk in by_pk],
        )
        for members in clusters
        if members[0] in by_pk
    ]
    return groups, "" if exhausted else str(last_company)


def customer_related_counts(*, customer: Customer) -> dict[str, int]:
    """How many rows of each kind hang on `customer`: what a merge of it would move."""
    return {
        "orders": Order.objects.filter(customer=customer).count(),
        "interactions": Interaction.objects.filter(customer=customer).count(),
        "needs": Need.objects.filter(customer=customer).count(),
        "relationships": Relationship.objects.filter(
            Q(from_customer=customer) | Q(to_customer=customer)
        ).count(),
    }


def duplicate_groups_visible(
    *, user: User, rule: str = "", cursor: str = "", limit: int = DEFAULT_PAGE_SIZE
) -> DuplicatePage:
    """One page of likely duplicate groups among the customers `user` may see.

    `rule` keeps one rule only (all three, in order, when empty); `cursor` is the page's position
    as given by the previous page's `next_cursor` (the first page when empty).
    """
    if rule and rule not in RULES:
        raise DuplicateQueryError(_("Unknown duplicate rule."))
    rules = [rule] if rule else list(RULES)
    start_rule, after = (rules[0], "") if not cursor else _cursor_decode(cursor)
    if start_rule not in rules:
        raise DuplicateQueryError(_("This page position is not valid."))
    customers = records_visible_to(user=user, queryset=Customer.objects.filter(erased_at=None))
    groups: list[DuplicateGroup] = []
    for current in rules[rules.index(start_rule) :]:
        remaining = limit - len(groups)
        if current == NAME:
            found, after = _name_groups(customers=customers, after=after, limit=remaining)
        else:
            found, after = _value_groups(
                customers=customers, rule=current, after=after, limit=remaining
            )
        groups.extend(found)
        if after:
            return DuplicatePage(groups, _cursor_encode(rule=current, after=after))
        if len(groups) >= limit:
            following = rules.index(current) + 1
            if following < len(rules):
                return DuplicatePage(groups, _cursor_encode(rule=rules[following], after=""))
            break
    return DuplicatePage(groups, "")
