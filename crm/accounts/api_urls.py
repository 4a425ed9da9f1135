from django.urls import path

from crm.accounts.api import ApiTokenViewSet, MeView, TeamViewSet, UserViewSet

routes = [
    ("teams", TeamViewSet, "team"),
    ("users", UserViewSet, "user"),
    ("tokens", ApiTokenViewSet, "apitoken"),
]
urlpatterns = [path("me/", MeView.as_view(), name="me")]
