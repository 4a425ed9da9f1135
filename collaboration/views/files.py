"""Pages for the files on a record, and the one place any attached file is downloaded from.

A file is only ever served by `attachment_download`, which checks the record it is on; no page
links to the storage itself. It is served as a download under its sniffed type, with nosniff and
a sandbox policy, so even a file that slipped past the upload check cannot run on our origin.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from collaboration.models import Attachment
from collaboration.selectors import files as selectors
from collaboration.services.files import attachment_add, attachment_delete
from crm.pages import is_htmx, safe_next_url
from crm.uploads import megabytes, upload_max_bytes

FILES_PER_PAGE = 50
PAGE_TYPES = selectors.FILES_PAGE_TYPES


def _files_url(record: Model) -> str:
    """Where to go back to after a change: the record's files page, or for a chat message its
    room."""
    if selectors.record_label(record) not in PAGE_TYPES:
        return selectors.record_page_url(record) or reverse("home")
    return reverse("collaboration:record_files", args=[selectors.record_label(record), record.pk])


def _record_or_404(request: HttpRequest, type_label: str, record_id: int) -> Model:
    try:
        return selectors.attachable_record_get_visible(
            user=request.user, type_label=type_label, record_id=record_id, allowed=PAGE_TYPES
        )
    except ObjectDoesNotExist as exc:
        raise Http404(_("No such record.")) from exc


def _attachment_or_404(request: HttpRequest, pk: int) -> Attachment:
    try:
        return selectors.attachment_get_visible(user=request.user, pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404(_("No such file.")) from exc


def attachment_file_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    """The stored file under its original name and sniffed type. Only an image may be shown
    inline; nothing is ever sniffed or run by the browser, and no shared cache keeps it."""
    try:
        file = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such file.")) from exc
    response = FileResponse(
        file,
        as_attachment=not (inline and attachment.content_type.startswith("image/")),
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-cache"
    return response


def _upload_all(request: HttpRequest, record: Model) -> tuple[list[Attachment], list[str]]:
    """Store each uploaded file that passes; the others come back with their reasons."""
    stored, refused = [], []
    for upload in request.FILES.getlist("files"):
        try:
            stored.append(attachment_add(actor=request.user, record=record, upload=upload))
        except ValidationError as exc:
            refused.extend(exc.messages)
    return stored, refused


@login_required
@permission_required("collaboration.view_attachment", raise_exception=True)
def record_files(request: HttpRequest, type_label: str, record_id: int) -> HttpResponse:
    """The files on a record, newest first, and a form to add several at once. When some files
    are refused the page says which, and why, and which were stored."""
    record = _record_or_404(request, type_label, record_id)
    stored: list[Attachment] = []
    refused: list[str] = []
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("collaboration.add_attachment"):
            raise PermissionDenied
        stored, refused = _upload_all(request, record)
        if not stored and not refused:
            refused = [_("Choose at least one file.")]
        if not refused:
            messages.success(
                request,
                _("Stored: %(names)s.") % {"names": ", ".join(a.name for a in stored)},
            )
            return redirect(safe_next_url(request) or _files_url(record))
        status = 200 if stored else 400
    attachments = selectors.attachments_for_record(user=request.user, record=record)
    page = Paginator(attachments, FILES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "collaboration/file_list.html",
        {
            "record": record,
            "record_type_label": selectors.record_label(record),
            "record_url": selectors.record_page_url(record),
            "max_mb": megabytes(upload_max_bytes()),
            "page": page,
            "attachments": selectors.attachments_mark_deletable(
                user=request.user, record=record, attachments=list(page.object_list)
            ),
            "stored": stored,
            "refused": refused,
        },
        status=status,
    )


@login_required
@permission_required("collaboration.view_attachment", raise_exception=True)
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file, when its record is visible (404 otherwise, as when it is missing). Images may be
    shown in the page with `?inline=1`; everything else is always a download."""
    attachment = _attachment_or_404(request, pk)
    return attachment_file_response(attachment, inline=request.GET.get("inline") == "1")


@login_required
@permission_required("collaboration.delete_attachment", raise_exception=True)
def attachment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST removes the file (htmx: the row goes, nothing comes back)."""
    attachment = _attachment_or_404(request, pk)
    record = attachment.record
    if request.method == "POST":
        attachment_delete(actor=request.user, attachment=attachment)
        if is_htmx(request):
            return HttpResponse("")
        messages.success(request, _("File “%(name)s” deleted.") % {"name": attachment.name})
        return redirect(safe_next_url(request) or _files_url(record))
    selectors.attachments_mark_deletable(user=request.user, record=record, attachments=[attachment])
    if not attachment.can_delete:
        raise PermissionDenied
    return render(
        request,
        "collaboration/file_confirm_delete.html",
        {
            "attachment": attachment,
            "record": record,
            "cancel_url": safe_next_url(request) or _files_url(record),
            "next": safe_next_url(request),
        },
    )


urlpatterns = [
    path(
        "records/<str:type_label>/<int:record_id>/files/",
        record_files,
        name="record_files",
    ),
    path("files/<int:pk>/download/", attachment_download, name="attachment_download"),
    path("files/<int:pk>/delete/", attachment_delete_view, name="attachment_delete"),
]
