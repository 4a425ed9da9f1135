"""GET /api/v1/scores/?model=purchase&min_probability=0.5: stored scores of the customers the
caller may see, highest first. POST /api/v1/predict/<model>/ with {"customer": id},
{"ticket": id} or {"features": {...}}: the active version's probability, with the features that
pushed it up or down."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import CustomerScore, PredictiveModel
from analytics.selectors import scores as selectors
from analytics.services.predictions import prediction_for_features, prediction_for_subject
from analytics.services.training import ModelUnavailable
from crm.api.calls import Conflict
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from customers.api.customers import CappedPageNumberPagination
from customers.models import Customer
from customers.selectors.customers import customer_get_visible
from service.models import Ticket
from service.selectors.tickets import ticket_get_visible


class ReasonSerializer(serializers.Serializer):
    feature = serializers.CharField()
    value = serializers.JSONField(help_text=_("The value this row has."))
    effect = serializers.FloatField(
        help_text=_("How much this value moved the probability; positive pushed it up.")
    )

    def to_representation(self, instance):
        feature, value, effect = instance
        return {"feature": feature, "value": value, "effect": effect}


class ScoreSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)

    class Meta:
        model = CustomerScore
        fields = ["customer", "customer_name", "model", "version", "probability", "reasons"]
        read_only_fields = fields


class ScoreQuerySerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=selectors.SCORED_MODEL_NAMES, default="purchase")
    min_probability = serializers.FloatField(min_value=0, max_value=1, required=False)
    owner = serializers.IntegerField(required=False)
    team = serializers.IntegerField(required=False)
    ordering = serializers.ChoiceField(
        choices=list(selectors.SCORE_ORDERINGS), default=selectors.DEFAULT_ORDERING
    )


@extend_schema(
    parameters=[
        OpenApiParameter(
            "model", OpenApiTypes.STR, enum=selectors.SCORED_MODEL_NAMES, description="purchase"
        ),
        OpenApiParameter("min_probability", OpenApiTypes.FLOAT, description="0 to 1."),
        OpenApiParameter("owner", OpenApiTypes.INT, description="Owner (user id)."),
        OpenApiParameter("team", OpenApiTypes.INT, description="Team id."),
        OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(selectors.SCORE_ORDERINGS)),
    ]
)
class ScoreViewSet(FieldsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Hot leads (`model=purchase`) or customers at risk (`model=churn`), of the customers the
    caller may see. Needs `analytics.view_customerscore`."""

    serializer_class = ScoreSerializer
    permission_classes = [ModelPermissions]
    pagination_class = CappedPageNumberPagination
    # For ModelPermissions; the rows come from the selector.
    queryset = CustomerScore.objects.none()

    def get_queryset(self):
        query = ScoreQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        model = selectors.scored_models().filter(name=values["model"]).first()
        if model is None:
            return CustomerScore.objects.none()
        return selectors.score_list_visible(
            user=self.request.user,
            model=model,
            filters=selectors.ScoreFilter(
                min_probability=values.get("min_probability"),
                owner_id=values.get("owner"),
                team_id=values.get("team"),
                ordering=values["ordering"],
            ),
        )


class PredictRequestSerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, help_text=_("A customer's id."))
    ticket = serializers.IntegerField(
        required=False, help_text=_("A ticket's id, for a model that scores tickets.")
    )
    features = serializers.DictField(
        required=False,
        help_text=_("Raw feature values by column name; columns left out count as unknown."),
    )

    def validate(self, attrs):
        given = [name for name in ("customer", "ticket", "features") if name in attrs]
        if len(given) != 1:
            raise ValidationError(
                {"non_field_errors": [_("Give exactly one of customer, ticket or features.")]}
            )
        return attrs


class PredictionSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.name")
    version = serializers.IntegerField(source="version.number")
    probability = serializers.FloatField()
    reasons = ReasonSerializer(many=True)


SUBJECT_PERMISSIONS = {
    PredictiveModel.Subject.CUSTOMER: selectors.VIEW_SCORES,
    PredictiveModel.Subject.TICKET: "analytics.view_ticketprediction",
}


class CanPredict(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("analytics.view_predictivemodel")


def _subject(model: PredictiveModel, request, data: dict) -> Customer | Ticket:
    """The customer or ticket to score, as the caller may see it; 404 like a missing one."""
    expected = "ticket" if model.subject == PredictiveModel.Subject.TICKET else "customer"
    if expected not in data:
        raise ValidationError(
            {
                next(iter(data)): [
                    _("%(model)s scores a %(subject)s: give %(subject)s or features.")
                    % {"model": model.display_title, "subject": expected}
                ]
            }
        )
    # The same permission the record's scores ask for on its page.
    if not request.user.has_perm(SUBJECT_PERMISSIONS[model.subject]):
        raise PermissionDenied(
            _("You may not see the scores of a %(subject)s.") % {"subject": expected}
        )
    try:
        if expected == "ticket":
            return ticket_get_visible(user=request.user, pk=data["ticket"])
        return customer_get_visible(user=request.user, pk=data["customer"])
    except (Customer.DoesNotExist, Ticket.DoesNotExist) as exc:
        raise NotFound(_("No such %(subject)s.") % {"subject": expected}) from exc


class PredictView(FieldsMixin, APIView):
    permission_classes = [IsAuthenticated, CanPredict]

    @extend_schema(
        operation_id="analytics_predict",
        request=PredictRequestSerializer,
        responses={
            200: PredictionSerializer,
            400: OpenApiResponse(description="A bad field, named in `fields`."),
            404: OpenApiResponse(description="No such model, or a record the caller cannot see."),
            409: OpenApiResponse(description="The model has no active version yet."),
        },
        description=__doc__,
    )
    def post(self, request, model_name: str):
        model = get_object_or_404(
            PredictiveModel.objects.select_related("active_version"), name=model_name
        )
        body = PredictRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            if "features" in data:
                prediction = prediction_for_features(model=model, features=data["features"])
            else:
                prediction = prediction_for_subject(
                    model=model, subject=_subject(model, request, data)
                )
        except ModelUnavailable as exc:
            raise Conflict(str(exc), code="no_active_version") from exc
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(PredictionSerializer(prediction).data)


routes = [("scores", ScoreViewSet, "analytics-scores")]
urlpatterns = [
    path("predict/<slug:model_name>/", PredictView.as_view(), name="analytics-predict"),
]
