/*! Irasshai chat panel: loaded by widget.js or ui.js when a chat first opens. See docs/chat.md. */
// A module like ui.js: its default export receives `base` (api, site, record, warn, part, get,
// put, send, frame, and the built-ins widget.js took when the page loaded, which the page may
// have replaced by now) and returns start (each events reply, when the site has a launcher or a
// conversation is open) and open (a chat prompt's button). It draws the launcher and the panel
// in a closed Shadow DOM, text only (never innerHTML), and holds at most one stream per tab.
export default function (base) {
  var WORDS = {
    ja: { open: "チャットを開く", close: "閉じる", log: "メッセージ", input: "メッセージを入力", send: "送信",
          typing: "入力中…", unread: "件の未読", sending: "送信待ち", failed: "送信できませんでした", read: "既読" },
    en: { open: "Open chat", close: "Close", log: "Messages", input: "Type a message", send: "Send",
          typing: "is typing…", unread: "unread", sending: "Waiting to send", failed: "Could not be sent", read: "Read" }
  };
  var endpoint = base.endpoint, el = base.el, each = base.each, later = base.later, cancel = base.cancel;
  // A hidden tab keeps its stream this long (a quick look at another tab costs no reconnect).
  var HIDDEN_CLOSE = 60000, TYPING_EVERY = 3000, TYPING_SHOWN = 6000, SESSION = "irasshai:" + base.site + ":panel";
  var host, launcher, badge, panel, face, title, log, typing, input, words = WORDS.ja, info = {}, siteLauncher = null;
  var source = null, wanted = false, lastId = "", readUpTo = "", unread = 0, seen = {}, pending = {};
  var sending = false, backoff = 0, retryTimer = 0, streamBackoff = 0, hiddenTimer = 0, typingTimer = 0, sentTyping = 0;
  var returnTo = null, focusWanted = false;

  function read(key) {
    try { return base.parse(base.get(key)); } catch (e) { return null; }
  }

  function session(value) {
    try {
      if (value === undefined) return base.getItem(base.session, SESSION);
      base.setItem(base.session, SESSION, value ? "1" : "");
    } catch (e) { /* no session storage: the panel starts closed */ }
  }

  /* ---- The frame: launcher and panel, built once ---- */

  function frame() {
    if (host) return;
    // Hidden by the frame until chat.css has loaded, so nothing unstyled ever flashes on the page.
    var made = base.frame("irasshai-chat", "chat.css", function (loaded) {
      if (loaded && !panel.hidden && focusWanted) input.focus();
    }), root = made.root;
    host = made.host;

    launcher = el("button", "launcher", "", root);
    launcher.hidden = true;
    var svg = "http://www.w3.org/2000/svg", icon = base.make(document, svg, "svg"), path = base.make(document, svg, "path");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    icon.appendChild(path);
    launcher.appendChild(icon);
    badge = el("span", "badge", "", launcher);
    badge.setAttribute("aria-hidden", "true");
    badge.hidden = true;
    launcher.addEventListener("click", function () {
      describe();
      openPanel(true);
    });

    panel = el("div", "panel", "", root);
    panel.hidden = true;
    base.clear[base.clear.length] = panel; // an engagement is placed clear of it, as of the launcher (ui.js)
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "title");
    var head = el("div", "head", "", panel);
    face = el("span", "avatar", "", head);
    face.setAttribute("aria-hidden", "true");
    title = el("strong", "title", "", head);
    title.id = "title";
    var close = el("button", "close", "×", head);
    close.addEventListener("click", closePanel);
    log = el("div", "log", "", panel);
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    typing = el("div", "typing", "", panel);
    typing.setAttribute("role", "status");
    var form = el("form", "compose", "", panel);
    input = el("textarea", "", "", form);
    input.rows = 1;
    input.maxLength = 2000;
    var send = el("button", "send", "", form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = base.trim(input.value);
      if (text) say(text);
      input.value = "";
      input.focus();
    });
    input.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter is a new line; Enter that confirms a Japanese IME conversion is neither.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener("input", typed);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") closePanel();
    });
    panel.words = function () {
      close.setAttribute("aria-label", words.close);
      log.setAttribute("aria-label", words.log);
      input.setAttribute("aria-label", words.input);
      input.placeholder = words.input;
      send.textContent = words.send;
    };
  }

  // Who the visitor talks to: the prompt's agent, else the open conversation's, else the site.
  function describe(next) {
    info = next || read("chat") || info;
    if (!info.name && siteLauncher) info = { lang: siteLauncher.lang, name: siteLauncher.name, rule: "" };
    words = WORDS[info.lang] || WORDS.en;
    panel.lang = launcher.lang = info.lang || "";
    title.textContent = info.name || "";
    face.textContent = "";
    var url = base.safeUrl(info.avatar);
    if (url) el("img", "", "", face).src = url; else face.textContent = (info.name || "?")[0];
    panel.words();
    badgeText();
  }

  function panelOpen() {
    return panel && !panel.hidden;
  }

  function showLauncher() {
    launcher.hidden = !panel.hidden || !(siteLauncher || read("chat"));
  }

  function badgeText() {
    badge.hidden = !unread;
    badge.textContent = unread > 9 ? "9+" : "" + unread;
    launcher.setAttribute("aria-label", words.open + (unread ? " (" + unread + " " + words.unread + ")" : ""));
  }

  function openPanel(focus) {
    if (!panel.hidden) return focus && input.focus();
    var active = document.activeElement;
    returnTo = active && active !== host && active !== document.body ? active : null;
    panel.hidden = false;
    showLauncher();
    unread = 0;
    badgeText();
    session(1);
    log.scrollTop = log.scrollHeight;
    // Nothing can take focus until chat.css has loaded (the frame is hidden till then).
    focusWanted = focus;
    if (focus) input.focus();
    markRead();
    wanted = true;
    connect();
  }

  function closePanel() {
    panel.hidden = true;
    session(0);
    showLauncher();
    if (returnTo && returnTo.isConnected) returnTo.focus();
    else if (!launcher.hidden) launcher.focus();
  }

  /* ---- Messages ---- */

  function clock(ts) {
    var date = new Date(ts < 1e12 ? ts * 1000 : ts);
    return date.toLocaleTimeString(info.lang || undefined, { hour: "2-digit", minute: "2-digit" });
  }

  // A message of the conversation as a line of the log; drawn before the visitor's unsent ones.
  function line(author, name, text, ts, state) {
    var item = el("div", "msg " + author + (state ? " pending" : ""));
    if (name && author !== "visitor" && author !== "system") el("span", "name", name, item);
    el("p", "text", text, item);
    var time = el("time", "", ts ? clock(ts) : "", item);
    if (ts) time.dateTime = new Date(ts < 1e12 ? ts * 1000 : ts).toISOString();
    el("span", "state", state || "", item);
    log.insertBefore(item, state ? null : log.querySelector(".pending"));
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function draw(message) {
    if (seen[message.id]) return;
    seen[message.id] = 1;
    if (message.author === "visitor") {
      // Our own message, back from the stream before the POST's reply: confirm it, not twice.
      for (var id in pending) {
        if (base.hasOwn(pending, id) && pending[id].text === message.text) return confirm(id, message);
      }
      return line("visitor", "", message.text, message.ts).entry = message.id;
    }
    var item = line(message.author, message.name, message.text, message.ts);
    typing.textContent = "";
    var choices = message.choices || [];
    if (choices.length) {
      var row = el("div", "choices", "", item);
      each(choices, function (choice) {
        el("button", "", choice.label, row).addEventListener("click", function () {
          row.remove();
          queue({ type: "choose", id: base.newId(), choice: choice.id }, choice.label);
        });
      });
    }
    // History the stream sends again on a new page was seen before: only newer replies are unread.
    var before = base.get("seen");
    if (before && upTo(message.id, before)) return;
    if (panel.hidden || document.visibilityState === "hidden") {
      unread++;
      badgeText();
      showLauncher();
    } else {
      markRead();
    }
  }

  function confirm(id, message) {
    var item = pending[id].item;
    delete pending[id];
    seen[message.id] = 1;
    item.entry = message.id;
    item.classList.remove("pending");
    item.querySelector(".state").textContent = "";
    item.querySelector("time").textContent = clock(message.ts || Date.now());
  }

  function say(text) {
    queue({ type: "say", id: base.newId(), text: text, rule: info.rule || "" }, text);
  }

  // Every visitor message goes through the outbox in localStorage, in order, so that one typed
  // offline or while the server is down is sent when it is reachable, with the same client id.
  function queue(action, text) {
    base.put("chat", base.json(info));
    var outbox = read("outbox") || [];
    action.shown = text;
    outbox[outbox.length] = action;
    base.put("outbox", base.json(outbox));
    pending[action.id] = { text: text, item: line("visitor", "", text, 0, words.sending) };
    wanted = true;
    connect();
    flush();
  }

  // Sent by widget.js's XMLHttpRequest (text/plain: no preflight); `done(status, reply)`, status 0 if none.
  function post(action, done) {
    base.send(endpoint + "/chat", base.json({ visitor: base.get("visitor"), do: action }), done || function () {});
  }

  function flush() {
    var outbox = read("outbox") || [], action = outbox[0];
    if (sending || !action || !base.get("visitor")) return;
    sending = true;
    cancel(retryTimer);
    var shown = action.shown;
    delete action.shown;
    post(action, function (status, reply, after) {
      sending = false;
      if (!status || status >= 500 || status === 408 || status === 429) return retry(after);
      if (status > 299) base.warn(reply.error || "message refused (" + status + ")");
      base.put("outbox", base.json(base.filter(read("outbox") || [], function (a) { return a.id !== action.id; })));
      backoff = 0;
      var mine = pending[action.id];
      if (mine && status < 300 && reply.message) confirm(action.id, reply.message);
      else if (mine) { mine.item.querySelector(".state").textContent = words.failed; delete pending[action.id]; }
      flush();
    });
    action.shown = shown;
  }

  function retry(after) {  // after: a Retry-After's seconds (429, 503), if the server sent one
    backoff = Math.min(backoff ? backoff * 2 : 1000, 15000);
    cancel(retryTimer);
    retryTimer = later(flush, Math.max((after || 0) * 1000, backoff));
  }

  function typed() {
    if (!input.value || Date.now() - sentTyping < TYPING_EVERY || !base.get("visitor")) return;
    sentTyping = Date.now();
    post({ type: "typing" });  // ephemeral: never retried
  }

  function markRead() {
    if (!panel.hidden && lastId && document.visibilityState !== "hidden") base.put("seen", lastId);
    if (panel.hidden || !lastId || lastId === readUpTo || !base.get("visitor")) return;
    readUpTo = lastId;
    post({ type: "read", up_to: lastId });  // if lost, the next message marks it again
  }

  // Entry ids are "<milliseconds>-<sequence>": compared as numbers, part by part.
  function upTo(id, last) {
    var a = base.split(id, "-"), b = base.split(last, "-");
    return +a[0] < +b[0] || +a[0] === +b[0] && +a[1] <= +b[1];
  }

  /* ---- The stream: only while the page is visible, one per tab ---- */

  var handlers = {
    message: draw,
    // A status note (the hand-off's "a person will answer from …") also comes as a system
    // message, which is what the log shows: drawing the note too would say it twice.
    status: function (change) {
      if (change.status === "resolved") base.put("chat", "");
    },
    read: function (receipt) {
      var mine = log.querySelectorAll(".visitor"), i;
      for (i = 0; i < mine.length; i++) {
        if (mine[i].entry && upTo(mine[i].entry, receipt.up_to)) mine[i].querySelector(".state").textContent = words.read;
      }
    },
    typing: function (who) {
      typing.textContent = (who.name ? who.name + " " : "") + words.typing;
      cancel(typingTimer);
      typingTimer = later(function () { typing.textContent = ""; }, TYPING_SHOWN);
    },
    // A proactive prompt (docs/chat.md): shown once, even when a new page's stream sends it again.
    engagement: function (show, id) {
      var shown = base.get("prompted");
      if (shown && upTo(id, shown)) return;
      base.put("prompted", id);
      base.part("ui", function (ui) { ui.show(show); }, "show an engagement");
    }
  };
  // Listening for prompts only, with no conversation: an old conversation's entries stay out.
  var PROMPTS_ONLY = { engagement: 1 };

  function connect() {
    var ticket = base.get("ticket");
    if (!wanted || source || !ticket || document.visibilityState === "hidden") return;
    source = new base.EventSource(endpoint + "/stream?ticket=" + encodeURIComponent(ticket) +
      (lastId ? "&last=" + encodeURIComponent(lastId) : ""));
    for (var kind in handlers) if (base.hasOwn(handlers, kind)) subscribe(kind);
    source.addEventListener("error", function () {
      // EventSource retries a dropped connection by itself (with Last-Event-ID); a refusal
      // (an expired ticket) closes it: then a new one, with the newest ticket, a little later.
      if (source && source.readyState === 2) {
        source = null;
        streamBackoff = Math.min(streamBackoff ? streamBackoff * 2 : 2000, 60000);
        later(connect, streamBackoff);
      }
    });
  }

  function subscribe(kind) {
    source.addEventListener(kind, function (event) {
      if (event.lastEventId) lastId = event.lastEventId;
      streamBackoff = 0;
      if (!read("chat") && !panelOpen() && !PROMPTS_ONLY[kind]) return;
      try { handlers[kind](base.parse(event.data), event.lastEventId); } catch (e) { base.warn("bad " + kind + " event: " + e); }
    });
  }

  function disconnect() {
    if (source) source.close();
    source = null;
  }

  document.addEventListener("visibilitychange", function () {
    cancel(hiddenTimer);
    if (document.visibilityState === "hidden") hiddenTimer = later(disconnect, HIDDEN_CLOSE);
    else { connect(); markRead(); }
  });
  window.addEventListener("online", function () {
    backoff = 0;
    flush();
  });

  // Messages still in the outbox from an earlier page: shown as waiting, sent in order.
  function restore() {
    each(read("outbox") || [], function (action) {
      if (!pending[action.id]) pending[action.id] = { text: action.shown, item: line("visitor", "", action.shown, 0, words.sending) };
    });
  }

  var started = false;
  function begin() {
    frame();
    if (started) return;
    started = true;
    describe();
    restore();
    if (session()) openPanel(false);
  }

  return {
    start: function (launcherInfo, listen) {
      if (launcherInfo) siteLauncher = launcherInfo;
      begin();
      showLauncher();
      if (read("chat") || listen) wanted = true;
      connect();
      flush();
    },
    open: function (action) {
      var agent = action.agent || {};
      begin();
      describe({ lang: action.lang, name: agent.name, avatar: agent.avatar, rule: action.rule || "" });
      if (!log.children.length && action.text) line("bot greeting", agent.name, action.text, 0);
      openPanel(true);
    }
  };
}
