"""What a rule may be about (customers, deals, tickets): where their records are, who may see
them, and the fields a rule may test and set, with how to reach each from the record in SQL.

Fields of related records sit beside the record's own ("Customer tier" on a deal or a ticket), so
a condition on them is as easy to build as one on the record."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from automation.naming import choices_of
from crm.accounts.models import Team, User
from customers.models import Customer
from customers.selectors.customers import customer_list_visible
from sales.models import Deal, Pipeline, Stage
from sales.selectors.deals import deal_list_visible
from service.models import Priority, Ticket, TicketCategory
from service.selectors.tickets import ticket_list_visible

TEXT = "text"
NUMBER = "number"
CHOICE = "choice"
BOOLEAN = "boolean"
DATE = "date"
USER = "user"
TEAM = "team"
TAGS = "tags"

Choices = Callable[[], list[tuple[str, str]]]


def user_choices() -> list[tuple[str, str]]:
    return choices_of(
        "users",
        lambda: [(str(user.pk), user.label) for user in User.objects.filter(is_active=True)],
    )


def team_choices() -> list[tuple[str, str]]:
    return choices_of(
        "teams", lambda: [(str(team.pk), team.name) for team in Team.objects.order_by("name")]
    )


def _stage_choices() -> list[tuple[str, str]]:
    def compute():
        stages = Stage.objects.select_related("pipeline").order_by("pipeline__name", "position")
        return [(str(stage.pk), f"{stage.pipeline.name} › {stage.name}") for stage in stages]

    return choices_of("stages", compute)


def _pipeline_choices() -> list[tuple[str, str]]:
    return choices_of(
        "pipelines",
        lambda: [(str(item.pk), item.name) for item in Pipeline.objects.order_by("name")],
    )


def _category_choices() -> list[tuple[str, str]]:
    return choices_of(
        "categories",
        lambda: [(str(item.pk), item.name) for item in TicketCategory.objects.all()],
    )


def _static(choices) -> Choices:
    return lambda: [(str(value), str(label)) for value, label in choices]


@dataclass(frozen=True)
class RuleField:
    """A value a condition may test: `lookup` reaches it from the record in the ORM. `secured`
    names the model field whose field rule it follows (`customers.customer.tier`), if any."""

    key: str
    label: str | Promise
    kind: str
    lookup: str
    choices: Choices | None = None
    # A relation with many rows per record (tags, the owner's teams).
    many: bool = False
    secured: tuple[type[Model], str] | None = None
    # Compared by month and day, whatever the year (a birthday).
    yearly: bool = False
    # The object a value stands for, when the value is an id (a user, a stage).
    related_model: type[Model] | None = None


@dataclass(frozen=True)
class SettableField:
    """A field the "update a field" action may set, and the kind of value it takes."""

    key: str
    label: str | Promise
    kind: str
    choices: Choices | None = None
    related_model: type[Model] | None = None
    secured: tuple[type[Model], str] | None = None


@dataclass(frozen=True)
class RecordKind:
    key: str
    label: str | Promise
    model: type[Model]
    visible: Callable[..., QuerySet]
    url_name: str
    owner_field: str
    fields: dict[str, RuleField] = field(default_factory=dict)
    settable: dict[str, SettableField] = field(default_factory=dict)

    def url(self, record: Model) -> str:
        return reverse(self.url_name, args=[record.pk])

    def customer_of(self, record: Model) -> Customer | None:
        return record if isinstance(record, Customer) else getattr(record, "customer", None)

    def owner_of(self, record: Model) -> User | None:
        return getattr(record, self.owner_field)

    def record_key(self, pk: int) -> str:
        return f"{self.key}:{pk}"

    def date_fields(self) -> list[RuleField]:
        return [rule_field for rule_field in self.fields.values() if rule_field.kind == DATE]


def _keyed(*items):
    return {item.key: item for item in items}


def _own(model: type[Model], key: str, label, kind: str, **options) -> RuleField:
    """A field of the record itself, under its field rule."""
    return RuleField(key, label, kind, key, secured=(model, key), **options)


def _settable(model: type[Model], key: str, label, kind: str, **options) -> SettableField:
    secured_name = "tags" if key in ("add_tag", "remove_tag") else key
    return SettableField(key, label, kind, secured=(model, secured_name), **options)


def _customer_label(text):
    return gettext("Customer %(field)s") % {"field": text}


_customer_label_lazy = lazy(_customer_label, str)


def _customer_fields(*, via: str = "") -> list[RuleField]:
    """A customer's fields, seen from the customer itself or, `via` its foreign key, from a
    deal or ticket ("customer.tier", labelled "Customer tier")."""
    fields = [
        _own(Customer, "name", _("name"), TEXT),
        _own(Customer, "email", _("email"), TEXT),
        _own(Customer, "city", _("city"), TEXT),
        _own(Customer, "province", _("province"), TEXT),
        _own(Customer, "country", _("country"), TEXT),
        _own(Customer, "tier", _("tier"), CHOICE, choices=_static(Customer.Tier.choices)),
        _own(Customer, "status", _("status"), CHOICE, choices=_static(Customer.Status.choices)),
        _own(Customer, "source", _("source"), CHOICE, choices=_static(Customer.Source.choices)),
        RuleField("tags", _("tags"), TAGS, "tags__name", many=True, secured=(Customer, "tags")),
        _own(Customer, "total_spend", _("total spend"), NUMBER),
        _own(Customer, "order_count", _("number of orders"), NUMBER),
        _own(Customer, "marketing_consent", _("agreed to marketing"), BOOLEAN),
    ]
    if not via:
        return fields
    return [
        replace(
            item,
            key=f"{via}.{item.key}",
            label=_customer_label_lazy(item.label),
            lookup=f"{via}__{item.lookup}",
        )
        for item in fields
    ]


def _people_fields(model: type[Model], owner_field: str, owner_label, owner_team_label):
    """Who has the record: its owner (or assignee), its team, and the owner's teams."""
    return [
        RuleField(
            owner_field,
            owner_label,
            USER,
            owner_field,
            choices=user_choices,
            related_model=User,
            secured=(model, owner_field),
        ),
        RuleField(
            "team",
            _("team"),
            TEAM,
            "team",
            choices=team_choices,
            related_model=Team,
            secured=(model, "team"),
        ),
        RuleField(
            f"{owner_field}_team",
            owner_team_label,
            TEAM,
            f"{owner_field}__team_memberships__team",
            choices=team_choices,
            many=True,
            related_model=Team,
        ),
    ]


def _people_settable(model: type[Model], owner_field: str, owner_label):
    return [
        _settable(model, owner_field, owner_label, USER, choices=user_choices, related_model=User),
        _settable(model, "team", _("team"), TEAM, choices=team_choices, related_model=Team),
    ]


def _tag_settable(model: type[Model]):
    return [
        _settable(model, "add_tag", _("add a tag"), TEXT),
        _settable(model, "remove_tag", _("remove a tag"), TEXT),
    ]


CUSTOMER = RecordKind(
    key=Customer._meta.model_name,
    label=_("Customer"),
    model=Customer,
    visible=customer_list_visible,
    url_name="customers:customer_detail",
    owner_field="owner",
    fields=_keyed(
        *_customer_fields(),
        _own(
            Customer,
            "language",
            _("language"),
            CHOICE,
            choices=_static(Customer._meta.get_field("language").choices),
        ),
        _own(Customer, "annual_income", _("annual income"), NUMBER),
        *_people_fields(Customer, "owner", _("owner"), _("owner's team")),
        _own(Customer, "birthday", _("birthday"), DATE, yearly=True),
        _own(Customer, "last_contact_at", _("last contact"), DATE),
        _own(Customer, "created_at", pgettext_lazy("when a record was made", "created"), DATE),
    ),
    settable=_keyed(
        _settable(Customer, "tier", _("tier"), CHOICE, choices=_static(Customer.Tier.choices)),
        _settable(
            Customer, "status", _("status"), CHOICE, choices=_static(Customer.Status.choices)
        ),
        _settable(
            Customer, "source", _("source"), CHOICE, choices=_static(Customer.Source.choices)
        ),
        *_people_settable(Customer, "owner", _("owner")),
        *_tag_settable(Customer),
    ),
)

DEAL = RecordKind(
    key=Deal._meta.model_name,
    label=_("Deal"),
    model=Deal,
    visible=deal_list_visible,
    url_name="sales:deal_detail",
    owner_field="owner",
    fields=_keyed(
        _own(Deal, "name", _("name"), TEXT),
        _own(Deal, "amount", _("amount"), NUMBER),
        _own(Deal, "stage", _("stage"), CHOICE, choices=_stage_choices, related_model=Stage),
        RuleField(
            "stage_kind",
            _("open, won or lost"),
            CHOICE,
            "stage__kind",
            choices=_static(Stage.Kind.choices),
            secured=(Deal, "stage"),
        ),
        _own(
            Deal,
            "pipeline",
            _("pipeline"),
            CHOICE,
            choices=_pipeline_choices,
            related_model=Pipeline,
        ),
        _own(Deal, "source", _("source"), CHOICE, choices=_static(Customer.Source.choices)),
        _own(
            Deal,
            "forecast_category",
            _("forecast category"),
            CHOICE,
            choices=_static(Deal.ForecastCategory.choices),
        ),
        *_people_fields(Deal, "owner", _("owner"), _("owner's team")),
        _own(Deal, "expected_close_date", _("expected close date"), DATE),
        _own(Deal, "stage_entered_at", _("entered its stage"), DATE),
        _own(Deal, "created_at", pgettext_lazy("when a record was made", "created"), DATE),
        *_customer_fields(via="customer"),
    ),
    settable=_keyed(
        _settable(Deal, "stage", _("stage"), CHOICE, choices=_stage_choices, related_model=Stage),
        _settable(
            Deal,
            "forecast_category",
            _("forecast category"),
            CHOICE,
            choices=_static(Deal.ForecastCategory.choices),
        ),
        _settable(Deal, "next_step", _("next step"), TEXT),
        *_people_settable(Deal, "owner", _("owner")),
    ),
)

TICKET = RecordKind(
    key=Ticket._meta.model_name,
    label=_("Ticket"),
    model=Ticket,
    visible=ticket_list_visible,
    url_name="service:ticket_detail",
    owner_field="assignee",
    fields=_keyed(
        _own(Ticket, "subject", _("subject"), TEXT),
        _own(Ticket, "type", _("type"), CHOICE, choices=_static(Ticket.Type.choices)),
        _own(Ticket, "channel", _("channel"), CHOICE, choices=_static(Ticket.Channel.choices)),
        _own(Ticket, "priority", _("priority"), CHOICE, choices=_static(Priority.choices)),
        _own(Ticket, "status", _("status"), CHOICE, choices=_static(Ticket.Status.choices)),
        _own(
            Ticket,
            "category",
            _("category"),
            CHOICE,
            choices=_category_choices,
            related_model=TicketCategory,
        ),
        RuleField("tags", _("tags"), TAGS, "tags__name", many=True, secured=(Ticket, "tags")),
        *_people_fields(Ticket, "assignee", _("assignee"), _("assignee's team")),
        _own(Ticket, "first_response_breached", _("first response target missed"), BOOLEAN),
        _own(Ticket, "resolution_breached", _("resolution target missed"), BOOLEAN),
        _own(Ticket, "satisfaction_rating", _("satisfaction rating"), NUMBER),
        _own(Ticket, "reopened_count", _("times reopened"), NUMBER),
        _own(Ticket, "resolution_due_at", _("resolution due"), DATE),
        _own(Ticket, "created_at", pgettext_lazy("when a record was made", "created"), DATE),
        *_customer_fields(via="customer"),
    ),
    settable=_keyed(
        _settable(Ticket, "status", _("status"), CHOICE, choices=_static(Ticket.Status.choices)),
        _settable(Ticket, "priority", _("priority"), CHOICE, choices=_static(Priority.choices)),
        _settable(Ticket, "type", _("type"), CHOICE, choices=_static(Ticket.Type.choices)),
        _settable(
            Ticket,
            "category",
            _("category"),
            CHOICE,
            choices=_category_choices,
            related_model=TicketCategory,
        ),
        *_people_settable(Ticket, "assignee", _("assignee")),
        *_tag_settable(Ticket),
    ),
)

RECORD_KINDS: dict[str, RecordKind] = {kind.key: kind for kind in (CUSTOMER, DEAL, TICKET)}


def record_kind(key: str) -> RecordKind:
    return RECORD_KINDS[key]


def record_kind_for_model(model: type[Model]) -> RecordKind | None:
    for kind in RECORD_KINDS.values():
        if kind.model is model:
            return kind
    return None
