// The deal board (templates/sales/board.html) and the deal form's line items. No inline scripts:
// the CSP forbids them. Listeners sit on the document so they also serve the cards htmx adds
// with "Load more".
//
// A card moves by dragging it to another column or through its "Move" menu (the keyboard way);
// both post the same form to sales:deal_move and ask for JSON. The card moves at once and goes
// back where it was if the server refuses (someone else changed the deal: 409; a rule: 400).
// Without JavaScript the menu's form posts normally and the server redirects back to the board.

(() => {
  const board = () => document.querySelector("[data-board]");

  function announce(text) {
    const status = document.querySelector("[data-board-status]");
    if (status) {
      status.textContent = text;
    }
  }

  function toast(text, level) {
    const container = document.getElementById("toasts");
    if (!container) {
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

  function columnFor(stageId) {
    return board()?.querySelector(`[data-board-column][data-stage-id="${stageId}"]`);
  }

  // Ask for the lost reason in the board's modal; resolves to {reason, note} or null (cancelled).
  function askLostReason() {
    const modalElement = document.querySelector("[data-lost-reason-modal]");
    if (!modalElement) {
      return Promise.resolve(null);
    }
    const form = modalElement.querySelector("[data-lost-reason-form]");
    form.reset();
    const modal = window.bootstrap.Modal.getOrCreateInstance(modalElement);
    return new Promise((resolve) => {
      let answer = null;
      const onSubmit = (event) => {
        event.preventDefault();
        answer = { reason: form.lost_reason.value, note: form.lost_note.value };
        modal.hide();
      };
      form.addEventListener("submit", onSubmit);
      modalElement.addEventListener(
        "hidden.bs.modal",
        () => {
          form.removeEventListener("submit", onSubmit);
          resolve(answer);
        },
        { once: true },
      );
      modalElement.addEventListener("shown.bs.modal", () => form.lost_reason.focus(), {
        once: true,
      });
      modal.show();
    });
  }

  function replaceHeaders(headers) {
    Object.entries(headers).forEach(([stageId, html]) => {
      const header = document.getElementById(`board-column-header-${stageId}`);
      if (header) {
        header.innerHTML = html;
      }
    });
  }

  async function moveCard(card, stageId, { focusAfter = false } = {}) {
    const form = card.querySelector("[data-move-form]");
    const from = { parent: card.parentElement, next: card.nextElementSibling };
    const target = columnFor(stageId);
    if (!form || !target || card.dataset.stageId === String(stageId)) {
      return;
    }
    const data = new FormData(form);
    data.set("stage", stageId);
    if (target.dataset.stageKind === "lost") {
      const answer = await askLostReason();
      if (!answer) {
        card.focus();
        return;
      }
      data.set("lost_reason", answer.reason);
      data.set("lost_note", answer.note);
    }
    const cards = target.querySelector("[data-board-cards]");
    cards.prepend(card);
    card.classList.add("board-card-saving");

    const restore = () => {
      from.parent.insertBefore(card, from.next);
      card.classList.remove("board-card-saving");
      const select = card.querySelector("[data-move-stage]");
      if (select) {
        select.value = card.dataset.stageId;
      }
      card.focus();
    };

    let response;
    let payload = {};
    try {
      response = await fetch(`${form.action}${window.location.search}`, {
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
    const template = document.createElement("template");
    template.innerHTML = payload.card.trim();
    const updated = template.content.firstElementChild;
    card.replaceWith(updated);
    replaceHeaders(payload.headers);
    const title = updated.querySelector("h3")?.textContent.trim() || "";
    const stageName = target.querySelector("h2 span")?.textContent.trim() || "";
    announce(`${title} → ${stageName}`);
    if (focusAfter) {
      updated.focus();
    }
  }

  window.crmKanban({
    cardSelector: "[data-deal-card]",
    columnSelector: "[data-board-column]",
    cardId: (card) => card.dataset.dealId,
    onDrop: (card, column) => moveCard(card, column.dataset.stageId),
  });

  // The card's "Move" menu: the keyboard's way to move a card, through the same request.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-move-form]");
    const card = form?.closest("[data-deal-card]");
    if (!card || !board()) {
      return;
    }
    event.preventDefault();
    const stageId = form.querySelector("[data-move-stage]").value;
    if (stageId !== card.dataset.stageId) {
      moveCard(card, stageId, { focusAfter: true });
    }
  });

  // The deal form's "Add a line" copies the formset's empty line and counts it in.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-deal-line]");
    if (!button) {
      return;
    }
    const form = button.closest("[data-deal-form]");
    const total = form.querySelector('input[name="lines-TOTAL_FORMS"]');
    const template = form.querySelector("template[data-deal-line-template]");
    const row = template.content.firstElementChild.cloneNode(true);
    row.innerHTML = row.innerHTML.replaceAll("__prefix__", total.value);
    form.querySelector("[data-deal-lines]").append(row);
    total.value = String(Number(total.value) + 1);
    row.querySelector("select, input")?.focus();
  });
})();
