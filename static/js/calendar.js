// The calendar's event form and feed page (templates/collaboration/calendar_*.html). No inline
// scripts: the CSP forbids them.
//
// Guest picker: htmx swaps the customers matching the search into #guest-results as checkboxes.
// A ticked one moves to the chosen list, so the next search does not take it away. Without
// JavaScript a ticked result is still sent with the form.

(() => {
  function chosenList() {
    return document.querySelector("[data-guest-chosen]");
  }

  function alreadyChosen(list, value) {
    return Array.from(list.querySelectorAll("input[name='guests']")).some(
      (input) => input.value === value,
    );
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.closest("[data-guest-results]")) {
      return;
    }
    const list = chosenList();
    if (!list || !input.checked) {
      return;
    }
    const item = input.closest("li");
    if (alreadyChosen(list, input.value)) {
      item.remove();
      return;
    }
    input.id = `guest-chosen-${input.value}`;
    const label = item.querySelector("label");
    if (label) {
      label.htmlFor = input.id;
    }
    list.append(item);
  });

  // Enter in the search box searches; it must not submit the half-filled event form.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof HTMLElement && event.target.id === "guest-search") {
      event.preventDefault();
    }
  });

  document.addEventListener("focusin", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.hasAttribute("data-select-on-focus")) {
      input.select();
    }
  });
})();
