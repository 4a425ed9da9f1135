"""/api/v1/ for the files attached to records.

The files on one record are listed with `?type=sales.deal&id=42`; a record the caller may not see
answers 404, as a missing one does. Uploads go through the same service as the pages, so the
same content check refuses the same files (400, the reason under "file"). Each file's `download`
is the browser's download address (session); token clients use `attachments/{id}/download/`.
"""

import json

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from collaboration.models import Attachment
from collaboration.selectors import files as selectors
from collaboration.selectors.tasks import content_type_label
from collaboration.services.files import attachment_add, attachment_delete
from collaboration.views.files import attachment_file_response
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictSerializer


class AttachmentAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="label")


class AttachmentSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField(help_text=_("The kind of record, e.g. sales.deal."))
    record_id = serializers.IntegerField(source="related_id", read_only=True)
    uploaded_by = AttachmentAuthorSerializer(read_only=True, allow_null=True)
    download = serializers.SerializerMethodField(
        help_text=_("Where a signed-in browser downloads the file.")
    )

    class Meta:
        model = Attachment
        fields = [
            "id",
            "type",
            "record_id",
            "name",
            "size",
            "content_type",
            "uploaded_by",
            "created_at",
            "download",
        ]
        read_only_fields = fields

    def get_type(self, attachment: Attachment) -> str:
        # get_for_id is cached: one kind of record costs no query per row.
        return content_type_label(ContentType.objects.get_for_id(attachment.related_type_id))

    def get_download(self, attachment: Attachment) -> str:
        return reverse("collaboration:attachment_download", args=[attachment.pk])


class AttachmentCreateSerializer(StrictSerializer):
    type = serializers.ChoiceField(
        choices=selectors.ATTACHABLE_TYPES, help_text=_("The kind of record, e.g. sales.deal.")
    )
    id = serializers.IntegerField(min_value=1, help_text=_("The record's id."))
    file = serializers.FileField(
        help_text=_("Checked by its content: documents, images, text, zip, audio, MP4 video.")
    )


class PassthroughRenderer(renderers.BaseRenderer):
    """Lets a client that asks for the file's own type (Accept: application/pdf) get it; the
    file response carries its bytes itself, and an error still comes back as JSON."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        # Only an error is rendered here (a file response carries its own bytes and type); say
        # it is JSON rather than the "*/*" this renderer was chosen by.
        renderer_context["response"]["Content-Type"] = "application/json"
        return json.dumps(data).encode()


RECORD_PARAMETERS = [
    OpenApiParameter(
        "type",
        str,
        required=True,
        enum=list(selectors.ATTACHABLE_TYPES),
        description=_("The kind of record whose files to list."),
    ),
    OpenApiParameter("id", int, required=True, description=_("The record's id.")),
]


class AttachmentViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The files on records the caller may see: list those of one record, read one, upload one
    (multipart) and delete one (its uploader, whoever may change the record, or an admin)."""

    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []
    # Only for the permission check's model; each action reads through the selectors.
    queryset = Attachment.objects.none()

    def _record_from(self, type_label, record_id):
        try:
            return selectors.attachable_record_get_visible(
                user=self.request.user, type_label=str(type_label), record_id=int(record_id)
            )
        except (ObjectDoesNotExist, ValueError) as exc:
            raise exceptions.NotFound(_("No such record.")) from exc

    def get_queryset(self):
        if self.action != "list":
            return Attachment.objects.none()
        params = self.request.query_params
        missing = {
            name: [_("Give the record's type and id, e.g. ?type=sales.deal&id=42.")]
            for name in ("type", "id")
            if not params.get(name)
        }
        if missing:
            raise serializers.ValidationError(missing)
        # Asked twice per request (the permission check, then the list): the record is read once.
        if not hasattr(self, "_listed_record"):
            self._listed_record = self._record_from(params["type"], params["id"])
        return selectors.attachments_for_record(user=self.request.user, record=self._listed_record)

    def get_object(self):
        try:
            attachment = selectors.attachment_get_visible(
                user=self.request.user, pk=int(self.kwargs["pk"])
            )
        except (Attachment.DoesNotExist, ValueError) as exc:
            raise exceptions.NotFound(_("No such file.")) from exc
        self.check_object_permissions(self.request, attachment)
        return attachment

    @extend_schema(parameters=RECORD_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": AttachmentCreateSerializer},
        responses={201: AttachmentSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Upload a file to a record. A file that fails the content check is refused (400) with
        the reason under "file"; a record the caller may not see is not found (404)."""
        data = AttachmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = self._record_from(data.validated_data["type"], data.validated_data["id"])
        attachment = call_service(
            attachment_add, actor=request.user, record=record, upload=data.validated_data["file"]
        )
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        call_service(attachment_delete, actor=self.request.user, attachment=instance)

    @extend_schema(
        responses={
            # The file comes in its own type (the one its content was checked as).
            (200, "*/*"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description=_("The file, as a download under its original name."),
            )
        }
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer, PassthroughRenderer],
    )
    def download(self, request, pk=None):
        """The file itself, for clients that authenticate with a token rather than a session."""
        return attachment_file_response(self.get_object())


routes = [("attachments", AttachmentViewSet, "attachment")]
urlpatterns: list = []
