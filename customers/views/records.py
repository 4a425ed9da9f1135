"""Pages for a customer's records: forms opened from the 360 page to log an interaction, add an
order with its lines, add, edit and close a need and add or remove a relationship; an order's
page; the product catalogue; and the list of the interactions the user may see.

A form asked for by htmx (the 360 page opens them in place) comes back as a partial; asked for
directly it comes as a page of its own. After a save the browser returns to the 360 page.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.pages import form_errors_from_service, is_htmx
from customers.models import Customer, Interaction, Need, Order, Product, Relationship
from customers.selectors import customers as customer_selectors
from customers.selectors import records as selectors
from customers.selectors.timeline import Cursor, customer_timeline
from customers.services import records as services

PRODUCTS_PER_PAGE = 50
INTERACTIONS_PER_PAGE = 50
PICKER_OPTIONS = 10
ORDER_LINE_ROWS = 3


# Helpers shared by the customers app's record and profile pages ---------------------------------


def render_form(
    request: HttpRequest, *, partial: str, title: str, context: dict[str, Any]
) -> HttpResponse:
    """The form as a partial for htmx, or as a page of its own."""
    if is_htmx(request):
        return render(request, partial, context)
    return render(
        request,
        "customers/records/form_page.html",
        {**context, "partial": partial, "title": title},
    )


def redirect_after_save(request: HttpRequest, url: str) -> HttpResponse:
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def customer_url(customer: Customer) -> str:
    return reverse("customers:customer_detail", args=[customer.pk])


def customer_or_404(request: HttpRequest, pk: int) -> Customer:
    try:
        return customer_selectors.customer_get_visible(user=request.user, pk=pk)
    except Customer.DoesNotExist as exc:
        raise Http404(_("No such customer.")) from exc


class RecordPickerInput(forms.Widget):
    """A search box that looks records up as the user types (htmx) and keeps the chosen id in a
    hidden input (static/js/profile.js); used where a select would list too many records."""

    template_name = "customers/profile/_picker.html"

    def __init__(self, *, search_url, placeholder: str = "", attrs=None):
        super().__init__(attrs)
        self.search_url = search_url
        self.placeholder = placeholder
        self.choices = None

    def _label_for(self, value) -> str:
        if not value or self.choices is None:
            return ""
        record = self.choices.queryset.filter(pk=value).first()
        return str(record) if record else ""

    def render(self, name, value, attrs=None, renderer=None):
        context = self.get_context(name, value, attrs)
        context["widget"].update(
            search_url=str(self.search_url),
            placeholder=self.placeholder or _("Type to search"),
            label=self._label_for(context["widget"]["value"]),
        )
        return render_to_string(self.template_name, context)


def picker_options_response(request: HttpRequest, options, template: str) -> HttpResponse:
    return render(request, template, {"options": options, "search": request.GET.get("q", "")})


# Forms -------------------------------------------------------------------------------------------


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Interaction.Channel.choices)
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"), choices=Interaction.Direction.choices
    )
    occurred_at = forms.DateTimeField(label=gettext_lazy("When"), widget=DateTimeLocalInput())
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200, required=False)
    summary = forms.CharField(
        label=gettext_lazy("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=0, required=False
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[("", "—"), *Interaction.Outcome.choices],
        required=False,
    )

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        minutes = values.pop("duration_minutes")
        values["duration_seconds"] = None if minutes is None else minutes * 60
        return values


class OrderForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Number"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Left empty, a number is generated."),
    )
    ordered_at = forms.DateTimeField(label=gettext_lazy("Ordered at"), widget=DateTimeLocalInput())
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=Order.Status.choices)
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("Left empty, the products' currency."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class OrderLineForm(forms.Form):
    product = forms.TypedChoiceField(label=gettext_lazy("Product"), coerce=int)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, initial=1)
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=gettext_lazy("Left empty, the catalogue price."),
    )

    def __init__(self, *args, products: dict[int, Product], **kwargs):
        super().__init__(*args, **kwargs)
        # The catalogue is read once for the whole formset, not once per line.
        self.products = products
        self.fields["product"].choices = [("", "—")] + [
            (pk, f"{product.name} · {product.unit_price} {product.currency}")
            for pk, product in products.items()
        ]

    def service_line(self) -> dict[str, Any]:
        return {
            "product": self.products[self.cleaned_data["product"]],
            "quantity": self.cleaned_data["quantity"],
            "unit_price": self.cleaned_data.get("unit_price"),
        }


OrderLineFormSet = forms.formset_factory(OrderLineForm, extra=ORDER_LINE_ROWS)


class NeedForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What they need"), widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.CharField(label=gettext_lazy("Category"), max_length=100, required=False)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Need.Priority.choices, initial=Need.Priority.NORMAL
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=Need.Status.choices, initial=Need.Status.OPEN
    )


class RelationshipForm(forms.Form):
    to_customer = forms.ModelChoiceField(
        label=gettext_lazy("Related customer"),
        queryset=Customer.objects.none(),
        widget=RecordPickerInput(
            search_url=reverse_lazy("customers:customer_picker"),
            placeholder=gettext_lazy("Type a name, email or phone"),
        ),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Relationship.Kind.choices)
    strength = forms.TypedChoiceField(
        label=gettext_lazy("Strength"),
        coerce=int,
        initial=3,
        choices=[(value, str(value)) for value in range(1, 6)],
        help_text=gettext_lazy("1 (weak) to 5 (strong)"),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_customer"].queryset = customer_selectors.customer_list_visible(user=user)


class ProductForm(forms.Form):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=50)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    category = forms.CharField(label=gettext_lazy("Category"), max_length=100, required=False)
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price"), max_digits=12, decimal_places=2, min_value=0
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("ISO code; left empty, the default currency."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


class InteractionFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[("", gettext_lazy("Any channel")), *Interaction.Channel.choices],
        required=False,
    )
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[("", gettext_lazy("Any direction")), *Interaction.Direction.choices],
        required=False,
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _now_local_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


# Interactions ------------------------------------------------------------------------------------


def _interaction_logged(request: HttpRequest, pk: int) -> HttpResponse:
    """In place of the form on the 360 page: a word that it was logged, with the page's figures
    (the last contact) and its timeline swapped for fresh ones, without reloading the page."""
    customer = customer_or_404(request, pk)
    return render(
        request,
        "customers/records/_interaction_logged.html",
        {
            "customer": customer,
            "default_currency": settings.CRM_DEFAULT_CURRENCY,
            "timeline": customer_timeline(customer=customer, user=request.user),
        },
    )


@login_required
@permission_required("customers.add_interaction", raise_exception=True)
def interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_or_404(request, pk)
    if request.method == "POST":
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                services.interaction_log(
                    actor=request.user, customer=customer, **form.service_values()
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                if is_htmx(request):
                    return _interaction_logged(request, pk)
                messages.success(request, _("Interaction logged."))
                return redirect(customer_url(customer))
    else:
        form = InteractionForm(
            initial={
                "occurred_at": _now_local_minute(),
                "direction": Interaction.Direction.OUTBOUND,
            }
        )
    return render_form(
        request,
        partial="customers/records/_interaction_form.html",
        title=_("Log an interaction with %(name)s") % {"name": customer.name},
        context={"customer": customer, "form": form},
    )


@login_required
@permission_required("customers.view_interaction", raise_exception=True)
def interaction_list(request: HttpRequest) -> HttpResponse:
    filters = InteractionFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    try:
        before = Cursor.decode(request.GET["before"]) if request.GET.get("before") else None
        interactions = selectors.interaction_list_visible(
            user=request.user,
            channel=values.get("channel", ""),
            direction=values.get("direction", ""),
            occurred_from=values.get("date_from"),
            occurred_to=values.get("date_to"),
        )
        page, next_cursor = selectors.interaction_page(
            interactions=interactions, before=before, limit=INTERACTIONS_PER_PAGE
        )
    except ValueError:
        return HttpResponseBadRequest(_("This page link is not valid."))
    return render(
        request,
        "customers/records/interaction_list.html",
        {
            "filters": filters,
            "interactions": page,
            "next_cursor": next_cursor.encode() if next_cursor else "",
            "is_first_page": before is None,
        },
    )


# Orders ------------------------------------------------------------------------------------------


@login_required
@permission_required("customers.add_order", raise_exception=True)
def order_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_or_404(request, pk)
    products = {product.pk: product for product in selectors.product_list_active()}
    line_kwargs = {"products": products}
    if request.method == "POST":
        form = OrderForm(request.POST)
        lines = OrderLineFormSet(request.POST, prefix="lines", form_kwargs=line_kwargs)
        if form.is_valid() and lines.is_valid():
            filled = [line.service_line() for line in lines if line.cleaned_data]
            try:
                order = services.order_create(
                    actor=request.user, customer=customer, lines=filled, **form.cleaned_data
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Order %(number)s added.") % {"number": order.number})
                return redirect_after_save(request, customer_url(customer))
    else:
        form = OrderForm(initial={"ordered_at": _now_local_minute()})
        lines = OrderLineFormSet(prefix="lines", form_kwargs=line_kwargs)
    return render_form(
        request,
        partial="customers/records/_order_form.html",
        title=_("New order for %(name)s") % {"name": customer.name},
        context={"customer": customer, "form": form, "lines": lines, "products": products},
    )


def _order_or_404(request: HttpRequest, pk: int) -> Order:
    try:
        return selectors.order_get_visible(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404(_("No such order.")) from exc


def _status_choices(order: Order) -> list[tuple[str, str]]:
    allowed = services.ORDER_TRANSITIONS[order.status]
    return [(value, label) for value, label in Order.Status.choices if value in allowed]


@login_required
@permission_required("customers.view_order", raise_exception=True)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(request, pk)
    return render(
        request,
        "customers/records/order_detail.html",
        {"order": order, "status_choices": _status_choices(order)},
    )


@login_required
@permission_required("customers.change_order", raise_exception=True)
def order_status(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("customers:order_detail", pk=pk)
    order = _order_or_404(request, pk)
    try:
        services.order_update_status(
            actor=request.user, order=order, status=request.POST.get("status", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("The order is now %(status)s.") % {"status": order.get_status_display()}
        )
    return redirect_after_save(request, reverse("customers:order_detail", args=[order.pk]))


# Needs -------------------------------------------------------------------------------------------


@login_required
@permission_required("customers.add_need", raise_exception=True)
def need_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_or_404(request, pk)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.need_create(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Need recorded."))
            return redirect_after_save(request, customer_url(customer))
    return render_form(
        request,
        partial="customers/records/_need_form.html",
        title=_("New need of %(name)s") % {"name": customer.name},
        context={"customer": customer, "form": form, "action": request.path},
    )


def _need_or_404(request: HttpRequest, pk: int) -> Need:
    try:
        return selectors.need_get_visible(user=request.user, pk=pk)
    except Need.DoesNotExist as exc:
        raise Http404(_("No such need.")) from exc


@login_required
@permission_required("customers.change_need", raise_exception=True)
def need_edit(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need_or_404(request, pk)
    initial = {name: getattr(need, name) for name in services.NEED_EDITABLE_FIELDS}
    form = NeedForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.need_update(actor=request.user, need=need, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Need updated."))
            return redirect_after_save(request, customer_url(need.customer))
    return render_form(
        request,
        partial="customers/records/_need_form.html",
        title=_("Need of %(name)s") % {"name": need.customer.name},
        context={"customer": need.customer, "form": form, "need": need, "action": request.path},
    )


@login_required
@permission_required("customers.change_need", raise_exception=True)
def need_close(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("customers:need_edit", pk=pk)
    need = _need_or_404(request, pk)
    status = request.POST.get("status", Need.Status.MET)
    if status not in (Need.Status.MET, Need.Status.DROPPED):
        return HttpResponseBadRequest(_("A need closes as met or dropped."))
    services.need_update(actor=request.user, need=need, status=status)
    messages.success(
        request, _("Need closed as %(status)s.") % {"status": need.get_status_display()}
    )
    return redirect_after_save(request, customer_url(need.customer))


# Relationships -----------------------------------------------------------------------------------


@login_required
@permission_required("customers.add_relationship", raise_exception=True)
def relationship_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_or_404(request, pk)
    form = RelationshipForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.relationship_create(
                actor=request.user, from_customer=customer, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Relationship added."))
            return redirect_after_save(request, customer_url(customer))
    return render_form(
        request,
        partial="customers/records/_relationship_form.html",
        title=_("New relationship of %(name)s") % {"name": customer.name},
        context={"customer": customer, "form": form},
    )


@login_required
@permission_required("customers.delete_relationship", raise_exception=True)
def relationship_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        relationship = selectors.relationship_get_visible(user=request.user, pk=pk)
    except Relationship.DoesNotExist as exc:
        raise Http404(_("No such relationship.")) from exc
    back_to = request.POST.get("customer") or request.GET.get("customer")
    customer = (
        relationship.to_customer
        if back_to == str(relationship.to_customer_id)
        else relationship.from_customer
    )
    if request.method != "POST":
        return render(
            request,
            "customers/records/relationship_delete.html",
            {"relationship": relationship, "customer": customer},
        )
    services.relationship_delete(actor=request.user, relationship=relationship)
    messages.success(request, _("Relationship removed."))
    return redirect_after_save(request, customer_url(customer))


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_picker(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    options = []
    if search:
        customers = customer_selectors.customer_list_visible(
            user=request.user, filters=customer_selectors.CustomerFilter(search=search)
        )
        options = list(customers[:PICKER_OPTIONS])
    return picker_options_response(request, options, "customers/records/_customer_options.html")


# Products ----------------------------------------------------------------------------------------


@login_required
@permission_required("customers.view_product", raise_exception=True)
def product_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    show = request.GET.get("show", "active")
    active = {"active": True, "inactive": False}.get(show)
    products = selectors.product_list(search=search, active=active)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/records/product_list.html",
        {"page": page, "search": search, "show": show},
    )


@login_required
@permission_required("customers.add_product", raise_exception=True)
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("%(product)s added.") % {"product": product})
            return redirect("customers:product_list")
    return render(
        request,
        "customers/records/product_form.html",
        {"form": form, "title": _("New product")},
    )


@login_required
@permission_required("customers.change_product", raise_exception=True)
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        product = selectors.product_get(pk=pk)
    except Product.DoesNotExist as exc:
        raise Http404(_("No such product.")) from exc
    initial = {name: getattr(product, name) for name in services.PRODUCT_EDITABLE_FIELDS}
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(actor=request.user, product=product, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("%(product)s saved.") % {"product": product})
            return redirect("customers:product_list")
    return render(
        request,
        "customers/records/product_form.html",
        {"form": form, "product": product, "title": str(product)},
    )


urlpatterns = [
    path("<int:pk>/interactions/new/", interaction_create, name="interaction_create"),
    path("<int:pk>/orders/new/", order_create, name="order_create"),
    path("<int:pk>/needs/new/", need_create, name="need_create"),
    path("<int:pk>/relationships/new/", relationship_create, name="relationship_create"),
    path("interactions/", interaction_list, name="interaction_list"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/status/", order_status, name="order_status"),
    path("needs/<int:pk>/edit/", need_edit, name="need_edit"),
    path("needs/<int:pk>/close/", need_close, name="need_close"),
    path("relationships/<int:pk>/delete/", relationship_delete, name="relationship_delete"),
    path("pickers/customers/", customer_picker, name="customer_picker"),
    path("products/", product_list, name="product_list"),
    path("products/new/", product_create, name="product_create"),
    path("products/<int:pk>/edit/", product_edit, name="product_edit"),
]
