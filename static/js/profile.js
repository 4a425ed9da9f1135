// The customer 360 page and its record forms. No inline scripts: the CSP forbids them.
// Listeners sit on the document so they also serve the forms htmx swaps in later.

// Record pickers (customers/profile/_picker.html): htmx fills the options as the user types;
// choosing one keeps its id in the hidden input, and typing again clears it, so the form never
// sends a record other than the one whose name is shown.
document.addEventListener("click", (event) => {
  const option = event.target.closest("[data-picker-option]");
  if (!option) {
    return;
  }
  const picker = option.closest("[data-record-picker]");
  picker.querySelector("[data-picker-value]").value = option.dataset.value;
  picker.querySelector("[data-picker-search]").value = option.dataset.label;
  picker.querySelector("[data-picker-options]").replaceChildren();
});

document.addEventListener("input", (event) => {
  const search = event.target.closest("[data-picker-search]");
  if (search) {
    search.closest("[data-record-picker]").querySelector("[data-picker-value]").value = "";
  }
});

// The order form's "Add a line" button copies the formset's empty line and counts it in.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-add-order-line]");
  if (!button) {
    return;
  }
  const form = button.closest("[data-order-form]");
  const total = form.querySelector('input[name="lines-TOTAL_FORMS"]');
  const template = form.querySelector("template[data-order-line-template]");
  const row = template.content.firstElementChild.cloneNode(true);
  row.innerHTML = row.innerHTML.replaceAll("__prefix__", total.value);
  form.querySelector("[data-order-lines]").append(row);
  total.value = String(Number(total.value) + 1);
});
