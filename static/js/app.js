// Behaviour shared by every page. No inline scripts: the content security policy forbids them.
document.addEventListener("DOMContentLoaded", () => {
  // Django messages arrive as toasts.
  document.querySelectorAll(".toast[data-autoshow]").forEach((element) => {
    window.bootstrap.Toast.getOrCreateInstance(element, { delay: 5000 }).show();
  });

  // Forms marked data-autosubmit submit when any of their selects changes (language switch).
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  setUpShortcuts();
});

// A form marked data-confirm (a delete, a revoke, a cancel) asks its question before it is sent,
// as hx-confirm does for htmx requests. Delegated, so forms htmx swaps in are covered too.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset?.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Keyboard shortcuts. The help dialog (templates/_shortcuts.html) lists them, and its rows carry
// each key sequence and the page it opens, rendered for the user's permissions.
function setUpShortcuts() {
  const dialog = document.getElementById("shortcuts-help");
  if (!dialog) {
    return;
  }
  const destinations = new Map();
  dialog.querySelectorAll("[data-shortcut][data-href]").forEach((row) => {
    destinations.set(row.dataset.shortcut, row.dataset.href);
  });
  const prefixes = new Set([...destinations.keys()].map((sequence) => sequence.split(" ")[0]));
  const sequenceTimeout = 1500;
  let pendingPrefix = null;
  let pendingTimer = null;

  const isTyping = (target) =>
    target instanceof Element &&
    target.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])");

  document.addEventListener("keydown", (event) => {
    if (
      event.defaultPrevented ||
      event.ctrlKey ||
      event.metaKey ||
      event.altKey ||
      event.isComposing ||
      isTyping(event.target) ||
      document.body.classList.contains("modal-open")
    ) {
      pendingPrefix = null;
      return;
    }
    const key = event.key;
    if (pendingPrefix) {
      const href = destinations.get(`${pendingPrefix} ${key}`);
      pendingPrefix = null;
      window.clearTimeout(pendingTimer);
      if (href) {
        event.preventDefault();
        window.location.assign(href);
      }
      return;
    }
    if (key === "/") {
      const search = document.getElementById("global-search");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (key === "?") {
      event.preventDefault();
      window.bootstrap.Modal.getOrCreateInstance(dialog).show();
    } else if (prefixes.has(key)) {
      pendingPrefix = key;
      pendingTimer = window.setTimeout(() => {
        pendingPrefix = null;
      }, sequenceTimeout);
    }
  });
}
