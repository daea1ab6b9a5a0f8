/*! Irasshai widget: one dependency-free file. See docs/snippet.md. */
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
  var inFlight = false, timer = 0, backoff = 0, lastUrl = "";

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
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  function body(events) {
    return JSON.stringify({
      visitor: get("visitor"),
      context: { language: navigator.language || "", width: window.innerWidth || 0 },
      events: events
    });
  }

  function flush() {
    var events = readQueue().slice(0, MAX_BATCH);
    if (inFlight || !events.length) return;
    inFlight = true;
    // text/plain keeps this a CORS "simple request": no preflight round trip.
    fetch(endpoint, {
      method: "POST", body: body(events), credentials: "omit", keepalive: true,
      headers: { "content-type": "text/plain;charset=UTF-8" }
    }).then(function (response) {
      return response.json().then(function (reply) {
        inFlight = false;
        if (response.ok) return accepted(reply);
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          // The server will never accept this batch as it is: say why and drop it.
          warn(reply.error || "events refused (" + response.status + ")");
          return forget(events.map(function (e) { return e.id; }));
        }
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
    if (reply.visitor) put("visitor", reply.visitor);
    forget(reply.acked || []);
  }

  // On leaving, hand what is left to the browser; it stays queued until a reply acknowledges
  // it (the server ignores the copy it has already stored).
  window.addEventListener("pagehide", function () {
    var events = readQueue().slice(0, MAX_BATCH);
    if (events.length && navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, new Blob([body(events)], { type: "text/plain;charset=UTF-8" }));
    }
  });

  function pageView() {
    var url = location.href.split("#")[0];
    if (url === lastUrl) return;
    record({ type: "page_view", url: url, title: document.title.slice(0, 512),
             referrer: (lastUrl || document.referrer).slice(0, 2048) });
    lastUrl = url;
  }

  // Single-page apps navigate with history.pushState and the back button (popstate).
  var pushState = history.pushState;
  history.pushState = function () {
    var result = pushState.apply(this, arguments);
    pageView();
    return result;
  };
  window.addEventListener("popstate", pageView);

  var commands = {
    track: function (name, properties) {
      record({ type: "track", name: String(name), properties: properties || {}, url: location.href.split("#")[0] });
    },
    set: function (attributes) {
      record({ type: "set", attributes: attributes || {} });
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
