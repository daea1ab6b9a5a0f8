/*! Irasshai widget UI: loaded by widget.js when the first engagement is to be shown. */
// A module, imported once from the server's origin: its default export receives `base`, what
// widget.js lends its parts (api, record, here, warn, part, and the built-ins it took when the
// page loaded), and returns what this part offers. Nothing here is global: the page cannot call
// it, and it uses none of the page's globals, which the page may have replaced by now.
export default function (base) {
  /* ---- Engagements: one at a time, in a closed Shadow DOM, text only (never innerHTML) ---- */

  var WORDS = {
    ja: { close: "閉じる", copy: "コピー", copied: "コピーしました", until: "有効期限: ", code: "クーポンコード",
          chat: "チャットで相談", note: "お知らせ" },
    en: { close: "Close", copy: "Copy", copied: "Copied", until: "Valid until ", code: "Coupon code",
          chat: "Chat with us", note: "Notice" }
  };
  var current = null, warn = base.warn, el = base.el, safeUrl = base.safeUrl, filter = base.filter, each = base.each;

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
    if (window.dispatchEvent(event)) base.part("chat", function (chat) { chat.open(action); }, "open the chat");
  }

  // One renderer per kind: each fills the frame's box and returns its main control, if any.
  var kinds = {
    chat: function (view, box, action) {
      var agent = action.agent || {}, face = el("span", "avatar", "", box);
      face.setAttribute("aria-hidden", "true");
      if (!picture(face, agent.avatar)) face.textContent = (agent.name || "?")[0];
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

  var PLACES = ["bottom-right", "bottom-left", "bottom", "top"], GAP = 12, MOST = 500, ABOVE = 56 + GAP;
  var CONTROLS = "a,button,input,select,textarea,[role=button],[onclick]";

  // The page's controls on screen, as rectangles (the first MOST of the page's, at most), and
  // the chat's launcher and panel when shown: an engagement never covers them either.
  function controls(banner) {
    var found = [], all = document.querySelectorAll(CONTROLS), i;
    function add(e) {
      var r = e.getBoundingClientRect();
      if (r.width && r.height && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth) found[found.length] = r;
    }
    // The launcher's corner (chat.css: 56 px, 20 px from the edges), though chat.js may not have
    // drawn it yet; not for a banner, which spans the edge wherever it goes.
    if (base.launcher && !banner) add({ getBoundingClientRect: function () {
      return { width: 56, height: 56, left: innerWidth - 76, right: innerWidth - 20, top: innerHeight - 76, bottom: innerHeight - 20 };
    } });
    each(base.clear, add);
    for (i = 0; i < all.length && i < MOST; i++) add(all[i]);
    return found;
  }

  // Tries, from the rule's placement, each place as it is (a card's corner or edge, a banner's
  // edge) and then each card place lifted clear of the controls it covers (up from the bottom,
  // down from the top, within the window): the first whose box covers no control of the page
  // wins. If every one covers something, the rule's placement stays. Phones keep the sheet.
  function place(layer, box, style, placement) {
    if (innerWidth <= 480) return;
    var banner = style === "banner", rects = controls(banner), pass, i, tries, r, hits, lift, lowest, highest;
    var order = base.concat([placement], filter(banner ? ["bottom", "top"] : PLACES, function (p) { return p !== placement; }));
    function at(where, by) {
      layer.className = "layer measure " + style + " " + where;
      // A card in the launcher's corner sits just above it, where a visitor looks for the chat.
      layer.style.setProperty("--lift", by + (base.launcher && where === "bottom-right" && !banner ? ABOVE : 0) + "px");
      r = box.getBoundingClientRect();
      hits = filter(rects, function (c) {
        return c.left < r.right && r.left < c.right && c.top < r.bottom && r.top < c.bottom;
      });
      lowest = -Infinity;
      highest = Infinity;
      each(hits, function (c) {
        lowest = Math.max(lowest, c.bottom);
        highest = Math.min(highest, c.top);
      });
      return !hits.length;
    }
    for (pass = 0; pass < (banner ? 1 : 2); pass++) {
      for (i = 0; i < order.length; i++) {
        if (at(order[i], lift = 0)) return;
        for (tries = 0; pass && tries < 4 && r.top >= 0 && r.bottom <= innerHeight; tries++) {
          lift += order[i] === "top" ? lowest + GAP - r.top : r.bottom - highest + GAP;
          if (at(order[i], lift) && r.top >= 0 && r.bottom <= innerHeight) return;
        }
      }
    }
    at(placement, 0);
  }

  // What every engagement shares: the frame (base.frame: a closed shadow root on one pinned host
  // element in the top layer, and the styles), the layer placed as `place` says, a labelled box
  // with a close button, Escape and the modal's focus trap. `render` fills the box.
  function show(action, render) {
    render = render || kinds[action.type];
    if (current || !render) return;
    var rule = action.rule, style = action.type === "message" ? action.style || "toast" : action.type;
    var modal = style === "modal", previous = document.activeElement, placement = action.placement || "bottom-right";
    var frame = base.frame("irasshai-widget", "widget.css", ready), host = frame.host, root = frame.root;
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

    // Once the styles have loaded (shown), or could not be (skipped: warned by the frame).
    function ready(loaded) {
      if (!loaded) {
        host.remove();
        current = null;
        return;
      }
      if (!modal) place(layer, box, style, placement);
      layer.classList.remove("measure");
      layer.classList.add("in");
      document.addEventListener("keydown", keys, true);
      if (modal) (main || close).focus();
      feedback(rule, "shown");
    }
    current = host;
  }

  async function copyText(text, done) {
    if (!navigator.clipboard || !window.isSecureContext) return warn("copy needs a secure (https) page");
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      return warn("copy refused by the browser");
    }
    done();
  }

  // What later parts may use: the frame and the renderers (a chat panel adds its own kind).
  return { show: show, kinds: kinds, el: el };
}
