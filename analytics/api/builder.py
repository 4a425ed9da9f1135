"""The prediction builder over the API.

POST /api/v1/builder/ {target_field, positive_value, name?, title?, feature_fields?,
excluded_fields?} creates the builder model (or retrains the one of that name) and queues its
build: 202 with the model's name and the queued version, 400 naming the field at fault, 409 while
that model is already training.
GET /api/v1/builder/fields/ lists the customer fields a model can predict or use, with their
inferred type and values.
Both need `analytics.train_predictivemodel` (managers and admins).
"""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import ModelVersion
from analytics.selectors.builder import builder_fields
from analytics.services.builder import TRAIN_PERMISSION, builder_create
from analytics.services.training import ModelBusy
from crm.api.calls import Conflict, call_service
from crm.api.fields import FieldsMixin


class CanTrainModels(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(TRAIN_PERMISSION))


class BuilderRequestSerializer(serializers.Serializer):
    target_field = serializers.CharField(
        max_length=120, help_text=_("A yes/no or categorical field (see builder/fields/).")
    )
    positive_value = serializers.CharField(
        max_length=200, help_text=_("The value of the field that counts as yes.")
    )
    name = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The model's name; an existing builder model of that name is retrained."),
    )
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    feature_fields = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=_("Use only these fields; empty means every usable field."),
    )
    excluded_fields = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=_("Leave these fields out."),
    )


class BuilderQueuedSerializer(serializers.Serializer):
    model = serializers.CharField(help_text=_("The model's name."))
    version = serializers.IntegerField(help_text=_("The queued version's id."))
    number = serializers.IntegerField()
    status = serializers.CharField()
    progress_url = serializers.CharField(
        help_text=_(
            "GET it for the version's status, progress (%), stage and, once done, the "
            "cross-validated AUC of each algorithm in metrics.selection."
        )
    )


class FieldValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], apart from the customers' own "source".
FIELD_SOURCES = ["standard", "custom"]


class BuilderFieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("What target_field and the field lists take."))
    label = serializers.CharField()
    source = serializers.ChoiceField(choices=FIELD_SOURCES)
    kind = serializers.ChoiceField(choices=["numeric", "categorical", "unusable"])
    present = serializers.IntegerField(source="profile.present")
    distinct = serializers.IntegerField(source="profile.distinct")
    values = serializers.SerializerMethodField()
    can_be_predicted = serializers.BooleanField()
    reason = serializers.CharField(
        source="profile.reason", help_text=_("Why the field is not used, when it is not.")
    )

    @extend_schema_field(FieldValueSerializer(many=True))
    def get_values(self, field) -> list[dict]:
        return [{"value": value, "count": count} for value, count in field.profile.values]


class BuilderView(FieldsMixin, APIView):
    permission_classes = [CanTrainModels]

    @extend_schema(
        operation_id="builder_create",
        request=BuilderRequestSerializer,
        responses={202: BuilderQueuedSerializer},
        description=__doc__,
    )
    def post(self, request):
        serializer = BuilderRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            version = call_service(
                builder_create,
                user=request.user,
                trigger=ModelVersion.Trigger.API,
                **serializer.validated_data,
            )
        except ModelBusy as error:
            raise Conflict(str(error), code="busy") from error
        body = {
            "model": version.model.name,
            "version": version.pk,
            "number": version.number,
            "status": version.status,
            "progress_url": request.build_absolute_uri(
                reverse("modelversion-detail", kwargs={"pk": version.pk})
            ),
        }
        return Response(BuilderQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class BuilderFieldsView(FieldsMixin, APIView):
    permission_classes = [CanTrainModels]

    @extend_schema(
        operation_id="builder_fields",
        responses=BuilderFieldSerializer(many=True),
        description=__doc__,
    )
    def get(self, request):
        fields = builder_fields(user=request.user)
        return Response(BuilderFieldSerializer(fields, many=True).data)


routes: list = []
urlpatterns = [
    path("builder/", BuilderView.as_view(), name="builder-create"),
    path("builder/fields/", BuilderFieldsView.as_view(), name="builder-fields"),
]
