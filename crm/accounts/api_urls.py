from django.urls import path

from crm.accounts.api import (
    ApiTokenViewSet,
    FieldRuleViewSet,
    MeView,
    TeamViewSet,
    UserSessionViewSet,
    UserViewSet,
)

routes = [
    ("teams", TeamViewSet, "team"),
    ("users", UserViewSet, "user"),
    ("tokens", ApiTokenViewSet, "apitoken"),
    ("field-rules", FieldRuleViewSet, "field-rule"),
    ("sessions", UserSessionViewSet, "usersession"),
]
urlpatterns = [path("me/", MeView.as_view(), name="me")]
