/*! Irasshai widget: dependency-free; ui.js draws engagements. See docs/snippet.md. */
(function (window, document) {
  "use strict";
  var script = document.currentScript;
  var site = script && script.getAttribute("data-site");
  if (!site || window.irasshai && window.irasshai.loaded) return;
  var api = new URL(script.src).origin;
  var endpoint = api + "/v1/sites/" + encodeURIComponent(site) + "/events";
  var prefix = "irasshai:" + site + ":";
  var MAX_QUEUE = 500, MAX_BATCH = 50;
  var storage = window.localStorage;
  var inFlight = false, flushTimer = 0, backoff = 0, limit = MAX_BATCH, lastUrl = "", pageStart = Date.now();

  function warn(message) {
    window.console && console.warn("Irasshai: " + message);
  }

  // localStorage throws in some private modes and sandboxed frames; then we keep memory only.
  var memory = {};
  function get(key) {
    try { return storage.getItem(prefix + key); } catch (e) { return memory[key] || null; }
  }
  function put(key, value) {
    memory[key] = value;
    try { storage.setItem(prefix + key, value); } catch (e) { /* memory only */ }
  }
  if (get("optout") === "1") return;

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
    try { return JSON.parse(get("queue")) || []; } catch (e) { return []; }
  }
  function writeQueue(queue) {
    put("queue", JSON.stringify(queue.slice(-MAX_QUEUE)));
  }

  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  function newId() {
    var bytes = crypto.getRandomValues(new Uint8Array(16)), id = "", i;
    for (i = 0; i < 16; i++) id += ALPHABET[bytes[i] & 63];
    return id;
  }

  function record(event) {
    event.id = newId();
    event.ts = Date.now();
    var queue = readQueue();
    queue.push(event);
    writeQueue(queue);
    schedule(40);
  }

  function schedule(delay) {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(flush, delay);
  }

  function body(events) {
    var token = get("visitor");
    return JSON.stringify({
      visitor: token,
      seed: token ? undefined : seed(),
      context: { language: navigator.language || "" },
      events: events
    });
  }

  function flush() {
    var events = readQueue().slice(0, limit);
    if (inFlight || !events.length) return;
    inFlight = true;
    // text/plain keeps this a CORS "simple request": no preflight round trip.
    fetch(endpoint, {
      method: "POST", body: body(events), credentials: "omit", keepalive: true,
      headers: { "content-type": "text/plain;charset=UTF-8" }
    }).then(function (response) {
      return response.json().then(function (reply) {
        inFlight = false;
        if (response.ok) {
          limit = Math.min(limit * 2, MAX_BATCH);
          return accepted(reply);
        }
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          // The server will never accept this as it is: say why, drop the event it names (the
          // others go again at once), or the batch if it names none.
          warn(reply.error || "events refused (" + response.status + ")");
          var refused = events[reply.event];
          return forget(refused ? [refused.id] : events.map(function (e) { return e.id; }));
        }
        // One event may be what the server fails on: send fewer at a time until it is alone,
        // then put it last, so that the events queued behind it still get through.
        if (events.length > 1) limit = 1;
        else writeQueue(readQueue().filter(function (e) { return e.id !== events[0].id; }).concat(events));
        retry();
      });
    }).catch(function () {
      inFlight = false;
      retry();
    });
  }

  function retry() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 60000);
    schedule(backoff * (0.75 + Math.random() / 2));
  }

  function forget(ids) {
    writeQueue(readQueue().filter(function (e) { return ids.indexOf(e.id) < 0; }));
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
      if (reply.show) show(reply.show);
      // The chat part draws the launcher and holds the stream of an open conversation, or,
      // while an operator is online (listen), the stream their proactive prompts come by.
      if (reply.launcher || reply.listen || get("chat")) {
        part("chat").then(function (chat) { chat.start(reply.launcher, reply.listen); }, warn);
      }
    } catch (e) {
      warn("could not show an engagement: " + e);
    }
  }

  // On leaving, hand what is left to the browser; it stays queued until a reply acknowledges
  // it (the server ignores the copy it has already stored).
  window.addEventListener("pagehide", function () {
    var events = readQueue().slice(0, MAX_BATCH);
    if (events.length && navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, new Blob([body(events)], { type: "text/plain;charset=UTF-8" }));
    }
  });

  function here() {
    return location.href.split("#")[0];
  }

  function pageView() {
    var url = here();
    if (url === lastUrl) return;
    watch({});
    reached = {};
    reported = {};
    pageStart = Date.now();
    // Cut by code point: half an emoji (a lone surrogate) is not text the server can store.
    record({ type: "page_view", url: url, title: Array.from(document.title).slice(0, 512).join(""),
             referrer: (lastUrl || document.referrer).slice(0, 2048) });
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
    for (var name in reached) all[name] = reached[name];
    record({ type: "signal", signal: signal, value: value, url: here(), reached: all });
    schedule(0);
  }

  function listen(target, type, handler) {
    target.addEventListener(type, handler, { passive: true });
    stops.push(function () { target.removeEventListener(type, handler); });
  }

  function after(milliseconds, handler) {
    var id = setTimeout(handler, Math.max(milliseconds, 0));
    stops.push(function () { clearTimeout(id); });
  }

  // Called with each reply that says what to watch (a page view's, or a later one when the
  // visitor's state changed); timers count from the page's start, not from the reply.
  function watch(wanted) {
    while (stops.length) stops.pop()();
    (wanted.time_on_page || []).forEach(function (s) {
      after(s * 1000 - (Date.now() - pageStart), function () { report("time_on_page", s); });
    });
    // The server sends time on site as the seconds left from now; it measures the rest itself.
    (wanted.time_on_site || []).forEach(function (s) {
      after(s * 1000, function () { report("time_on_site", s); });
    });
    var scrolls = wanted.scroll || [];
    if (scrolls.length) {
      listen(window, "scroll", function () {
        var root = document.documentElement;
        var percent = (window.scrollY + window.innerHeight) / Math.max(root.scrollHeight, 1) * 100;
        scrolls.forEach(function (p) { if (percent >= p) report("scroll", p); });
      });
    }
    if ((wanted.exit_intent || []).length) watchExit();
    var idles = wanted.idle || [];
    if (idles.length) {
      var idleTimers = [];
      var restart = function () {
        idleTimers.forEach(clearTimeout);
        idleTimers = idles.map(function (s) { return setTimeout(function () { report("idle", s); }, s * 1000); });
      };
      ["mousemove", "keydown", "scroll", "touchstart", "pointerdown"].forEach(function (type) {
        listen(document, type, restart);
      });
      stops.push(function () { idleTimers.forEach(clearTimeout); });
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
      marks.push([now, y]);
      while (marks.length && now - marks[0][0] > 500) marks.shift();
      if (deepest > root.scrollHeight / 4 && marks[0][1] - y > 300) report("exit_intent", 1);
    });
  }

  // Single-page apps navigate with history.pushState and the back button (popstate).
  var pushState = history.pushState;
  history.pushState = function () {
    var result = pushState.apply(this, arguments);
    pageView();
    return result;
  };
  window.addEventListener("popstate", pageView);

  /* ---- Engagements: drawn by ui.js, a second file fetched on the first one (see docs/engagements.md) ---- */

  // Parts are modules on this server's origin (so the CSP that lets widget.js in lets them in),
  // each imported once, when first needed, and kept. A part's default export receives `base`,
  // what this closure lends it, and returns what it offers (ui.js: show); nothing is global.
  var parts = {}, base = { api: api, site: site, record: record, here: here, warn: warn, part: part, get: get, put: put };
  function part(name) {
    return parts[name] || (parts[name] = import(api + "/" + name + ".js").then(function (module) {
      return module.default(base);
    }));
  }

  // If ui.js cannot be had (blocked, offline), the engagement is skipped: the page never minds.
  function show(action) {
    part("ui").then(function (ui) { ui.show(action); }).catch(function (e) {
      warn("could not show an engagement: " + e);
    });
  }

  var commands = {
    track: function (name, properties) {
      record({ type: "track", name: String(name), properties: properties || {}, url: location.href.split("#")[0] });
    },
    set: function (attributes) {
      record({ type: "set", attributes: attributes || {} });
    },
    // {id, hash | jwt, ...attributes}: the proof comes from the shop's server (docs/snippet.md).
    identify: function (who) {
      var attributes = {}, key;
      for (key in who) if (!/^(id|hash|jwt)$/.test(key)) attributes[key] = who[key];
      record({ type: "identify", customer: String(who.id), attributes: attributes, hash: who.hash, jwt: who.jwt });
    },
    // LINE's account link (docs/line.md): on the shop's link page, once the customer is signed in,
    // trade the link token and the customer's proof for LINE's link URL, and go there. Waits (up
    // to 10 s) for this browser's first token, as the link page may be its first page.
    lineLink: function (linkToken, who, tries) {
      var token = get("visitor");
      who = who || {};
      if (!token) return (tries || 0) < 50 ? setTimeout(commands.lineLink, 200, linkToken, who, (tries || 0) + 1) : warn("lineLink: no visitor token");
      fetch(api + "/v1/sites/" + encodeURIComponent(site) + "/line/link", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ visitor: token, link_token: String(linkToken), customer: String(who.id), hash: who.hash, jwt: who.jwt })
      }).then(function (response) { return response.json(); }).then(function (reply) {
        if (reply.url) location.href = reply.url;
        else warn("lineLink refused: " + reply.error);
      }).catch(warn);
    }
  };

  function irasshai(command) {
    var run = commands[command];
    if (!run) return warn("unknown command '" + command + "'");
    try {
      run.apply(null, Array.prototype.slice.call(arguments, 1));
    } catch (e) {
      warn(command + " failed: " + e);
    }
  }
  irasshai.loaded = true;

  var early = window.irasshai && window.irasshai.q || [];
  window.irasshai = irasshai;
  pageView();
  for (var i = 0; i < early.length; i++) irasshai.apply(null, early[i]);
})(window, document);
