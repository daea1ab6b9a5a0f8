// A page that breaks the built-ins once the widget has loaded (a tag manager's late script, say),
// before the widget has sent anything: from then on every one of these throws if called, so the
// widget, its parts (loaded later) and the chat must do without them.
(function () {
  function broken(name) {
    return function () { throw new Error("the page's broken " + name + " was called"); };
  }
  function breakAll() {
    var what = {
      "Array.prototype": ["forEach", "map", "filter", "slice", "indexOf", "concat", "push", "pop", "shift", "unshift",
                          "join", "splice", "reduce", "some", "every", "find", "includes"],
      "String.prototype": ["split", "slice", "replace", "charAt", "charCodeAt", "trim", "indexOf", "substring", "toLowerCase",
                           "match"],
      "Object": ["keys", "assign", "entries", "values"],
      "Array": ["from", "isArray"],
      "JSON": ["stringify", "parse"],
      "Function.prototype": ["apply", "call", "bind"],
      "Storage.prototype": ["getItem", "setItem", "removeItem"],
      "Document.prototype": ["createElement"],
      "document": ["createElement"],
      "customElements": ["define"],
      "window": ["fetch", "setTimeout", "clearTimeout", "setInterval", "XMLHttpRequest", "EventSource", "Promise"],
      "Promise.prototype": ["then", "catch", "finally"]
    };
    var owners = {
      "Array.prototype": Array.prototype, "String.prototype": String.prototype, "Object": Object, "Array": Array,
      "JSON": JSON, "Function.prototype": Function.prototype, "Storage.prototype": Storage.prototype,
      "Document.prototype": Document.prototype, "document": document, "customElements": customElements, "window": window,
      "Promise.prototype": Promise.prototype
    };
    for (var owner in what) {
      for (var i = 0; i < what[owner].length; i++) owners[owner][what[owner][i]] = broken(owner + "." + what[owner][i]);
    }
    Object.prototype.polluted = "from Object.prototype";
    Array.prototype.toJSON = broken("Array.prototype.toJSON");
    String.prototype.toJSON = broken("String.prototype.toJSON");
    Object.defineProperty(window, "localStorage", { configurable: true, get: broken("localStorage") });
    Object.defineProperty(window, "sessionStorage", { configurable: true, get: broken("sessionStorage") });
    document.documentElement.setAttribute("data-broken", "");
  }
  // The widget loads async; as soon as it has (and before its first batch leaves), break everything.
  var poll = setInterval(function () {
    if (window.irasshai && window.irasshai.loaded) {
      clearInterval(poll);
      breakAll();
    }
  }, 1);
})();
