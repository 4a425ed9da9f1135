from django.urls import path

from mail.api.emails import EmailMessageViewSet
from mail.api.inbound import MailboxViewSet, SetAsideViewSet
from mail.api.signature import SignatureView
from mail.api.suppressions import SuppressedAddressViewSet
from mail.api.templates import EmailTemplateViewSet

routes = [
    ("emails", EmailMessageViewSet, "email"),
    ("email-templates", EmailTemplateViewSet, "email-template"),
    ("mailboxes", MailboxViewSet, "mailbox"),
    ("set-aside-emails", SetAsideViewSet, "set-aside-email"),
    ("suppressed-addresses", SuppressedAddressViewSet, "suppressed-address"),
]
urlpatterns = [path("email-signature/", SignatureView.as_view(), name="email-signature")]
