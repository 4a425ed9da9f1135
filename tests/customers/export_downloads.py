"""A customer export run the way the browser runs one, for the tests that read its file: the
export is started, its task runs eagerly when the request commits, and the file is downloaded."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.test import Client, TestCase
from django.urls import reverse

from crm.celery import app as celery_app


def export_start(client: Client, file_format: str = "csv", query: dict | None = None):
    """POST the list's export button; the task runs in this process once the request commits."""
    url = reverse("customers:customer_export", args=[file_format])
    if query:
        url = f"{url}?{urlencode(query, doseq=True)}"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return client.post(url)
    finally:
        celery_app.conf.task_always_eager = eager


def export_download(
    client: Client, file_format: str = "csv", query: dict | None = None
) -> HttpResponse:
    """The downloaded file of an export of the list `query` describes; a refused start (403,
    or a redirect back to the list) is returned as it is."""
    started = export_start(client, file_format, query)
    if started.status_code != 302 or "/exports/" not in started.url:
        return started
    return client.get(f"{started.url}download/")
