from django.urls import path
from rest_framework.routers import DefaultRouter

from crm.accounts.api import MeView, TeamViewSet, UserViewSet

router = DefaultRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("users", UserViewSet, basename="user")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
