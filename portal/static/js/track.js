// The receipt's link carries the ticket number and query code after '#', which browsers never send to
// the server. Fill the look-up form from it, drop it from the address bar, and post the form.
(function () {
  "use strict";
  var form = document.querySelector("[data-track-form]");
  if (!form || !location.hash) { return; }
  var params = new URLSearchParams(location.hash.slice(1));
  var number = params.get("number");
  var code = params.get("code");
  history.replaceState(null, "", location.pathname);
  if (number && code) {
    form.querySelector("[name=number]").value = number;
    form.querySelector("[name=code]").value = code;
    form.requestSubmit();
  }
}());
