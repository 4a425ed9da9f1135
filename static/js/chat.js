// The chat room page (templates/collaboration/chat_room.html). No inline scripts: the CSP forbids
// them. Without this file the page still works: the composer posts a form and history is a link.
//
// Live updates come over the tab's one socket (window.crmLive, static/js/live.js). On every
// (re)connection the page subscribes to its room with the newest message id it shows, so the
// server answers with exactly the messages missed while disconnected. A message is sent over the
// socket when it is open and through the JSON API otherwise, always with a client id, so a retry
// (after a dropped connection, on reconnect) is stored once; until the server confirms it, it
// stays in a small queue shown as "Sending…". A file goes with the form itself (multipart).
//
// Message text arrives as `html` that the server escaped and marked up (links, @mentions); it is
// the only markup inserted as HTML. Names and everything else go in through textContent.

(() => {
  const TYPING_EVERY = 3000;
  const TYPING_SHOWN = 5000;
  const HTTP_RETRY_AFTER = 5000;
  const NEAR_BOTTOM = 80;

  const offline = { send: () => false, on() {}, onOpen() {}, onStatus() {} };

  function formatSize(bytes) {
    const units = ["B", "KB", "MB", "GB"];
    let size = bytes;
    let unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit += 1;
    }
    return `${unit === 0 ? size : size.toFixed(1)} ${units[unit]}`;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function start(room) {
    const live = window.crmLive || offline;
    const roomId = Number(room.dataset.chatRoom);
    const userId = Number(room.dataset.userId);
    const labels = room.dataset;
    const list = room.querySelector("[data-chat-messages]");
    const composer = room.querySelector("[data-chat-composer]");
    const textarea = composer ? composer.querySelector("textarea[name=body]") : null;
    const fileInput = composer ? composer.querySelector("input[type=file]") : null;
    const errorBox = room.querySelector("[data-chat-errors]");
    const typingBox = room.querySelector("[data-chat-typing]");
    const banner = room.querySelector("[data-chat-reconnecting]");
    const csrfInput = document.querySelector("[name=csrfmiddlewaretoken]");
    const csrf = csrfInput ? csrfInput.value : "";
    // Older history (?before=) is a page of the past: new messages do not belong under it.
    const showingHistory = new URLSearchParams(window.location.search).has("before");
    const queue = new Map();
    const typers = new Map();
    let lastTypingSent = 0;

    // Messages -----------------------------------------------------------------------------------

    // The page gives each address with 0 for the message id.
    function messageUrl(pattern, id) {
      return pattern.replace("/0/", `/${id}/`);
    }

    function lastMessageId() {
      let last = 0;
      list.querySelectorAll("[data-message-id]").forEach((node) => {
        last = Math.max(last, Number(node.dataset.messageId));
      });
      return last;
    }

    function nearBottom() {
      return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM;
    }

    function scrollToBottom() {
      list.scrollTop = list.scrollHeight;
    }

    function csrfField() {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrfmiddlewaretoken";
      input.value = csrf;
      return input;
    }

    function ownActions(message) {
      const actions = element("div", "chat-message-actions small");
      const details = element("details", "d-inline-block");
      details.dataset.chatEdit = "";
      details.append(element("summary", "link-secondary", labels.labelEdit));
      const editForm = element("form", "mt-1");
      editForm.method = "post";
      editForm.action = messageUrl(labels.editUrl, message.id);
      editForm.dataset.chatEditForm = "";
      const label = element("label", "visually-hidden", labels.labelEditMessage);
      label.htmlFor = `edit-${message.id}`;
      const area = element("textarea", "form-control form-control-sm");
      area.id = `edit-${message.id}`;
      area.name = "body";
      area.rows = 2;
      area.required = true;
      area.value = message.body;
      const save = element("button", "btn btn-sm btn-primary mt-1", labels.labelSave);
      save.type = "submit";
      editForm.append(csrfField(), label, area, save);
      details.append(editForm);
      const deleteForm = element("form", "d-inline");
      deleteForm.method = "post";
      deleteForm.action = messageUrl(labels.deleteUrl, message.id);
      deleteForm.dataset.chatDeleteForm = "";
      const remove = element(
        "button",
        "btn btn-link btn-sm link-danger p-0 align-baseline",
        labels.labelDelete,
      );
      remove.type = "submit";
      deleteForm.append(csrfField(), remove);
      actions.append(details, " ", deleteForm);
      return actions;
    }

    function buildMessage(message) {
      const own = message.author && message.author.id === userId;
      const article = element("article", "chat-message");
      article.classList.toggle("chat-message-own", Boolean(own));
      article.classList.toggle("chat-message-deleted", message.deleted);
      article.id = `message-${message.id}`;
      article.dataset.messageId = String(message.id);
      if (message.client_id) {
        article.dataset.clientId = message.client_id;
      }
      const meta = element("header", "chat-message-meta small text-muted");
      const author = message.author ? message.author.name : labels.labelFormerUser;
      meta.append(element("strong", "chat-message-author text-body", author), " ");
      const time = element("time");
      time.dateTime = message.created_at;
      time.textContent = new Date(message.created_at).toLocaleString([], {
        dateStyle: "short",
        timeStyle: "short",
      });
      meta.append(time);
      if (message.edited_at && !message.deleted) {
        meta.append(" ", element("span", "chat-message-edited", labels.labelEdited));
      }
      const body = element("div", "chat-message-body");
      if (message.deleted) {
        body.append(element("em", "text-muted", labels.labelDeleted));
      } else {
        // Escaped by the server (collaboration.chat_text.message_html).
        body.innerHTML = message.html;
      }
      article.append(meta, body);
      if (!message.deleted && message.attachments.length) {
        const files = element("ul", "chat-message-files list-unstyled small mb-0");
        message.attachments.forEach((file) => {
          const item = element("li");
          const link = element("a", "", file.name);
          link.href = file.url;
          item.append(link, " ", element("span", "text-muted", `(${formatSize(file.size)})`));
          files.append(item);
        });
        article.append(files);
      }
      if (own && !message.deleted) {
        article.append(ownActions(message));
      }
      return article;
    }

    function placeInOrder(node) {
      const id = Number(node.dataset.messageId);
      const empty = list.querySelector("[data-chat-empty]");
      if (empty) {
        empty.remove();
      }
      const later = Array.from(list.querySelectorAll("[data-message-id]")).find(
        (other) => Number(other.dataset.messageId) > id,
      );
      const firstPending = list.querySelector(".chat-message-pending");
      list.insertBefore(node, later || firstPending || null);
    }

    function settle(clientId) {
      const item = queue.get(clientId);
      if (item) {
        item.node.remove();
        queue.delete(clientId);
      }
    }

    // A message the server sent: a new one goes in once (it may come over the socket, in the
    // catch-up after a reconnect and as the answer to an HTTP send), an update replaces it.
    function showMessage(message, { update = false } = {}) {
      if (message.room !== roomId) {
        return;
      }
      if (message.client_id) {
        settle(message.client_id);
      }
      const existing = document.getElementById(`message-${message.id}`);
      if (existing) {
        if (update) {
          existing.replaceWith(buildMessage(message));
        }
        return;
      }
      if (update || showingHistory) {
        return;
      }
      const follow = nearBottom() || (message.author && message.author.id === userId);
      placeInOrder(buildMessage(message));
      if (follow) {
        scrollToBottom();
      }
    }

    // A partial the server rendered (the answer to a post with a file).
    function showRendered(html) {
      const template = document.createElement("template");
      template.innerHTML = html.trim();
      const node = template.content.firstElementChild;
      if (!node || !node.dataset.messageId) {
        return;
      }
      if (node.dataset.clientId) {
        settle(node.dataset.clientId);
      }
      const existing = document.getElementById(node.id);
      if (existing) {
        existing.replaceWith(node);
      } else {
        placeInOrder(node);
      }
      scrollToBottom();
    }

    function markRead(messageId) {
      if (document.visibilityState === "visible" && messageId) {
        live.send({ type: "read", room: roomId, message: messageId });
      }
    }

    // Errors -------------------------------------------------------------------------------------

    function showError(text) {
      errorBox.replaceChildren();
      if (text) {
        errorBox.append(element("div", "alert alert-danger py-2 mb-2", text));
        errorBox.firstChild.setAttribute("role", "alert");
      }
    }

    // Sending ------------------------------------------------------------------------------------

    function pendingNode(body) {
      const article = element("article", "chat-message chat-message-own chat-message-pending");
      const meta = element("header", "chat-message-meta small text-muted", labels.labelSending);
      article.append(meta, element("div", "chat-message-body", body));
      return article;
    }

    function fail(clientId, text) {
      const item = queue.get(clientId);
      if (!item) {
        return;
      }
      queue.delete(clientId);
      item.node.classList.add("chat-message-failed");
      item.node.querySelector(".chat-message-meta").textContent = `${labels.labelNotSent} ${text}`;
    }

    function sendHttp(item) {
      item.inFlight = true;
      fetch(room.dataset.messagesApi, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf,
        },
        body: JSON.stringify({ body: item.body, client_id: item.clientId }),
      })
        .then(async (response) => {
          item.inFlight = false;
          const data = await response.json().catch(() => null);
          if (response.ok && data) {
            showMessage(data);
          } else if (response.status === 429) {
            const wait = Number(response.headers.get("Retry-After")) || 5;
            window.setTimeout(() => trySend(item), wait * 1000);
          } else {
            fail(item.clientId, data && data.error ? data.error.message : response.statusText);
          }
        })
        .catch(() => {
          // Offline: it stays queued, and goes on the next connection or the next try.
          item.inFlight = false;
          window.setTimeout(() => trySend(item), HTTP_RETRY_AFTER);
        });
    }

    function trySend(item) {
      if (!queue.has(item.clientId) || item.inFlight) {
        return;
      }
      const frame = { type: "message.send", room: roomId, body: item.body, client_id: item.clientId };
      if (!live.send(frame)) {
        sendHttp(item);
      }
    }

    function sendText(body) {
      const item = { clientId: newClientId(), body, node: pendingNode(body), inFlight: false };
      queue.set(item.clientId, item);
      const empty = list.querySelector("[data-chat-empty]");
      if (empty) {
        empty.remove();
      }
      list.append(item.node);
      scrollToBottom();
      trySend(item);
    }

    function sendWithFile() {
      const data = new FormData(composer);
      data.set("client_id", newClientId());
      fetch(composer.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRFToken": csrf },
        body: data,
      })
        .then(async (response) => {
          const html = await response.text();
          if (response.ok) {
            composer.reset();
            showError("");
            showRendered(html);
          } else {
            // The server's error partial (escaped there).
            errorBox.innerHTML = html;
          }
        })
        .catch(() => showError(labels.labelNotSent));
    }

    if (composer && textarea) {
      composer.addEventListener("submit", (event) => {
        event.preventDefault();
        showError("");
        if (fileInput && fileInput.files.length) {
          sendWithFile();
          return;
        }
        const body = textarea.value.trim();
        if (!body) {
          return;
        }
        textarea.value = "";
        sendText(body);
      });
      textarea.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          composer.requestSubmit();
        }
      });
      textarea.addEventListener("input", () => {
        const now = Date.now();
        if (now - lastTypingSent > TYPING_EVERY && live.send({ type: "typing", room: roomId })) {
          lastTypingSent = now;
        }
      });
    }

    // Editing and deleting one's own messages --------------------------------------------------

    list.addEventListener("submit", (event) => {
      const form = event.target;
      const article = form.closest("[data-message-id]");
      if (!article) {
        return;
      }
      const id = Number(article.dataset.messageId);
      if (form.matches("[data-chat-edit-form]")) {
        event.preventDefault();
        const body = form.elements.body.value.trim();
        if (!body) {
          return;
        }
        form.closest("details").open = false;
        if (!live.send({ type: "message.edit", message: id, body })) {
          changeOverHttp(id, "PATCH", { body });
        }
      } else if (form.matches("[data-chat-delete-form]")) {
        event.preventDefault();
        if (!window.confirm(labels.labelConfirmDelete)) {
          return;
        }
        if (!live.send({ type: "message.delete", message: id })) {
          changeOverHttp(id, "DELETE", null);
        }
      }
    });

    function changeOverHttp(id, method, payload) {
      fetch(messageUrl(room.dataset.messageApi, id), {
        method,
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf,
        },
        body: payload ? JSON.stringify(payload) : undefined,
      })
        .then(async (response) => {
          if (response.status === 204) {
            const article = document.getElementById(`message-${id}`);
            const author = article.querySelector(".chat-message-author").textContent;
            showMessage(
              {
                id,
                room: roomId,
                author: { id: userId, name: author },
                body: "",
                html: "",
                created_at: article.querySelector("time").dateTime,
                edited_at: null,
                deleted: true,
                attachments: [],
                client_id: "",
              },
              { update: true },
            );
            return;
          }
          const data = await response.json().catch(() => null);
          if (response.ok && data) {
            showMessage(data, { update: true });
          } else {
            showError(data && data.error ? data.error.message : response.statusText);
          }
        })
        .catch(() => showError(labels.labelNotSent));
    }

    // Typing, presence and unread badges ---------------------------------------------------------

    function showTypers() {
      typingBox.textContent = Array.from(typers.values())
        .map((entry) => labels.labelTyping.replace("{name}", entry.name))
        .join(" ");
    }

    // A typer's message has arrived: they are no longer typing it.
    function typerDone(user) {
      const entry = typers.get(user);
      if (entry) {
        window.clearTimeout(entry.timer);
        typers.delete(user);
        showTypers();
      }
    }

    function setPresence(user, status) {
      const dot = room.ownerDocument.querySelector(`[data-presence-user="${user}"]`);
      if (!dot) {
        return;
      }
      const key = { online: "labelOnline", away: "labelAway" }[status] || "labelOffline";
      dot.className = `presence-dot presence-${status}`;
      dot.title = dot.dataset[key];
      const text = document.querySelector(`[data-presence-text="${user}"]`);
      if (text) {
        text.textContent = dot.dataset[key];
      }
    }

    function setBadge(room_, count) {
      const badge = document.querySelector(`[data-unread-badge="${room_}"]`);
      if (!badge) {
        return;
      }
      badge.querySelector("[data-unread-count]").textContent = String(count);
      badge.classList.toggle("d-none", !count);
    }

    // The socket ---------------------------------------------------------------------------------

    async function catchUpOverHttp() {
      let url = `${room.dataset.messagesApi}?after=${lastMessageId()}&limit=200`;
      while (url) {
        const response = await fetch(url, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!response.ok) {
          return;
        }
        const data = await response.json();
        data.results.slice().reverse().forEach((message) => showMessage(message));
        url = data.next;
      }
    }

    live.on("subscribed", (frame) => {
      if (frame.room !== roomId) {
        return;
      }
      frame.messages.forEach((message) => showMessage(message));
      Object.entries(frame.presence || {}).forEach(([user, status]) => setPresence(user, status));
      if (frame.more) {
        catchUpOverHttp().catch(() => {});
      }
      markRead(lastMessageId());
    });
    live.on("message.new", (frame) => {
      showMessage(frame.message);
      if (frame.message.room === roomId && frame.message.author?.id !== userId) {
        typerDone(frame.message.author?.id);
        markRead(frame.message.id);
      }
    });
    live.on("message.updated", (frame) => showMessage(frame.message, { update: true }));
    live.on("message.ack", (frame) => {
      settle(frame.client_id);
      showMessage(frame.message);
    });
    live.on("error", (frame) => {
      if (frame.client_id && queue.has(frame.client_id)) {
        if (frame.code === "rate_limited") {
          const item = queue.get(frame.client_id);
          window.setTimeout(() => trySend(item), HTTP_RETRY_AFTER);
        } else {
          fail(frame.client_id, frame.message);
        }
      } else if (frame.room === roomId || frame.message) {
        showError(frame.message || "");
      }
    });
    live.on("typing", (frame) => {
      if (frame.room !== roomId || frame.user.id === userId) {
        return;
      }
      const previous = typers.get(frame.user.id);
      if (previous) {
        window.clearTimeout(previous.timer);
      }
      const timer = window.setTimeout(() => {
        typers.delete(frame.user.id);
        showTypers();
      }, TYPING_SHOWN);
      typers.set(frame.user.id, { name: frame.user.name, timer });
      showTypers();
    });
    live.on("presence", (frame) => setPresence(frame.user, frame.status));
    // A room this page does not list yet (a new direct message, a group one was added to): the
    // sidebar is fetched again from the server, which renders it with its unread counts.
    let refreshing = null;
    function refreshSidebar() {
      refreshing ??= fetch(window.location.href, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : null))
        .then((html) => {
          const fresh = html && new DOMParser().parseFromString(html, "text/html");
          const sidebar = fresh?.querySelector("[data-chat-sidebar]");
          if (sidebar) {
            document.querySelector("[data-chat-sidebar]")?.replaceWith(sidebar);
          }
        })
        .catch(() => {})
        .finally(() => {
          refreshing = null;
        });
    }
    live.on("room.joined", (frame) => {
      if (!document.querySelector(`[data-room-link="${frame.room}"]`)) {
        refreshSidebar();
      }
    });
    live.on("room.activity", (frame) => {
      if (!document.querySelector(`[data-room-link="${frame.room}"]`)) {
        refreshSidebar();
        return;
      }
      if (frame.room !== roomId) {
        const badge = document.querySelector(`[data-unread-badge="${frame.room}"]`);
        const shown = badge ? Number(badge.querySelector("[data-unread-count]").textContent) : 0;
        setBadge(frame.room, (shown || 0) + 1);
      }
    });
    live.on("unread", (frame) => setBadge(frame.room, frame.room === roomId ? 0 : frame.count));
    live.onStatus((status) => {
      if (banner) {
        banner.classList.toggle("d-none", status === "open" || status === "connecting");
      }
    });
    live.onOpen(() => {
      if (!showingHistory) {
        live.send({ type: "subscribe", room: roomId, after: lastMessageId() });
      }
      queue.forEach((item) => trySend(item));
    });
    document.addEventListener("visibilitychange", () => markRead(lastMessageId()));

    scrollToBottom();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const room = document.querySelector("[data-chat-room]");
    if (room) {
      start(room);
    }
  });
})();
