// The bell in the navigation bar (templates/collaboration/_bell.html). The server pushes a
// "notification" frame for each new notification and a "notification.read" frame when some were
// marked read (in any tab), both with the unread count, so every tab's badge agrees. A new one
// also shows a toast, and refreshes the bell's menu when it is open. After a lost connection the
// count is fetched again, since pushes sent meanwhile were missed. Without the socket the badge
// is right on every page load and after marking read (htmx swaps it).

(() => {
  const bell = () => document.querySelector("[data-notification-bell]");

  function setCount(count) {
    const badge = document.getElementById("notification-badge");
    if (!badge || typeof count !== "number") {
      return;
    }
    const number = badge.querySelector("[data-notification-count]");
    if (number) {
      number.textContent = count > 99 ? "99+" : String(count);
    }
    badge.hidden = count <= 0;
  }

  // Only links within the site: a notification's url is stored text, never a script URL.
  function safeUrl(url) {
    return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : "";
  }

  function showToast(notification) {
    const container = document.getElementById("toasts");
    const element = bell();
    if (!container || !element || !window.bootstrap) {
      return;
    }
    const toast = document.createElement("div");
    toast.className = "toast align-items-center border-0 text-bg-primary";
    toast.setAttribute("role", "status");
    toast.setAttribute("aria-label", element.dataset.toastLabel || "");
    const row = document.createElement("div");
    row.className = "d-flex";
    const body = document.createElement("div");
    body.className = "toast-body";
    const url = safeUrl(notification.url);
    const title = document.createElement(url ? "a" : "strong");
    title.textContent = notification.title || "";
    if (url) {
      title.href = url;
      title.className = "link-light fw-semibold";
    }
    body.append(title);
    if (notification.body) {
      const text = document.createElement("div");
      text.className = "small text-truncate";
      text.textContent = notification.body;
      body.append(text);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.dataset.bsDismiss = "toast";
    close.setAttribute("aria-label", element.dataset.closeLabel || "");
    row.append(body, close);
    toast.append(row);
    container.append(toast);
    toast.addEventListener("hidden.bs.toast", () => toast.remove());
    window.bootstrap.Toast.getOrCreateInstance(toast, { delay: 8000 }).show();
  }

  function refreshOpenMenu() {
    const menu = document.getElementById("notification-menu");
    if (menu && menu.classList.contains("show") && window.htmx) {
      window.htmx.ajax("GET", menu.dataset.menuUrl, { target: menu });
    }
  }

  async function fetchCount() {
    const element = bell();
    if (!element || !element.dataset.countUrl) {
      return;
    }
    try {
      const response = await fetch(element.dataset.countUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        setCount((await response.json()).unread);
      }
    } catch {
      // Offline again: the next reconnection asks once more.
    }
  }

  const live = window.crmLive;
  if (!live) {
    return;
  }
  live.on("notification", (frame) => {
    setCount(frame.unread);
    if (frame.notification) {
      showToast(frame.notification);
    }
    refreshOpenMenu();
  });
  live.on("notification.read", (frame) => setCount(frame.unread));
  let connectedBefore = false;
  live.onOpen(() => {
    if (connectedBefore) {
      fetchCount();
    }
    connectedBefore = true;
  });
})();
