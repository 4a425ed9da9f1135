"""/api/v1/email-templates/: the templates mail is written from, shared by everyone who sends
mail, with POST /email-templates/{id}/render/ filling one in for a customer and a deal or
ticket. Writes go through mail.services.templates, which refuses unknown placeholders as the
template pages do."""

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.calls import ServiceWritesMixin
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.api.serializers import StrictModelSerializer, StrictSerializer
from customers.api.records import VisibleCustomerField
from mail import rendering, selectors
from mail.models import EmailTemplate
from mail.services import templates as services


class ViewOnPostPermissions(ModelPermissions):
    """For an action that reads through POST: rendering a template changes nothing."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class EmailTemplateSerializer(StrictModelSerializer):
    placeholders = serializers.SerializerMethodField(
        help_text=_("The placeholders a template of this context may contain, with what each is.")
    )

    class Meta:
        model = EmailTemplate
        fields = [
            "id",
            "name",
            "context",
            "language",
            "subject",
            "body",
            "is_active",
            "owner",
            "placeholders",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "placeholders", "created_at", "updated_at"]
        # The (name, language) pair is checked by the service, which answers with the field.
        validators = []

    def get_placeholders(self, template: EmailTemplate) -> dict[str, str]:
        return {
            name: str(label)
            for name, label in rendering.placeholder_labels(template.context).items()
        }


class TemplateRenderSerializer(StrictSerializer):
    customer = VisibleCustomerField(
        required=False,
        allow_null=True,
        pk_field=serializers.IntegerField(),
        help_text=_("The customer; a deal's or ticket's by default."),
    )
    deal = serializers.IntegerField(required=False, min_value=1)
    ticket = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        user = self.context["request"].user
        for context in ("deal", "ticket"):
            if context in attrs:
                try:
                    record = selectors.mail_record_get_visible(
                        user=user, context=context, pk=attrs.pop(context)
                    )
                except ObjectDoesNotExist as exc:
                    raise serializers.ValidationError(
                        {context: [_("No such record, or one you may not see.")]}
                    ) from exc
                attrs["record"] = record
                attrs.setdefault("customer", selectors.mail_record_customer(record=record))
        return attrs


class RenderedSerializer(serializers.Serializer):
    subject = serializers.CharField()
    body = serializers.CharField()
    language = serializers.CharField()


class EmailTemplateFilter(filters.FilterSet):
    class Meta:
        model = EmailTemplate
        fields = ["context", "language", "is_active", "name"]


@extend_schema_view(
    list=extend_schema(summary=str(_("Email templates"))),
    retrieve=extend_schema(summary=str(_("One email template, with its placeholders"))),
    create=extend_schema(summary=str(_("Write an email template"))),
    update=extend_schema(summary=str(_("Change an email template"))),
    partial_update=extend_schema(summary=str(_("Change some of a template's fields"))),
    destroy=extend_schema(summary=str(_("Delete a template; mail sent from it stays"))),
)
class EmailTemplateViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Templates: a subject and text with placeholders, one version per language under one name.
    Everyone who sends mail reads them; marketing and managers write them."""

    serializer_class = EmailTemplateSerializer
    filterset_class = EmailTemplateFilter
    search_fields = ["name", "subject"]
    ordering_fields = ["name", "created_at"]

    create_service = services.email_template_create
    update_service = services.email_template_update
    delete_service = services.email_template_delete
    record_argument = "template"

    def get_queryset(self):
        return selectors.email_template_list()

    @extend_schema(
        summary=str(_("Fill the template in for a customer and a deal or ticket")),
        request=TemplateRenderSerializer,
        responses=RenderedSerializer,
        examples=[
            OpenApiExample("For a deal", value={"deal": 17}, request_only=True),
            OpenApiExample(
                "Rendered",
                value={
                    "subject": "Your quote for Fleet renewal",
                    "body": "Dear Li, please find our quote: CNY 12,000.00.",
                    "language": "en",
                },
                response_only=True,
            ),
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="render",
        permission_classes=[ViewOnPostPermissions],
    )
    def render_for(self, request, pk=None):
        template = self.get_object()
        serializer = TemplateRenderSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        subject, body = rendering.template_render(
            template=template,
            customer=serializer.validated_data.get("customer"),
            sender=request.user,
            record=serializer.validated_data.get("record"),
        )
        return Response(
            RenderedSerializer(
                {"subject": subject, "body": body, "language": template.language}
            ).data
        )
