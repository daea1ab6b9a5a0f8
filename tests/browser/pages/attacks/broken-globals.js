// Globals a page has broken before the widget loads: fetch blocked by a consent script,
// JSON.stringify replaced by a broken one, JSON.parse wrapped with a reviver that turns dates into
// Date objects, customElements.define and document.createElement that refuse what they do not
// know, and storage that throws (as when the browser blocks it for the site).
(function () {
  window.fetch = function () { throw new Error("the page's fetch was called"); };
  JSON.stringify = function () { throw new Error("the page's JSON.stringify was called"); };
  var parse = JSON.parse;
  JSON.parse = function (text) {
    return parse(text, function (key, value) {
      return typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? new Date(value) : value;
    });
  };
  customElements.define = function () { throw new Error("the page's customElements.define was called"); };
  var createElement = document.createElement;
  document.createElement = function (tag) {
    if (String(tag).indexOf("-") >= 0) throw new Error("the page's createElement refused " + tag);
    return createElement.call(document, tag);
  };
  ["localStorage", "sessionStorage"].forEach(function (name) {
    Object.defineProperty(window, name, {
      configurable: true, get: function () { throw new DOMException("The operation is insecure.", "SecurityError"); }
    });
  });
})();
