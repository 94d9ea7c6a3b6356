/* New live-agent requests: the page title carries the count ("(2) Atención en vivo") and a
   polite live region announces when it grows. The count comes from the fragment htmx polls
   (#waiting-alert, every 5 s). ES5, no sound. */
(function () {
  "use strict";
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var last = null;

  function count() {
    var node = document.querySelector("#waiting-alert [data-waiting]");
    return node ? parseInt(node.getAttribute("data-waiting"), 10) || 0 : 0;
  }

  function update() {
    var now = count();
    document.title = now > 0 ? "(" + now + ") " + baseTitle : baseTitle;
    if (last !== null && now > last) {
      var announcer = document.getElementById("waiting-announcer");
      if (announcer) {
        announcer.textContent = now === 1
          ? "Nueva solicitud: 1 persona espera atención."
          : "Nueva solicitud: " + now + " personas esperan atención.";
      }
    }
    last = now;
  }

  document.addEventListener("DOMContentLoaded", update);
  document.body.addEventListener("htmx:afterSwap", update);
}());
