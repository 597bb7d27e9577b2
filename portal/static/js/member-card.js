// The member card's code runs out within a minute; htmx fetches a fresh one every 20 seconds. This adds what
// a phone at a counter needs: a fresh code as soon as the phone is unlocked (timers sleep while it is locked),
// a greyed-out code with an explanation if it runs out offline, and a reload (to the sign-in page) instead of
// putting that page inside the card when the session has ended.
(function () {
  "use strict";

  function arm(block) {
    var seconds = parseInt(block && block.getAttribute("data-valid-for"), 10);
    if (!seconds) { return; }
    window.setTimeout(function () {
      if (!block.isConnected) { return; }
      block.classList.add("is-expired");
      var note = block.querySelector(".member-code-expired");
      if (note) { note.hidden = false; }
    }, seconds * 1000);
  }

  arm(document.getElementById("members-code"));

  document.addEventListener("visibilitychange", function () {
    var block = document.getElementById("members-code");
    if (document.visibilityState === "visible" && block && window.htmx) {
      window.htmx.trigger(block, "members-refresh");
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "members-code") { return; }
    var xhr = event.detail.xhr;
    if (xhr.status === 200 && xhr.responseText.indexOf('id="members-code"') === -1) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });

  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt.id === "members-code") { arm(event.detail.elt); }
  });
}());
