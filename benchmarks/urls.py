"""The CRM's URLs plus the HTTP baseline: the least a Django view can do to answer JSON."""

from django.http import JsonResponse
from django.urls import path

from crm.urls import urlpatterns as crm_urlpatterns


def minimal_json(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/minimal", minimal_json), *crm_urlpatterns]
