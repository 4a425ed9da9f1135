from django.urls import include, path

app_name = "mail"

urlpatterns = [
    # Providers post inbound mail and delivery events here: anymail/<provider>/inbound/ and
    # anymail/<provider>/tracking/, authenticated with CRM_ANYMAIL_WEBHOOK_SECRET.
    path("anymail/", include("anymail.urls")),
]
