"""/api/v1/ for tickets and what hangs off them: tickets with the business operations
(POST /tickets/{id}/reply/, assign/, resolve/, reopen/, status/) and their thread and status
history (GET /tickets/{id}/messages/, history/), every visible message at /ticket-messages/,
ticket categories and canned responses.

Tickets are read through the selectors (the visibility rule: another team's ticket is a 404) and
written through service.services.tickets, so the API validates, checks the `version`, moves the
SLA clocks and records the history exactly as the pages do.
"""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import pagination, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from crm.accounts.api import UserSummarySerializer
from crm.accounts.models import Team
from crm.accounts.selectors import records_visible_to, user_list_active
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import ExpandableSerializerMixin, FieldsMixin
from crm.api.filters import IsoDateTimeFilter
from crm.api.pagination import CursorPagination
from crm.api.serializers import StrictModelSerializer, representation_json
from customers.api.customers import CustomerSummarySerializer, TagNamesField
from customers.api.records import ChangeOnPostPermissions, VisibleCustomerField
from service.models import (
    CannedResponse,
    Priority,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
)
from service.selectors import canned as canned_selectors
from service.selectors import tickets as selectors
from service.selectors.queues import TicketFilter
from service.services import canned as canned_services
from service.services import categories as category_services
from service.services import tickets as services

NOTES_PERMISSION = "service.view_ticketmessage"


def _files_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        write_only=True,
        help_text=_("Files to attach (multipart/form-data only); at most 10 MB each."),
    )


@extend_schema_field(OpenApiTypes.STR)
class StatusInputField(serializers.ChoiceField):
    """A ticket status given as input. Documented as a plain string so that the statuses are one
    enum in the schema, the Ticket's `status`, instead of several with made-up names."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", _("new, open, pending, resolved or closed."))
        super().__init__(choices=Ticket.Status.choices, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class PriorityField(serializers.ChoiceField):
    """A ticket's (or an SLA policy's) priority. Documented as a plain string: as an enum it would
    collide with the tasks' and needs' priorities (low, normal, high), and the schema would name
    both sets with made-up suffixes."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", _("low, normal, high or urgent."))
        super().__init__(choices=Priority.choices, **kwargs)


# Tickets -----------------------------------------------------------------------------------------


class TicketCategorySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketCategory
        fields = ["id", "name"]
        read_only_fields = fields


class TicketSerializer(ExpandableSerializerMixin, StrictModelSerializer):
    """A ticket with its SLA: the due times (pushed back by the time it was pending on the
    customer), when they were met and whether they were breached. `version` is what a later change
    must name."""

    customer = VisibleCustomerField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("Left out on creation, the caller."),
    )

    expandable_fields = {
        "customer": CustomerSummarySerializer,
        "assignee": UserSummarySerializer,
        "category": TicketCategorySummarySerializer,
    }
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Left out on creation, the assignee's team, else the customer's."),
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=TicketCategory.objects.filter(is_active=True), required=False, allow_null=True
    )
    priority = PriorityField(required=False)
    tags = TagNamesField(required=False)
    attachments = _files_field()
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=_(
            "Read: the ticket's version. A change (PUT or PATCH) must name the version it was "
            "made from, and a stale one is refused with 409; a new ticket names none."
        ),
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "type",
            "channel",
            "subject",
            "description",
            "priority",
            "status",
            "customer",
            "customer_name",
            "assignee",
            "team",
            "category",
            "tags",
            "attachments",
            "created_by",
            "sla_policy",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "sla_paused_at",
            "first_response_seconds",
            "resolution_seconds",
            "first_response_breached",
            "resolution_breached",
            "reopened_count",
            "satisfaction_rating",
            "satisfaction_comment",
            "rated_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "status",
            "created_by",
            "sla_policy",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "sla_paused_at",
            "first_response_seconds",
            "resolution_seconds",
            "first_response_breached",
            "resolution_breached",
            "reopened_count",
            "satisfaction_rating",
            "satisfaction_comment",
            "rated_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "first_response_seconds": {"help_text": _("Business seconds to the first reply.")},
            "resolution_seconds": {"help_text": _("Business seconds to resolution.")},
        }

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, Ticket):
            # A ticket stays with its customer; files are added with a reply.
            fields["customer"] = serializers.PrimaryKeyRelatedField(read_only=True)
            del fields["attachments"]
        return fields

    def validate(self, attrs):
        # One serializer (so one schema component) reads, creates and changes a ticket: the
        # version is required for a change, PATCH included, and refused on creation.
        if isinstance(self.instance, Ticket) and "version" not in attrs:
            raise serializers.ValidationError({"version": [_("This field is required.")]})
        if self.instance is None and "version" in attrs:
            raise serializers.ValidationError({"version": [_("A new ticket has no version yet.")]})
        return attrs


class TicketApiFilter(TicketFilter):
    """The ticket list page's filters, with a few more for integrations."""

    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    breached = filters.BooleanFilter(method="filter_breached", label=_("Either SLA breached"))

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        breached = Q(first_response_breached=True) | Q(resolution_breached=True)
        return queryset.filter(breached) if value else queryset.exclude(breached)


class TicketReplySerializer(StrictModelSerializer):
    """A public reply (the customer sees it; the first one stops the first-response clock) or an
    internal note, optionally moving the ticket to `status`."""

    kind = serializers.ChoiceField(
        choices=[
            (TicketMessage.Kind.REPLY, TicketMessage.Kind.REPLY.label),
            (TicketMessage.Kind.NOTE, TicketMessage.Kind.NOTE.label),
        ],
        default=TicketMessage.Kind.REPLY,
    )
    status = StatusInputField(
        required=False,
        help_text=_(
            "new, open, pending, resolved or closed. Left out, a reply moves a new ticket to "
            "open and leaves others as they are."
        ),
    )
    attachments = _files_field()

    class Meta:
        model = TicketMessage
        fields = ["body", "kind", "status", "attachments"]


class TicketAssignSerializer(StrictModelSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(), allow_null=True, help_text=_("null to unassign.")
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        help_text=_("Left out, the assignee's team."),
    )
    version = serializers.IntegerField(min_value=1)

    class Meta:
        model = Ticket
        fields = ["assignee", "team", "version"]


class TicketVersionSerializer(StrictModelSerializer):
    version = serializers.IntegerField(
        min_value=1, help_text=_("The version the change was made from.")
    )

    class Meta:
        model = Ticket
        fields = ["version"]


class TicketStatusSerializer(StrictModelSerializer):
    status = StatusInputField()
    version = serializers.IntegerField(min_value=1)

    class Meta:
        model = Ticket
        fields = ["status", "version"]


class TicketAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text=_("Where to download the file (the same visibility rule applies).")
    )

    class Meta:
        model = TicketAttachment
        fields = ["id", "name", "size", "content_type", "url"]
        read_only_fields = fields

    def get_url(self, attachment: TicketAttachment) -> str:
        return reverse("service:ticket_attachment", args=[attachment.pk])


class TicketMessageSerializer(serializers.ModelSerializer):
    """One entry of a thread: `customer` (from the customer), `reply` (public) or `note`
    (internal)."""

    author_name = serializers.SerializerMethodField()
    attachments = TicketAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "ticket",
            "kind",
            "body",
            "author",
            "author_name",
            "attachments",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, message: TicketMessage) -> str:
        return str(message.author) if message.author is not None else ""


class TicketStatusChangeSerializer(serializers.ModelSerializer):
    """One move of a ticket between statuses; `from_status` is empty for its creation."""

    # Plain strings, as the Ticket's `status` enum documents them.
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)

    class Meta:
        model = TicketStatusChange
        fields = ["id", "ticket", "from_status", "to_status", "changed_by", "changed_at"]
        read_only_fields = fields


class ThreadPagination(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


def _ticket_detail_queryset():
    return Ticket.objects.select_related(
        "customer", "assignee", "team", "category", "sla_policy"
    ).prefetch_related("tags")


def ticket_payload(ticket: Ticket) -> dict:
    """The ticket as GET /api/v1/tickets/{id}/ shows it: the record of its webhook events, read
    afresh so it shows the committed change (only its id once it is gone)."""
    fresh = _ticket_detail_queryset().filter(pk=ticket.pk).first()
    return representation_json(TicketSerializer(fresh).data) if fresh else {"id": ticket.pk}


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "A customer cannot sign in",
                value={
                    "customer": 42,
                    "subject": "Cannot sign in to the customer portal",
                    "description": "Since this morning the portal says my password is wrong.",
                    "type": "inquiry",
                    "channel": "email",
                    "priority": "high",
                    "category": 3,
                    "tags": ["portal"],
                },
                request_only=True,
            )
        ]
    )
)
class TicketViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Tickets the caller may see, with the list page's filters. A change names the `version` it
    was made from; a stale one is refused with 409 (conflict), and nothing is written. Status
    moves follow the workflow (new → open/pending/resolved/closed, pending ↔ open, resolved or
    closed → open to reopen); a move it does not allow is a 400 naming `status`."""

    queryset = Ticket.objects.none()
    serializer_class = TicketSerializer
    filterset_class = TicketApiFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = [
        "created_at",
        "updated_at",
        "number",
        "first_response_due_at",
        "resolution_due_at",
    ]
    pagination_class = CursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    create_service = services.ticket_create
    update_service = services.ticket_update
    delete_service = services.ticket_delete
    record_argument = "ticket"

    def get_queryset(self):
        return selectors.ticket_list_visible(user=self.request.user).prefetch_related("tags")

    def reread(self, record: Ticket) -> Ticket:
        # By id only: the caller may just have handed the ticket to another team.
        return _ticket_detail_queryset().get(pk=record.pk)

    def _output(self, ticket: Ticket) -> Response:
        return Response(
            TicketSerializer(self.reread(ticket), context=self.get_serializer_context()).data
        )

    def _validated(self, serializer_class) -> dict:
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @extend_schema(
        request={
            "application/json": TicketReplySerializer,
            "multipart/form-data": TicketReplySerializer,
        },
        responses={201: TicketMessageSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def reply(self, request, pk=None):
        """Add a public reply or an internal note to the thread (multipart to attach files). The
        ticket's version moves on."""
        ticket = self.get_object()
        values = self._validated(TicketReplySerializer)
        message = call_service(
            services.ticket_reply,
            actor=request.user,
            ticket=ticket,
            body=values["body"],
            kind=values["kind"],
            status=values.get("status"),
            attachments=values.get("attachments", ()),
        )
        message = selectors.ticket_thread(ticket=ticket).get(pk=message.pk)
        return Response(
            TicketMessageSerializer(message, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=TicketAssignSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def assign(self, request, pk=None):
        """Hand the ticket to someone (null: nobody); they are told. Left out, the team becomes
        the assignee's."""
        ticket = self.get_object()
        values = self._validated(TicketAssignSerializer)
        ticket = call_service(services.ticket_assign, actor=request.user, ticket=ticket, **values)
        return self._output(ticket)

    @extend_schema(request=TicketVersionSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def resolve(self, request, pk=None):
        """Resolve the ticket: the resolution clock stops and the customer is sent a
        satisfaction survey."""
        ticket = self.get_object()
        values = self._validated(TicketVersionSerializer)
        ticket = call_service(services.ticket_resolve, actor=request.user, ticket=ticket, **values)
        return self._output(ticket)

    @extend_schema(request=TicketVersionSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def reopen(self, request, pk=None):
        """Open a resolved or closed ticket again (counted in `reopened_count`)."""
        ticket = self.get_object()
        values = self._validated(TicketVersionSerializer)
        ticket = call_service(services.ticket_reopen, actor=request.user, ticket=ticket, **values)
        return self._output(ticket)

    @extend_schema(request=TicketStatusSerializer, responses=TicketSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="status",
        url_name="status",
        permission_classes=[ChangeOnPostPermissions],
    )
    def change_status(self, request, pk=None):
        """Move the ticket to another status along the workflow."""
        ticket = self.get_object()
        values = self._validated(TicketStatusSerializer)
        ticket = call_service(
            services.ticket_change_status, actor=request.user, ticket=ticket, **values
        )
        return self._output(ticket)

    @extend_schema(responses=TicketMessageSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        ordering_fields=[],
        pagination_class=ThreadPagination,
    )
    def messages(self, request, pk=None):
        """The ticket's thread, oldest first; internal notes only for callers who may read
        ticket messages."""
        ticket = self.get_object()
        thread = selectors.ticket_thread(ticket=ticket).order_by("created_at", "id")
        if not request.user.has_perm(NOTES_PERMISSION):
            thread = thread.exclude(kind=TicketMessage.Kind.NOTE)
        page = self.paginate_queryset(thread)
        return self.get_paginated_response(
            TicketMessageSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(responses=TicketStatusChangeSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        ordering_fields=[],
        pagination_class=ThreadPagination,
    )
    def history(self, request, pk=None):
        """The ticket's status changes, oldest first; the first one (from no status) is its
        creation."""
        ticket = self.get_object()
        changes = self.paginate_queryset(ticket.status_changes.order_by("changed_at", "id"))
        return self.get_paginated_response(
            TicketStatusChangeSerializer(
                changes, many=True, context=self.get_serializer_context()
            ).data
        )


# Messages ----------------------------------------------------------------------------------------


class TicketMessageFilter(filters.FilterSet):
    ticket = filters.NumberFilter(field_name="ticket_id")

    class Meta:
        model = TicketMessage
        fields = ["ticket", "kind"]


class TicketMessageViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Every message, reply and note on the tickets the caller may see, newest first; written
    through POST /tickets/{id}/reply/."""

    queryset = TicketMessage.objects.none()
    serializer_class = TicketMessageSerializer
    filterset_class = TicketMessageFilter
    filter_backends = [filters.DjangoFilterBackend]
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return records_visible_to(
            user=self.request.user,
            queryset=TicketMessage.objects.select_related("author").prefetch_related("attachments"),
        )


# Categories --------------------------------------------------------------------------------------


class TicketCategorySerializer(StrictModelSerializer):
    class Meta:
        model = TicketCategory
        fields = ["id", "name", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The category service checks the name, with the pages' message.
        extra_kwargs = {"name": {"validators": []}}


class TicketCategoryViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Categories tickets are filed under. One that tickets use cannot be deleted (in_use);
    deactivate it instead, and it is no longer offered for new tickets."""

    queryset = TicketCategory.objects.order_by("name", "pk")
    serializer_class = TicketCategorySerializer
    filterset_fields = ["is_active"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    create_service = category_services.category_create
    update_service = category_services.category_update
    delete_service = category_services.category_delete
    record_argument = "category"


# Canned responses --------------------------------------------------------------------------------


class CannedResponseSerializer(StrictModelSerializer):
    """A reusable reply. {customer_name}, {ticket_number}, {ticket_subject} and {agent_name} are
    filled in when it is used."""

    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Set, the team shares it; left empty, it is the owner's own."),
    )

    class Meta:
        model = CannedResponse
        fields = ["id", "name", "body", "owner", "team", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


class CannedResponseViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """The caller's own canned responses and those shared with their teams."""

    queryset = CannedResponse.objects.none()
    serializer_class = CannedResponseSerializer
    filterset_fields = ["team"]
    search_fields = ["name", "body"]
    ordering_fields = ["name", "created_at"]

    create_service = canned_services.canned_response_create
    update_service = canned_services.canned_response_update
    delete_service = canned_services.canned_response_delete
    record_argument = "response"

    def get_queryset(self):
        return canned_selectors.canned_response_list_visible(user=self.request.user).order_by(
            "name", "pk"
        )


routes = [
    ("tickets", TicketViewSet, "ticket"),
    ("ticket-messages", TicketMessageViewSet, "ticket-message"),
    ("ticket-categories", TicketCategoryViewSet, "ticket-category"),
    ("canned-responses", CannedResponseViewSet, "canned-response"),
]
urlpatterns: list = []
