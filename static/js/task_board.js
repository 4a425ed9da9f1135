// The task board (templates/collaboration/task_board.html). No inline scripts: the CSP forbids
// them.
//
// A card moves by dragging it to another column or through its "Move to" menu (the keyboard
// way); both post the card's form to collaboration:task_move and ask for JSON. The card moves at
// once and goes back where it was if the server refuses (someone else changed the task: 409).
// Without JavaScript the menu's form posts normally and the server redirects back to the board.

(() => {
  const board = () => document.querySelector("[data-task-board]");

  function announce(text) {
    const status = document.querySelector("[data-task-board-status]");
    if (status) {
      status.textContent = text;
    }
  }

  function toast(text, level) {
    const container = document.getElementById("toasts");
    if (!container || !window.bootstrap) {
      window.alert(text);
      return;
    }
    const element = document.createElement("div");
    element.className = `toast align-items-center border-0 text-bg-${level}`;
    element.setAttribute("role", level === "danger" ? "alert" : "status");
    const row = document.createElement("div");
    row.className = "d-flex";
    const body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", board()?.dataset.closeLabel || "Close");
    row.append(body, close);
    element.append(row);
    container.append(element);
    window.bootstrap.Toast.getOrCreateInstance(element, { delay: 8000 }).show();
    element.addEventListener("hidden.bs.toast", () => element.remove());
  }

  function columnFor(status) {
    return board()?.querySelector(`[data-task-column][data-status="${status}"]`);
  }

  // An empty column says so; the note hides while a card is in it.
  function refreshEmptyNotes() {
    board()
      ?.querySelectorAll("[data-task-column]")
      .forEach((column) => {
        const note = column.querySelector("[data-column-empty]");
        if (note) {
          note.hidden = Boolean(column.querySelector("[data-task-card]"));
        }
      });
  }

  function updateCounts(counts) {
    Object.entries(counts).forEach(([status, count]) => {
      const badge = columnFor(status)?.querySelector("[data-column-count]");
      if (badge) {
        badge.textContent = String(count);
      }
    });
  }

  async function moveCard(card, status, { focusAfter = false } = {}) {
    const form = card.querySelector("[data-task-move-form]");
    const target = columnFor(status);
    if (!form || !target || card.dataset.status === status) {
      return;
    }
    const from = { parent: card.parentElement, next: card.nextElementSibling };
    const select = form.querySelector("[data-move-status]");
    const data = new FormData(form);
    data.set("status", status);
    target.querySelector("[data-task-cards]").prepend(card);
    card.classList.add("board-card-saving");
    refreshEmptyNotes();

    const restore = () => {
      from.parent.insertBefore(card, from.next);
      card.classList.remove("board-card-saving");
      select.value = card.dataset.status;
      refreshEmptyNotes();
      card.focus();
    };

    let response;
    let payload = {};
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      payload = await response.json();
    } catch {
      restore();
      toast(board()?.dataset.networkError || "Network error", "danger");
      return;
    }
    if (!response.ok) {
      restore();
      toast(payload.error || response.statusText, response.status === 409 ? "warning" : "danger");
      return;
    }
    card.classList.remove("board-card-saving");
    card.dataset.status = payload.status;
    card.dataset.version = String(payload.version);
    form.querySelector('input[name="version"]').value = String(payload.version);
    select.value = payload.status;
    updateCounts(payload.counts);
    const title = card.querySelector("h3")?.textContent.trim() || "";
    const label = target.querySelector("[data-column-label]")?.textContent.trim() || "";
    announce(`${title} → ${label}`);
    if (focusAfter) {
      card.focus();
    }
  }

  window.crmKanban({
    cardSelector: "[data-task-card]",
    columnSelector: "[data-task-column]",
    cardId: (card) => card.dataset.taskId,
    onDrop: (card, column) => moveCard(card, column.dataset.status),
  });

  // The card's "Move to" menu: the keyboard's way to move a card, through the same request.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-task-move-form]");
    const card = form?.closest("[data-task-card]");
    if (!card || !board()) {
      return;
    }
    event.preventDefault();
    const status = form.querySelector("[data-move-status]").value;
    if (status !== card.dataset.status) {
      moveCard(card, status, { focusAfter: true });
    }
  });
})();
