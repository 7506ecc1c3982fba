/*
 * Avera help desk chat widget: a launcher button and a chat panel that talk to
 * Rasa's socket.io channel. A site embeds it with a container and one script:
 *
 *   <div id="avera-chat" data-socket-url="https://chat.example.org" data-support-phone="855-667-9704"></div>
 *   <script src="https://help.example.org/static/chat/chat-widget.js" defer></script>
 *
 * The widget loads its stylesheet and the socket.io client from beside this file.
 * Bot and agent text is always inserted as text, never as HTML. The conversation
 * lives in sessionStorage (gone when the tab closes: portal users share computers).
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript;
  var BASE = SCRIPT.src.replace(/\/chat\/chat-widget\.js(\?.*)?$/, "");
  var STORE_KEY = "avera-chat";
  var GREETING = "/greet";
  var QUIET_MS = 900;        // the typing indicator goes once the bot is quiet this long
  var NO_REPLY_MS = 30000;   // ... or when no reply came at all
  var LIST_ITEM = /^\s*(?:[-*\u2022]|\d+[.)])\s+/;
  var URL_PATTERN = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;

  var container = document.getElementById("avera-chat");
  if (!container) {
    return;
  }
  var socketUrl = container.getAttribute("data-socket-url") || window.location.origin;
  var supportPhone = container.getAttribute("data-support-phone") || "855-667-9704";

  var state = loadState() || freshState(false);
  var socket = null;
  var ready = false;           // connected and the session confirmed
  var everConnected = false;
  var typingTimer = null;
  var ui = buildUi();

  addStylesheet();
  renderAll();
  setOpen(state.open, false);
  loadScript(BASE + "/vendor/socket.io.min.js", connect, function () {
    showStatus(unreachableText(), "error");
  });

  // ---- state ---------------------------------------------------------------------------------

  function freshState(open) {
    return { sessionId: newSessionId(), messages: [], pending: [], open: open, greeted: false };
  }

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadState() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY));
      return stored && /^[0-9a-f]{32}$/.test(stored.sessionId) ? stored : null;
    } catch (error) {
      return null;
    }
  }

  function saveState() {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (error) {
      /* storage full or disabled: the chat still works, it just won't survive a reload */
    }
  }

  // ---- building the widget -------------------------------------------------------------------

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function buildUi() {
    var root = el("div", { "class": "avc" });
    var launcher = el("button", { type: "button", "class": "avc-launcher", "aria-controls": "avc-panel",
                                  "aria-expanded": "false" }, "Chat with us");
    var panel = el("section", { id: "avc-panel", "class": "avc-panel", role: "dialog", "aria-modal": "true",
                                "aria-labelledby": "avc-title" });
    panel.hidden = true;
    var header = el("div", { "class": "avc-header" });
    header.appendChild(el("h2", { id: "avc-title", "class": "avc-title" }, "Avera help desk"));
    var endButton = el("button", { type: "button", "class": "avc-end" }, "End chat");
    var closeButton = el("button", { type: "button", "class": "avc-close" }, "Close");
    header.appendChild(endButton);
    header.appendChild(closeButton);
    var status = el("p", { "class": "avc-status", role: "status" });
    var log = el("div", { "class": "avc-log", role: "log", "aria-live": "polite", "aria-label": "Conversation",
                         tabindex: "0" });
    var typing = el("p", { "class": "avc-typing" }, "The assistant is typing\u2026");
    typing.hidden = true;
    var form = el("form", { "class": "avc-form" });
    var label = el("label", { "for": "avc-input", "class": "avc-sr" }, "Type your message");
    var input = el("input", { id: "avc-input", type: "text", autocomplete: "off", maxlength: "1000",
                              placeholder: "Type your question" });
    var send = el("button", { type: "submit", "class": "avc-send" }, "Send");
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    panel.appendChild(header);
    panel.appendChild(status);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    root.appendChild(launcher);
    root.appendChild(panel);
    container.appendChild(root);

    launcher.addEventListener("click", function () { setOpen(true, true); });
    closeButton.addEventListener("click", function () { setOpen(false, true); });
    endButton.addEventListener("click", endChat);
    panel.addEventListener("keydown", keepFocusInside);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (text) {
        input.value = "";
        sendMessage(text, text);
      }
    });
    return { launcher: launcher, panel: panel, status: status, log: log, typing: typing, input: input };
  }

  function addStylesheet() {
    var link = el("link", { rel: "stylesheet", href: BASE + "/chat/chat-widget.css" });
    document.head.appendChild(link);
  }

  function loadScript(src, onLoad, onError) {
    var script = el("script", { src: src });
    script.addEventListener("load", onLoad);
    script.addEventListener("error", onError);
    document.head.appendChild(script);
  }

  // ---- opening, closing, keyboard ------------------------------------------------------------

  function setOpen(open, moveFocus) {
    state.open = open;
    saveState();
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      scrollToEnd();
      if (moveFocus) {
        ui.input.focus();
      }
      greetOnce();
    } else if (moveFocus) {
      ui.launcher.focus();
    }
  }

  function keepFocusInside(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    var focusable = Array.prototype.filter.call(
      ui.panel.querySelectorAll("button, input, [href], [tabindex='0']"),
      function (node) { return !node.disabled && node.offsetParent !== null; }
    );
    if (!focusable.length) {
      return;
    }
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  // ---- the connection ------------------------------------------------------------------------

  function connect() {
    socket = window.io(socketUrl, {
      path: "/socket.io",
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000
    });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function () {
      var wasOffline = everConnected && !ready;
      ready = true;
      everConnected = true;
      showStatus(wasOffline ? "Connected again." : "", "info");
      flushPending();
      if (state.open) {
        greetOnce();
      }
    });
    socket.on("disconnect", function (reason) {
      ready = false;
      stopTyping();
      if (reason === "io client disconnect") {
        return;  // End chat: a new conversation starts at once
      }
      showStatus("The connection was lost. Reconnecting\u2026 Anything you type is sent when it is back.", "warning");
    });
    socket.on("connect_error", function () {
      ready = false;
      if (!everConnected) {
        showStatus(unreachableText(), "error");
      }
    });
    socket.on("bot_uttered", receive);
  }

  function unreachableText() {
    return "We can't reach the chat right now; we keep trying. For help now, call MyChart technical support at " +
      supportPhone + " (24 hours a day, 7 days a week).";
  }

  function showStatus(text, kind) {
    ui.status.textContent = text;
    ui.status.className = "avc-status" + (text ? " avc-status--" + kind : "");
  }

  function greetOnce() {
    if (!state.greeted && ready) {
      state.greeted = true;
      saveState();
      emit(GREETING);
      startTyping();
    }
  }

  function emit(text) {
    socket.emit("user_uttered", { message: text, session_id: state.sessionId });
  }

  function sendMessage(text, shown) {
    var message = addMessage({ from: "user", text: shown, pending: !ready });
    if (ready) {
      emit(text);
      startTyping();
    } else {
      state.pending.push({ id: message.id, text: text });  // sent by flushPending on reconnect
      saveState();
    }
  }

  function flushPending() {
    var pending = state.pending;
    state.pending = [];
    pending.forEach(function (item) {
      emit(item.text);
      state.messages.forEach(function (message) {
        if (message.id === item.id) {
          message.pending = false;
        }
      });
    });
    saveState();
    if (pending.length) {
      renderAll();
      startTyping();
    }
  }

  function endChat() {
    state = freshState(true);
    saveState();
    renderAll();
    stopTyping();
    ready = false;
    everConnected = false;
    showStatus("", "info");
    if (socket) {
      socket.disconnect();  // a new socket joins only the new conversation's room
      socket.connect();
    }
    ui.input.focus();
  }

  // ---- receiving -----------------------------------------------------------------------------

  function receive(payload) {
    if (!payload || typeof payload !== "object") {
      return;
    }
    if (typeof payload.agent_name === "string" && typeof payload.text === "string") {
      addMessage({ from: "agent", agent: payload.agent_name, text: payload.text });
    } else if (payload.upload && typeof payload.upload === "object") {
      addMessage({ from: "bot", upload: payload.upload });
    } else if (typeof payload.text === "string" || payload.quick_replies) {
      var buttons = (payload.quick_replies || []).map(function (reply) {
        return { title: String(reply.title), payload: String(reply.payload) };
      });
      addMessage({ from: "bot", text: payload.text || "", buttons: buttons });
    } else {
      return;
    }
    if (!ui.typing.hidden) {
      startTyping(QUIET_MS);  // more of the same turn may follow
    }
  }

  function addMessage(fields) {
    var message = fields;
    message.id = newSessionId().slice(0, 12);
    message.time = new Date().toISOString();
    state.messages.push(message);
    saveState();
    ui.log.appendChild(renderMessage(message));
    scrollToEnd();
    return message;
  }

  // ---- typing indicator and focus after a reply ----------------------------------------------

  function startTyping(quietMs) {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(turnOver, quietMs || NO_REPLY_MS);
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  function turnOver() {
    stopTyping();
    var active = document.activeElement;
    if (state.open && (active === document.body || active === null || ui.panel.contains(active) &&
        active.disabled)) {
      ui.input.focus();
    }
  }

  // ---- rendering -----------------------------------------------------------------------------

  function renderAll() {
    ui.log.textContent = "";
    state.messages.forEach(function (message) { ui.log.appendChild(renderMessage(message)); });
    scrollToEnd();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function speaker(message) {
    if (message.from === "user") {
      return "You";
    }
    if (message.from === "agent") {
      return message.agent + " (help desk staff)";
    }
    return "Avera assistant";
  }

  function renderMessage(message) {
    var item = el("div", { "class": "avc-msg avc-msg--" + message.from });
    var meta = el("p", { "class": "avc-meta" });
    meta.appendChild(el("span", { "class": "avc-who" }, speaker(message)));
    meta.appendChild(el("span", { "class": "avc-sr" }, " said, at "));
    var when = new Date(message.time);
    meta.appendChild(el("time", { datetime: message.time, "class": "avc-time" },
                        when.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })));
    item.appendChild(meta);
    if (message.text) {
      var body = el("div", { "class": "avc-text" });
      appendRichText(body, message.text);
      item.appendChild(body);
    }
    if (message.pending) {
      item.appendChild(el("p", { "class": "avc-pending" }, "Not sent yet: waiting for the connection."));
    }
    if (message.buttons && message.buttons.length) {
      item.appendChild(renderButtons(message));
    }
    if (message.upload) {
      item.appendChild(renderUpload(message));
    }
    return item;
  }

  function appendRichText(parent, text) {
    var list = null;
    text.split("\n").forEach(function (line) {
      if (LIST_ITEM.test(line)) {
        if (!list) {
          list = parent.appendChild(el("ul"));
        }
        appendLinkified(list.appendChild(el("li")), line.replace(LIST_ITEM, ""));
      } else if (line.trim()) {
        list = null;
        appendLinkified(parent.appendChild(el("p")), line);
      }
    });
  }

  function appendLinkified(parent, line) {
    var last = 0;
    line.replace(URL_PATTERN, function (url, offset) {
      parent.appendChild(document.createTextNode(line.slice(last, offset)));
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
      parent.appendChild(link);
      last = offset + url.length;
      return url;
    });
    parent.appendChild(document.createTextNode(line.slice(last)));
  }

  function renderButtons(message) {
    var group = el("div", { "class": "avc-buttons", role: "group", "aria-label": "Suggested answers" });
    message.buttons.forEach(function (choice) {
      var button = el("button", { type: "button", "class": "avc-choice" }, choice.title);
      button.disabled = Boolean(message.used);
      button.addEventListener("click", function () {
        message.used = true;
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.disabled = true; });
        sendMessage(choice.payload, choice.title);
      });
      group.appendChild(button);
    });
    return group;
  }

  function formatBytes(bytes) {
    return bytes >= 1048576 ? Math.round(bytes / 104857.6) / 10 + " MB" : Math.ceil(bytes / 1024) + " KB";
  }

  function renderUpload(message) {
    var offer = message.upload;
    var box = el("div", { "class": "avc-upload" });
    if (message.uploaded) {
      box.appendChild(el("p", {}, "Uploaded: " + message.uploaded));
      return box;
    }
    var id = "avc-file-" + message.id;
    var types = (offer.accept || []).map(function (ext) { return ext.replace(/^\./, ""); }).join(", ");
    box.appendChild(el("label", { "for": id },
      "Signed site agreement (" + types + "; up to " + formatBytes(offer.max_bytes) + ")"));
    var picker = el("input", { id: id, type: "file", accept: (offer.accept || []).join(",") });
    var button = el("button", { type: "button", "class": "avc-upload-button" }, "Upload");
    var problem = el("p", { "class": "avc-upload-error", role: "alert" });
    box.appendChild(picker);
    box.appendChild(button);
    box.appendChild(problem);
    button.addEventListener("click", function () {
      var file = picker.files[0];
      var extension = file ? "." + file.name.split(".").pop().toLowerCase() : "";
      if (!file) {
        problem.textContent = "Choose the file first.";
      } else if ((offer.accept || []).indexOf(extension) < 0) {
        problem.textContent = "This file type can't be used. Upload the signed agreement as " + types + ".";
      } else if (file.size > offer.max_bytes) {
        problem.textContent = "This file is " + formatBytes(file.size) + "; the limit is " +
          formatBytes(offer.max_bytes) + ".";
      } else {
        problem.textContent = "Uploading\u2026";
        button.disabled = true;
        upload(offer, file).then(function (attachment) {
          message.uploaded = file.name;
          saveState();
          box.replaceWith(renderUpload(message));
          sendMessage("attachment: " + attachment.id, "Uploaded " + file.name);
        }, function (error) {
          problem.textContent = error.message;
          button.disabled = false;
        });
      }
    });
    return box;
  }

  function upload(offer, file) {
    var form = new FormData();
    form.append("file", file, file.name);
    return window.fetch(offer.url, {
      method: "POST",
      headers: { Authorization: "Bearer " + offer.token },
      body: form,
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          return body;
        }
        var reason = (body.error && body.error.message) || "The upload did not work.";
        throw new Error(reason + " You can also say \u201clater\u201d to get an upload link by e-mail.");
      });
    }, function () {
      throw new Error("The upload did not reach us. Try again, or say \u201clater\u201d to get an upload " +
                      "link by e-mail.");
    });
  }
})();
