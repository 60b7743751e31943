// The simulated CXone Agent desktop: plays CXone Agent's side of the panel protocol.
// Raw PascalCase events with string values, a snapshot plus acknowledge on subscribe,
// batches forwarded afterwards, posted with targetOrigin "*" as the real host does.
// Tests drive it through window.desktop.
(function () {
  "use strict";
  const panelOrigin = document.body.dataset.panelOrigin;
  const foreignOrigin = document.body.dataset.foreignOrigin;
  const frame = document.getElementById("panel-frame");
  const open = new Map();          // ContactID -> latest raw CallContactEvent
  const subscribers = [];          // windows registered for client events
  const messages = [];             // every message received from the panel
  let nextContactId = 700000 + Math.floor(Math.random() * 100000);
  // For tests: drop this many registrations, as if the panel had asked before the desktop listened.
  let registrationsToLose = Number(new URLSearchParams(location.search).get("loseRegistrations") || 0);
  let agentState = rawAgentState("Available", "");
  // CXone Agent's ACD session: one per agent sign-in, shared by every panel the agent has open.
  // ?session= lets a test open two desktops of one agent session.
  const sessionToken = new URLSearchParams(location.search).get("session") || "sim-session-" + Math.floor(Math.random() * 1e9);

  function nowUtc() { return new Date().toISOString(); }

  function rawAgentState(state, reason) {
    return {Type: "AgentState", CurrentState: state, CurrentOutReason: reason || "",
            StartTimeUTC: nowUtc(), IsAcw: "False", AcwTimeout: "", NextStates: "", NextIsAcw: "False"};
  }

  function broadcast(events) {
    for (const subscriber of subscribers) subscriber.postMessage({issuer: "CXA", contactId: null, events}, "*");
  }

  function snapshot() {
    return [agentState, ...open.values(),
            {messageType: "SessionInfo", sessionToken},
            {messageType: "ClientEventSubscriptionAcknowledge", contactId: null, status: "OK", reason: ""}];
  }

  function update(contactId, changes) {
    const id = String(contactId);
    const current = open.get(id);
    if (!current) throw new Error(`no open contact ${id}`);
    const next = {...current, ...changes, LastStateChangeTimeUTC: nowUtc()};
    if (next.FinalState === "True") open.delete(id); else open.set(id, next);
    broadcast([next]);
    renderContacts();
    return id;
  }

  // Call-control commands from the panel; HoldEvent toggles hold, as CXone's does.
  const commands = {
    AnswerEvent: (id) => desktop.answer(id),
    HoldEvent: (id) => (open.get(String(id)).Status === "Holding" ? desktop.resume(id) : desktop.hold(id)),
    HangupEvent: (id) => desktop.hangup(id),
  };

  window.addEventListener("message", (event) => {
    if (event.source === frame.contentWindow) {
      messages.push({origin: event.origin, data: event.data});
      const data = event.data || {};
      if (data.messageType === "RegisterForClientEvents") {
        if (registrationsToLose > 0) { registrationsToLose -= 1; return; }
        if (subscribers.includes(event.source)) return;  // one subscription per window, as CXone
        subscribers.push(event.source);
        event.source.postMessage({issuer: "CXA", contactId: null, events: snapshot()}, "*");
      } else if (data.messageType === "UnregisterFromClientEvents") {
        const index = subscribers.indexOf(event.source);
        if (index >= 0) subscribers.splice(index, 1);
      } else if (commands[data.messageType] && open.has(String(data.contactId))) {
        commands[data.messageType](data.contactId);
      }
    } else if (event.origin === foreignOrigin && event.data && event.data.foreignSent) {
      desktop.foreignSends += 1;
    }
  });

  const desktop = {
    messages,
    foreignSends: 0,
    ring({ani = "", dnis = "+18005550100", inbound = true, skill = "4001"} = {}) {
      const id = String(nextContactId++);
      const now = nowUtc();
      const event = {
        Type: "CallContactEvent", ContactID: id, MasterID: id, Status: inbound ? "Incoming" : "Dialing",
        OriginalState: inbound ? "Incoming" : "Dialing", CallType: "Regular",
        ANI: inbound ? ani : dnis, DNIS: inbound ? dnis : ani, Skill: String(skill),
        IsInbound: inbound ? "True" : "False", StartTimeUTC: now, LastStateChangeTimeUTC: now,
        ScreenPopUrl: "", DisconnectCode: "None", IsLogging: "False", Timeout: "", AllowDispositions: "True",
        Label: "", IsLinked: "False", FinalState: "False", OtherInformation: "", CustomData: "",
        ParentContactId: "", OmniGroupId: "", ExternalId: "", InteractionId: "", CustomerCardUrl: "",
      };
      open.set(id, event);
      broadcast([event]);
      renderContacts();
      return id;
    },
    answer: (id) => update(id, {Status: "Active"}),
    hold: (id) => update(id, {Status: "Holding"}),
    resume: (id) => update(id, {Status: "Active"}),
    hangup: (id) => update(id, {Status: "Disconnected", FinalState: "False"}),
    close: (id) => update(id, {Status: "Disconnected", FinalState: "True"}),
    setAgentState(state, reason = "") {
      agentState = rawAgentState(state, reason);
      const picker = document.getElementById("agent-state");
      const value = reason ? `${state}|${reason}` : state;
      if ([...picker.options].some((option) => option.value === value)) picker.value = value;
      broadcast([agentState]);
    },
    send(rawEvents) { broadcast(rawEvents); },
    postRaw(message) { for (const subscriber of subscribers) subscriber.postMessage(message, "*"); },
    subscriberCount: () => subscribers.length,
    openContacts: () => [...open.keys()],
    injectFromForeignSite(rawEvents) {
      const stranger = document.createElement("iframe");
      stranger.hidden = true;
      stranger.src = `${foreignOrigin}/demo/foreign-sender#${encodeURIComponent(JSON.stringify(rawEvents))}`;
      document.body.appendChild(stranger);
    },
    sessionToken,
    // Custom data the proxy attached to contacts through the simulated CXone API, oldest first.
    async customData() {
      const response = await fetch("/demo/cxone-custom-data");
      if (!response.ok) throw new Error(`custom data unavailable: ${response.status}`);
      return (await response.json()).records;
    },
    async setCrmBehaviour({delayMs = 0, failStatus = 0, failTimes = 0, retryAfterS = 1} = {}) {
      const response = await fetch("/demo/crm-behaviour", {
        method: "PUT", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({delay_ms: delayMs, fail_status: failStatus, fail_times: failTimes, retry_after_s: retryAfterS}),
      });
      if (!response.ok) throw new Error(`demo CRM refused: ${response.status} ${await response.text()}`);
      return response.json();
    },
  };
  window.desktop = desktop;

  // ----- the visible controls -----
  const list = document.getElementById("contacts");
  function button(label, action) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", action);
    return element;
  }
  function renderContacts() {
    list.replaceChildren();
    for (const [id, event] of open) {
      const item = document.createElement("li");
      item.textContent = `#${id} ${event.IsInbound === "True" ? "from" : "to"} ${event.IsInbound === "True" ? event.ANI : event.DNIS} — ${event.Status} `;
      if (event.Status === "Incoming" || event.Status === "Dialing") item.append(button("Answer", () => desktop.answer(id)));
      if (event.Status === "Active") item.append(button("Hold", () => desktop.hold(id)));
      if (event.Status === "Holding") item.append(button("Resume", () => desktop.resume(id)));
      if (event.Status !== "Disconnected") item.append(button("Hang up", () => desktop.hangup(id)));
      item.append(button("Close", () => desktop.close(id)));
      list.append(item);
    }
  }

  document.getElementById("ring-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = document.getElementById("ring-number").value.trim();
    const chosen = document.getElementById("ring-contact").value;
    const outbound = document.getElementById("ring-outbound").checked;
    const number = typed || chosen;
    if (!number) return;
    desktop.ring(outbound ? {dnis: number, ani: "+18005550100", inbound: false} : {ani: number});
  });
  document.getElementById("agent-state").addEventListener("change", (event) => {
    const [state, reason] = event.target.value.split("|");
    desktop.setAgentState(state, reason || "");
  });
  document.getElementById("crm-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("crm-status");
    try {
      const applied = await desktop.setCrmBehaviour({
        delayMs: Number(document.getElementById("crm-delay").value) || 0,
        failStatus: Number(document.getElementById("crm-fail").value) || 0,
      });
      status.textContent = `delay ${applied.delay_ms} ms, fail ${applied.fail_status || "none"}`;
    } catch (error) { status.textContent = String(error); }
  });
  // What CXone has been told about contacts (custom data), refreshed while the section is open.
  const customDataSection = document.getElementById("custom-data");
  async function showCustomData() {
    const records = await desktop.customData();
    const list = document.getElementById("custom-data-list");
    list.replaceChildren(...records.slice(-20).reverse().map((record) => {
      const item = document.createElement("li");
      item.textContent = `${record.contact_id}: ${record.data}`;
      return item;
    }));
  }
  setInterval(() => { if (customDataSection.open) showCustomData().catch(() => {}); }, 2000);
  customDataSection.addEventListener("toggle", () => { if (customDataSection.open) showCustomData().catch(() => {}); });
  fetch("/demo/contacts").then((response) => response.json()).then((body) => {
    const select = document.getElementById("ring-contact");
    for (const contact of body.results || []) {
      const option = document.createElement("option");
      option.value = contact.phone_e164;
      option.textContent = `${contact.first_name} ${contact.last_name} (${contact.phone_e164})`;
      select.append(option);
    }
  }).catch((error) => console.warn("demo contacts unavailable", error));
})();
