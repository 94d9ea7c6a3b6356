/*!
 * Ventanilla web widget — citizen chat for any web page, one <script> tag:
 *
 *   <script src="https://ASSETS-HOST/widget/ventanilla-widget.js"
 *           data-socket-url="https://RASA-HOST" defer></script>
 *
 * Talks to Rasa's socket.io channel (events user_uttered / bot_uttered, session
 * persistence: the session id lives in the browser and Rasa keeps the tracker).
 * Plain JavaScript, no build step. The socket.io client is loaded from the same
 * host as this file (/vendor/socket.io.min.js) unless the page already has one.
 *
 * Safety: message text is only ever inserted as text (textContent, text nodes),
 * never as HTML; links are made only from http(s) URLs.
 */
(function () {
  "use strict";

  // Every text the citizen sees or hears, in one place (plain, warm Spanish, "usted").
  var STRINGS = {
    launcher: "Asistente virtual",
    title: "Asistente virtual",
    subtitle: "Atención ciudadana, las 24 horas",
    close: "Cerrar el chat",
    clear: "Borrar la conversación",
    confirmClear: "¿Borrar esta conversación? No podrá recuperarla.",
    logLabel: "Conversación con el asistente",
    inputLabel: "Escriba su consulta",
    inputPlaceholder: "Escriba su consulta…",
    send: "Enviar",
    you: "Usted",
    bot: "Asistente",
    botSays: "El asistente dice: ",
    options: "Opciones",
    optionsAnnounce: "Opciones disponibles: ",
    typing: "El asistente está escribiendo…",
    connecting: "Conectando…",
    reconnecting: "Se perdió la conexión. Reintentando…",
    reconnected: "Conexión restablecida.",
    queued: "Sin conexión: su mensaje se enviará al reconectar.",
    slowReply: "La respuesta está tardando más de lo habitual. Puede volver a escribir su consulta.",
    loadError: "No se pudo cargar el chat. Intente de nuevo más tarde.",
    sourceLabel: "Fuente oficial:",
    reviewed: "Revisado el ",
    newTab: " (se abre en una pestaña nueva)",
    tooLong: "Su mensaje es demasiado largo. Escriba como máximo 2000 caracteres."
  };

  var MAX_MESSAGE_CHARS = 2000; // the server refuses longer messages
  var MAX_HISTORY = 200; // messages kept in storage
  var HISTORY_TTL_MS = 24 * 60 * 60 * 1000; // forget a conversation idle for a day (shared computers)
  var REPLY_TIMEOUT_MS = 30000; // stop the typing indicator if nothing arrives
  var ANNOUNCE_DELAY_MS = 300; // gather one turn's messages before announcing them
  var KEY_PREFIX = "ventanilla.";

  if (window.VentanillaWidget) {
    return; // embedded twice: keep the first
  }

  var script = document.currentScript;
  var dataset = (script && script.dataset) || {};
  var globalConfig = window.VENTANILLA_CONFIG || {};
  var scriptSrc = (script && script.src) || window.location.href;

  var config = {
    socketUrl: dataset.socketUrl || globalConfig.socketUrl || new URL(scriptSrc).origin,
    socketPath: dataset.socketPath || globalConfig.socketPath || "/socket.io/",
    socketioSrc: dataset.socketioSrc || new URL("/vendor/socket.io.min.js", scriptSrc).href,
    initPayload: dataset.initPayload === undefined ? "/greet" : dataset.initPayload,
    storage: dataset.storage === "session" ? "session" : "local",
    title: dataset.title || STRINGS.title,
    subtitle: dataset.subtitle || STRINGS.subtitle,
    open: dataset.open === "true"
  };

  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  // ---------------------------------------------------------------- storage

  /** Session id and history survive reloads and reconnections (same id = same Rasa tracker). */
  var store = (function () {
    var backend = null;
    try {
      backend = config.storage === "session" ? window.sessionStorage : window.localStorage;
      backend.setItem(KEY_PREFIX + "probe", "1");
      backend.removeItem(KEY_PREFIX + "probe");
    } catch (e) {
      backend = null; // storage disabled: the widget still works, without memory
    }
    var memory = {};
    function get(key) {
      var raw = backend ? backend.getItem(KEY_PREFIX + key) : memory[key];
      if (!raw) return null;
      try { return JSON.parse(raw); } catch (e) { return null; }
    }
    function set(key, value) {
      var raw = JSON.stringify(value);
      if (backend) {
        try { backend.setItem(KEY_PREFIX + key, raw); } catch (e) { /* quota: keep going */ }
      } else {
        memory[key] = raw;
      }
    }
    function remove(key) {
      if (backend) backend.removeItem(KEY_PREFIX + key); else delete memory[key];
    }
    return { get: get, set: set, remove: remove };
  })();

  function loadConversation() {
    var saved = store.get("conversation");
    if (!saved || !Array.isArray(saved.messages) || Date.now() - (saved.updated || 0) > HISTORY_TTL_MS) {
      return { sessionId: null, messages: [], greeted: false };
    }
    return {
      sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
      messages: saved.messages,
      greeted: !!saved.greeted
    };
  }

  var conversation = loadConversation();

  function saveConversation() {
    conversation.messages = conversation.messages.slice(-MAX_HISTORY);
    store.set("conversation", {
      sessionId: conversation.sessionId,
      messages: conversation.messages,
      greeted: conversation.greeted,
      updated: Date.now()
    });
  }

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (name === "text") node.textContent = attrs[name];
        else if (name === "className") node.className = attrs[name];
        else node.setAttribute(name, attrs[name]);
      });
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function svgIcon(pathData) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.appendChild(path);
    return svg;
  }

  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm2 5v2h12V9H6zm0 4v2h8v-2H6z",
    close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z",
    trash: "M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9z",
    send: "M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z"
  };

  function safeHttpUrl(value) {
    if (typeof value !== "string") return null;
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  /** Text with http(s) URLs turned into links; everything else stays text. */
  function linkifiedText(text) {
    var fragment = document.createDocumentFragment();
    var pattern = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)»]/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      var href = safeHttpUrl(match[0]);
      if (href) fragment.appendChild(externalLink(href, match[0]));
      else fragment.appendChild(document.createTextNode(match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function externalLink(href, label) {
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, [
      document.createTextNode(label),
      el("span", { className: "vw-sr-only", text: STRINGS.newTab })
    ]);
  }

  function formatDate(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
    return match ? match[3] + "/" + match[2] + "/" + match[1] : String(value || "");
  }

  // ---------------------------------------------------------------- styles

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".vw { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif; font-size: 16px; line-height: 1.45; color: #1b1b1b; }",
    ".vw-sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }",
    "button, input { font: inherit; }",
    "svg { width: 1.25em; height: 1.25em; fill: currentColor; flex: none; }",
    ":focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }",
    ".vw-launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: flex; align-items: center; gap: .5em;",
    "  padding: .75em 1.1em; border: 2px solid #ffffff; border-radius: 999px; background: #0a4a8a; color: #ffffff; font-weight: 600; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
    ".vw-launcher:hover { background: #083a6d; }",
    ".vw-launcher:focus-visible { outline: 3px solid #b35c00; outline-offset: 3px; }",
    ".vw-panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483001; width: 380px; max-width: calc(100vw - 24px); height: 560px; max-height: calc(100vh - 104px);",
    "  display: flex; flex-direction: column; background: #ffffff; border: 1px solid #8a8a8a; border-radius: 12px; overflow: hidden; box-shadow: 0 10px 30px rgba(0,0,0,.3);",
    "  animation: vw-in .18s ease-out; }",
    ".vw-panel[hidden] { display: none; }",
    "@keyframes vw-in { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }",
    ".vw-header { display: flex; align-items: flex-start; gap: .5em; padding: .75em .75em .75em 1em; background: #0a4a8a; color: #ffffff; }",
    ".vw-heading { flex: 1; min-width: 0; }",
    ".vw-title { margin: 0; font-size: 1.1em; line-height: 1.3; }",
    ".vw-subtitle { margin: 0; font-size: .875em; color: #ffffff; }",
    ".vw-icon-button { display: inline-flex; align-items: center; justify-content: center; width: 2.5em; height: 2.5em; border: 0; border-radius: 8px; background: transparent; color: #ffffff; cursor: pointer; }",
    ".vw-icon-button:hover { background: rgba(255,255,255,.18); }",
    ".vw-icon-button:focus-visible { outline: 3px solid #ffffff; outline-offset: -3px; }",
    ".vw-status { margin: 0; padding: .4em 1em; background: #fff4d6; color: #4d3800; font-size: .875em; border-bottom: 1px solid #e0c36a; }",
    ".vw-status:empty { display: none; }",
    ".vw-log { flex: 1; overflow-y: auto; padding: 1em; display: flex; flex-direction: column; gap: .6em; background: #f7f8fa; }",
    ".vw-log:focus-visible { outline: 3px solid #b35c00; outline-offset: -3px; }",
    ".vw-msg { max-width: 85%; padding: .55em .8em; border-radius: 12px; white-space: pre-line; overflow-wrap: anywhere; }",
    ".vw-msg a { color: #0a4a8a; text-decoration: underline; }",
    ".vw-bot { align-self: flex-start; background: #ffffff; border: 1px solid #c9cdd3; border-bottom-left-radius: 4px; }",
    ".vw-user { align-self: flex-end; background: #0a4a8a; color: #ffffff; border-bottom-right-radius: 4px; }",
    ".vw-user a { color: #ffffff; }",
    ".vw-source { align-self: flex-start; max-width: 85%; padding: .5em .8em; border-left: 4px solid #0a4a8a; border-radius: 6px; background: #e8f0fa; color: #1b1b1b; font-size: .9em; }",
    ".vw-source a { color: #0a4a8a; font-weight: 600; text-decoration: underline; }",
    ".vw-source-label { font-weight: 600; margin-right: .3em; }",
    ".vw-reviewed { display: block; color: #404040; font-size: .9em; }",
    ".vw-buttons { align-self: flex-start; display: flex; flex-wrap: wrap; gap: .4em; max-width: 100%; }",
    ".vw-choice { padding: .45em .85em; border: 2px solid #0a4a8a; border-radius: 999px; background: #ffffff; color: #0a4a8a; font-weight: 600; cursor: pointer; }",
    ".vw-choice:hover { background: #e8f0fa; }",
    ".vw-choice:disabled { border-color: #b8bec6; color: #5f6670; background: #f1f2f4; cursor: default; }",
    ".vw-typing { align-self: flex-start; display: inline-flex; gap: 4px; padding: .75em .9em; background: #ffffff; border: 1px solid #c9cdd3; border-radius: 12px; }",
    ".vw-typing[hidden] { display: none; }",
    ".vw-dot { width: 8px; height: 8px; border-radius: 50%; background: #5f6670; animation: vw-bounce 1.2s infinite ease-in-out; }",
    ".vw-dot:nth-child(2) { animation-delay: .15s; } .vw-dot:nth-child(3) { animation-delay: .3s; }",
    "@keyframes vw-bounce { 0%, 80%, 100% { transform: translateY(0); opacity: .5; } 40% { transform: translateY(-5px); opacity: 1; } }",
    ".vw-form { display: flex; gap: .5em; padding: .75em; border-top: 1px solid #c9cdd3; background: #ffffff; }",
    ".vw-input { flex: 1; min-width: 0; padding: .6em .75em; border: 2px solid #6b7280; border-radius: 8px; color: #1b1b1b; background: #ffffff; }",
    ".vw-input::placeholder { color: #5f6670; }",
    ".vw-input:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; border-color: #0a4a8a; }",
    ".vw-send { display: inline-flex; align-items: center; gap: .35em; padding: .6em .9em; border: 0; border-radius: 8px; background: #0a4a8a; color: #ffffff; font-weight: 600; cursor: pointer; }",
    ".vw-send:hover { background: #083a6d; }",
    "@media (max-width: 480px) { .vw-panel { right: 0; bottom: 0; width: 100vw; max-width: 100vw; height: 100vh; max-height: 100vh; border-radius: 0; } }",
    "@media (prefers-reduced-motion: reduce) { .vw-panel, .vw-dot { animation: none; } .vw-dot { opacity: 1; } }",
    "@media (forced-colors: active) { .vw-launcher, .vw-send, .vw-choice, .vw-msg, .vw-source { border: 1px solid CanvasText; } }"
  ].join("\n");

  // ---------------------------------------------------------------- view

  var host = el("div", { id: "ventanilla-widget" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  // A constructed stylesheet is not an inline <style>, so pages with a strict
  // Content-Security-Policy (style-src 'self') need no exception for the widget.
  function attachStyles(target) {
    if (target !== host && "adoptedStyleSheets" in target && window.CSSStyleSheet) {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        target.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* older browsers: fall back to a <style> element */ }
    }
    var style = document.createElement("style");
    style.textContent = CSS;
    target.appendChild(style);
  }

  var launcher = el("button", {
    type: "button", className: "vw-launcher", "aria-expanded": "false", "aria-controls": "vw-panel"
  }, [svgIcon(ICONS.chat), el("span", { text: STRINGS.launcher })]);

  var titleNode = el("h2", { className: "vw-title", id: "vw-title", text: config.title });
  var clearButton = el("button", { type: "button", className: "vw-icon-button", "aria-label": STRINGS.clear, title: STRINGS.clear }, [svgIcon(ICONS.trash)]);
  var closeButton = el("button", { type: "button", className: "vw-icon-button", "aria-label": STRINGS.close, title: STRINGS.close }, [svgIcon(ICONS.close)]);
  var header = el("div", { className: "vw-header" }, [
    el("div", { className: "vw-heading" }, [titleNode, el("p", { className: "vw-subtitle", text: config.subtitle })]),
    clearButton,
    closeButton
  ]);
  var statusLine = el("p", { className: "vw-status" });
  var log = el("div", { className: "vw-log", role: "log", "aria-live": "off", "aria-label": STRINGS.logLabel, tabindex: "0" });
  var typing = el("div", { className: "vw-typing", hidden: "" }, [
    el("span", { className: "vw-dot", "aria-hidden": "true" }),
    el("span", { className: "vw-dot", "aria-hidden": "true" }),
    el("span", { className: "vw-dot", "aria-hidden": "true" }),
    el("span", { className: "vw-sr-only", text: STRINGS.typing })
  ]);
  // New messages are announced here (polite), one short paragraph each; the log itself
  // stays silent so a restored history is not read out again.
  var announcer = el("div", { className: "vw-sr-only", "aria-live": "polite", "aria-atomic": "false" });
  var input = el("input", {
    type: "text", className: "vw-input", id: "vw-input", autocomplete: "off",
    maxlength: String(MAX_MESSAGE_CHARS), placeholder: STRINGS.inputPlaceholder
  });
  var sendButton = el("button", { type: "submit", className: "vw-send" }, [svgIcon(ICONS.send), el("span", { text: STRINGS.send })]);
  var form = el("form", { className: "vw-form", novalidate: "" }, [
    el("label", { className: "vw-sr-only", "for": "vw-input", text: STRINGS.inputLabel }),
    input,
    sendButton
  ]);
  var panel = el("section", { className: "vw-panel", id: "vw-panel", role: "dialog", "aria-labelledby": "vw-title", hidden: "" }, [
    header, statusLine, log, form
  ]);
  var container = el("div", { className: "vw" }, [launcher, panel, announcer]);
  attachStyles(root);
  root.appendChild(container);

  // Announcements wait a moment so that one turn's messages go out together and a
  // message replaced right away (the plain source line) is never read out.
  var pendingAnnouncements = [];
  var announceTimer = null;

  function announce(text) {
    var item = { text: text };
    pendingAnnouncements.push(item);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(flushAnnouncements, ANNOUNCE_DELAY_MS);
    return item;
  }

  function cancelAnnouncement(item) {
    var index = pendingAnnouncements.indexOf(item);
    if (index !== -1) pendingAnnouncements.splice(index, 1);
  }

  function flushAnnouncements() {
    pendingAnnouncements.splice(0).forEach(function (item) {
      announcer.appendChild(el("p", { text: item.text }));
    });
    while (announcer.childNodes.length > 8) announcer.removeChild(announcer.firstChild);
  }

  function scrollToEnd() {
    var smooth = !(reduceMotion && reduceMotion.matches);
    if (log.scrollTo) log.scrollTo({ top: log.scrollHeight, behavior: smooth ? "smooth" : "auto" });
    else log.scrollTop = log.scrollHeight;
  }

  function disableOldChoices() {
    var old = log.querySelectorAll(".vw-choice");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }

  /** Draws one stored message; every string goes in as text. */
  function render(message) {
    var node;
    if (message.kind === "source") {
      var source = message.source || {};
      var href = safeHttpUrl(source.url);
      var titleText = String(source.title || source.url || "");
      node = el("div", { className: "vw-source", "data-kind": "source" }, [
        el("span", { className: "vw-source-label", text: STRINGS.sourceLabel }),
        href ? externalLink(href, titleText) : document.createTextNode(titleText),
        source.reviewed ? el("span", { className: "vw-reviewed", text: STRINGS.reviewed + formatDate(source.reviewed) }) : null
      ]);
    } else if (message.text) {
      var who = message.from === "user" ? STRINGS.you : STRINGS.bot;
      node = el("div", { className: "vw-msg " + (message.from === "user" ? "vw-user" : "vw-bot"), "data-kind": message.from }, [
        el("span", { className: "vw-sr-only", text: who + ": " }),
        linkifiedText(String(message.text || ""))
      ]);
    }
    if (node) log.insertBefore(node, typing);
    if (message.buttons && message.buttons.length) {
      var group = el("div", { className: "vw-buttons", role: "group", "aria-label": STRINGS.options });
      message.buttons.forEach(function (button) {
        var choice = el("button", { type: "button", className: "vw-choice", text: button.title });
        choice.addEventListener("click", function () {
          sendText(button.title, button.payload);
          input.focus(); // the pressed button is now disabled: keep keyboard users in the chat
        });
        group.appendChild(choice);
      });
      log.insertBefore(group, typing);
    }
  }

  function renderHistory() {
    conversation.messages.forEach(render);
    // Choices stay usable only when the citizen has not answered them yet.
    var lastUser = -1;
    conversation.messages.forEach(function (m, i) { if (m.from === "user") lastUser = i; });
    var groups = log.querySelectorAll(".vw-buttons");
    var index = 0;
    conversation.messages.forEach(function (m, i) {
      if (m.buttons && m.buttons.length) {
        if (i < lastUser) {
          var buttons = groups[index].querySelectorAll("button");
          for (var j = 0; j < buttons.length; j++) buttons[j].disabled = true;
        }
        index += 1;
      }
    });
  }

  function addMessage(message) {
    conversation.messages.push(message);
    saveConversation();
    render(message);
    scrollToEnd();
  }

  // ---------------------------------------------------------------- typing indicator

  var replyTimer = null;

  function showTyping() {
    typing.hidden = false;
    scrollToEnd();
    clearTimeout(replyTimer);
    replyTimer = setTimeout(function () {
      hideTyping();
      setStatus(STRINGS.slowReply, true);
    }, REPLY_TIMEOUT_MS);
  }

  function hideTyping() {
    typing.hidden = true;
    clearTimeout(replyTimer);
  }

  // ---------------------------------------------------------------- open / close

  function isOpen() {
    return !panel.hidden;
  }

  function open() {
    if (isOpen()) return;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    scrollToEnd();
    input.focus();
    connect();
    maybeGreet();
  }

  function close() {
    if (!isOpen()) return;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) close(); else open();
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  clearButton.addEventListener("click", function () {
    if (!window.confirm(STRINGS.confirmClear)) return;
    store.remove("conversation");
    conversation = { sessionId: null, messages: [], greeted: false };
    var nodes = log.querySelectorAll(".vw-msg, .vw-source, .vw-buttons");
    for (var i = 0; i < nodes.length; i++) nodes[i].parentNode.removeChild(nodes[i]);
    hideTyping();
    if (socket && typeof socket === "object") {
      // A fresh connection leaves the old session's room; the server then makes a new session.
      ready = false;
      socket.disconnect();
      socket.connect();
    }
    input.focus();
  });

  // ---------------------------------------------------------------- connection

  var socket = null;
  var ready = false; // true once the server confirmed our session on this connection
  var pending = []; // messages typed while offline, sent after session_confirm
  var everConnected = false;

  function setStatus(text, speak) {
    statusLine.textContent = text || "";
    if (text && speak) announce(text);
  }

  function loadSocketIo(callback) {
    if (typeof window.io === "function") {
      callback();
      return;
    }
    var tag = document.createElement("script");
    tag.src = config.socketioSrc;
    tag.async = true;
    tag.onload = callback;
    tag.onerror = function () { setStatus(STRINGS.loadError, true); };
    document.head.appendChild(tag);
  }

  function connect() {
    if (socket) return;
    socket = "loading";
    setStatus(STRINGS.connecting, false);
    loadSocketIo(function () {
      socket = window.io(config.socketUrl, {
        path: config.socketPath,
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000
      });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: conversation.sessionId });
      });
      socket.on("session_confirm", function (data) {
        var sessionId = data && data.session_id ? data.session_id : data;
        if (typeof sessionId !== "string") return;
        conversation.sessionId = sessionId;
        saveConversation();
        ready = true;
        setStatus(everConnected ? STRINGS.reconnected : "", everConnected);
        if (everConnected) setTimeout(function () { if (ready) setStatus("", false); }, 4000);
        everConnected = true;
        flush();
        maybeGreet();
      });
      socket.on("bot_uttered", receive);
      socket.on("disconnect", function (reason) {
        ready = false;
        if (reason === "io client disconnect") return; // we asked for it (new conversation)
        setStatus(STRINGS.reconnecting, true);
        if (reason === "io server disconnect") socket.connect(); // socket.io does not retry these by itself
      });
      socket.on("connect_error", function () {
        if (!ready) setStatus(everConnected ? STRINGS.reconnecting : STRINGS.connecting, false);
      });
    });
  }

  function emitMessage(payload) {
    socket.emit("user_uttered", { message: payload, session_id: conversation.sessionId });
  }

  function flush() {
    while (ready && pending.length) emitMessage(pending.shift());
  }

  function maybeGreet() {
    if (!ready || !isOpen() || conversation.greeted || conversation.messages.length || !config.initPayload) return;
    conversation.greeted = true;
    saveConversation();
    showTyping();
    emitMessage(config.initPayload);
  }

  /** The citizen says something: shown as typed (or as the button's title), sent as payload. */
  function sendText(shownText, payload) {
    var text = String(shownText || "").trim();
    if (!text) return;
    if (text.length > MAX_MESSAGE_CHARS) {
      setStatus(STRINGS.tooLong, true);
      return;
    }
    disableOldChoices();
    addMessage({ from: "user", text: text });
    showTyping();
    if (ready) {
      emitMessage(payload || text);
    } else {
      pending.push(payload || text);
      setStatus(STRINGS.queued, true);
      connect();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendText(text);
    input.focus();
  });

  var lastBotAnnouncement = null;

  /** One bot_uttered event (Rasa's wire format, plus {"custom": {...}} from our channel). */
  function receive(data) {
    if (!data || typeof data !== "object") return;
    hideTyping();
    if (statusLine.textContent === STRINGS.slowReply) setStatus("", false);
    var rawButtons = Array.isArray(data.quick_replies) ? data.quick_replies : Array.isArray(data.buttons) ? data.buttons : [];
    var buttons = rawButtons
      .filter(function (b) { return b && typeof b.title === "string" && typeof b.payload === "string"; })
      .map(function (b) { return { title: b.title, payload: b.payload }; });
    var text = typeof data.text === "string" ? data.text.trim() : "";
    if (text || buttons.length) {
      var message = { from: "bot", text: text, buttons: buttons };
      addMessage(message);
      if (text) lastBotAnnouncement = { message: message, item: announce(STRINGS.botSays + text) };
      if (buttons.length) announce(STRINGS.optionsAnnounce + buttons.map(function (b) { return b.title; }).join(", "));
    }
    var custom = data.custom;
    if (custom && typeof custom === "object" && custom.type === "kb_answer") {
      showSource(custom);
    }
  }

  /**
   * The source chip of a knowledge-base answer. The bot also sends the source as a
   * plain-text line (for channels without chips); when that line is the previous
   * message, the chip takes its place instead of repeating it.
   */
  function showSource(custom) {
    var source = { title: custom.title, url: custom.source_url, reviewed: custom.last_reviewed };
    var previous = conversation.messages[conversation.messages.length - 1];
    if (previous && previous.from === "bot" && !(previous.buttons && previous.buttons.length) &&
        typeof source.url === "string" && source.url && String(previous.text || "").indexOf(source.url) !== -1) {
      conversation.messages.pop();
      if (lastBotAnnouncement && lastBotAnnouncement.message === previous) cancelAnnouncement(lastBotAnnouncement.item);
      var nodes = log.querySelectorAll(".vw-msg");
      var last = nodes[nodes.length - 1];
      if (last) last.parentNode.removeChild(last);
    }
    addMessage({ from: "bot", kind: "source", source: source });
    announce(STRINGS.sourceLabel + " " + String(source.title || "") + (source.reviewed ? ". " + STRINGS.reviewed + formatDate(source.reviewed) : ""));
  }

  // ---------------------------------------------------------------- start

  log.appendChild(typing);
  renderHistory();

  function attach() {
    document.body.appendChild(host);
    if (config.open) open();
    else if (conversation.messages.length) connect(); // a reload mid-conversation: reconnect quietly
  }

  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);

  window.VentanillaWidget = { open: open, close: close, strings: STRINGS };
})();
