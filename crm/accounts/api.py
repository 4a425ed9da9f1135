from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.accounts import selectors, services
from crm.accounts.models import Team, User
from crm.api.serializers import StrictModelSerializer


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email"]
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
    manager = UserSummarySerializer(read_only=True)
    member_ids = serializers.PrimaryKeyRelatedField(source="members", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "manager", "member_ids"]
        read_only_fields = fields


class MeView(APIView):
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


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    filterset_fields = ["manager"]

    def get_queryset(self):
        return selectors.team_list()


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = UserSummarySerializer
    search_fields = ["username", "display_name", "email"]
    ordering_fields = ["username", "display_name"]

    def get_queryset(self):
        return selectors.user_list_active()
