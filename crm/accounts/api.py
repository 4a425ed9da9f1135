from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.accounts import selectors, services
from crm.accounts.field_security import securable_models
from crm.accounts.models import ApiToken, FieldRule, Team, User, UserSession
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.permissions import ReadOnlyTokenPermission
from crm.api.serializers import StrictModelSerializer


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email"]
        read_only_fields = fields


class TeamSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]
        read_only_fields = fields


class MeSerializer(StrictModelSerializer):
    roles = serializers.SerializerMethodField()
    team_ids = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "display_name",
            "phone",
            "time_zone",
            "language",
            "roles",
            "team_ids",
        ]
        read_only_fields = ["id", "username", "email", "roles", "team_ids"]

    def get_roles(self, user: User) -> list[str]:
        return selectors.user_role_names(user=user)

    def get_team_ids(self, user: User) -> list[int]:
        return sorted(selectors.user_team_ids(user))


class TeamSerializer(serializers.ModelSerializer):
    manager = UserSummarySerializer(read_only=True, allow_null=True)
    member_ids = serializers.PrimaryKeyRelatedField(source="members", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "manager", "member_ids"]
        read_only_fields = fields


class MeView(FieldsMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.user_preferences_update(user=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(MeSerializer(user).data)


class TeamViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    filterset_fields = ["manager"]

    def get_queryset(self):
        return selectors.team_list()


class UserViewSet(
    FieldsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = UserSummarySerializer
    search_fields = ["username", "display_name", "email"]
    ordering_fields = ["username", "display_name"]

    def get_queryset(self):
        return selectors.user_list_active()


class ApiTokenSerializer(StrictModelSerializer):
    status = serializers.ChoiceField(
        choices=selectors.API_TOKEN_STATUSES,
        read_only=True,
        help_text="active, expired or revoked.",
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "expires_at",
            "status",
            "created_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
        ]
        read_only_fields = [
            "id",
            "prefix",
            "status",
            "created_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
        ]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text="The token itself, `crm_<prefix>_<secret>`. Shown in this response only.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = [*ApiTokenSerializer.Meta.read_only_fields, "token"]


@extend_schema_view(
    list=extend_schema(
        summary="Your API tokens",
        description="Your own tokens, newest first, revoked and expired ones included.",
    ),
    retrieve=extend_schema(summary="One of your API tokens"),
    create=extend_schema(
        summary="Make an API token",
        description=(
            "The response holds the token itself in `token`, once: only its hash is stored. "
            "A read-only token cannot make tokens."
        ),
        request=ApiTokenSerializer,
        responses={201: ApiTokenCreatedSerializer},
    ),
    destroy=extend_schema(
        summary="Revoke an API token",
        description="The token stops working at once; it stays in the list as revoked.",
    ),
)
class ApiTokenViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApiTokenSerializer
    filterset_fields = ["read_only"]
    search_fields = ["name", "prefix"]
    ordering_fields = ["created_at", "name", "last_used_at", "expires_at"]

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema generator's request
            return ApiToken.objects.none()
        return selectors.api_token_list_for(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plain = call_service(
            services.api_token_create, user=request.user, **serializer.validated_data
        )
        token = self.get_queryset().get(pk=token.pk)
        token.token = plain
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        call_service(services.api_token_revoke, actor=self.request.user, token=instance)


class UserSessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(
        help_text="Whether this is the session the request was made with."
    )

    class Meta:
        model = UserSession
        fields = ["id", "ip_address", "user_agent", "created_at", "last_seen_at", "current"]
        read_only_fields = fields

    def get_current(self, user_session: UserSession) -> bool:
        request = self.context["request"]
        return user_session.session_key == request.session.session_key


@extend_schema_view(
    list=extend_schema(
        summary="Your browser sessions",
        description="Where you are signed in, the most recently used first.",
    ),
    retrieve=extend_schema(summary="One of your browser sessions"),
    destroy=extend_schema(
        summary="Log out a browser session",
        description="The session ends at once; its browser has to sign in again.",
    ),
)
class UserSessionViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = UserSessionSerializer
    # One's own sessions, whatever one's role.
    permission_classes = [IsAuthenticated, ReadOnlyTokenPermission]
    ordering_fields = ["last_seen_at", "created_at"]

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema generator's request
            return UserSession.objects.none()
        return selectors.user_session_list_for(user=self.request.user)

    def perform_destroy(self, instance):
        services.user_sessions_end(
            user=self.request.user,
            actor=self.request.user,
            sessions=self.get_queryset().filter(pk=instance.pk),
        )


class RecordTypeField(serializers.ChoiceField):
    """A rule's record type as app.model, read from its content type."""

    def get_attribute(self, rule: FieldRule) -> str:
        return f"{rule.content_type.app_label}.{rule.content_type.model}"


class FieldRuleSerializer(StrictModelSerializer):
    record_type = RecordTypeField(
        choices=(),
        help_text="The record type, as app.model: customers.customer, sales.deal, service.ticket.",
    )
    role = serializers.SlugRelatedField(
        slug_field="name",
        queryset=selectors.field_rule_roles(),
        help_text="The role's name. Admins are never restricted.",
    )

    class Meta:
        model = FieldRule
        fields = ["id", "record_type", "field_name", "role", "access", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        fields["record_type"].choices = securable_models()
        if isinstance(self.instance, FieldRule):
            # A rule is one cell of the matrix: another field or role is another rule.
            for name in ("record_type", "field_name", "role"):
                fields[name].read_only = True
        return fields


class AdminsOnly(BasePermission):
    """Field rules are for admins alone, reading them included."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(services.FIELD_RULE_PERMISSION)


@extend_schema_view(
    list=extend_schema(
        summary="Field rules",
        description=(
            "Fields of customers, deals and tickets hidden from, or read-only for, a role. "
            "A field with no rule for a role is visible and writable for it. Admins only."
        ),
    ),
    create=extend_schema(
        summary="Restrict a field for a role",
        description="Setting a rule that exists for the same field and role changes its access.",
    ),
    destroy=extend_schema(
        summary="Lift a field rule",
        description="The field is visible and writable for the role again.",
    ),
)
class FieldRuleViewSet(FieldsMixin, viewsets.ModelViewSet):
    serializer_class = FieldRuleSerializer
    permission_classes = [ReadOnlyTokenPermission, AdminsOnly]
    filterset_fields = ["field_name", "access", "role"]
    search_fields = ["field_name", "role__name"]
    ordering_fields = ["field_name", "created_at"]

    def get_queryset(self):
        return selectors.field_rule_list()

    def _output(self, rule: FieldRule) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=rule.pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = call_service(
            services.field_rule_set,
            actor=request.user,
            model_label=serializer.validated_data["record_type"],
            field_name=serializer.validated_data["field_name"],
            role=serializer.validated_data["role"],
            access=serializer.validated_data["access"],
        )
        return Response(self._output(rule), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        rule = self.get_object()
        serializer = self.get_serializer(
            rule, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        rule = call_service(
            services.field_rule_set,
            actor=request.user,
            model_label=f"{rule.content_type.app_label}.{rule.content_type.model}",
            field_name=rule.field_name,
            role=rule.role,
            access=serializer.validated_data.get("access", rule.access),
        )
        return Response(self._output(rule))

    def perform_destroy(self, instance):
        call_service(
            services.field_rule_delete,
            actor=self.request.user,
            model_label=f"{instance.content_type.app_label}.{instance.content_type.model}",
            field_name=instance.field_name,
            role=instance.role,
        )
