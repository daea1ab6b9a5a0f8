// The console's own script: served by this server, under a CSP without inline script.
// The shell's behaviour only; the inbox and live visitors add theirs.
(function () {
  "use strict";
  var switcher = document.querySelector("[data-site-switcher]");
  if (switcher) {
    var select = switcher.querySelector("select");
    select.addEventListener("change", function () {
      window.location.assign("/console/sites/" + encodeURIComponent(select.value));
    });
  }
})();
