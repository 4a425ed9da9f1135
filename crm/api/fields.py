"""`?fields=` and `?expand=` on every read of the API.

`GET /api/v1/customers/?fields=id,name` answers only those top-level fields of each record (of the
record itself on a detail route). `GET /api/v1/deals/?expand=customer,stage` replaces those
relations' ids by small objects (`{"id": 7, "name": "...", "url": "..."}`), read in the same query
as the records, which saves a client one request per related record.

A view takes both with `FieldsMixin`; a serializer names what it can expand in
`expandable_fields` (with `ExpandableSerializerMixin`). Unknown names, and fields hidden from the
caller by a field rule, are refused with 400
(`invalid_fields`, `invalid_expand`) in the API's error shape. Both apply to GET (and HEAD): a
write's response is always the whole record, and a typo must not fail a write that was made.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.settings import spectacular_settings
from rest_framework import exceptions, serializers, status
from rest_framework.fields import get_attribute
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from crm.accounts.field_security import field_access, securable_fields

FIELDS = "fields"
EXPAND = "expand"
READS = ("GET", "HEAD")


class InvalidNames(exceptions.APIException):
    """Names in `fields` or `expand` that the endpoint does not have; `fields` of the error body
    names the query parameter."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, *, parameter: str, unknown: list[str], known: list[str]):
        message = _("Unknown names in “%(parameter)s”: %(unknown)s. Known: %(known)s.") % {
            "parameter": parameter,
            "unknown": ", ".join(unknown),
            "known": ", ".join(known),
        }
        super().__init__(message, code=f"invalid_{parameter}")
        self.extra = {"fields": {parameter: [message]}}


def requested_names(request, parameter: str) -> list[str]:
    """The comma-separated names of a query parameter (repeatable), in order, once each."""
    names: list[str] = []
    for value in request.query_params.getlist(parameter):
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def _is_response_root(serializer) -> bool:
    parent = serializer.parent
    return parent is None or (
        isinstance(parent, serializers.ListSerializer) and parent.parent is None
    )


class ExpandableSerializerMixin:
    """`expandable_fields = {"company": CompanyBriefSerializer}`: with `?expand=company` the
    record's `company` is that serializer's output instead of the id. Only the response's own
    records expand, not records nested in them."""

    expandable_fields: dict[str, type[serializers.BaseSerializer]] = {}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        expand = self.context.get(EXPAND, ())
        if not expand or not _is_response_root(self):
            return data
        for name in expand:
            if name in data and name in self.expandable_fields:
                related = get_attribute(instance, self.fields[name].source_attrs)
                data[name] = (
                    None
                    if related is None
                    else self.expandable_fields[name](related, context=self.context).data
                )
        return data


def _expandable_fields(view) -> dict:
    try:
        serializer_class = view.get_serializer_class()
    except (AttributeError, AssertionError):
        return {}
    return getattr(serializer_class, "expandable_fields", {})


def _serializer_of(data):
    """The serializer whose fields the response shows: the record's, the list's child's, or the
    page's records' (None for anything not made by a serializer)."""
    if isinstance(data, dict) and isinstance(data.get("results"), ReturnList):
        data = data["results"]
    if isinstance(data, ReturnDict):
        return data.serializer
    if isinstance(data, ReturnList):
        serializer = data.serializer
        return getattr(serializer, "child", serializer)
    return None


def _trim(data, wanted: set[str]):
    if isinstance(data, ReturnList):
        return ReturnList(
            [{name: value for name, value in record.items() if name in wanted} for record in data],
            serializer=data.serializer,
        )
    if isinstance(data, ReturnDict):
        return ReturnDict(
            {name: value for name, value in data.items() if name in wanted},
            serializer=data.serializer,
        )
    return {**data, "results": _trim(data["results"], wanted)}


def _query_field_name(name: str) -> str:
    root = name.lstrip("-").split("__", 1)[0]
    return root.removesuffix("_id")


def _without_hidden_query_names(view, request) -> None:
    """Drops the filters and sort keys on fields hidden from the caller, as unknown ones are
    ignored: a filter or a sort on a hidden field would tell its values all the same."""
    try:
        model = view.get_serializer_class().Meta.model
    except (AttributeError, AssertionError):
        return
    if not securable_fields(model):
        return
    hidden = field_access(user=request.user, model=model).hidden
    if not hidden:
        return
    filterset_class = getattr(view, "filterset_class", None)
    hidden_params = {
        name
        for name, declared in (getattr(filterset_class, "base_filters", None) or {}).items()
        if _query_field_name(declared.field_name or name) in hidden
    } | {name for name in request.query_params if _query_field_name(name) in hidden}
    ordering = [
        term
        for value in request.query_params.getlist("ordering")
        for term in value.split(",")
        if _query_field_name(term.strip()) not in hidden
    ]
    query = request._request.GET.copy()
    for name in hidden_params:
        query.pop(name, None)
    if "ordering" in query:
        query.setlist("ordering", [",".join(ordering)] if ordering else [])
    query._mutable = False
    request._request.GET = query


class FieldsMixin:
    """`?fields=` and `?expand=` for a view (put it first among the bases).

    `expand` is checked before the view works, from the serializer's `expandable_fields`, and the
    expanded relations are read with `select_related` wherever the view filters its queryset (list
    and detail). `fields` is checked against the serializer that made the response, so it works
    for actions and plain API views too; unrequested fields are left out of the serializer before
    it reads anything when the view builds it through `get_serializer`."""

    expand: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _without_hidden_query_names(self, request)
        if request.method not in READS:
            return
        expand = requested_names(request, EXPAND)
        if expand:
            expandable = _expandable_fields(self)
            unknown = [name for name in expand if name not in expandable]
            if unknown:
                raise InvalidNames(parameter=EXPAND, unknown=unknown, known=list(expandable))
            self.expand = tuple(expand)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), EXPAND: self.expand}

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        wanted = requested_names(self.request, FIELDS)
        if wanted and self.request.method in READS and "data" not in kwargs:
            record_serializer = getattr(serializer, "child", serializer)
            known = set(record_serializer.fields)
            # Unknown names stay unknown: the response check below refuses them.
            if known.issuperset(wanted):
                for name in known - set(wanted):
                    del record_serializer.fields[name]
        return serializer

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.expand and hasattr(queryset, "select_related"):
            fields = self.get_serializer().fields
            # An action may list other records than the view's own (segments/{id}/customers/):
            # its get_object() filters the view's queryset, which has none of those relations.
            relations = {
                field.name
                for field in queryset.model._meta.get_fields()
                if field.many_to_one or field.one_to_one
            }
            paths = (
                fields[name].source.replace(".", "__") for name in self.expand if name in fields
            )
            queryset = queryset.select_related(
                *(path for path in paths if path.split("__", 1)[0] in relations)
            )
        return queryset

    def finalize_response(self, request, response, *args, **kwargs):
        wanted = requested_names(request, FIELDS)
        if wanted and request.method in READS and status.is_success(response.status_code):
            serializer = _serializer_of(getattr(response, "data", None))
            if serializer is not None:
                known = list(serializer.fields)
                unknown = [name for name in wanted if name not in known]
                if unknown:
                    response = self.handle_exception(
                        InvalidNames(parameter=FIELDS, unknown=unknown, known=known)
                    )
                else:
                    response.data = _trim(response.data, set(wanted))
        return super().finalize_response(request, response, *args, **kwargs)


# The schema --------------------------------------------------------------------------------------


class ExpandableSerializerExtension(OpenApiSerializerExtension):
    """An expandable relation is documented as its id or the small object that replaces it."""

    target_class = ExpandableSerializerMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request" and spectacular_settings.COMPONENT_SPLIT_REQUEST:
            return schema
        properties = schema.get("properties", {})
        for name, brief in self.target.expandable_fields.items():
            if name in properties:
                expanded = auto_schema.resolve_serializer(brief, "response").ref
                properties[name] = {"oneOf": [properties[name], expanded]}
        return schema


def _record_component(schema: dict, components: dict) -> dict | None:
    """The component of the records a response schema shows: the record, a list of them or a
    page of them."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    if "$ref" not in schema:
        return None
    component = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    results = component.get("properties", {}).get("results", {})
    if results.get("type") == "array" and "$ref" in results.get("items", {}):
        component = components.get(results["items"]["$ref"].rsplit("/", 1)[-1], {})
    return component if component.get("properties") else None


def fields_parameters_hook(result, generator, request, public):
    """Documents `fields` on every read answered by a serializer of a view with FieldsMixin,
    and `expand` where its serializer has expandable fields."""
    components = result.get("components", {}).get("schemas", {})
    for path, _regex, method, callback in generator.endpoints or ():
        if method != "GET" or not issubclass(getattr(callback, "cls", object), FieldsMixin):
            continue
        view = generator.create_view(callback, method)
        operation = result["paths"].get(generator.coerce_path(path, method, view), {}).get("get")
        if operation is None:
            continue
        response = operation.get("responses", {}).get("200", {})
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        component = _record_component(schema, components)
        if component is None:
            continue
        parameters = operation.setdefault("parameters", [])
        parameters.append(
            {
                "in": "query",
                "name": FIELDS,
                "required": False,
                "schema": {"type": "string"},
                "description": str(
                    _("Comma-separated fields to answer with, of: %(names)s.")
                    % {"names": ", ".join(component["properties"])}
                ),
            }
        )
        expandable = list(_expandable_fields(view))
        if expandable:
            parameters.append(
                {
                    "in": "query",
                    "name": EXPAND,
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "schema": {"type": "array", "items": {"type": "string", "enum": expandable}},
                    "description": str(
                        _("Comma-separated relations to answer as objects instead of ids.")
                    ),
                }
            )
        parameters.sort(key=lambda parameter: (parameter["in"], parameter["name"]))
    return result
