// The ticket pages. No inline scripts: the CSP forbids them.

// The canned-response picker fetches the response filled in for this ticket and inserts it
// into the reply box where the cursor is.
document.addEventListener("change", async (event) => {
  const picker = event.target.closest("[data-canned-picker]");
  if (!picker || !picker.value) {
    return;
  }
  const option = picker.selectedOptions[0];
  const form = picker.closest("[data-reply-form]");
  const body = form.querySelector("textarea[name=body]");
  const response = await fetch(option.dataset.url, { headers: { Accept: "application/json" } });
  picker.value = "";
  if (!response.ok) {
    return;
  }
  const { text } = await response.json();
  const start = body.selectionStart ?? body.value.length;
  const end = body.selectionEnd ?? body.value.length;
  body.value = body.value.slice(0, start) + text + body.value.slice(end);
  body.focus();
  body.selectionStart = body.selectionEnd = start + text.length;
});

// The list's header checkbox selects or clears every row on the page.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) {
    return;
  }
  for (const row of document.querySelectorAll("[data-select-row]")) {
    row.checked = all.checked;
  }
});
