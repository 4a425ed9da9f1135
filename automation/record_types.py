"""What a rule may be about (customers, deals, tickets): where their records are, who may see
them, and the fields a rule may test and set, with how to reach each from the record in SQL.

Fields of related records sit beside the record's own ("Customer tier" on a deal or a ticket), so
a condition on them is as easy to build as one on the record."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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


def _user_choices() -> list[tuple[str, str]]:
    return [(str(user.pk), user.label) for user in User.objects.filter(is_active=True)]


def _team_choices() -> list[tuple[str, str]]:
    return [(str(team.pk), team.name) for team in Team.objects.order_by("name")]


def _stage_choices() -> list[tuple[str, str]]:
    stages = Stage.objects.select_related("pipeline").order_by("pipeline__name", "position")
    return [(str(stage.pk), f"{stage.pipeline.name} › {stage.name}") for stage in stages]


def _pipeline_choices() -> list[tuple[str, str]]:
    return [(str(pipeline.pk), pipeline.name) for pipeline in Pipeline.objects.order_by("name")]


def _category_choices() -> list[tuple[str, str]]:
    return [(str(category.pk), category.name) for category in TicketCategory.objects.all()]


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


def _fields(*items: RuleField) -> dict[str, RuleField]:
    return {item.key: item for item in items}


def _customer_fields(prefix: str, label_prefix) -> list[RuleField]:
    """A customer's fields, seen from the customer itself (no prefix) or from a deal or ticket."""
    path = f"{prefix}__" if prefix else ""
    key = f"{prefix}." if prefix else ""

    def label(text):
        return text if not label_prefix else _("Customer %(field)s") % {"field": text}

    def secured(name):
        return (Customer, name)

    return [
        RuleField(f"{key}name", label(_("name")), TEXT, f"{path}name", secured=secured("name")),
        RuleField(f"{key}email", label(_("email")), TEXT, f"{path}email", secured=secured("email")),
        RuleField(f"{key}city", label(_("city")), TEXT, f"{path}city", secured=secured("city")),
        RuleField(
            f"{key}province",
            label(_("province")),
            TEXT,
            f"{path}province",
            secured=secured("province"),
        ),
        RuleField(
            f"{key}country", label(_("country")), TEXT, f"{path}country", secured=secured("country")
        ),
        RuleField(
            f"{key}tier",
            label(_("tier")),
            CHOICE,
            f"{path}tier",
            choices=_static(Customer.Tier.choices),
            secured=secured("tier"),
        ),
        RuleField(
            f"{key}status",
            label(_("status")),
            CHOICE,
            f"{path}status",
            choices=_static(Customer.Status.choices),
            secured=secured("status"),
        ),
        RuleField(
            f"{key}source",
            label(_("source")),
            CHOICE,
            f"{path}source",
            choices=_static(Customer.Source.choices),
            secured=secured("source"),
        ),
        RuleField(
            f"{key}tags",
            label(_("tags")),
            TAGS,
            f"{path}tags__name",
            many=True,
            secured=secured("tags"),
        ),
        RuleField(
            f"{key}total_spend",
            label(_("total spend")),
            NUMBER,
            f"{path}total_spend",
            secured=secured("total_spend"),
        ),
        RuleField(
            f"{key}order_count",
            label(_("number of orders")),
            NUMBER,
            f"{path}order_count",
            secured=secured("order_count"),
        ),
        RuleField(
            f"{key}marketing_consent",
            label(_("agreed to marketing")),
            BOOLEAN,
            f"{path}marketing_consent",
            secured=secured("marketing_consent"),
        ),
    ]


CUSTOMER = RecordKind(
    key=Customer._meta.model_name,
    label=_("Customer"),
    model=Customer,
    visible=customer_list_visible,
    url_name="customers:customer_detail",
    owner_field="owner",
    fields=_fields(
        *_customer_fields("", None),
        RuleField(
            "language",
            _("language"),
            CHOICE,
            "language",
            choices=_static(Customer._meta.get_field("language").choices),
            secured=(Customer, "language"),
        ),
        RuleField(
            "annual_income",
            _("annual income"),
            NUMBER,
            "annual_income",
            secured=(Customer, "annual_income"),
        ),
        RuleField("owner", _("owner"), USER, "owner", choices=_user_choices, related_model=User),
        RuleField("team", _("team"), TEAM, "team", choices=_team_choices, related_model=Team),
        RuleField(
            "owner_team",
            _("owner's team"),
            TEAM,
            "owner__team_memberships__team",
            choices=_team_choices,
            many=True,
            related_model=Team,
        ),
        RuleField(
            "birthday",
            _("birthday"),
            DATE,
            "birthday",
            yearly=True,
            secured=(Customer, "birthday"),
        ),
        RuleField("last_contact_at", _("last contact"), DATE, "last_contact_at"),
        RuleField("created_at", _("created"), DATE, "created_at"),
    ),
    settable={
        item.key: item
        for item in (
            SettableField(
                "tier",
                _("tier"),
                CHOICE,
                _static(Customer.Tier.choices),
                secured=(Customer, "tier"),
            ),
            SettableField(
                "status",
                _("status"),
                CHOICE,
                _static(Customer.Status.choices),
                secured=(Customer, "status"),
            ),
            SettableField(
                "source",
                _("source"),
                CHOICE,
                _static(Customer.Source.choices),
                secured=(Customer, "source"),
            ),
            SettableField(
                "owner", _("owner"), USER, _user_choices, User, secured=(Customer, "owner")
            ),
            SettableField("team", _("team"), TEAM, _team_choices, Team, secured=(Customer, "team")),
            SettableField("add_tag", _("add a tag"), TEXT, secured=(Customer, "tags")),
            SettableField("remove_tag", _("remove a tag"), TEXT, secured=(Customer, "tags")),
        )
    },
)

DEAL = RecordKind(
    key=Deal._meta.model_name,
    label=_("Deal"),
    model=Deal,
    visible=deal_list_visible,
    url_name="sales:deal_detail",
    owner_field="owner",
    fields=_fields(
        RuleField("name", _("name"), TEXT, "name", secured=(Deal, "name")),
        RuleField("amount", _("amount"), NUMBER, "amount", secured=(Deal, "amount")),
        RuleField(
            "stage",
            _("stage"),
            CHOICE,
            "stage",
            choices=_stage_choices,
            related_model=Stage,
            secured=(Deal, "stage"),
        ),
        RuleField(
            "stage_kind",
            _("open, won or lost"),
            CHOICE,
            "stage__kind",
            choices=_static(Stage.Kind.choices),
            secured=(Deal, "stage"),
        ),
        RuleField(
            "pipeline",
            _("pipeline"),
            CHOICE,
            "pipeline",
            choices=_pipeline_choices,
            related_model=Pipeline,
            secured=(Deal, "pipeline"),
        ),
        RuleField(
            "source",
            _("source"),
            CHOICE,
            "source",
            choices=_static(Customer.Source.choices),
            secured=(Deal, "source"),
        ),
        RuleField(
            "forecast_category",
            _("forecast category"),
            CHOICE,
            "forecast_category",
            choices=_static(Deal.ForecastCategory.choices),
            secured=(Deal, "forecast_category"),
        ),
        RuleField("owner", _("owner"), USER, "owner", choices=_user_choices, related_model=User),
        RuleField("team", _("team"), TEAM, "team", choices=_team_choices, related_model=Team),
        RuleField(
            "owner_team",
            _("owner's team"),
            TEAM,
            "owner__team_memberships__team",
            choices=_team_choices,
            many=True,
            related_model=Team,
        ),
        RuleField(
            "expected_close_date",
            _("expected close date"),
            DATE,
            "expected_close_date",
            secured=(Deal, "expected_close_date"),
        ),
        RuleField("stage_entered_at", _("entered its stage"), DATE, "stage_entered_at"),
        RuleField("created_at", _("created"), DATE, "created_at"),
        *_customer_fields("customer", True),
    ),
    settable={
        item.key: item
        for item in (
            SettableField(
                "stage", _("stage"), CHOICE, _stage_choices, Stage, secured=(Deal, "stage")
            ),
            SettableField(
                "forecast_category",
                _("forecast category"),
                CHOICE,
                _static(Deal.ForecastCategory.choices),
                secured=(Deal, "forecast_category"),
            ),
            SettableField("next_step", _("next step"), TEXT, secured=(Deal, "next_step")),
            SettableField("owner", _("owner"), USER, _user_choices, User, secured=(Deal, "owner")),
            SettableField("team", _("team"), TEAM, _team_choices, Team, secured=(Deal, "team")),
        )
    },
)

TICKET = RecordKind(
    key=Ticket._meta.model_name,
    label=_("Ticket"),
    model=Ticket,
    visible=ticket_list_visible,
    url_name="service:ticket_detail",
    owner_field="assignee",
    fields=_fields(
        RuleField("subject", _("subject"), TEXT, "subject", secured=(Ticket, "subject")),
        RuleField(
            "type",
            _("type"),
            CHOICE,
            "type",
            choices=_static(Ticket.Type.choices),
            secured=(Ticket, "type"),
        ),
        RuleField(
            "channel",
            _("channel"),
            CHOICE,
            "channel",
            choices=_static(Ticket.Channel.choices),
            secured=(Ticket, "channel"),
        ),
        RuleField(
            "priority",
            _("priority"),
            CHOICE,
            "priority",
            choices=_static(Priority.choices),
            secured=(Ticket, "priority"),
        ),
        RuleField(
            "status",
            _("status"),
            CHOICE,
            "status",
            choices=_static(Ticket.Status.choices),
            secured=(Ticket, "status"),
        ),
        RuleField(
            "category",
            _("category"),
            CHOICE,
            "category",
            choices=_category_choices,
            related_model=TicketCategory,
            secured=(Ticket, "category"),
        ),
        RuleField("tags", _("tags"), TAGS, "tags__name", many=True, secured=(Ticket, "tags")),
        RuleField(
            "assignee", _("assignee"), USER, "assignee", choices=_user_choices, related_model=User
        ),
        RuleField("team", _("team"), TEAM, "team", choices=_team_choices, related_model=Team),
        RuleField(
            "assignee_team",
            _("assignee's team"),
            TEAM,
            "assignee__team_memberships__team",
            choices=_team_choices,
            many=True,
            related_model=Team,
        ),
        RuleField(
            "first_response_breached",
            _("first response target missed"),
            BOOLEAN,
            "first_response_breached",
        ),
        RuleField(
            "resolution_breached", _("resolution target missed"), BOOLEAN, "resolution_breached"
        ),
        RuleField(
            "satisfaction_rating",
            _("satisfaction rating"),
            NUMBER,
            "satisfaction_rating",
            secured=(Ticket, "satisfaction_rating"),
        ),
        RuleField("reopened_count", _("times reopened"), NUMBER, "reopened_count"),
        RuleField("resolution_due_at", _("resolution due"), DATE, "resolution_due_at"),
        RuleField("created_at", _("created"), DATE, "created_at"),
        *_customer_fields("customer", True),
    ),
    settable={
        item.key: item
        for item in (
            SettableField(
                "status",
                _("status"),
                CHOICE,
                _static(Ticket.Status.choices),
                secured=(Ticket, "status"),
            ),
            SettableField(
                "priority",
                _("priority"),
                CHOICE,
                _static(Priority.choices),
                secured=(Ticket, "priority"),
            ),
            SettableField(
                "type", _("type"), CHOICE, _static(Ticket.Type.choices), secured=(Ticket, "type")
            ),
            SettableField(
                "category",
                _("category"),
                CHOICE,
                _category_choices,
                TicketCategory,
                secured=(Ticket, "category"),
            ),
            SettableField(
                "assignee", _("assignee"), USER, _user_choices, User, secured=(Ticket, "assignee")
            ),
            SettableField("team", _("team"), TEAM, _team_choices, Team, secured=(Ticket, "team")),
            SettableField("add_tag", _("add a tag"), TEXT, secured=(Ticket, "tags")),
            SettableField("remove_tag", _("remove a tag"), TEXT, secured=(Ticket, "tags")),
        )
    },
)

RECORD_KINDS: dict[str, RecordKind] = {kind.key: kind for kind in (CUSTOMER, DEAL, TICKET)}


def record_kind(key: str) -> RecordKind:
    return RECORD_KINDS[key]


def record_kind_for_model(model: type[Model]) -> RecordKind | None:
    for kind in RECORD_KINDS.values():
        if kind.model is model:
            return kind
    return None
