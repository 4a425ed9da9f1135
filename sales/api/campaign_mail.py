"""/api/v1/campaign-mailings/: the sendings of email campaigns, with how each went; POST starts
one (as the campaign page's "Send email" does) and POST /campaign-mailings/{id}/cancel/ stops it.

Mailings follow their campaign's visibility; the figures are counted in the same query
(sales.selectors.campaign_mail).
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination
from crm.api.permissions import ModelPermissions
from crm.api.serializers import NoInputSerializer, StrictModelSerializer
from sales.api.campaigns import VisibleCampaignField
from sales.models import CampaignMailing
from sales.selectors import campaign_mail as selectors
from sales.services import campaign_mail as services


class MailingFiguresSerializer(serializers.Serializer):
    """How the mailing went, counted from its emails (see sales.selectors.campaign_mail)."""

    emails = serializers.IntegerField(source="email_count")
    sent = serializers.IntegerField(source="delivered_count")
    failed = serializers.IntegerField(source="undelivered_count")
    opened = serializers.IntegerField(source="opened_count")
    clicked = serializers.IntegerField(source="clicked_count")
    bounced = serializers.IntegerField(source="bounced_count")
    unsubscribed = serializers.IntegerField(source="unsubscribed_count")


class CampaignMailingSerializer(StrictModelSerializer):
    campaign = VisibleCampaignField()
    tracking = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_("Adds an invisible image and rewrites links to count opens and clicks."),
    )
    figures = serializers.SerializerMethodField()

    class Meta:
        model = CampaignMailing
        fields = [
            "id",
            "campaign",
            "template_name",
            "tracking",
            "status",
            "total",
            "sent_count",
            "skipped_count",
            "failed_count",
            "figures",
            "started_by",
            "started_at",
            "finished_at",
            "error",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "total",
            "sent_count",
            "skipped_count",
            "failed_count",
            "started_by",
            "started_at",
            "finished_at",
            "error",
            "created_at",
        ]

    @extend_schema_field(MailingFiguresSerializer)
    def get_figures(self, mailing: CampaignMailing) -> dict:
        return MailingFiguresSerializer(mailing).data


class CampaignMailingFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="campaign_id")

    class Meta:
        model = CampaignMailing
        fields = ["campaign", "status"]


class ChangeOnPostPermissions(ModelPermissions):
    """Cancelling changes the mailing, so it takes the permission to change one."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class CampaignMailingViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Mailings of the campaigns the caller may see, the latest first. Creating one starts it:
    the campaign's members with marketing consent get the template's version in their language,
    in batches on the workers; `status` and the counts follow."""

    serializer_class = CampaignMailingSerializer
    filterset_class = CampaignMailingFilter
    pagination_class = CursorPagination
    ordering = ("-id",)
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CampaignMailing.objects.none()
        return selectors.campaign_mailing_list_visible(user=self.request.user)

    def _reread(self, mailing: CampaignMailing) -> CampaignMailing:
        # By id alone: the mailing was started or cancelled by this caller a moment ago.
        return selectors.campaign_mailings_with_figures(
            CampaignMailing.objects.filter(pk=mailing.pk)
        ).get()

    def perform_create(self, serializer):
        mailing = call_service(
            services.campaign_mailing_start, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self._reread(mailing)

    @extend_schema(request=None, responses=CampaignMailingSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def cancel(self, request, pk=None):
        """Stop a mailing still being sent: no further batch goes out, and its emails not yet
        handed to the mail server are withdrawn."""
        mailing = self.get_object()
        NoInputSerializer(data=request.data).is_valid(raise_exception=True)
        mailing = call_service(
            services.campaign_mailing_cancel, actor=request.user, mailing=mailing
        )
        return Response(self.get_serializer(self._reread(mailing)).data)


routes = [("campaign-mailings", CampaignMailingViewSet, "campaign-mailing")]
urlpatterns: list = []
