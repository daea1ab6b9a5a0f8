// What old libraries still found on shop pages do to the built-ins before the widget loads, all of
// it working code: Prototype.js 1.6 (toJSON on Array and String, which turns JSON.stringify's
// arrays into strings; its own bind), MooTools 1.4 (Array.from that wraps a string in an array),
// a library that adds an enumerable property to every object, Array methods replaced by
// enumerable look-alikes, and zone.js-style wrappers around timers and promises.
(function () {
  // As Prototype.js 1.6 has them: an array becomes a string of its items, a string a quoted string.
  Array.prototype.toJSON = function () { return "[" + this.join(", ") + "]"; };
  String.prototype.toJSON = function () { return '"' + this + '"'; };
  Object.prototype.polluted = "from Object.prototype";
  Array.from = function (item) {
    if (item == null) return [];
    return typeof item !== "string" && item.length !== undefined ? Array.prototype.slice.call(item) : [item];
  };
  Function.prototype.bind = function (context) {
    var fn = this, bound = Array.prototype.slice.call(arguments, 1);
    return function () { return fn.apply(context, bound.concat(Array.prototype.slice.call(arguments))); };
  };
  ["map", "filter", "forEach", "indexOf"].forEach(function (name) {
    var native = Array.prototype[name];
    Array.prototype[name] = function () { return native.apply(this, arguments); };  // enumerable now
  });
  var setTimeout = window.setTimeout, then = Promise.prototype.then;
  window.setTimeout = function (fn, delay) { return setTimeout(function () { fn(); }, delay); };
  Promise.prototype.then = function (ok, fail) { return then.call(this, ok, fail); };
  window.Promise = function LegacyPromise() { throw new Error("the page's Promise polyfill was used"); };
})();
