"""/api/v1/shares/: who a record is shared with, sharing it and stopping.

The list is of one record's shares (`?type=sales.deal&id=42`), 404 when the caller cannot see
the record. Creating and deleting go through the sharing services, so only those who may change
the record share it, and each change is logged and told to whoever it concerns.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from collaboration.selectors import sharing as selectors
from collaboration.services import sharing as services
from crm.accounts.models import RecordShare, Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictSerializer


@extend_schema_field(
    {"type": "string", "enum": list(selectors.SHAREABLE_TYPES), "example": "sales.deal"}
)
class RecordTypeField(serializers.CharField):
    """A kind of record that may be shared, as "app_label.model"."""

    default_error_messages = {"unknown": _("Records of type “{value}” cannot be shared.")}

    def to_internal_value(self, data) -> str:
        label = super().to_internal_value(data).strip().lower()
        if label not in selectors.SHAREABLE_TYPES:
            self.fail("unknown", value=data)
        return label


class RecordShareSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField(help_text=_("The record's kind, as app.model."))
    record_id = serializers.IntegerField(source="object_id", read_only=True)

    class Meta:
        model = RecordShare
        fields = [
            "id",
            "type",
            "record_id",
            "team",
            "user",
            "access",
            "shared_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_type(self, share: RecordShare) -> str:
        content_type = share.content_type
        return f"{content_type.app_label}.{content_type.model}"


class RecordShareCreateSerializer(StrictSerializer):
    type = RecordTypeField(help_text=_("The record's kind, as app.model."))
    id = serializers.IntegerField(help_text=_("The record's id."))
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Share with this team; give a team or a user, not both."),
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("Share with this person; give a team or a user, not both."),
    )
    access = serializers.ChoiceField(
        choices=RecordShare.Access.choices,
        default=RecordShare.Access.READ,
        help_text=_("read: they may view it; edit: they may change it too."),
    )


class RecordShareFilterSerializer(serializers.Serializer):
    type = RecordTypeField()
    id = serializers.IntegerField()


RECORD_PARAMETERS = [
    OpenApiParameter(
        "type",
        str,
        required=True,
        enum=list(selectors.SHAREABLE_TYPES),
        description=str(_("The record's kind, as app.model.")),
    ),
    OpenApiParameter("id", int, required=True, description=str(_("The record's id."))),
]


@extend_schema_view(
    list=extend_schema(parameters=RECORD_PARAMETERS, responses=RecordShareSerializer(many=True)),
    create=extend_schema(request=RecordShareCreateSerializer, responses=RecordShareSerializer),
)
class RecordShareViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Shares of records with teams and users. List one record's shares with `type` and `id`
    (404 when the caller cannot see it); create one to share a record the caller may change
    (`access` read or edit; sharing again with the same team or user changes the access);
    delete one to stop sharing."""

    serializer_class = RecordShareSerializer
    queryset = RecordShare.objects.none()
    filter_backends: list = []
    pagination_class = None

    def _record(self, type_label: str, record_id: int):
        record = selectors.shareable_record_visible(
            user=self.request.user, type_label=type_label, record_id=record_id
        )
        if record is None:
            raise NotFound(_("No such record."))
        return record

    def get_queryset(self):
        # Permissions read the model from here; the records come from the selectors.
        return RecordShare.objects.none()

    def list(self, request, *args, **kwargs):
        params = RecordShareFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        record = self._record(params.validated_data["type"], params.validated_data["id"])
        shares = selectors.record_shares_for(user=request.user, record=record)
        return Response(self.get_serializer(shares, many=True).data)

    def get_object(self):
        try:
            share = selectors.record_share_get_visible(
                user=self.request.user, pk=int(self.kwargs["pk"])
            )
        except (RecordShare.DoesNotExist, ValueError) as exc:
            raise NotFound(_("No such share.")) from exc
        self.check_object_permissions(self.request, share)
        return share

    def create(self, request, *args, **kwargs):
        data = RecordShareCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        record = self._record(values["type"], values["id"])
        share = call_service(
            services.record_share_grant,
            actor=request.user,
            record=record,
            team=values.get("team"),
            user=values.get("user"),
            access=values["access"],
        )
        return Response(self.get_serializer(share).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        call_service(services.record_share_revoke, actor=self.request.user, share=instance)


routes = [("shares", RecordShareViewSet, "recordshare")]
urlpatterns: list = []
