from django import forms, template

register = template.Library()


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.filter
def bootstrap(field: forms.BoundField) -> str:
    """Render a bound field's widget with Bootstrap's class, and marked invalid when it is."""
    css = _css_class(field.field.widget)
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})
