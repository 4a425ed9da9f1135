from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from crm import views
from crm.accounts import views as accounts_views
from crm.health import healthz

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Ahead of Django's own: signing in has a second step, a password change ends the other
    # sessions, and the admin signs in through the same page.
    path("accounts/login/", accounts_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        accounts_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("admin/login/", accounts_views.admin_login),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("crm.accounts.urls")),
    path("customers/", include("customers.urls")),
    path("sales/", include("sales.urls")),
    path("service/", include("service.urls")),
    path("collaboration/", include("collaboration.urls")),
    path("analytics/", include("analytics.urls")),
    path("webhooks/", include("crm.webhooks.urls")),
    path("mail/", include("mail.urls")),
    path("audit/", include("crm.audit.urls")),
    path("automation/", include("automation.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("crm.api_urls")),
    path("i18n/setlang/", accounts_views.language_set, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
