// The panel's one piece of JavaScript. It runs before Python exists: it registers with
// CXone Agent at page load and buffers every host message until Python attaches, so
// nothing the host sends during the runtime's start-up is lost. All decisions (origin
// checks, parsing, what to show) are Python's.
(function () {
  "use strict";
  const MAX_BUFFERED = 10000;  // a bound, far above a start-up's worth of host batches
  const STORAGE_PROBE_DEADLINE_MS = 1000;
  const MAX_REGISTER_ATTEMPTS = 6;  // at 0, 1, 3, 7, 15 and 31 s
  const panelId = document.currentScript.dataset.panelId || "crm-context-panel";
  const runtimeBase = document.currentScript.dataset.runtimeBase;
  const embedded = window.parent !== window;
  let buffered = [];
  let dropped = 0;
  let handler = null;

  function parentOrigin() {
    const ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length > 0) return ancestors[0];
    try { return new URL(document.referrer).origin; } catch (error) { return null; }
  }

  function post(message) {
    const origin = parentOrigin();
    if (embedded && origin) window.parent.postMessage(message, origin);
  }

  function deliver(fn, origin, fromParent, data) {
    try { fn(origin, fromParent, data); } catch (error) { console.error("[panel] message handler failed", error); }
  }

  window.addEventListener("message", (event) => {
    if (event.source === window) return;  // the runtime's own scheduling messages
    const fromParent = embedded && event.source === window.parent;
    if (fromParent && !acknowledged && isAcknowledge(event.data)) acknowledged = true;
    if (handler) { deliver(handler, event.origin, fromParent, event.data); return; }
    if (buffered.length >= MAX_BUFFERED) { dropped += 1; return; }
    buffered.push([event.origin, fromParent, event.data]);
  });

  // CXone keeps one subscription per window and ignores a second RegisterForClientEvents. A
  // reloaded panel is the same window, and an Unregister posted while the old page unloads is
  // not delivered, so release any old subscription first: then the host sends a fresh snapshot.
  function subscribe() {
    post({issuer: panelId, messageType: "UnregisterFromClientEvents"});
    post({issuer: panelId, messageType: "RegisterForClientEvents",
          subscriptionTypes: ["agent", "contacts", "sessioninfo"]});
  }
  // A panel can load before the desktop listens (its frame starts loading before the desktop's
  // own scripts run), and then the request is lost. Until CXone acknowledges, ask again, with a
  // doubling delay, a bounded number of times.
  let acknowledged = false;
  function isAcknowledge(data) {
    return Boolean(data) && Array.isArray(data.events) && data.events.some((event) =>
      event && event.messageType === "ClientEventSubscriptionAcknowledge" && String(event.status).toUpperCase() === "OK");
  }
  function resubscribeUnlessAcknowledged(attempt, delayMs) {
    setTimeout(() => {
      if (acknowledged || attempt >= MAX_REGISTER_ATTEMPTS) return;
      console.info("[panel] no acknowledge from CXone Agent yet; registering again");
      subscribe();
      resubscribeUnlessAcknowledged(attempt + 1, delayMs * 2);
    }, delayMs);
  }
  subscribe();
  resubscribeUnlessAcknowledged(1, 1000);
  window.addEventListener("pagehide", () => post({issuer: panelId, messageType: "UnregisterFromClientEvents"}));

  // PyScript keeps a small cache in IndexedDB and cannot boot without one. Browsers that block
  // third-party storage deny it to a cross-site frame like this panel, so probe first and, when
  // denied, install an in-memory IndexedDB (npm fake-indexeddb) before loading PyScript.
  function indexedDbUsable() {
    return new Promise((resolve) => {
      setTimeout(() => resolve(false), STORAGE_PROBE_DEADLINE_MS);
      try {
        const request = indexedDB.open("cxone-panel-probe");
        request.onsuccess = () => { request.result.close(); resolve(true); };
        request.onerror = (event) => { event.preventDefault(); resolve(false); };
      } catch (error) { resolve(false); }
    });
  }

  async function loadRuntime() {
    if (!(await indexedDbUsable())) {
      console.info("[panel] IndexedDB denied in this frame; using an in-memory one");
      await import(`${runtimeBase}/fake-indexeddb/auto/index.mjs`);
    }
    const core = document.createElement("script");
    core.type = "module";
    core.src = `${runtimeBase}/pyscript/core.js`;
    document.head.appendChild(core);
  }
  loadRuntime().catch((error) => console.error("[panel] the Python runtime failed to load", error));

  window.cxonePanelBridge = Object.freeze({
    // Hand every buffered message to fn, in arrival order, then deliver live.
    attach(fn) {
      const pending = buffered;
      buffered = [];
      handler = fn;
      for (const [origin, fromParent, data] of pending) deliver(fn, origin, fromParent, data);
      if (dropped > 0) console.warn(`[panel] ${dropped} host messages arrived before start-up beyond the buffer and were dropped`);
    },
    post,
  });
})();
