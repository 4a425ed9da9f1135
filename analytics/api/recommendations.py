"""The recommendations API.

- GET /api/v1/customers/{customer_id}/recommendations/: similar customers and next-best products
  of a customer the caller may see (404 otherwise);
- POST /api/v1/recommendations/rebuild/: queue a build of everyone's recommendations (managers);
- GET /api/v1/recommendations/jobs/{id}/: how that build is doing.

Plain views rather than an action on the customers viewset, which lives in an app that may not
import analytics."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import AnalyticsJob, CustomerRecommendation, ModelVersion
from analytics.selectors.recommendations import (
    customer_recommendations_for,
    recommendation_job_get,
)
from analytics.services.recommendations import (
    RecommendationsBusy,
    recommendations_build_request,
)
from crm.api.calls import Conflict
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from customers.models import Customer
from customers.selectors.customers import customer_get_visible


class SimilarCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="customer.pk")
    name = serializers.CharField(source="customer.name")
    distance = serializers.FloatField(help_text=_("Between scaled features; smaller is closer."))


class ProductSuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="product.pk")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    category = serializers.CharField(source="product.category")
    unit_price = serializers.DecimalField(
        source="product.unit_price", max_digits=12, decimal_places=2
    )
    currency = serializers.CharField(source="product.currency")
    score = serializers.FloatField(
        help_text=_("Sum over the similar customers who bought it of quantity / (1 + distance).")
    )
    bought_by = serializers.IntegerField(help_text=_("How many similar customers bought it."))


class CustomerRecommendationsSerializer(serializers.Serializer):
    similar = SimilarCustomerSerializer(
        many=True, help_text=_("Nearest first; only customers the caller may see.")
    )
    products = ProductSuggestionSerializer(
        many=True, help_text=_("Best first; active products the customer has not bought.")
    )
    neighbours = serializers.IntegerField(help_text=_("Similar customers found, hidden included."))
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text=_("null until the first build.")
    )


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalyticsJob
        fields = [
            "id",
            "status",
            "progress",
            "stage",
            "trigger",
            "stats",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class CanBuildRecommendations(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("analytics.train_predictivemodel")


class CustomerRecommendationsView(FieldsMixin, APIView):
    permission_classes = [ModelPermissions]
    # For ModelPermissions: reading needs analytics.view_customerrecommendation.
    queryset = CustomerRecommendation.objects.none()

    @extend_schema(
        operation_id="customer_recommendations",
        responses={
            200: CustomerRecommendationsSerializer,
            404: OpenApiResponse(description=_("No such customer, or one the caller may not see.")),
        },
    )
    def get(self, request, customer_id: int):
        """Similar customers and next-best products of a customer the caller may see."""
        try:
            customer = customer_get_visible(user=request.user, pk=customer_id)
        except Customer.DoesNotExist as error:
            raise exceptions.NotFound() from error
        recommendations = customer_recommendations_for(user=request.user, customer=customer)
        return Response(CustomerRecommendationsSerializer(recommendations).data)


class RecommendationsRebuildView(FieldsMixin, APIView):
    permission_classes = [CanBuildRecommendations]

    @extend_schema(
        operation_id="recommendations_rebuild",
        request=None,
        responses={
            202: JobSerializer,
            409: OpenApiResponse(description=_("A build is already queued or running.")),
        },
    )
    def post(self, request):
        """Queue a build of every customer's recommendations; follow it at its job's address."""
        try:
            job = recommendations_build_request(user=request.user, trigger=ModelVersion.Trigger.API)
        except RecommendationsBusy as error:
            raise Conflict(str(error), code="busy") from error
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class RecommendationsJobView(FieldsMixin, APIView):
    permission_classes = [ModelPermissions]
    queryset = AnalyticsJob.objects.none()

    @extend_schema(operation_id="recommendations_job", responses=JobSerializer)
    def get(self, request, pk: int):
        """Progress and figures of one recommendations build."""
        try:
            job = recommendation_job_get(pk=pk)
        except AnalyticsJob.DoesNotExist as error:
            raise exceptions.NotFound() from error
        return Response(JobSerializer(job).data)


routes: list = []
urlpatterns = [
    path(
        "customers/<int:customer_id>/recommendations/",
        CustomerRecommendationsView.as_view(),
        name="customer-recommendations",
    ),
    path(
        "recommendations/rebuild/",
        RecommendationsRebuildView.as_view(),
        name="recommendations-rebuild",
    ),
    path(
        "recommendations/jobs/<int:pk>/",
        RecommendationsJobView.as_view(),
        name="recommendations-job",
    ),
]
