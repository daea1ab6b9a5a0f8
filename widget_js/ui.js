/*! Irasshai widget UI: loaded by widget.js when the first engagement is to be shown. */
// A module, imported once from the server's origin: its default export receives `base`, what
// widget.js lends its parts (api, record, here, warn, part), and returns what this part offers.
// Nothing here is global: the page cannot call it, and it uses none of the page's globals.
export default function (base) {
  /* ---- Engagements: one at a time, in a closed Shadow DOM, text only (never innerHTML) ---- */

  var WORDS = {
    ja: { close: "閉じる", copy: "コピー", copied: "コピーしました", until: "有効期限: ", code: "クーポンコード",
          chat: "チャットで相談", note: "お知らせ" },
    en: { close: "Close", copy: "Copy", copied: "Copied", until: "Valid until ", code: "Coupon code",
          chat: "Chat with us", note: "Notice" }
  };
  var current = null, warn = base.warn;

  function el(tag, className, text, parent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // Only http(s) links, resolved against the page: a rule can never run javascript: URLs.
  function safeUrl(url) {
    if (!url) return "";
    try {
      var parsed = new URL(url, location.href);
      return /^https?:$/.test(parsed.protocol) ? parsed.href : "";
    } catch (e) { return ""; }
  }

  function feedback(rule, action) {
    base.record({ type: "feedback", rule: rule, action: action });
  }

  // A link when the rule gave a URL, else a button that closes the engagement; either counts
  // `clicked`. `then` runs before closing (the chat prompt's hand-over).
  function primary(view, parent, fallback, then) {
    var button = view.action.button || {}, url = safeUrl(button.url), label = button.label || fallback;
    if (!url && !label) return;
    var control = el(url ? "a" : "button", "primary", label, parent);
    if (url) control.href = url;
    control.addEventListener("click", function () {
      feedback(view.rule, "clicked");
      if (then) then();
      if (!url) view.finish();
    });
    return control;
  }

  function picture(box, url, className) {
    url = safeUrl(url);
    if (url) el("img", className, "", box).src = url;
    return url;
  }

  // The prompt hands over to the chat panel, chat.js, loaded the same way as this part. A shop
  // that opens its own chat (LINE, Intercom, …) instead cancels this event (preventDefault).
  function openChat(action) {
    var event = new CustomEvent("irasshai:chat", { detail: { rule: action.rule }, cancelable: true });
    if (window.dispatchEvent(event)) base.part("chat").then(function (chat) { chat.open(action); }, function (e) {
      warn("could not open the chat: " + e);
    });
  }

  // One renderer per kind: each fills the frame's box and returns its main control, if any.
  var kinds = {
    chat: function (view, box, action) {
      var agent = action.agent || {}, face = el("span", "avatar", "", box);
      face.setAttribute("aria-hidden", "true");
      if (!picture(face, agent.avatar)) face.textContent = (agent.name || "?").charAt(0);
      var body = el("div", "body", "", box);
      title(body, agent.name || view.words.note);
      text(body, action.text);
      return primary(view, body, view.words.chat, function () { openChat(action); });
    },
    coupon: function (view, box, action) {
      heading(view, box, action);
      var row = el("div", "code", "", box);
      el("output", "", action.code, row).setAttribute("aria-label", view.words.code);
      var copy = el("button", "copy", view.words.copy, row);
      copy.addEventListener("click", function () {
        copyText(action.code, function () {
          copy.textContent = view.words.copied;
          feedback(view.rule, "copied");
        });
      });
      if (action.expires_at) el("small", "until", view.words.until + action.expires_at, box);
      return primary(view, box);
    },
    message: function (view, box, action) {
      heading(view, box, action);
      return primary(view, box);
    }
  };

  function title(parent, words) {
    el("strong", "title", words, parent).id = "irasshai-title";
  }

  function text(parent, words) {
    if (words) el("p", "text", words, parent);
  }

  function heading(view, box, action) {
    if (picture(box, action.image, "image")) box.lastChild.alt = "";
    title(box, action.title || view.words.note);
    if (action.discount) el("span", "badge", action.discount, box);
    text(box, action.text);
  }

  /* ---- Placement: keep the shop's own controls free on a wide screen ---- */

  var PLACES = ["bottom-right", "bottom-left", "bottom", "top"], GAP = 12, MOST = 500;
  var CONTROLS = "a,button,input,select,textarea,[role=button],[onclick]";

  // The page's controls on screen, as rectangles; the first MOST of the page's, at most.
  function controls() {
    var found = [], all = document.querySelectorAll(CONTROLS), i, r;
    for (i = 0; i < all.length && i < MOST; i++) {
      r = all[i].getBoundingClientRect();
      if (r.width && r.height && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth) found.push(r);
    }
    return found;
  }

  // Tries, from the rule's placement, each place as it is (a card's corner or edge, a banner's
  // edge) and then each card place lifted clear of the controls it covers (up from the bottom,
  // down from the top, within the window): the first whose box covers no control of the page
  // wins. If every one covers something, the rule's placement stays. Phones keep the sheet.
  function place(layer, box, style, placement) {
    if (innerWidth <= 480) return;
    var banner = style === "banner", rects = controls(), pass, i, tries, r, hits, lift;
    var order = [placement].concat((banner ? ["bottom", "top"] : PLACES).filter(function (p) { return p !== placement; }));
    function at(where, by) {
      layer.className = "layer measure " + style + " " + where;
      layer.style.setProperty("--lift", by + "px");
      r = box.getBoundingClientRect();
      hits = rects.filter(function (c) {
        return c.left < r.right && r.left < c.right && c.top < r.bottom && r.top < c.bottom;
      });
      return !hits.length;
    }
    for (pass = 0; pass < (banner ? 1 : 2); pass++) {
      for (i = 0; i < order.length; i++) {
        if (at(order[i], lift = 0)) return;
        for (tries = 0; pass && tries < 4 && r.top >= 0 && r.bottom <= innerHeight; tries++) {
          lift += order[i] === "top"
            ? Math.max.apply(0, hits.map(function (c) { return c.bottom; })) + GAP - r.top
            : r.bottom - Math.min.apply(0, hits.map(function (c) { return c.top; })) + GAP;
          if (at(order[i], lift) && r.top >= 0 && r.bottom <= innerHeight) return;
        }
      }
    }
    at(placement, 0);
  }

  // The frame every engagement shares: a closed shadow root on one pinned host element, the
  // styles, the layer placed as `place` says, a labelled box with a close button, Escape and
  // the modal's focus trap. `render` fills the box.
  function show(action, render) {
    render = render || kinds[action.type];
    if (current || !document.body || !render) return;
    var rule = action.rule, style = action.type === "message" ? action.style || "toast" : action.type;
    var modal = style === "modal", previous = document.activeElement, placement = action.placement || "bottom-right";
    var host = document.createElement("irasshai-widget");
    // Inline !important outranks any page stylesheet: the host never takes space in the page.
    // (Set through the CSSOM, which a Content-Security-Policy without 'unsafe-inline' allows.)
    host.style.cssText = "all:initial!important;position:fixed!important;z-index:2147483600!important";
    var root = host.attachShadow({ mode: "closed" });
    var sheet = el("link", "", "", root);
    sheet.rel = "stylesheet";
    sheet.href = base.api + "/widget.css";
    var layer = el("div", "layer " + style + " " + placement, "", root);
    if (modal) el("div", "backdrop", "", layer).addEventListener("click", dismiss);
    var box = el("div", "box", "", layer);
    box.lang = action.lang;
    box.setAttribute("role", modal || action.type !== "message" ? "dialog" : style === "banner" ? "region" : "status");
    if (modal) box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-labelledby", "irasshai-title");
    var view = { action: action, rule: rule, words: WORDS[action.lang] || WORDS.en, finish: finish };

    // Buttons need no type="button": in a shadow root they belong to no form of the page.
    var close = el("button", "close", "×", box);
    close.setAttribute("aria-label", view.words.close);
    close.addEventListener("click", dismiss);
    var main = render(view, box, action);

    function keys(event) {
      var inside = document.activeElement === host;
      if (event.key === "Escape" && (modal || inside)) {
        dismiss();
      } else if (event.key === "Tab" && modal) {
        // Keep focus inside the dialog while it is open.
        var focusable = box.querySelectorAll("button,a[href]"), first = focusable[0],
            last = focusable[focusable.length - 1], active = root.activeElement;
        if (event.shiftKey ? active === first || !inside : active === last || !inside) {
          event.preventDefault();
          (event.shiftKey ? last : first).focus();
        }
      }
    }

    function finish() {
      document.removeEventListener("keydown", keys, true);
      var hadFocus = document.activeElement === host;
      host.remove();
      current = null;
      if ((hadFocus || modal) && previous && previous.focus) previous.focus();
    }

    function dismiss() {
      feedback(rule, "dismissed");
      finish();
    }

    current = host;
    sheet.addEventListener("load", function () {
      if (!modal) place(layer, box, style, placement);
      layer.className = layer.className.replace(" measure", "") + " in";
      document.addEventListener("keydown", keys, true);
      if (modal) (main || close).focus();
      feedback(rule, "shown");
    });
    sheet.addEventListener("error", function () {
      warn("could not load widget.css; is the server's origin allowed by the page's style-src?");
      host.remove();
      current = null;
    });
    document.body.appendChild(host);
  }

  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { warn("copy refused by the browser"); });
    } else {
      warn("copy needs a secure (https) page");
    }
  }

  // What later parts may use: the frame and the renderers (a chat panel adds its own kind).
  return { show: show, kinds: kinds, el: el };
}
