"""/api/v1/customer-exports/: start a background export of a filtered customer list, follow its
progress, download its file.

Every call needs the customers.export_customer permission; a person sees only the exports they
started, so the file holds only what they could see.
"""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictSerializer
from customers.api.customers import CanExportCustomers, ExportTooLargeError, form_errors
from customers.forms import CustomerApiFilterForm
from customers.models import ExportJob
from customers.selectors import customers as customer_selectors
from customers.selectors import exports as selectors
from customers.services.export import (
    CONTENT_TYPES,
    ExportTooLarge,
    customer_export_job_start,
    export_job_filename,
)


class FileNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "export_not_ready"
    default_detail = _("The export has not finished, so it has no file yet.")


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "file_format",
            "filters",
            "ordering",
            "status",
            "progress",
            "rows_total",
            "rows_done",
            "error",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.DONE:
            return None
        url = reverse("customer-export-download", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ExportJobCreateSerializer(StrictSerializer):
    file_format = serializers.ChoiceField(choices=ExportJob.Format.choices, default="csv")
    filters = serializers.DictField(
        required=False,
        default=dict,
        help_text="The filters of GET /api/v1/customers/, by their query parameter names: "
        '{"search": "wang", "status": ["customer"], "age_min": 30}.',
    )
    ordering = serializers.CharField(
        required=False, default="", help_text="As on GET /api/v1/customers/."
    )


class ExportJobViewSet(
    FieldsMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Customer exports: POST filters to start one; GET it to follow it; download its file."""

    queryset = ExportJob.objects.none()  # for the schema; get_queryset applies visibility
    serializer_class = ExportJobSerializer
    permission_classes = [CanExportCustomers]
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.export_job_list_visible(user=self.request.user)

    @extend_schema(request=ExportJobCreateSerializer, responses={201: ExportJobSerializer})
    def create(self, request, *args, **kwargs):
        payload = ExportJobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        form = CustomerApiFilterForm(payload.validated_data["filters"], user=request.user)
        if not form.is_valid():
            raise form_errors(form)
        try:
            job = customer_export_job_start(
                user=request.user,
                filters=form.to_filter(),
                ordering=customer_selectors.customer_ordering(payload.validated_data["ordering"]),
                file_format=payload.validated_data["file_format"],
            )
        except ExportTooLarge as exc:
            raise ExportTooLargeError(str(exc)) from exc
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(
            ExportJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The CSV or Excel file"
            ),
            409: OpenApiResponse(description="The export has not finished."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.status != ExportJob.Status.DONE or not job.file:
            raise FileNotReady()
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=export_job_filename(job),
            content_type=CONTENT_TYPES[job.file_format],
        )


routes = [("customer-exports", ExportJobViewSet, "customer-export")]
urlpatterns = []
