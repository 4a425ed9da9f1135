// Workflow rule forms: show only the inputs that matter for the values chosen so far (a
// trigger's settings, a condition's value, a notification's recipients). The server checks every
// input whatever is shown, so without this script all inputs simply stay visible.
(() => {
  "use strict";

  // "name=a b;other=c" -> [["name", ["a", "b"]], ["other", ["c"]]]
  const parse = (rules) =>
    rules
      .split(";")
      .filter((part) => part.includes("="))
      .map((part) => {
        const [name, values] = part.split("=");
        return [name.trim(), values.trim().split(/\s+/).filter(Boolean)];
      });

  const currentValue = (form, name) => {
    const control = form.elements.namedItem(name);
    if (!control) return null;
    return control.value ?? "";
  };

  const holds = (form, rules) =>
    parse(rules).every(([name, values]) => {
      const value = currentValue(form, name);
      return value === null || values.includes(value);
    });

  const meets = (form, rules) =>
    parse(rules).some(([name, values]) => values.includes(currentValue(form, name)));

  // The "changes to" list holds every field's values as "field:value": offer the chosen field's.
  const filterChangedChoices = (form) => {
    const select = form.elements.namedItem("changed_choice");
    const field = currentValue(form, "changed_field");
    if (!select || field === null) return;
    select.querySelectorAll("optgroup").forEach((group) => {
      const mine = Array.from(group.querySelectorAll("option")).some((option) =>
        option.value.startsWith(`${field}:`),
      );
      group.hidden = !mine;
      group.disabled = !mine;
    });
    const chosen = select.selectedOptions[0];
    if (chosen && chosen.value && !chosen.value.startsWith(`${field}:`)) select.value = "";
  };

  const refresh = (root) => {
    root.querySelectorAll("form").forEach((form) => {
      form.querySelectorAll("[data-show-when], [data-hide-when]").forEach((element) => {
        const show = element.dataset.showWhen ? holds(form, element.dataset.showWhen) : true;
        const hide = element.dataset.hideWhen ? meets(form, element.dataset.hideWhen) : false;
        element.hidden = !show || hide;
      });
      filterChangedChoices(form);
    });
  };

  document.addEventListener("DOMContentLoaded", () => refresh(document));
  document.addEventListener("change", () => refresh(document));
  document.addEventListener("htmx:afterSettle", () => refresh(document));
})();
