window.irasshai = window.irasshai || function () { (window.irasshai.q = window.irasshai.q || []).push(arguments); };

// The shop's own script. The server decides what to tell Irasshai about each page and writes it
// to <body data-irasshai-calls>; this only replays those calls, so the shop needs no inline
// script and runs under a Content-Security-Policy without 'unsafe-inline'.
(function () {
  "use strict";
  var attribute = document.body && document.body.getAttribute("data-irasshai-calls");
  if (!attribute) return;
  var calls;
  try {
    calls = JSON.parse(attribute);
  } catch (error) {
    console.warn("shop.js: data-irasshai-calls is not valid JSON", error);
    return;
  }
  for (var index = 0; index < calls.length; index++) {
    window.irasshai.apply(null, calls[index]);
  }
})();
