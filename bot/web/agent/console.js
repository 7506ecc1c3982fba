// The help-desk agent console: sign in, follow the queue live (server-sent events), claim,
// read and answer a conversation, hand it back to the assistant or resolve it.
"use strict";

(function () {
  const API = "/api/v1";
  const state = { csrf: "", me: null, rows: new Map(), open: null, stream: null };
  const $ = (id) => document.getElementById(id);

  function announce(text) {
    $("status").textContent = text;
  }

  async function call(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
    const reply = await fetch(API + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await reply.json().catch(() => ({}));
    if (reply.status === 401 && path !== "/agent/sign-in") {
      showSignIn("Your session ended. Please sign in again.");
    }
    return { ok: reply.ok, status: reply.status, data };
  }

  function errorText(reply) {
    return (reply.data && reply.data.error && reply.data.error.message) || "Something went wrong; try again.";
  }

  // ---- sign-in ----

  function showSignIn(message) {
    if (state.stream) state.stream.close();
    state.stream = null;
    state.me = null;
    $("console").hidden = true;
    $("who").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message || "";
    $("username").focus();
  }

  async function showConsole(session) {
    state.csrf = session.csrf_token;
    state.me = session.agent;
    $("agent-name").textContent = session.agent.display_name;
    $("sign-in").hidden = true;
    $("who").hidden = false;
    $("console").hidden = false;
    await loadQueue();
    follow();
  }

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await call("POST", "/agent/sign-in", {
      username: $("username").value, password: $("password").value,
    });
    $("password").value = "";
    if (!reply.ok) {
      $("sign-in-error").textContent = errorText(reply);
      $("password").focus();
      return;
    }
    announce("Signed in.");
    await showConsole(reply.data);
    $("main").focus();
  });

  $("sign-out").addEventListener("click", async () => {
    await call("POST", "/agent/sign-out", {});
    state.open = null;
    showSignIn("You are signed out.");
  });

  // ---- queue ----

  function minutesSince(iso) {
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
    return minutes < 1 ? "under a minute" : minutes === 1 ? "1 minute" : minutes + " minutes";
  }

  async function loadQueue() {
    const [open, resolved] = await Promise.all([call("GET", "/escalations"), call("GET", "/escalations?status=resolved")]);
    if (!open.ok || !resolved.ok) return;
    state.rows.clear();
    for (const row of open.data.escalations.concat(resolved.data.escalations)) state.rows.set(row.id, row);
    renderQueue();
  }

  function renderQueue() {
    const lists = { queued: [], claimed: [], resolved: [] };
    for (const row of state.rows.values()) lists[row.status].push(row);
    lists.queued.sort((a, b) => a.created_at.localeCompare(b.created_at));
    lists.claimed.sort((a, b) => a.created_at.localeCompare(b.created_at));
    lists.resolved.sort((a, b) => (b.resolved_at || "").localeCompare(a.resolved_at || ""));
    const ids = { queued: "waiting", claimed: "claimed", resolved: "resolved" };
    for (const [status, rows] of Object.entries(lists)) {
      const list = $(ids[status]);
      const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
      list.replaceChildren(...rows.map(queueItem));
      $(ids[status] + "-count").textContent = "(" + rows.length + ")";
      if (focused) {
        const again = list.querySelector('button[data-id="' + focused + '"]');
        if (again) again.focus();
      }
    }
  }

  function queueItem(row) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.id = String(row.id);
    button.className = "row" + (state.open === row.id ? " current" : "");
    if (state.open === row.id) button.setAttribute("aria-current", "true");
    const parts = [row.reference];
    if (row.status === "resolved") parts.push(row.outcome === "handed_back" ? "handed back" : "resolved");
    else parts.push("waiting " + minutesSince(row.created_at));
    parts.push(row.channel || "unknown channel", "reason: " + (row.reason || "not given"));
    if (row.claimed_by) parts.push("claimed by " + row.claimed_by.display_name);
    if (row.user_left_at) parts.push("member left");
    button.textContent = parts.join(" · ");
    button.addEventListener("click", () => openEscalation(row.id));
    item.append(button);
    return item;
  }

  // Waiting times change with the clock, not with the server: re-render once a minute.
  setInterval(() => { if (state.me) renderQueue(); }, 60000);

  // ---- live updates ----

  function follow() {
    if (state.stream) state.stream.close();
    const stream = new EventSource(API + "/escalations/stream");
    state.stream = stream;
    stream.addEventListener("escalation", (event) => {
      const row = JSON.parse(event.data);
      const known = state.rows.get(row.id);
      state.rows.set(row.id, Object.assign(known || {}, row));
      renderQueue();
      if (!known && row.status === "queued") announce("New escalation waiting: " + row.reference + ".");
      if (state.open === row.id) renderState(state.rows.get(row.id));
    });
    stream.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (state.open === message.escalation_id && !document.querySelector('[data-message="' + message.id + '"]')) {
        $("transcript").append(messageItem(message));
      }
    });
    stream.addEventListener("ready", () => loadQueue());
    stream.addEventListener("error", async () => {
      // The browser reconnects by itself; if the session is gone, show the sign-in instead.
      const reply = await call("GET", "/agent/session");
      if (reply.status === 401 && state.stream) { state.stream.close(); state.stream = null; }
    });
  }

  // ---- one conversation ----

  function speaker(sender, agentName) {
    if (sender === "user") return "Member";
    if (sender === "agent") return agentName ? agentName + " (agent)" : "Agent";
    if (sender === "system") return "Help desk (automatic)";
    return "Assistant";
  }

  function messageItem(message) {
    const item = document.createElement("li");
    item.className = "message " + message.sender;
    if (message.id) item.dataset.message = String(message.id);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = speaker(message.sender, message.agent_name) + ": ";
    const text = document.createElement("span");
    text.textContent = message.text;
    item.append(who, text);
    return item;
  }

  function renderState(row) {
    let text;
    if (row.status === "queued") text = "Waiting for an agent since " + minutesSince(row.created_at) + " ago.";
    else if (row.status === "claimed") text = "Claimed by " + (row.claimed_by ? row.claimed_by.display_name : "an agent") + ".";
    else text = row.outcome === "handed_back" ? "Handed back to the assistant." : "Resolved.";
    if (row.user_left_at) text += " The member has left the chat.";
    $("conversation-state").textContent = text;
    const mine = row.status === "claimed" && row.claimed_by && state.me && row.claimed_by.id === state.me.id;
    $("claim").hidden = row.status !== "queued";
    $("reply-form").hidden = !mine;
    $("closing").hidden = !mine;
  }

  function renderSummary(detail) {
    const summary = detail.summary || {};
    const entries = [
      ["Reference", detail.reference], ["Channel", detail.channel], ["Reason", detail.reason],
      ["Topic", summary.topic || "not known"],
      ["What the assistant tried", (summary.tried || []).join("; ") || "nothing yet"],
      ["Form answers", Object.entries(summary.answers || {}).map(([k, v]) => k + ": " + v).join("; ") || "none"],
      ["Contact the member gave", detail.contact || "none"],
    ];
    if (detail.resolution_note) entries.push(["Resolution note", detail.resolution_note]);
    $("summary").replaceChildren(...entries.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }));
  }

  async function openEscalation(id) {
    const reply = await call("GET", "/escalations/" + id);
    if (!reply.ok) { announce(errorText(reply)); return; }
    const detail = reply.data;
    state.open = id;
    state.rows.set(id, Object.assign(state.rows.get(id) || {}, detail));
    $("conversation-title").textContent = "Conversation " + detail.reference;
    $("conversation-hint").hidden = true;
    $("conversation-body").hidden = false;
    renderSummary(detail);
    const items = detail.transcript.map((turn) => messageItem({ sender: turn.sender, text: turn.text }));
    $("transcript").replaceChildren(...items, ...detail.messages.map(messageItem));
    renderState(detail);
    renderQueue();
    $("conversation-title").focus();
  }

  $("claim").addEventListener("click", async () => {
    const reply = await call("POST", "/escalations/" + state.open + "/claim", {});
    if (!reply.ok) { announce(errorText(reply)); return; }
    state.rows.set(state.open, Object.assign(state.rows.get(state.open) || {}, reply.data));
    renderQueue();
    renderState(reply.data);
    announce("You claimed " + reply.data.reference + ".");
    $("reply").focus();
  });

  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply").value.trim();
    if (!text) { announce("Type a reply first."); $("reply").focus(); return; }
    const reply = await call("POST", "/escalations/" + state.open + "/reply", { text });
    if (!reply.ok) { announce(errorText(reply)); return; }
    $("reply").value = "";
    if (!document.querySelector('[data-message="' + reply.data.id + '"]')) $("transcript").append(messageItem(reply.data));
    announce("Reply sent.");
    $("reply").focus();
  });

  // Enter sends, Shift+Enter adds a line.
  $("reply").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("reply-form").requestSubmit(); }
  });

  async function close(path, done) {
    const body = path === "resolve" ? { note: $("note").value.trim() || null } : {};
    const reply = await call("POST", "/escalations/" + state.open + "/" + path, body);
    if (!reply.ok) { announce(errorText(reply)); return; }
    state.rows.set(reply.data.id, Object.assign(state.rows.get(reply.data.id) || {}, reply.data));
    $("note").value = "";
    renderQueue();
    renderState(reply.data);
    announce(done + " " + reply.data.reference + ".");
    $("conversation-title").focus();
  }

  $("hand-back").addEventListener("click", () => close("hand-back", "Handed back to the assistant:"));
  $("resolve-form").addEventListener("submit", (event) => { event.preventDefault(); close("resolve", "Resolved"); });

  // ---- start ----

  (async () => {
    const reply = await fetch(API + "/agent/session", { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (reply.ok) await showConsole(await reply.json());
    else showSignIn("");
  })();
})();
