"""What the rule pages' forms share."""

from django.utils.text import capfirst


def field_label(item) -> str:
    return capfirst(str(item.label))


class ShownWhen:
    """Inputs that matter only for some values of another input (a trigger's settings): the
    page's script hides them otherwise. `show_when[name]` is "other=value1 value2", several
    joined by ";" (all must hold); `hide_when[name]` the same, for when to hide it."""

    show_when: dict[str, str] = {}
    hide_when: dict[str, str] = {}

    def rows(self) -> list[dict]:
        return [
            {
                "field": self[name],
                "show_when": self.show_when.get(name, ""),
                "hide_when": self.hide_when.get(name, ""),
            }
            for name in self.fields
        ]
