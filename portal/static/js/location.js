// Progressive enhancement for the grievance form: offer the phone's location, which is optional.
// Without JavaScript (or without permission) the form works the same; the place lists are enough.
(function () {
  "use strict";
  var box = document.querySelector("[data-location]");
  if (!box || !("geolocation" in navigator)) { return; }
  var button = box.querySelector("[data-location-button]");
  var status = box.querySelector("[data-location-status]");
  var lat = document.querySelector("input[name=lat]");
  var lng = document.querySelector("input[name=lng]");
  box.hidden = false;
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  button.addEventListener("click", function () {
    status.textContent = box.dataset.waiting || "…";
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lng.value = position.coords.longitude.toFixed(6);
      status.textContent = "✓";
    }, function () {
      status.textContent = "✗";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}());
