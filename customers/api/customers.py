from rest_framework import serializers, viewsets

from customers.models import Company, Customer
from customers.selectors import customers as selectors


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "industry",
            "size",
            "website",
            "street",
            "city",
            "province",
            "postcode",
            "country",
            "owner",
            "team",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    age = serializers.IntegerField(read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "gender",
            "birthday",
            "age",
            "email",
            "phone",
            "street",
            "city",
            "province",
            "postcode",
            "country",
            "annual_income",
            "income_currency",
            "company",
            "job_title",
            "source",
            "status",
            "tier",
            "owner",
            "team",
            "tags",
            "marketing_consent",
            "marketing_consent_at",
            "external_id",
            "custom_attributes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers the caller may see; writes arrive with the customers issue's services."""

    serializer_class = CustomerSerializer
    filterset_fields = ["status", "tier", "owner", "team", "company", "city"]
    search_fields = ["name", "email", "phone", "company__name"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_queryset(self):
        return selectors.customer_list_visible(user=self.request.user).prefetch_related("tags")


class CompanyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CompanySerializer
    filterset_fields = ["industry", "size", "city", "country", "owner", "team"]
    search_fields = ["name", "city", "website"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.company_list_visible(user=self.request.user)


routes = [
    ("customers", CustomerViewSet, "customer"),
    ("companies", CompanyViewSet, "company"),
]
urlpatterns = []
