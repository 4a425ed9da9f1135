"""/api/v1/customer-imports/: upload a CSV file to import, follow its progress, fetch its report.

Every call needs the customers.import_customer permission; a person sees the imports they
started, admins see all.
"""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictModelSerializer, representation_json
from customers.models import ImportJob
from customers.selectors import imports as selectors
from customers.services import importing


class CanImportCustomers(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.has_perm(importing.IMPORT_PERMISSION)


class ReportNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "report_not_ready"
    default_detail = _("The import has not finished, so it has no report yet.")


class ImportJobSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)
    options = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "original_name",
            "owner",
            "status",
            "mapping",
            "options",
            "total_rows",
            "processed_rows",
            "progress_percent",
            "created_count",
            "updated_count",
            "merged_count",
            "rejected_count",
            "error",
            "report_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "updated_count": {
                "help_text": "Rows that matched an existing customer, filled in or already up to "
                "date."
            },
            "merged_count": {"help_text": "Later rows of a customer an earlier row already was."},
        }

    def get_options(self, job: ImportJob) -> dict:
        return {name: job.options[name] for name in importing.OPTION_NAMES if name in job.options}

    def get_report_url(self, job: ImportJob) -> str | None:
        if not job.report:
            return None
        request = self.context.get("request")
        url = reverse("customer-import-report", kwargs={"pk": job.pk})
        return request.build_absolute_uri(url) if request else settings.CRM_SITE_URL + url


def import_job_payload(job: ImportJob) -> dict:
    """The import as GET /api/v1/customer-imports/{id}/ shows it, with its counts: the record of
    its import.finished event. The report's link uses CRM_SITE_URL, as there is no request."""
    fresh = ImportJob.objects.select_related("owner").filter(pk=job.pk).first()
    return representation_json(ImportJobSerializer(fresh).data) if fresh else {"id": job.pk}


class ImportJobCreateSerializer(StrictModelSerializer):
    mapping = serializers.JSONField(
        binary=True,
        required=False,
        help_text="JSON object: column name → field, “custom” or “” (ignore). Guessed when left "
        "out.",
    )
    options = serializers.JSONField(
        binary=True,
        required=False,
        help_text="JSON object: keep_extra_columns, overwrite, dry_run (true/false), "
        "date_order (“dmy” or “mdy”).",
    )

    class Meta:
        model = ImportJob
        fields = ["file", "mapping", "options"]


class ImportJobViewSet(
    FieldsMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Customer imports: POST a CSV file (multipart) to import it; GET one to follow it."""

    queryset = ImportJob.objects.none()  # for the schema; get_queryset applies visibility
    serializer_class = ImportJobSerializer
    permission_classes = [CanImportCustomers]
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["status"]
    search_fields = ["original_name"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.import_job_list_visible(user=self.request.user)

    @extend_schema(request=ImportJobCreateSerializer, responses={201: ImportJobSerializer})
    def create(self, request, *args, **kwargs):
        payload = ImportJobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        try:
            job = importing.import_job_create(
                actor=request.user,
                file=upload,
                original_name=upload.name,
                mapping=payload.validated_data.get("mapping"),
                options=payload.validated_data.get("options"),
                start=True,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        job.refresh_from_db()
        return Response(
            ImportJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The report"),
            409: OpenApiResponse(description="The import has not finished."),
        }
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        job = self.get_object()
        if not job.report:
            raise ReportNotReady()
        return FileResponse(
            job.report.open("rb"),
            as_attachment=True,
            filename=f"import-{job.pk}-report.csv",
            content_type="text/csv; charset=utf-8",
        )


routes = [("customer-imports", ImportJobViewSet, "customer-import")]
urlpatterns = []
