"""/api/v1/: one router over every app's viewsets, each app's own paths, the OpenAPI schema and
its browsable docs. Each app lists its viewsets in `routes` in its api_urls module."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from analytics import api_urls as analytics_api
from automation import api_urls as automation_api
from collaboration import api_urls as collaboration_api
from crm.accounts import api_urls as accounts_api
from crm.audit import api_urls as audit_api
from crm.webhooks import api_urls as webhooks_api
from customers import api_urls as customers_api
from mail import api_urls as mail_api
from sales import api_urls as sales_api
from service import api_urls as service_api

APP_API_MODULES = [
    accounts_api,
    customers_api,
    mail_api,
    sales_api,
    service_api,
    collaboration_api,
    analytics_api,
    webhooks_api,
    audit_api,
    automation_api,
]

router = DefaultRouter()
for module in APP_API_MODULES:
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    *[path("", include(module.urlpatterns)) for module in APP_API_MODULES],
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
