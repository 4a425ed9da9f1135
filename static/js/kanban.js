// Drag and drop between the columns of a board (the deal board, the task board). Each board names
// its cards and columns and what a drop does; the keyboard path is each board's "Move to" menu.
window.crmKanban = function crmKanban({ cardSelector, columnSelector, cardId, onDrop }) {
  let dragged = null;

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(`${cardSelector}[draggable='true']`);
    if (!card) {
      return;
    }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", cardId(card));
    card.classList.add("board-card-dragging");
  });

  document.addEventListener("dragend", () => {
    dragged?.classList.remove("board-card-dragging");
    dragged = null;
    document
      .querySelectorAll(".board-column-over")
      .forEach((column) => column.classList.remove("board-column-over"));
  });

  document.addEventListener("dragover", (event) => {
    const column = event.target.closest?.(columnSelector);
    if (!column || !dragged) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("board-column-over");
  });

  document.addEventListener("dragleave", (event) => {
    const column = event.target.closest?.(columnSelector);
    if (column && !column.contains(event.relatedTarget)) {
      column.classList.remove("board-column-over");
    }
  });

  document.addEventListener("drop", (event) => {
    const column = event.target.closest?.(columnSelector);
    if (!column || !dragged) {
      return;
    }
    event.preventDefault();
    column.classList.remove("board-column-over");
    onDrop(dragged, column);
  });
};
