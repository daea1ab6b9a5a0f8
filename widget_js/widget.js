/*! Irasshai widget: dependency-free; ui.js draws engagements. See docs/snippet.md. */
(function (window, document) {
  "use strict";
  var script = document.currentScript;
  var site = script && script.getAttribute("data-site");
  if (!site || window.irasshai && window.irasshai.loaded) return;
  var api = new URL(script.src).origin;
  var siteUrl = api + "/v1/sites/" + encodeURIComponent(site), endpoint = siteUrl + "/events";
  var prefix = "irasshai:" + site + ":";
  var MAX_QUEUE = 500, MAX_BATCH = 50;

  /* ---- The page's built-ins, taken now (see "Hostile pages" in docs/snippet.md) ---- */

  // A shop's page may replace globals or prototypes' methods after this has run (a tag manager's
  // late library, a polyfill). What the widget and its parts use later is taken here, once, and
  // called through Reflect.apply, so nothing is looked up on the page's objects again: a page
  // that breaks JSON, fetch, Promise, timers, storage or Array/String/Object/Function methods
  // after the snippet changes nothing. (Not the DOM's methods: those the page keeps working.)
  var apply = Reflect.apply, A = Array.prototype, S = String.prototype, rest = A.slice;
  // method(Array.prototype.filter)(list, test) is list.filter(test) with the filter of now.
  function method(fn) {
    return function (self) { return apply(fn, self, apply(rest, arguments, [1])); };
  }
  var slice = method(rest), filter = method(A.filter), map = method(A.map), each = method(A.forEach),
      indexOf = method(A.indexOf), join = method(A.join), concat = method(A.concat), isArray = Array.isArray,
      characters = Array.from, cut = method(S.slice), split = method(S.split), trim = method(S.trim),
      code = method(S.charCodeAt), hex = method(Number.prototype.toString), hasOwn = method(Object.prototype.hasOwnProperty),
      dateJSON = method(Date.prototype.toJSON), parse = JSON.parse, later = setTimeout, cancel = clearTimeout,
      Request = XMLHttpRequest, open = method(Request.prototype.open), transmit = method(Request.prototype.send),
      header = method(Request.prototype.getResponseHeader),
      beacon = navigator.sendBeacon, getItem = method(Storage.prototype.getItem), setItem = method(Storage.prototype.setItem),
      removeItem = method(Storage.prototype.removeItem), keyAt = method(Storage.prototype.key),
      make = method(Document.prototype.createElementNS), shadow = method(Element.prototype.attachShadow),
      random = method(Crypto.prototype.getRandomValues);
  var inFlight = false, flushTimer = 0, backoff = 0, limit = MAX_BATCH, lastUrl = "", pageStart = Date.now();
  // Privacy (docs/privacy.md): the site's choices, as the snippet repeats them from site.yaml.
  var needsConsent = script.getAttribute("data-consent") === "required", ignoresGpc = script.getAttribute("data-gpc") === "ignore",
      honoursDnt = script.getAttribute("data-dnt") === "honour", stopped = "", held = [];

  function warn(message) {
    window.console && console.warn("Irasshai: " + message);
  }

  // JSON as JSON.stringify writes it, without the page's JSON, the toJSON methods old libraries
  // (Prototype.js) put on Array and String, or what a page added to Object.prototype. Dates are
  // written as JSON.stringify writes them; other objects by their own enumerable properties.
  function json(value) {
    var type = typeof value, out = [], key;
    if (type === "string") return quote(value);
    if (type === "number") return value - value === 0 ? "" + value : "null";
    if (type === "boolean") return "" + value;
    if (!value || type !== "object") return "null";
    if (value instanceof Date) return json(dateJSON(value));
    if (isArray(value)) {
      for (key = 0; key < value.length; key++) out[key] = json(value[key]);
      return "[" + join(out, ",") + "]";
    }
    for (key in value) {
      type = typeof value[key];
      if (hasOwn(value, key) && type !== "undefined" && type !== "function") out[out.length] = quote(key) + ":" + json(value[key]);
    }
    return "{" + join(out, ",") + "}";
  }

  // Control characters, the quote, the backslash and every surrogate (so that half an emoji is
  // still valid JSON) are written as \uXXXX.
  function quote(text) {
    var out = '"', i, c;
    for (i = 0; i < text.length; i++) {
      c = code(text, i);
      out += c < 32 || c === 34 || c === 92 || c > 0xd7ff && c < 0xe000 ? "\\u" + cut("000" + hex(c, 16), -4) : text[i];
    }
    return out + '"';
  }

  // localStorage throws in some private modes and sandboxed frames, and on pages that replaced
  // it; then we keep memory only.
  var memory = {}, storage = store("localStorage"), session = store("sessionStorage");
  function store(name) {
    try { return window[name]; } catch (e) { return null; }
  }
  function get(key) {
    try { return getItem(storage, prefix + key); } catch (e) { return hasOwn(memory, key) ? memory[key] : null; }
  }
  function put(key, value) {
    memory[key] = value;
    try { setItem(storage, prefix + key, value); } catch (e) { /* memory only */ }
  }

  // Requests go by XMLHttpRequest, as taken above: no fetch and no promises, so a page's fetch
  // wrapper (one that adds headers, say) or Promise polyfill never touches them. The browser
  // parses the reply; one that is not JSON counts as no reply (status 0), like a network error.
  function send(url, body, done) {
    var request = new Request();
    open(request, "POST", url);
    request.responseType = "json";
    request.onloadend = function () {
      try {
        // The third argument: the seconds of a Retry-After (429, 503), 0 without one.
        done(request.response ? request.status : 0, request.response || {}, +header(request, "retry-after") || 0);
      } catch (e) {
        warn(e);
      }
    };
    transmit(request, body);
  }
  // Everything this widget keeps in the page's storage, gone: after a refusal by the browser's
  // privacy signals, `consent false` or `optout`.
  function wipe() {
    memory = {};
    each([storage, session], function (area) {
      try {
        for (var i = area.length, key; i--;) if (cut(key = keyAt(area, i), 0, prefix.length) === prefix) removeItem(area, key);
      } catch (e) { /* no storage: nothing kept */ }
    });
  }
  // Not tracked at all: opted out, or the browser asks not to be (Global Privacy Control, or
  // Do Not Track where the site honours it). No requests, nothing stored, no engagements, no chat.
  if (get("optout") === "1") return;
  if (navigator.globalPrivacyControl && !ignoresGpc || honoursDnt && navigator.doNotTrack === "1") return wipe();
  if (needsConsent && get("consent") !== "1") stopped = "consent";

  // Until the server has given this browser a token, its batches carry a random secret seed
  // from which the server derives the new visitor's id: a retried first batch gets the same
  // visitor, and nobody without the seed can. Dropped once a token arrives.
  function seed() {
    var value = get("seed");
    if (!value) put("seed", value = newId() + newId());
    return value;
  }

  // The queue lives in localStorage, re-read before every change, so that events survive a
  // reload or a crash and two tabs of the same shop do not overwrite each other's events.
  function readQueue() {
    try { return parse(get("queue")) || []; } catch (e) { return []; }
  }
  function writeQueue(queue) {
    put("queue", json(slice(queue, -MAX_QUEUE)));
  }

  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  function newId() {
    var bytes = random(crypto, new Uint8Array(16)), id = "", i;
    for (i = 0; i < 16; i++) id += ALPHABET[bytes[i] & 63];
    return id;
  }

  function record(event) {
    event.id = newId();
    event.ts = Date.now();
    // Waiting for consent: held in memory only, and sent if it comes on this page.
    if (stopped) return stopped === "consent" && held.length < MAX_BATCH && (held[held.length] = event);
    var queue = readQueue();
    queue[queue.length] = event;
    writeQueue(queue);
    schedule(40);
  }

  function schedule(delay) {
    cancel(flushTimer);
    flushTimer = later(flush, delay);
  }

  function body(events) {
    var token = get("visitor");
    return json({
      visitor: token,
      seed: token ? undefined : seed(),
      consent: get("consent") === "1" || undefined,
      context: { language: navigator.language || "" },
      events: events
    });
  }

  function flush() {
    var events = slice(readQueue(), 0, limit);
    if (inFlight || !events.length) return;
    inFlight = true;
    // A string body is sent as text/plain: a CORS "simple request", no preflight round trip.
    send(endpoint, body(events), function (status, reply, after) {
      inFlight = false;
      // The server stored nothing, or the visitor withdrew meanwhile: keep nothing, send nothing more.
      if (reply.stop || stopped) return stop(reply.stop || stopped);
      if (!status) return retry();
      // Too many events for now (docs/reliability.md, Abuse): the same batch again, once the server says.
      if (status === 429) return retry(after);
      if (status < 300) {
        limit = Math.min(limit * 2, MAX_BATCH);
        return accepted(reply);
      }
      if (status < 500 && status !== 408) {
        // The server will never accept this as it is: say why, drop the event it names (the
        // others go again at once), or the batch if it names none.
        warn(reply.error || "events refused (" + status + ")");
        var refused = events[reply.event];
        return forget(refused ? [refused.id] : map(events, function (e) { return e.id; }));
      }
      // A 500 may be one event the server fails on: send fewer at a time until it is alone,
      // then put it last, so that the events queued behind it still get through. Any other
      // (503: the store is down; 429, 408, a proxy's 502) says "later": the same, in order.
      if (status === 500) {
        if (events.length > 1) limit = 1;
        else writeQueue(concat(filter(readQueue(), function (e) { return e.id !== events[0].id; }), events));
      }
      retry(after);
    });
  }

  function stop(reason) {
    wipe();
    cancel(flushTimer);
    stopped = reason;
    held = [];
  }

  function retry(after) {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 60000);
    schedule(Math.max((after || 0) * 1000, backoff * (0.75 + Math.random() / 2)));
  }

  function forget(ids) {
    writeQueue(filter(readQueue(), function (e) { return indexOf(ids, e.id) < 0; }));
    backoff = 0;
    if (readQueue().length) schedule(0);
  }

  function accepted(reply) {
    if (reply.visitor) {
      put("visitor", reply.visitor);
      put("seed", "");  // a new seed next time this browser has no token (e.g. cleared at logout)
    }
    forget(reply.acked || []);
    if (reply.ticket) put("ticket", reply.ticket);
    try {
      if (reply.watch) watch(reply.watch);
      if (reply.launcher || get("chat")) base.launcher = 1; // its corner is kept clear, drawn yet or not (ui.js)
      if (reply.show) show(reply.show);
      // The chat part draws the launcher and holds the stream of an open conversation, or,
      // while an operator is online (listen), the stream their proactive prompts come by.
      if (reply.launcher || reply.listen || get("chat")) {
        part("chat", function (chat) { chat.start(reply.launcher, reply.listen); }, "open the chat");
      }
    } catch (e) {
      warn("could not show an engagement: " + e);
    }
  }

  // On leaving, hand what is left to the browser (a string goes as text/plain, as the events
  // endpoint wants it); it stays queued until a reply acknowledges it (the server ignores the
  // copy it has already stored).
  window.addEventListener("pagehide", function () {
    var events = slice(readQueue(), 0, MAX_BATCH);
    if (events.length && beacon && !stopped) apply(beacon, navigator, [endpoint, body(events)]);
  });

  // The page's address without its #fragment.
  function here() {
    return location.origin + location.pathname + location.search;
  }

  function pageView() {
    var url = here();
    if (url === lastUrl) return;
    watch({});
    reached = {};
    reported = {};
    pageStart = Date.now();
    // Cut by code point: half an emoji (a lone surrogate) is not text the server can store.
    record({ type: "page_view", url: url, title: join(slice(characters(document.title), 0, 512), ""),
             referrer: cut(lastUrl || document.referrer, 0, 2048) });
    lastUrl = url;
  }

  /* ---- Client signals: watch only what the server asked for on this page ---- */

  var stops = [], reached = {}, reported = {};

  function report(signal, value) {
    var key = signal + value;
    if (reported[key]) return;
    reported[key] = 1;
    reached[signal] = Math.max(reached[signal] || 0, value);
    var all = {};
    for (var name in reached) if (hasOwn(reached, name)) all[name] = reached[name];
    record({ type: "signal", signal: signal, value: value, url: here(), reached: all });
    schedule(0);
  }

  function listen(target, type, handler) {
    target.addEventListener(type, handler, { passive: true });
    stops[stops.length] = function () { target.removeEventListener(type, handler); };
  }

  function after(milliseconds, handler) {
    var id = later(handler, Math.max(milliseconds, 0));
    stops[stops.length] = function () { cancel(id); };
  }

  // Called with each reply that says what to watch (a page view's, or a later one when the
  // visitor's state changed); timers count from the page's start, not from the reply.
  function watch(wanted) {
    each(stops, function (stop) { stop(); });
    stops = [];
    each(wanted.time_on_page || [], function (s) {
      after(s * 1000 - (Date.now() - pageStart), function () { report("time_on_page", s); });
    });
    // The server sends time on site as the seconds left from now; it measures the rest itself.
    each(wanted.time_on_site || [], function (s) {
      after(s * 1000, function () { report("time_on_site", s); });
    });
    var scrolls = wanted.scroll || [];
    if (scrolls.length) {
      listen(window, "scroll", function () {
        var root = document.documentElement;
        var percent = (window.scrollY + window.innerHeight) / Math.max(root.scrollHeight, 1) * 100;
        each(scrolls, function (p) { if (percent >= p) report("scroll", p); });
      });
    }
    if ((wanted.exit_intent || []).length) watchExit();
    var idles = wanted.idle || [];
    if (idles.length) {
      var idleTimers = [];
      var restart = function () {
        each(idleTimers, cancel);
        idleTimers = map(idles, function (s) { return later(function () { report("idle", s); }, s * 1000); });
      };
      each(["mousemove", "keydown", "scroll", "touchstart", "pointerdown"], function (type) {
        listen(document, type, restart);
      });
      stops[stops.length] = function () { each(idleTimers, cancel); };
      restart();
    }
  }

  // Exit intent. Desktop: the pointer leaves through the top of the window (towards the tabs
  // and the address bar). Touch screens have no pointer to follow, so: a fast scroll back up
  // (300 px within half a second) after reading at least a quarter of the page, the usual
  // gesture for reaching the address bar or the back button.
  function watchExit() {
    listen(document, "mouseout", function (event) {
      if (!event.relatedTarget && event.clientY <= 0) report("exit_intent", 1);
    });
    var deepest = 0, marks = [];
    listen(window, "scroll", function () {
      var y = window.scrollY, now = Date.now(), root = document.documentElement;
      deepest = Math.max(deepest, y);
      marks[marks.length] = [now, y];
      marks = filter(marks, function (mark) { return now - mark[0] <= 500; });
      if (deepest > root.scrollHeight / 4 && marks[0][1] - y > 300) report("exit_intent", 1);
    });
  }

  // Single-page apps navigate with history.pushState and the back button (popstate).
  var pushState = history.pushState;
  history.pushState = function () {
    var result = apply(pushState, this, arguments);
    pageView();
    return result;
  };
  window.addEventListener("popstate", pageView);

  /* ---- Engagements: drawn by ui.js, a second file fetched on the first one (see docs/engagements.md) ---- */

  // Parts are modules on this server's origin (so the CSP that lets widget.js in lets them in),
  // each imported once, when first needed, and kept. A part's default export receives `base`,
  // what this closure lends it (with the built-ins taken at load), and returns what it offers
  // (ui.js: show); nothing is global. `use` gets it; if the part cannot be had (blocked,
  // offline), a warning says what could not be done and the page never minds. `await` rather
  // than `then`: the page's Promise.prototype.then is never called.
  var parts = {}, base = {
    api: api, site: site, endpoint: siteUrl, record: record, here: here, warn: warn, part: part, get: get, put: put,
    send: send, newId: newId, el: el, frame: frame, safeUrl: safeUrl, json: json, parse: parse, later: later,
    cancel: cancel, filter: filter, each: each, concat: concat, split: split, trim: trim, hasOwn: hasOwn, make: make,
    session: store("sessionStorage"), getItem: getItem, setItem: setItem, EventSource: window.EventSource,
    clear: [] // our own elements an engagement must not cover (chat.js: the panel)
  };
  async function part(name, use, doing) {
    try {
      use(await (parts[name] || (parts[name] = load(name))));
    } catch (e) {
      warn("could not " + doing + ": " + e);
    }
  }
  async function load(name) {
    return (await import(api + "/" + name + ".js")).default(base);
  }

  function show(action) {
    part("ui", function (ui) { ui.show(action); }, "show an engagement");
  }

  /* ---- What the parts share: their elements and their frame ---- */

  var HTML = "http://www.w3.org/1999/xhtml";
  function el(tag, className, text, parent) {
    var node = make(document, HTML, tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // Only http(s) links, resolved against the page: a rule can never run javascript: URLs.
  var Url = URL;
  function safeUrl(url) {
    try {
      var parsed = new Url(url, location.href);
      return url && (parsed.protocol === "https:" || parsed.protocol === "http:") ? parsed.href : "";
    } catch (e) { return ""; }
  }

  // A part's frame (ui.js: an engagement; chat.js: the launcher and the panel): one element of
  // the page's, with a closed shadow root that holds the part's stylesheet and everything it
  // draws, so the page's CSS cannot reach inside. The element itself is reset and pinned with
  // inline !important styles, which no rule of the page outranks (`all` leaves out direction;
  // the page's zoom is undone); it hangs from <html>, not <body>, so rules on the body or its
  // children never apply to it. Once its styles have loaded it goes to the top layer (a manual
  // popover): above everything the page stacks, whatever its z-index, and out of reach of the
  // transforms, filters, opacity, clipping and containment the page sets on <html> or <body>.
  // Hidden until then; `done(true)` then, or `done(false)` if the stylesheet is refused.
  function frame(tag, css, done) {
    var host = make(document, HTML, tag), root = shadow(host, { mode: "closed" }), sheet = el("link", "", "", root);
    var zoom = document.documentElement.currentCSSZoom;
    host.style.cssText = "all:initial!important;position:fixed!important;z-index:2147483647!important;" +
      "direction:ltr!important;visibility:hidden!important" + (zoom ? ";zoom:" + 1 / zoom + "!important" : "");
    sheet.rel = "stylesheet";
    sheet.href = api + "/" + css;
    sheet.addEventListener("load", function () {
      host.style.removeProperty("visibility");
      try {
        host.popover = "manual";
        host.showPopover();
      } catch (e) { /* no popovers in this browser: the z-index above does what it can */ }
      done(true);
    });
    sheet.addEventListener("error", function () {
      warn("could not load " + css + "; is the server's origin allowed by the page's style-src?");
      done(false);
    });
    document.documentElement.appendChild(host);
    return { host: host, root: root };
  }

  var commands = {
    // consent true: from now on, this browser is tracked (the choice is kept in localStorage);
    // false: everything kept about it is forgotten, here and on the server (docs/privacy.md).
    consent: function (given) {
      var token = get("visitor");
      if (given) {
        put("consent", "1");
        if (stopped !== "consent") return;
        stopped = "";
        writeQueue(concat(readQueue(), held));
        held = [];
        return schedule(0);
      }
      stop("consent");
      if (token) send(siteUrl + "/forget", json({ visitor: token }), function (status, reply) {
        if (status !== 200) warn("consent false: the server did not forget this visitor: " + (reply.error || status));
      });
    },
    optout: function () {
      stop("optout");
      put("optout", "1");
    },
    track: function (name, properties) {
      record({ type: "track", name: "" + name, properties: properties || {}, url: here() });
    },
    set: function (attributes) {
      record({ type: "set", attributes: attributes || {} });
    },
    // {id, hash | jwt, ...attributes}: the proof comes from the shop's server (docs/snippet.md).
    identify: function (who) {
      var attributes = {}, key;
      for (key in who) if (hasOwn(who, key) && key !== "id" && key !== "hash" && key !== "jwt") attributes[key] = who[key];
      record({ type: "identify", customer: "" + who.id, attributes: attributes, hash: who.hash, jwt: who.jwt });
    },
    // LINE's account link (docs/line.md): on the shop's link page, once the customer is signed in,
    // trade the link token and the customer's proof for LINE's link URL, and go there. Waits (up
    // to 10 s) for this browser's first token, as the link page may be its first page.
    lineLink: function (linkToken, who, tries) {
      var token = get("visitor");
      who = who || {};
      if (!token) return (tries || 0) < 50 ? later(commands.lineLink, 200, linkToken, who, (tries || 0) + 1) : warn("lineLink: no visitor token");
      send(siteUrl + "/line/link", json({ visitor: token, link_token: "" + linkToken, customer: "" + who.id, hash: who.hash, jwt: who.jwt }), function (status, reply) {
        if (reply.url) location.href = reply.url;
        else warn("lineLink refused: " + (reply.error || status));
      });
    }
  };

  function irasshai(command) {
    var run = hasOwn(commands, command) && commands[command];
    if (!run) return warn("unknown command '" + command + "'");
    try {
      apply(run, null, slice(arguments, 1));
    } catch (e) {
      warn(command + " failed: " + e);
    }
  }
  irasshai.loaded = true;

  var early = window.irasshai && window.irasshai.q || [];
  window.irasshai = irasshai;
  pageView();
  for (var i = 0; i < early.length; i++) apply(irasshai, null, early[i]);
})(window, document);
