"""/api/v1/ for the model registry: predictive models by name (/models/{name}/) and their
training runs (/model-versions/?model=purchase), with the two business operations:
POST /models/{name}/retrain/ queues a retrain (202, 409 while one runs) and
POST /model-versions/{id}/activate/ makes a trained version active by hand (a rollback when it is
older than the active one), after which the model's `scoring` tells how the re-scoring with it
goes. Both need `analytics.train_predictivemodel`; reading needs the view
permission every role has.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from analytics.models import AnalyticsJob, ModelVersion, PredictiveModel
from analytics.selectors import models as selectors
from analytics.services.training import (
    ModelBusy,
    model_retrain_request,
    model_version_activate,
)
from crm.api.calls import Conflict, call_service
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions

TRAIN_PERMISSION = "analytics.train_predictivemodel"


class TrainOnPostPermissions(ModelPermissions):
    """Reading as for any model; a POST (retrain, activate) needs the permission to train."""

    perms_map = {**ModelPermissions.perms_map, "POST": [TRAIN_PERMISSION]}


@extend_schema_field(OpenApiTypes.STR)
class VersionStatusField(serializers.ChoiceField):
    """A version's status, documented as a plain string: as an enum it would collide with the
    analytics jobs' statuses (queued, running, done, failed) and get a made-up name."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", _("queued, training, scoring, done or failed."))
        super().__init__(choices=ModelVersion.Status.choices, read_only=True, **kwargs)


class ModelVersionSummarySerializer(serializers.ModelSerializer):
    status = VersionStatusField()
    roc_auc = serializers.FloatField(allow_null=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "number", "status", "progress", "stage", "roc_auc", "finished_at"]
        read_only_fields = fields


class ScoringJobSerializer(serializers.ModelSerializer):
    """The re-scoring after an activation by hand: `version` is the version it scores with,
    `scored` (once done) how many customers or tickets it scored."""

    version = serializers.IntegerField(source="stats.version", read_only=True, allow_null=True)
    scored = serializers.IntegerField(source="stats.scored", read_only=True, allow_null=True)

    class Meta:
        model = AnalyticsJob
        fields = [
            "id",
            "status",
            "progress",
            "stage",
            "version",
            "scored",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class PredictiveModelSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="display_title", read_only=True)
    active_version = ModelVersionSummarySerializer(read_only=True, allow_null=True)
    training_version = ModelVersionSummarySerializer(
        read_only=True,
        allow_null=True,
        help_text=_("The retrain under way (queued, training or scoring), if any."),
    )
    last_trained_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("When a version last finished.")
    )
    scoring = serializers.SerializerMethodField(
        help_text=_("The latest re-scoring after an activation by hand, if any.")
    )

    class Meta:
        model = PredictiveModel
        fields = [
            "id",
            "name",
            "title",
            "kind",
            "subject",
            "description",
            "active_version",
            "training_version",
            "last_trained_at",
            "scoring",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ScoringJobSerializer(allow_null=True))
    def get_scoring(self, model: PredictiveModel) -> dict | None:
        job = selectors.model_scoring_job_latest(model=model)
        return None if job is None else ScoringJobSerializer(job).data


class ModelVersionSerializer(serializers.ModelSerializer):
    """One training run: what it was trained on, its held-out metrics (roc_auc, accuracy,
    precision, recall, log_loss, roc, confusion, calibration; `labels` names the confusion
    matrix's rows and columns for a model choosing among several classes), the artifact's
    SHA-256 and the promotion decision."""

    model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    status = VersionStatusField()
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "number",
            "is_active",
            "status",
            "progress",
            "stage",
            "trigger",
            "started_by",
            "algorithm",
            "parameters",
            "features",
            "train_rows",
            "test_rows",
            "positive_rate",
            "metrics",
            "feature_importance",
            "training_seconds",
            "scored_rows",
            "scoring_seconds",
            "artifact_sha256",
            "decision",
            "decision_note",
            "decided_by",
            "error",
            "started_at",
            "finished_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_active(self, version: ModelVersion) -> bool:
        return version.model.active_version_id == version.pk


class RetrainQueuedSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=_("The queued version's id."))
    number = serializers.IntegerField()
    status = serializers.CharField()
    progress_url = serializers.CharField(
        help_text=_("GET it for the version's status, progress (%) and stage.")
    )


class ModelVersionFilter(filters.FilterSet):
    model = filters.CharFilter(field_name="model__name", help_text=_("The model's name."))

    class Meta:
        model = ModelVersion
        fields = ["model", "status"]


class PredictiveModelViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Every predictive model, with its active version and the retrain under way."""

    queryset = PredictiveModel.objects.none()
    serializer_class = PredictiveModelSerializer
    lookup_field = "name"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends = []
    permission_classes = [TrainOnPostPermissions]

    def get_queryset(self):
        return selectors.predictive_model_list_with_scoring()

    @extend_schema(request=None, responses={202: RetrainQueuedSerializer})
    @action(detail=True, methods=["post"])
    def retrain(self, request, name=None):
        """Queue a retrain. 409 (busy) while another retrain of the model is queued or
        running; follow `progress_url` until its status is done or failed."""
        model = self.get_object()
        try:
            version = model_retrain_request(
                model=model, trigger=ModelVersion.Trigger.API, user=request.user
            )
        except ModelBusy as error:
            raise Conflict(str(error), code="busy") from error
        progress_url = request.build_absolute_uri(
            reverse("modelversion-detail", kwargs={"pk": version.pk})
        )
        body = {
            "version": version.pk,
            "number": version.number,
            "status": version.status,
            "progress_url": progress_url,
        }
        return Response(RetrainQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class ModelVersionViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """The training runs of every model, newest first; `?model=<name>` for one model's."""

    queryset = ModelVersion.objects.none()
    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    filter_backends = [filters.DjangoFilterBackend]
    permission_classes = [TrainOnPostPermissions]

    def get_queryset(self):
        return selectors.model_version_list_all()

    @extend_schema(request=None, responses=ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Make this trained version the active one whatever its AUC (a rollback when it is
        older than the active version); the model's scores are then recomputed with it."""
        version = self.get_object()
        call_service(
            model_version_activate,
            version=version,
            user=request.user,
            trigger=ModelVersion.Trigger.API,
        )
        version = self.get_queryset().get(pk=version.pk)
        return Response(self.get_serializer(version).data)


routes = [
    ("models", PredictiveModelViewSet, "predictivemodel"),
    ("model-versions", ModelVersionViewSet, "modelversion"),
]
urlpatterns: list = []
