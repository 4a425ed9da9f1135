"""One run of an import: the file checked whole, then its rows in batches, each batch matched,
written and reported inside one transaction.

Per batch the database is asked a fixed number of questions whatever the batch's size: one
query per identifying key (external id, email, phone), one for which matches the importing user
may see, one to lock and read the matched customers, one each for their companies' names and
their tags, one to find companies and one to create the missing ones, one for likely
duplicates, and the bulk writes.

The batch's transaction also carries the job's progress (`on_batch`), so the counts a job shows
never include a row whose customer was not committed; a crash loses at most the batch in flight,
and a resumed run (`resume_from`) carries on after the last committed batch.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import (
    records_editable_by,
    records_visible_to,
    user_default_team_id,
    user_is_admin,
)
from crm.planner import planner_settings
from customers.importing import writing
from customers.importing.mapping import mapping_errors
from customers.importing.matching import (
    SeenKeys,
    customer_key,
    identity_key,
    likeness_keys,
    name_key,
    name_spellings,
)
from customers.importing.reading import CsvFile
from customers.importing.report import (
    ImportCounts,
    JournalEntry,
    Outcome,
    ReportSink,
    RowResult,
)
from customers.importing.rows import DAY_FIRST, KEY_FIELDS, CleanRow, RowCleaner, address_notes
from customers.locks import customers_lock
from customers.models import Company, Customer
from customers.services.customers import tag_list_get_or_create

BATCH_ROWS = 2_000
# Statistics are refreshed once the customers created since the last refresh exceed this many
# or half the table, whichever is larger: a dozen ANALYZEs over a million rows.
STATISTICS_MIN_ROWS = 5_000
# Spellings of names looked up at once when searching for likely duplicates; SQLite refuses
# statements with more than 32,766 parameters.
_SPELLINGS_PER_QUERY = 10_000
_FIELD_PAIRS = {"annual_income": "income_currency", "marketing_consent": "marketing_consent_at"}


def _one_of(column: str, values) -> Q:
    """column IN values; on PostgreSQL as = ANY(one array), which Django compiles in no time
    where an IN list of tens of thousands of parameters takes seconds."""
    if connection.vendor != "postgresql":
        return Q(**{f"{column}__in": values})
    field = Customer._meta.get_field(column)
    condition = RawSQL(
        f'"{Customer._meta.db_table}"."{field.column}" = ANY(%s)',
        (list(values),),
        output_field=BooleanField(),
    )
    return Q(condition)


class ImportRefused(ValueError):
    """The import cannot start (its mapping does not fit the file); nothing was written."""


@dataclass(frozen=True)
class ImportOptions:
    keep_extra_columns: bool = False
    overwrite: bool = False
    date_order: str = DAY_FIRST
    dry_run: bool = False
    # The identifying values a row may be matched on, most trusted first; values outside it are
    # still refused when they belong to another customer.
    match_on: tuple[str, ...] = KEY_FIELDS


@dataclass
class _Target:
    """The customer one or more rows of a batch become."""

    root: int
    customer_id: int | None = None
    is_new: bool = False
    customer: Customer | None = None
    company: str = ""
    linked_company: str = ""
    tag_names: set[str] = field(default_factory=set)
    new_tags: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    row: CleanRow | None = None


@dataclass
class _Decision:
    row: CleanRow
    target: _Target | None = None
    result: RowResult | None = None
    blocked: set[str] = field(default_factory=set)
    changes: list[str] = field(default_factory=list)
    matched_on: str = ""


class CustomerImport:
    """Imports the rows of `csv_file` as customers; see the package docstring for the rules.

    `actor` is the person importing (None for an operator's command, who sees everything);
    `owner` owns what is created, with their first team. Nothing is written when the options say
    dry_run: the report then says what would have happened.
    """

    def __init__(
        self,
        *,
        csv_file: CsvFile | None = None,
        mapping: dict[str, str] | None = None,
        options: ImportOptions,
        actor: User | None,
        owner: User | None,
        report: ReportSink,
        batch_size: int | None = None,
        on_start: Callable[[int], None] | None = None,
        on_batch: Callable[[ImportCounts], None] | None = None,
        resume_from: int = 0,
        journal: Iterator[JournalEntry] | None = None,
    ):
        self.csv_file = csv_file
        self.mapping = mapping
        self.options = options
        self.actor = actor
        self.owner = owner
        self.team_id = user_default_team_id(owner)
        self.sees_everything = actor is None or user_is_admin(actor)
        self.report = report
        self.batch_size = batch_size or BATCH_ROWS
        self.on_start = on_start
        self.on_batch = on_batch
        self.resume_from = resume_from
        self.journal = journal
        self.counts = ImportCounts()
        self.cleaner: RowCleaner | None = None
        self.seen: SeenKeys | None = None
        self._new_defaults = {
            field.attname: field.get_default() for field in Customer._meta.concrete_fields
        }

    # The run ------------------------------------------------------------------------------

    def run(self) -> ImportCounts:
        total = self.csv_file.scan()
        headers = self.csv_file.header()
        errors = mapping_errors(headers=headers, mapping=self.mapping)
        if errors:
            raise ImportRefused(" ".join(errors))
        if self.on_start is not None:
            self.on_start(total)
        self.cleaner = RowCleaner(
            headers=headers,
            mapping=self.mapping,
            keep_extra_columns=self.options.keep_extra_columns,
            date_order=self.options.date_order,
        )
        rows = (self.cleaner.clean(number, cells) for number, cells in self.csv_file.rows())
        return self._run_rows(rows)

    def run_cleaned(self, *, cleaner: RowCleaner, rows: Iterable[CleanRow]) -> ImportCounts:
        """Import rows cleaned elsewhere by `cleaner` (the bulk upsert API's items), with the
        same matching, duplicate rule and writes as a file's rows."""
        self.cleaner = cleaner
        return self._run_rows(iter(rows))

    def _run_rows(self, rows: Iterator[CleanRow]) -> ImportCounts:
        self.seen = SeenKeys()
        self._counted_customers = writing.customers_estimated_count()
        self._created_since_statistics = 0
        try:
            while cleaned := list(islice(rows, self.batch_size)):
                if cleaned[-1].number < self.resume_from:
                    self._replay(cleaned)
                else:
                    done = [row for row in cleaned if row.number < self.resume_from]
                    self._replay(done)
                    self._run_batch(cleaned[len(done) :])
        finally:
            self.seen.close()
        return self.counts

    @property
    def ignored_headers(self) -> list[str]:
        return self.cleaner.ignored_headers if self.cleaner else []

    def _run_batch(self, rows: list[CleanRow]) -> None:
        with transaction.atomic():
            results, entries = self._process(rows)
            self.report.write(results)
            counts = self._count(results)
            if self.on_batch is not None:
                self.on_batch(counts)
        self.seen.add(entries)
        self.counts += counts
        self._refresh_statistics(counts.created)

    def _refresh_statistics(self, created: int) -> None:
        self._created_since_statistics += created
        threshold = max(STATISTICS_MIN_ROWS, self._counted_customers // 2)
        if self._created_since_statistics > threshold:
            writing.customers_statistics_refresh()
            self._counted_customers += self._created_since_statistics
            self._created_since_statistics = 0

    @staticmethod
    def _count(results: list[RowResult]) -> ImportCounts:
        counts = ImportCounts()
        for result in results:
            counts.add(result.outcome)
        return counts

    def _replay(self, rows: list[CleanRow]) -> None:
        """Remember what the rows an earlier, interrupted run imported became (from its report),
        as that run remembered them: a key that belongs to another customer is not taken."""
        if not rows:
            return
        with transaction.atomic():
            matches = self._database_matches([row for row in rows if not row.errors])
        entries = []
        for row in rows:
            done = next(self.journal, None)
            if done is None or done.number != row.number:
                raise RuntimeError(f"The interrupted run's report stops before row {row.number}.")
            self.counts.add(done.outcome)
            if done.outcome == Outcome.REJECTED:
                continue
            root = done.merged_into or row.number
            for name, value in row.identities():
                key = identity_key(name, value)
                if matches.get(key, done.customer_id) == done.customer_id:
                    entries.append((key, root, done.customer_id))
            if done.customer_id:
                entries.append((customer_key(done.customer_id), root, done.customer_id))
            if done.outcome == Outcome.CREATED:
                entries += [(key, root, done.customer_id) for key, _what in self._likeness(row)]
        self.seen.add(entries)

    # One batch ----------------------------------------------------------------------------

    def _process(self, rows: list[CleanRow]):
        valid = [row for row in rows if not row.errors]
        matches = self._database_matches(valid)
        visible = self._visible(set(matches.values()))
        wanted = [identity_key(name, value) for row in valid for name, value in row.identities()]
        wanted += [customer_key(pk) for pk in matches.values()]
        seen = self.seen.find(wanted)
        decisions, batch_keys = self._decide(rows, matches, visible, seen)
        self._load_customers(decisions)
        now = timezone.now()
        for decision in decisions:
            if decision.result is None:
                self._apply(decision, now)
        self._link_companies(decisions)
        self._note_likely_duplicates(decisions)
        if not self.options.dry_run:
            self._write(decisions, now)
        return self._results(decisions), self._seen_entries(decisions, batch_keys)

    def _database_matches(self, rows: list[CleanRow]) -> dict[str, int]:
        """identity key → the oldest customer with that external id, email or phone."""
        matches: dict[str, int] = {}
        # The trigram index on phone also answers phone = ANY(...), and once the table has
        # statistics the planner can take it for the cheaper way: seconds per batch where the
        # btree index takes milliseconds. Without bitmap scans, which GIN indexes need, the
        # btree index is used.
        with planner_settings(enable_bitmapscan="off"):
            for name in KEY_FIELDS:
                values = {row.values[name] for row in rows if row.values.get(name)}
                if not values:
                    continue
                found = Customer.objects.filter(_one_of(name, values))
                if name == "external_id":
                    # Spelled out so PostgreSQL can use the partial unique index on external ids.
                    found = found.exclude(external_id="")
                found = found.order_by("-pk").values_list(name, "pk")
                matches.update({identity_key(name, value): pk for value, pk in found})
        return matches

    def _visible(self, customer_ids: set[int]) -> set[int]:
        """The matched customers this import may update: those the actor may edit (a view-only
        share or the desk's "see all" lets them see a customer, not overwrite it)."""
        if self.sees_everything or not customer_ids:
            return customer_ids
        customers = Customer.objects.filter(pk__in=customer_ids)
        editable = records_editable_by(user=self.actor, queryset=customers)
        return set(editable.values_list("pk", flat=True))

    def _decide(self, rows, matches, visible, seen):
        """Which customer each row is, in file order: an earlier row's, an existing one, a new
        one, or none (rejected)."""
        batch_keys: dict[str, _Target] = {}
        earlier: dict[int, _Target] = {}
        match_on = self.options.match_on

        def from_earlier(entry: tuple[int, int | None]) -> _Target:
            root, customer_id = entry
            if root not in earlier:
                earlier[root] = _Target(root=root, customer_id=customer_id)
            return earlier[root]

        decisions = []
        for row in rows:
            decision = _Decision(row=row)
            decisions.append(decision)
            if row.errors:
                decision.result = self._rejected(row, row.errors)
                continue
            keys = [(name, identity_key(name, value)) for name, value in row.identities()]
            match_keys = sorted(
                ((name, key) for name, key in keys if name in match_on),
                key=lambda pair: match_on.index(pair[0]),
            )
            target = None
            for name, key in match_keys:
                if key in batch_keys:
                    target = batch_keys[key]
                elif key in seen:
                    target = from_earlier(seen[key])
                if target is not None:
                    decision.matched_on = name
                    break
            if target is None:
                matched = next(
                    ((name, matches[key]) for name, key in match_keys if key in matches), None
                )
                if matched is not None:
                    name, customer_id = matched
                    decision.matched_on = name
                    known = customer_key(customer_id)
                    if known in batch_keys:
                        target = batch_keys[known]
                    elif known in seen:
                        target = from_earlier(seen[known])
                    elif customer_id not in visible:
                        decision.result = self._rejected(
                            row,
                            [
                                (
                                    self.cleaner.column_of(name),
                                    _(
                                        "matches an existing customer you cannot change; ask "
                                        "an admin or the customer's owner to import this row"
                                    ),
                                )
                            ],
                        )
                        continue
                    else:
                        target = _Target(root=row.number, customer_id=customer_id)
                elif not row.values.get("name"):
                    decision.result = self._rejected(
                        row, [(self.cleaner.column_of("name"), _("a new customer needs a name"))]
                    )
                    continue
                else:
                    target = _Target(root=row.number, is_new=True)
            decision.target = target
            self._note_conflicts(decision, keys, matches, visible, seen, batch_keys)
            for name, key in keys:
                if name not in decision.blocked and key not in batch_keys and key not in seen:
                    batch_keys[key] = target
            if target.customer_id and customer_key(target.customer_id) not in seen:
                batch_keys.setdefault(customer_key(target.customer_id), target)
        return decisions, batch_keys

    def _note_conflicts(self, decision, keys, matches, visible, seen, batch_keys) -> None:
        """Values of the row that belong to another row or customer are reported, not copied."""
        target = decision.target
        for name, key in keys:
            other_root = None
            if key in batch_keys:
                other_root = batch_keys[key].root
            elif key in seen:
                other_root = seen[key][0]
            if other_root is not None and other_root != target.root:
                decision.blocked.add(name)
                decision.row.notes.append(
                    _("%(column)s also matches row %(row)s, which was not merged")
                    % {"column": self.cleaner.column_of(name), "row": other_root}
                )
                continue
            other = matches.get(key)
            if other is None or other == target.customer_id:
                continue
            decision.blocked.add(name)
            if other in visible:
                note = _("%(column)s belongs to another customer (#%(id)s); not copied") % {
                    "column": self.cleaner.column_of(name),
                    "id": other,
                }
            else:
                note = _("%(column)s belongs to another customer; not copied") % {
                    "column": self.cleaner.column_of(name)
                }
            decision.row.notes.append(note)

    def _rejected(self, row: CleanRow, errors: list[tuple[str, str]]) -> RowResult:
        return RowResult(
            number=row.number,
            outcome=Outcome.REJECTED,
            column="; ".join(dict.fromkeys(column for column, _reason in errors if column)),
            reason="; ".join(reason for _column, reason in errors),
            notes=row.notes,
        )

    def _load_customers(self, decisions: list[_Decision]) -> None:
        """Lock and read the existing customers this batch fills in, in id order."""
        targets = {
            d.target.customer_id: d.target
            for d in decisions
            if d.target is not None and d.target.customer_id
        }
        if not targets:
            return
        if self.options.dry_run:
            customers = Customer.objects.in_bulk(list(targets))
        else:
            customers = customers_lock(customer_ids=targets)
        for pk, customer in customers.items():
            targets[pk].customer = customer
        if any(d.row.company for d in decisions if d.target is not None):
            company_ids = {customer.company_id for customer in customers.values()} - {None}
            names = dict(Company.objects.filter(pk__in=company_ids).values_list("pk", "name"))
            for customer in customers.values():
                targets[customer.pk].linked_company = names.get(customer.company_id, "")
        if any(d.row.tags for d in decisions if d.target is not None):
            links = Customer.tags.through.objects.filter(customer_id__in=targets)
            for customer_id, tag_name in links.values_list("customer_id", "tag__name"):
                targets[customer_id].tag_names.add(tag_name)

    # Values -------------------------------------------------------------------------------

    def _apply(self, decision: _Decision, now) -> None:
        row, target = decision.row, decision.target
        if target.is_new and target.customer is None:
            target.customer = self._new_customer(row, decision.blocked, now)
            target.company = row.company
            target.row = row
            self._add_tags(target, row)
            row.notes.extend(address_notes(row.values))
            return
        if target.customer is None:
            if target.customer_id is not None and row.number == target.root:
                decision.result = self._rejected(
                    row, [("", _("the matching customer was deleted during the import"))]
                )
            return
        overwrite = self.options.overwrite and row.number == target.root
        changes, kept = self._fill(target, row, decision.blocked, overwrite, now)
        target.changed.update(changes)
        decision.changes = changes
        if kept:
            row.notes.append(
                _("kept the existing %(fields)s") % {"fields": ", ".join(sorted(kept))}
            )

    def _new_customer(self, row: CleanRow, blocked: set[str], now) -> Customer:
        # A value is blocked when another customer has it (a key left out of `match_on`).
        values = {name: value for name, value in row.values.items() if name not in blocked}
        values.setdefault("source", Customer.Source.IMPORT)
        if values.get("marketing_consent"):
            values["marketing_consent_at"] = now
        attributes = {
            **self._new_defaults,
            **values,
            "owner_id": self.owner.pk if self.owner else None,
            "team_id": self.team_id,
            "custom_attributes": dict(row.custom),
            "created_at": now,
            "updated_at": now,
        }
        # Positional arguments: Django's fast path, several times quicker than keywords.
        return Customer(*(attributes[name] for name in self._new_defaults))

    def _fill(self, target: _Target, row: CleanRow, blocked, overwrite: bool, now):
        """Copy the row's values into blank fields (any field when overwriting)."""
        customer = target.customer
        changes, kept = [], []
        for name, value in row.values.items():
            if name in blocked or name in _FIELD_PAIRS.values():
                continue
            current = getattr(customer, name)
            if current == value:
                continue
            if name == "marketing_consent":
                if value or overwrite:
                    customer.marketing_consent = value
                    customer.marketing_consent_at = now if value else None
                    changes.append(name)
                else:
                    kept.append(name)
                continue
            if current in (None, "") or overwrite:
                setattr(customer, name, value)
                if name in _FIELD_PAIRS:
                    setattr(customer, _FIELD_PAIRS[name], row.values.get(_FIELD_PAIRS[name], ""))
                changes.append(name)
            else:
                kept.append(name)
        if row.company:
            linked = target.company or target.linked_company
            if not linked or (overwrite and linked.lower() != row.company.lower()):
                target.company = row.company
                changes.append("company")
            elif linked.lower() != row.company.lower():
                kept.append("company")
        custom = dict(customer.custom_attributes or {})
        for key, value in row.custom.items():
            if custom.get(key) != value and (key not in custom or overwrite):
                custom[key] = value
                if "custom_attributes" not in changes:
                    changes.append("custom_attributes")
        customer.custom_attributes = custom
        if self._add_tags(target, row):
            changes.append("tags")
        return changes, kept

    @staticmethod
    def _add_tags(target: _Target, row: CleanRow) -> bool:
        new = [name for name in row.tags if name not in target.tag_names]
        target.tag_names.update(new)
        target.new_tags.extend(new)
        return bool(new)

    def _link_companies(self, decisions: list[_Decision]) -> None:
        targets = {id(d.target): d.target for d in decisions if d.target and d.target.company}
        if not targets:
            return
        names: dict[str, str] = {}
        for target in targets.values():
            names.setdefault(target.company.lower(), target.company)
        found = writing.companies_find(set(names.values()))
        missing = [name for folded, name in names.items() if folded not in found]
        if missing and not self.options.dry_run:
            found |= writing.companies_create(
                missing, owner_id=self.owner.pk if self.owner else None, team_id=self.team_id
            )
        for target in targets.values():
            company_id = found.get(target.company.lower())
            if target.customer is not None and target.customer.company_id != company_id:
                target.customer.company_id = company_id
                target.changed.add("company")

    def _note_likely_duplicates(self, decisions: list[_Decision]) -> None:
        """Flag new customers that look like another row of the file or an existing customer."""
        new = [d for d in decisions if d.target and d.target.is_new and d.target.row is d.row]
        if not new:
            return
        likeness = {d.row.number: self._likeness(d.row) for d in new}
        seen = self.seen.find(key for pairs in likeness.values() for key, _what in pairs)
        in_batch: dict[str, int] = {}
        for decision in new:
            number = decision.row.number
            for key, what in likeness[number]:
                other = seen.get(key, (None, None))[0]
                if other is None:
                    other = in_batch.get(key)
                if other is not None:
                    decision.row.notes.append(self._likely_note(what, row=other))
                in_batch.setdefault(key, number)
        self._note_likely_existing(new)

    def _likeness(self, row: CleanRow) -> list[tuple[str, str]]:
        return likeness_keys(
            name=row.values.get("name", ""), company=row.company, city=row.values.get("city", "")
        )

    @staticmethod
    def _likely_note(what: str, *, row: int | None = None, customer: int | None = None) -> str:
        reason = _("same name and company") if what == "company" else _("same name and city")
        if row is not None:
            return _("likely duplicate of row %(row)s (%(reason)s)") % {
                "row": row,
                "reason": reason,
            }
        return _("likely duplicate of customer #%(id)s (%(reason)s)") % {
            "id": customer,
            "reason": reason,
        }

    def _note_likely_existing(self, new: list[_Decision]) -> None:
        company_ids = {d.target.customer.company_id for d in new} - {None}
        cities = {d.row.values["city"].lower() for d in new if d.row.values.get("city")}
        if not company_ids and not cities:
            return
        spellings = sorted({s for d in new for s in name_spellings(d.row.values["name"])})
        by_company: dict[tuple[str, int], list[int]] = {}
        by_city: dict[tuple[str, str], list[int]] = {}
        for start in range(0, len(spellings), _SPELLINGS_PER_QUERY):
            # The city is compared lower-cased, which also keeps the planner on the name index
            # (a city holds far more customers than a name).
            candidates = (
                Customer.objects.annotate(folded_city=Lower("city"))
                .filter(_one_of("name", spellings[start : start + _SPELLINGS_PER_QUERY]))
                .filter(Q(company_id__in=company_ids) | Q(folded_city__in=cities))
            )
            if not self.sees_everything:
                candidates = records_visible_to(user=self.actor, queryset=candidates)
            # The planner's estimate of the rows each name matches comes from the table's most
            # common names, so for a few thousand spellings it expects a good part of the table
            # and reads all of it in parallel (0.2 s per batch at a million customers, a quarter
            # of an import); the name index answers in 0.03 s, without workers or JIT to start.
            with planner_settings(
                enable_seqscan="off", jit="off", max_parallel_workers_per_gather="0"
            ):
                found = list(
                    candidates.values_list("pk", "name", "company_id", "city").order_by("pk")
                )
            for pk, name, company_id, city in found:
                key = name_key(name)
                if company_id:
                    by_company.setdefault((key, company_id), []).append(pk)
                if city:
                    by_city.setdefault((key, city.casefold()), []).append(pk)
        if not by_company and not by_city:
            return
        from_this_file = self.seen.find(
            customer_key(pk) for pks in [*by_company.values(), *by_city.values()] for pk in pks
        )
        for decision in new:
            key = name_key(decision.row.values["name"])
            company_id = decision.target.customer.company_id
            city = decision.row.values.get("city", "").casefold()
            for what, pks in (
                ("company", by_company.get((key, company_id), [])),
                ("city", by_city.get((key, city), [])),
            ):
                for pk in pks:
                    if customer_key(pk) not in from_this_file:
                        decision.row.notes.append(self._likely_note(what, customer=pk))

    # Writes and results -------------------------------------------------------------------

    def _write(self, decisions: list[_Decision], now) -> None:
        targets = list(
            {id(d.target): d.target for d in decisions if d.target and d.target.customer}.values()
        )
        writing.customers_insert([t.customer for t in targets if t.is_new])
        changed = [t for t in targets if not t.is_new and t.changed - {"tags"}]
        for target in changed:
            target.customer.updated_at = now
        fields = {name for t in changed for name in t.changed} - {"tags"}
        fields |= {_FIELD_PAIRS[name] for name in fields if name in _FIELD_PAIRS}
        writing.customers_save_changes([t.customer for t in changed], fields)
        writing.customers_history_add(
            created=[t.customer for t in targets if t.is_new],
            changed=[t.customer for t in changed],
            user=self.actor,
        )
        names = {name for t in targets for name in t.new_tags}
        if names:
            tags = {tag.name: tag.pk for tag in tag_list_get_or_create(names=names)}
            writing.customer_tags_add(
                {(t.customer.pk, tags[name]) for t in targets for name in t.new_tags}
            )

    def _results(self, decisions: list[_Decision]) -> list[RowResult]:
        results = []
        for decision in decisions:
            if decision.result is not None:
                results.append(decision.result)
                continue
            row, target = decision.row, decision.target
            customer_id = target.customer.pk if target.customer else target.customer_id
            changes = decision.changes
            if row.number != target.root:
                outcome = Outcome.MERGED
            elif target.is_new:
                outcome = Outcome.CREATED
            else:
                outcome = Outcome.UPDATED if changes else Outcome.UNCHANGED
            results.append(
                RowResult(
                    number=row.number,
                    outcome=outcome,
                    customer_id=customer_id,
                    merged_into=target.root if outcome == Outcome.MERGED else None,
                    changes=changes,
                    notes=row.notes,
                    matched_on=decision.matched_on,
                )
            )
        return results

    def _seen_entries(self, decisions, batch_keys) -> list[tuple[str, int, int | None]]:
        def customer_id(target: _Target) -> int | None:
            return target.customer.pk if target.customer else target.customer_id

        entries = [(key, t.root, customer_id(t)) for key, t in batch_keys.items()]
        for decision in decisions:
            target = decision.target
            if decision.result is None and target.is_new and target.row is decision.row:
                pk = target.customer.pk
                if pk:
                    entries.append((customer_key(pk), target.root, pk))
                entries += [(key, target.root, pk) for key, _what in self._likeness(decision.row)]
        return entries
