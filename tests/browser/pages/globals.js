// What old libraries do to a page's globals; the widget must not care.
Array.prototype.foo = function () { return "foo"; };  // enumerable: shows up in for...in over arrays
Array.prototype.bar = "bar";
window.$ = function () { throw new Error("the page's $ was called"); };
window.jQuery = window.$;
window.define = function () { throw new Error("the page's AMD define was called"); };
window.define.amd = {};
window.module = undefined;
window.exports = undefined;
