from django.urls import include, path

from mail.views import (
    compose,
    mailboxes,
    messages,
    provider_webhooks,
    public,
    set_aside,
    signature,
    suppressions,
    templates,
)

app_name = "mail"

urlpatterns = [
    # Providers post inbound mail and delivery events here: anymail/<provider>/inbound/ and
    # anymail/<provider>/tracking/, authenticated with CRM_ANYMAIL_WEBHOOK_SECRET.
    path("anymail/", include((provider_webhooks.urlpatterns, "anymail"))),
    path("mailboxes/", mailboxes.mailbox_list, name="mailbox_list"),
    path("mailboxes/new/", mailboxes.mailbox_create, name="mailbox_create"),
    path("mailboxes/<int:pk>/edit/", mailboxes.mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:pk>/delete/", mailboxes.mailbox_delete, name="mailbox_delete"),
    path("mailboxes/<int:pk>/poll/", mailboxes.mailbox_poll, name="mailbox_poll"),
    path("set-aside/", set_aside.set_aside_list, name="set_aside_list"),
    path("set-aside/<int:pk>/", set_aside.set_aside_detail, name="set_aside_detail"),
    path("set-aside/<int:pk>/raw/", set_aside.set_aside_download, name="set_aside_download"),
    path("set-aside/<int:pk>/retry/", set_aside.set_aside_retry, name="set_aside_retry"),
    path("set-aside/<int:pk>/dismiss/", set_aside.set_aside_dismiss, name="set_aside_dismiss"),
    path("", messages.email_list, name="email_list"),
    path("<int:pk>/", messages.email_detail, name="email_detail"),
    path("attachments/<int:pk>/", messages.attachment_download, name="attachment_download"),
    path("compose/", compose.compose, name="compose"),
    path("compose/template/", compose.compose_template, name="compose_template"),
    path("templates/", templates.template_list, name="template_list"),
    path("templates/new/", templates.template_create, name="template_create"),
    path("templates/<int:pk>/edit/", templates.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", templates.template_delete, name="template_delete"),
    path("templates/placeholders/", templates.template_placeholders, name="template_placeholders"),
    path("templates/preview/", templates.template_preview, name="template_preview"),
    path("signature/", signature.signature_edit, name="signature"),
    *public.urlpatterns,
    *suppressions.urlpatterns,
]
