// The one WebSocket per tab (ws/live/, collaboration.consumers.LiveConsumer), shared by every
// page script through window.crmLive. base.html loads it for signed-in users before the pages'
// own scripts, so they can register handlers as they start.
//
//   crmLive.on(type, handler)   handler(frame) for every server frame of that "type"
//   crmLive.send(frame) -> bool false when not connected; nothing is queued, callers decide
//   crmLive.onOpen(handler)     called on every (re)connection (at once when already open), so
//                               subscribers resubscribe with the last message id they saw
//   crmLive.onStatus(handler)   handler(status) on every change (at once with the current one)
//   crmLive.status              "connecting" | "open" | "reconnecting" | "closed"
//
// "closed" is final: the server refused the session (close code 4401, signed out), so trying
// again cannot help until the page is reloaded. Otherwise a lost connection is retried after 1s,
// doubling to 30s, and at once when the browser comes back online. A ping every 25s keeps
// proxies from dropping an idle socket; a ping left unanswered until the next one means the
// connection is dead, so it is closed and retried. Presence is "away" while the tab is hidden
// or after 5 minutes without input, "online" otherwise.

(() => {
  const UNAUTHENTICATED = 4401;
  const FIRST_DELAY = 1000;
  const MAX_DELAY = 30000;
  const PING_EVERY = 25000;
  const IDLE_AFTER = 5 * 60 * 1000;
  const INPUT_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "scroll"];

  const handlers = new Map();
  const openHandlers = [];
  const statusHandlers = [];
  let socket = null;
  let delay = FIRST_DELAY;
  let retryTimer = null;
  let pingTimer = null;
  let pingId = 0;
  let awaitingPong = null;
  let idle = false;
  let idleTimer = null;
  let lastInput = 0;
  let presenceSent = null;

  function call(handler, ...args) {
    try {
      handler(...args);
    } catch (error) {
      console.error(error);
    }
  }

  function setStatus(status) {
    if (live.status === status) {
      return;
    }
    live.status = status;
    statusHandlers.forEach((handler) => call(handler, status));
  }

  function isOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function send(frame) {
    if (!isOpen()) {
      return false;
    }
    socket.send(JSON.stringify(frame));
    return true;
  }

  function currentPresence() {
    return document.hidden || idle ? "away" : "online";
  }

  function sendPresence(force) {
    const presence = currentPresence();
    if (!force && presence === presenceSent) {
      return;
    }
    if (send({ type: "presence", status: presence })) {
      presenceSent = presence;
    }
  }

  function markActive() {
    // Input events come in bursts; restarting the idle clock once a second is plenty.
    const now = Date.now();
    if (!idle && now - lastInput < 1000) {
      return;
    }
    lastInput = now;
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(() => {
      idle = true;
      sendPresence(false);
    }, IDLE_AFTER);
    if (idle) {
      idle = false;
      sendPresence(false);
    }
  }

  function ping() {
    if (!isOpen()) {
      return;
    }
    if (awaitingPong !== null) {
      socket.close();
      return;
    }
    pingId += 1;
    awaitingPong = pingId;
    send({ type: "ping", id: pingId });
  }

  function dispatch(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame === null || typeof frame !== "object") {
      return;
    }
    if (frame.type === "pong" && frame.id === awaitingPong) {
      awaitingPong = null;
    }
    (handlers.get(frame.type) || []).forEach((handler) => call(handler, frame));
  }

  function scheduleRetry() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY);
  }

  function connect() {
    window.clearTimeout(retryTimer);
    retryTimer = null;
    if (live.status === "closed" || socket !== null) {
      return;
    }
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    let opened;
    try {
      opened = new WebSocket(scheme + window.location.host + "/ws/live/");
    } catch (error) {
      console.error(error);
      setStatus("reconnecting");
      scheduleRetry();
      return;
    }
    socket = opened;
    opened.addEventListener("open", () => {
      delay = FIRST_DELAY;
      awaitingPong = null;
      presenceSent = null;
      setStatus("open");
      sendPresence(true);
      window.clearInterval(pingTimer);
      pingTimer = window.setInterval(ping, PING_EVERY);
      openHandlers.forEach((handler) => call(handler));
    });
    opened.addEventListener("message", dispatch);
    opened.addEventListener("close", (event) => {
      if (socket !== opened) {
        return;
      }
      socket = null;
      window.clearInterval(pingTimer);
      if (event.code === UNAUTHENTICATED) {
        setStatus("closed");
        return;
      }
      setStatus("reconnecting");
      scheduleRetry();
    });
  }

  const live = {
    status: "connecting",
    on(type, handler) {
      if (!handlers.has(type)) {
        handlers.set(type, []);
      }
      handlers.get(type).push(handler);
    },
    send,
    onOpen(handler) {
      openHandlers.push(handler);
      if (isOpen()) {
        call(handler);
      }
    },
    onStatus(handler) {
      statusHandlers.push(handler);
      call(handler, live.status);
    },
  };
  window.crmLive = live;

  if (!("WebSocket" in window)) {
    return;
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      markActive();
    }
    sendPresence(false);
  });
  INPUT_EVENTS.forEach((name) =>
    window.addEventListener(name, markActive, { passive: true, capture: true }),
  );
  window.addEventListener("online", () => {
    if (live.status === "reconnecting" && socket === null) {
      delay = FIRST_DELAY;
      connect();
    }
  });
  markActive();
  connect();
})();
