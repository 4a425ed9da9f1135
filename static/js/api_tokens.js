// The page showing a new API token once (templates/accounts/api_token_created.html). No inline
// scripts: the CSP forbids them.

document.addEventListener("focusin", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.hasAttribute("data-select-on-focus")) {
    input.select();
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) {
    return;
  }
  const input = document.getElementById(button.dataset.copyTarget);
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    button.textContent = button.dataset.copiedText;
  } catch {
    // No clipboard access (an insecure origin, say): the token stays selected for Ctrl+C.
  }
});
