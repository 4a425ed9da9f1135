"""The caller's own signature, added below the mail they send: GET and PUT, like the page."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.calls import call_service
from crm.api.permissions import ModelPermissions
from crm.api.serializers import StrictSerializer
from mail import selectors
from mail.models import EmailSignature
from mail.services.outbound import MAX_SIGNATURE_LENGTH, signature_set


class SignatureSerializer(StrictSerializer):
    body = serializers.CharField(
        allow_blank=True,
        max_length=MAX_SIGNATURE_LENGTH,
        trim_whitespace=False,
        help_text=_("Added below the mail you send, after a “-- ” line; blank for none."),
    )


class SignatureView(APIView):
    permission_classes = [IsAuthenticated, ModelPermissions]
    # ModelPermissions reads the model from the queryset; the view's own rows are the caller's.
    queryset = EmailSignature.objects.none()

    @extend_schema(responses=SignatureSerializer, summary=str(_("Your email signature")))
    def get(self, request):
        current = selectors.signature_get(user=request.user)
        return Response({"body": current.body if current else ""})

    @extend_schema(
        request=SignatureSerializer,
        responses=SignatureSerializer,
        summary=str(_("Change your email signature")),
    )
    def put(self, request):
        serializer = SignatureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signature = call_service(
            signature_set, user=request.user, body=serializer.validated_data["body"]
        )
        return Response({"body": signature.body})
