// The inbox: the conversation list, one conversation's view, and the operators' live channel.
// Served by this server under a CSP without inline script. Every visitor-supplied text goes
// into the page with textContent, never innerHTML. Words come from #inbox[data-texts].
(function () {
  "use strict";
  var main = document.getElementById("console-main");
  var root = document.getElementById("inbox");
  if (!main || !root) return;
  var site = main.getAttribute("data-site");
  var csrf = main.getAttribute("data-csrf");
  var T = JSON.parse(root.getAttribute("data-texts"));
  var api = "/console/api/sites/" + encodeURIComponent(site);
  var baseTitle = document.title;
  var GROUPS = ["waiting", "mine", "others", "bot", "resolved"];
  var RESOLVED_SHOWN = 30;
  var TYPING_SENT_EVERY = 3000; // ms between two typing notices from this operator
  var TYPING_SHOWN_FOR = 5000; // ms a visitor's typing stays shown without another notice

  var state = {
    me: root.getAttribute("data-me"),
    conversations: {}, // id -> Conversation record
    lastText: {}, // id -> the newest message text seen on the live channel
    operators: [],
    openId: "",
    messages: [],
    visitorRead: "",
    away: sessionStorage.getItem("irasshai-away") === "1",
    notify: false,
  };
  var typingSentAt = 0;
  var typingTimer = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }
  function entryKey(id) { // "1733300000000-3" -> comparable [ms, seq]
    var parts = String(id).split("-");
    return [Number(parts[0]) || 0, Number(parts[1]) || 0];
  }
  function notAfter(a, b) {
    var x = entryKey(a), y = entryKey(b);
    return x[0] < y[0] || (x[0] === y[0] && x[1] <= y[1]);
  }
  function clock(seconds) {
    var when = new Date(seconds * 1000);
    var today = new Date();
    var time = when.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    if (when.toDateString() === today.toDateString()) return time;
    return when.toLocaleDateString(document.documentElement.lang, { month: "short", day: "numeric" }) + " " + time;
  }
  function visitorLabel(conversation) {
    if (conversation.name) return conversation.name;
    if (conversation.channel === "line") return T.line_user;
    return T.visitor + " " + conversation.visitor.slice(0, 6);
  }
  function channelBadge(conversation) { // a LINE conversation says so wherever it is named
    var badge = el("span", "channel-badge", T.line);
    badge.setAttribute("data-channel", conversation.channel);
    badge.title = T.line_label;
    badge.hidden = conversation.channel !== "line";
    return badge;
  }
  function operatorName(email) {
    for (var i = 0; i < state.operators.length; i++) {
      if (state.operators[i].email === email) return state.operators[i].name || email;
    }
    return email;
  }

  function call(method, path, body) {
    var options = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      if (response.status === 204) return {};
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || String(response.status));
        return data;
      });
    });
  }

  // -- the list ---------------------------------------------------------------------------

  function groupOf(conversation) {
    if (conversation.status === "open") return conversation.assignee === state.me ? "mine" : "others";
    return conversation.status;
  }

  function renderList() {
    var groups = { waiting: [], mine: [], others: [], bot: [], resolved: [] };
    Object.keys(state.conversations).forEach(function (id) {
      var conversation = state.conversations[id];
      if (groups[groupOf(conversation)]) groups[groupOf(conversation)].push(conversation);
    });
    var holder = $("inbox-groups");
    holder.textContent = "";
    var unread = 0;
    GROUPS.forEach(function (name) {
      var list = groups[name].sort(function (a, b) { return b.activity - a.activity; });
      var section = el("section", "inbox-group");
      section.setAttribute("data-group", name);
      var heading = el("h3", "inbox-group-title", T[name]);
      heading.appendChild(el("span", "count", String(list.length)));
      section.appendChild(heading);
      var items = el("ul", "inbox-items");
      list.slice(0, name === "resolved" ? RESOLVED_SHOWN : list.length).forEach(function (conversation) {
        if (name !== "resolved") unread += conversation.unread_by_operator;
        items.appendChild(renderItem(conversation));
      });
      if (!list.length) items.appendChild(el("li", "inbox-none", T.none));
      section.appendChild(items);
      holder.appendChild(section);
    });
    var title = format(T.title, { waiting: groups.waiting.length, unread: unread });
    document.title = (groups.waiting.length || unread ? "(" + title + ") " : "") + baseTitle;
  }

  function renderItem(conversation) {
    var item = el("li");
    var button = el("button", "inbox-item");
    button.type = "button";
    button.setAttribute("data-id", conversation.id);
    if (conversation.id === state.openId) button.setAttribute("aria-current", "true");
    var top = el("span", "inbox-item-top");
    var name = el("span", "inbox-item-name", visitorLabel(conversation));
    if (conversation.channel === "line") name.insertBefore(channelBadge(conversation), name.firstChild);
    top.appendChild(name);
    top.appendChild(el("span", "inbox-item-time", clock(conversation.activity)));
    button.appendChild(top);
    var bottom = el("span", "inbox-item-bottom");
    var preview = state.lastText[conversation.id] || (conversation.assignee ? format(T.assigned_to, { name: operatorName(conversation.assignee) }) : T.unassigned);
    bottom.appendChild(el("span", "inbox-item-preview", preview));
    if (conversation.unread_by_operator > 0 && conversation.id !== state.openId) {
      var badge = el("span", "unread", String(conversation.unread_by_operator));
      bottom.appendChild(badge);
    }
    button.appendChild(bottom);
    button.addEventListener("click", function () { openConversation(conversation.id); });
    item.appendChild(button);
    return item;
  }

  // Two server processes may tell of one conversation's changes out of order, and a list read
  // may cross a change told meanwhile: the record with the higher version wins.
  function keep(conversation) {
    if (!conversation) return;
    var held = state.conversations[conversation.id];
    if (!held || !(held.version > conversation.version)) state.conversations[conversation.id] = conversation;
  }

  function loadList() {
    return call("GET", "/conversations").then(function (data) {
      state.me = data.me;
      state.operators = data.operators;
      var held = state.conversations;
      state.conversations = {};
      data.conversations.forEach(function (c) { state.conversations[c.id] = c; keep(held[c.id]); });
      renderList();
      if (state.openId && state.conversations[state.openId]) openConversation(state.openId);
    });
  }

  // -- one conversation -------------------------------------------------------------------

  function openConversation(id) {
    state.openId = id;
    if (window.location.hash !== "#" + id) history.replaceState(null, "", "#" + id);
    return call("GET", "/conversations/" + encodeURIComponent(id)).then(function (data) {
      if (state.openId !== id) return;
      keep(data.conversation);
      state.messages = data.messages;
      state.visitorRead = data.visitor_read;
      $("conversation-empty").hidden = true;
      $("conversation-view").hidden = false;
      var panel = $("visitor-panel");
      panel.setAttribute("data-visitor", data.conversation.visitor);
      renderConversation();
      renderMessages();
      renderList();
      markRead();
      document.dispatchEvent(new CustomEvent("console:conversation", {
        detail: { site: site, conversation: id, visitor: data.conversation.visitor },
      }));
    });
  }

  function renderConversation() {
    var conversation = state.conversations[state.openId];
    if (!conversation) return;
    $("conversation-title").textContent = visitorLabel(conversation);
    var badge = $("conversation-channel");
    badge.textContent = T.line;
    badge.title = T.line_label;
    badge.setAttribute("data-channel", conversation.channel || "web");
    badge.hidden = conversation.channel !== "line";
    $("messages").setAttribute("data-channel", conversation.channel || "web");
    var status = $("conversation-status");
    status.textContent = T["status_" + conversation.status] || conversation.status;
    status.setAttribute("data-status", conversation.status);
    $("conversation-assignee").textContent = conversation.assignee
      ? format(T.assigned_to, { name: operatorName(conversation.assignee) }) : T.unassigned;
    var resolved = conversation.status === "resolved";
    $("action-take").hidden = resolved || (conversation.status === "open" && conversation.assignee === state.me);
    $("action-resolve").hidden = resolved;
    $("action-reopen").hidden = !resolved;
    var select = $("assign-to");
    select.textContent = "";
    state.operators.forEach(function (operator) {
      if (operator.email === conversation.assignee) return;
      var option = el("option", "", (operator.name || operator.email) + (operator.online ? " ●" : ""));
      option.value = operator.email;
      select.appendChild(option);
    });
    select.parentNode.hidden = resolved || !select.options.length;
    $("reply-text").disabled = resolved;
    $("reply-text").placeholder = resolved ? T.resolved_note
      : conversation.channel === "line" ? T.line_reply : T.reply_label;
    $("reply-send").disabled = resolved;
  }

  function renderMessages() {
    var list = $("messages");
    list.textContent = "";
    var lastOwn = -1;
    state.messages.forEach(function (message, index) {
      if (message.author === "operator" && state.visitorRead && notAfter(message.id, state.visitorRead)) lastOwn = index;
    });
    state.messages.forEach(function (message, index) {
      var item = el("li", "message message-" + message.author);
      item.setAttribute("data-id", message.id);
      if (message.author === "system") {
        item.appendChild(el("span", "message-text", message.text));
      } else {
        var conversation = state.conversations[message.conversation] || {};
        var who = message.author === "visitor" ? (conversation.name || T.visitor)
          : message.author === "bot" ? T.bot_name : (message.name || T.you);
        var meta = el("span", "message-meta", who + " · " + clock(message.ts));
        item.appendChild(meta);
        item.appendChild(el("span", "message-text", message.text));
        if (index === lastOwn) item.appendChild(el("span", "message-seen", T.seen));
      }
      list.appendChild(item);
    });
    list.scrollTop = list.scrollHeight;
  }

  function markRead() {
    var conversation = state.conversations[state.openId];
    if (!conversation || document.hidden) return;
    if (conversation.unread_by_operator > 0 || state.messages.length) {
      call("POST", "/conversations/" + encodeURIComponent(conversation.id) + "/read", {}).then(function (data) {
        keep(data.conversation);
        renderList();
      }).catch(function () {});
    }
  }

  function addMessage(message) {
    for (var i = 0; i < state.messages.length; i++) if (state.messages[i].id === message.id) return false;
    state.messages.push(message);
    renderMessages();
    return true;
  }

  function act(action, extra) {
    var body = { action: action };
    if (extra) body.assignee = extra;
    return call("POST", "/conversations/" + encodeURIComponent(state.openId) + "/actions", body)
      .then(function (data) {
        keep(data.conversation);
        renderConversation();
        renderList();
      })
      .catch(showError);
  }

  function showError(error) {
    $("reply-error").textContent = format(T.failed, { error: error.message });
  }

  $("action-take").addEventListener("click", function () { act("take"); });
  $("action-resolve").addEventListener("click", function () { act("resolve"); });
  $("action-reopen").addEventListener("click", function () { act("reopen"); });
  $("action-assign").addEventListener("click", function () { act("assign", $("assign-to").value); });

  var reply = $("reply-text");
  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = reply.value.trim();
    if (!text || !state.openId) return;
    $("reply-error").textContent = "";
    $("reply-send").disabled = true;
    call("POST", "/conversations/" + encodeURIComponent(state.openId) + "/messages", { text: text })
      .then(function (data) {
        reply.value = "";
        addMessage(data.message);
      })
      .catch(showError)
      .then(function () { $("reply-send").disabled = false; reply.focus(); });
  });
  reply.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });
  reply.addEventListener("input", function () {
    var now = Date.now();
    if (!state.openId || !reply.value || now - typingSentAt < TYPING_SENT_EVERY) return;
    typingSentAt = now;
    call("POST", "/conversations/" + encodeURIComponent(state.openId) + "/typing", {}).catch(function () {});
  });

  // -- away and notifications -------------------------------------------------------------

  function renderAway() {
    var button = $("away-toggle");
    button.textContent = state.away ? T.away : T.online;
    button.setAttribute("aria-pressed", state.away ? "true" : "false");
    button.setAttribute("data-away", state.away ? "1" : "0");
  }
  $("away-toggle").addEventListener("click", function () {
    var away = !state.away;
    call("POST", "/away", { away: away }).then(function (data) {
      state.away = data.away;
      sessionStorage.setItem("irasshai-away", state.away ? "1" : "0");
      renderAway();
    }).catch(function () {});
  });

  var beep = null;
  function alertNew(message) {
    if (!state.notify) return;
    try {
      beep = beep || new AudioContext();
      var tone = beep.createOscillator();
      var gain = beep.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain).connect(beep.destination);
      tone.start();
      tone.stop(beep.currentTime + 0.15);
    } catch (ignored) { /* no sound on this browser */ }
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      new Notification(T.notify_new, { body: message.text, tag: message.conversation });
    }
  }
  $("notify-toggle").addEventListener("click", function () {
    var button = $("notify-toggle");
    function set(on) {
      state.notify = on;
      button.textContent = on ? T.notify_on : T.notify;
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    if (state.notify) return set(false);
    if (window.Notification && Notification.permission === "default") {
      Notification.requestPermission().then(function () { set(true); });
    } else {
      set(true);
    }
  });

  // -- the live channel -------------------------------------------------------------------

  function showTyping(name) {
    var line = $("visitor-typing");
    line.textContent = name + " " + T.typing;
    line.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { line.hidden = true; }, TYPING_SHOWN_FOR);
  }

  function connect() {
    var source = new EventSource("/console/sites/" + encodeURIComponent(site) + "/stream" + (state.away ? "?away=1" : ""));
    source.addEventListener("open", function () { $("inbox-offline").hidden = true; });
    // "bye": the server is stopping and this stream reconnects, to another process, at once;
    // only a failure after that is shown.
    var leaving = false;
    source.addEventListener("bye", function () { leaving = true; });
    source.addEventListener("error", function () {
      if (leaving) leaving = false;
      else $("inbox-offline").hidden = false;
    });
    source.addEventListener("ready", function (event) {
      var data = JSON.parse(event.data);
      state.away = data.away;
      renderAway();
      loadList();
    });
    source.addEventListener("conversation", function (event) {
      var conversation = JSON.parse(event.data);
      keep(conversation);
      if (conversation.id === state.openId) renderConversation();
      renderList();
    });
    source.addEventListener("message", function (event) {
      var data = JSON.parse(event.data);
      var message = {
        id: data.entry, conversation: data.conversation, author: data.author,
        text: data.text, ts: data.ts, name: data.name || "",
      };
      if (message.author !== "system") state.lastText[message.conversation] = message.text;
      if (message.conversation === state.openId) {
        addMessage(message);
        if (message.author === "visitor") {
          $("visitor-typing").hidden = true;
          markRead();
        }
      }
      if (message.author === "visitor" && (message.conversation !== state.openId || document.hidden)) alertNew(message);
      renderList();
    });
    source.addEventListener("seen", function (event) {
      var data = JSON.parse(event.data);
      var open = state.conversations[state.openId];
      if (open && open.visitor === data.visitor) {
        state.visitorRead = data.up_to;
        renderMessages();
      }
    });
    source.addEventListener("typing", function (event) {
      var data = JSON.parse(event.data);
      var open = state.conversations[state.openId];
      if (data.who === "visitor" && open && open.visitor === data.visitor) showTyping(T.visitor);
    });
    source.addEventListener("away", function (event) {
      state.away = JSON.parse(event.data).away;
      renderAway();
    });
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden) markRead(); });
  renderAway();
  var wanted = window.location.hash.slice(1);
  if (wanted) state.openId = decodeURIComponent(wanted);
  connect();
})();
