"""Templates show a securable field only to the users field rules let see it.

    {% load field_security %}
    {% ifvisible customer "annual_income" %}<dt>…</dt><dd>…</dd>{% else %}…{% endifvisible %}

The record may be an instance, a model class or an "app_label.model" label (for column headers
over an empty page). Several field names show the block when any of them is visible, which suits
an address made of several fields. Access is read once per user object, so a tag per row of a list
costs no query after the first.
"""

from django import template
from django.apps import apps
from django.db import models

from crm.accounts.field_security import field_access

register = template.Library()


def _model_of(record) -> type[models.Model] | None:
    if isinstance(record, str):
        return apps.get_model(record)
    if isinstance(record, models.Model) or (
        isinstance(record, type) and issubclass(record, models.Model)
    ):
        return record._meta.model
    return None


def _viewer(context: template.Context):
    request = context.get("request")
    if request is not None and hasattr(request, "user"):
        return request.user
    return context.get("user")


class IfVisibleNode(template.Node):
    def __init__(self, record, field_names, nodelist_true, nodelist_false):
        self.record = record
        self.field_names = field_names
        self.nodelist_true = nodelist_true
        self.nodelist_false = nodelist_false

    def render(self, context: template.Context) -> str:
        model = _model_of(self.record.resolve(context))
        visible = True
        if model is not None:
            access = field_access(user=_viewer(context), model=model)
            names = [name.resolve(context) for name in self.field_names]
            visible = any(access.can_see(name) for name in names)
        return (self.nodelist_true if visible else self.nodelist_false).render(context)


@register.tag
def ifvisible(parser, token):
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a record and at least one field name")
    record = parser.compile_filter(bits[1])
    field_names = [parser.compile_filter(bit) for bit in bits[2:]]
    nodelist_true = parser.parse(("else", "endifvisible"))
    nodelist_false = template.NodeList()
    if parser.next_token().contents == "else":
        nodelist_false = parser.parse(("endifvisible",))
        parser.delete_first_token()
    return IfVisibleNode(record, field_names, nodelist_true, nodelist_false)
