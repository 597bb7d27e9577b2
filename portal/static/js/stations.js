// The station finder, enhanced: "use my location" fills the form's point and asks again; the map view draws
// the same stations as the list (read from the list itself, so the two never disagree). Without JavaScript,
// or without permission, the place lists and the list of stations work the same.
(function () {
  "use strict";

  function locate() {
    var box = document.querySelector("[data-locate]");
    var form = document.querySelector("[data-finder]");
    if (!box || !form || !("geolocation" in navigator)) { return; }
    var status = box.querySelector("[data-locate-status]");
    box.hidden = false;
    box.querySelector("[data-locate-button]").addEventListener("click", function () {
      status.textContent = box.dataset.waiting;
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[data-lat]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[data-lng]").value = position.coords.longitude.toFixed(6);
        status.textContent = "";
        form.requestSubmit();
      }, function () {
        status.textContent = box.dataset.failed;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  var map = null;
  function drawMap() {
    var el = document.getElementById("stations-map");
    if (map) { map.remove(); map = null; }
    if (!el || typeof L === "undefined") { return; }
    map = L.map(el).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)], 13);
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
    var bounds = [[parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)]];
    document.querySelectorAll("[data-station]").forEach(function (item) {
      var point = [parseFloat(item.dataset.lat), parseFloat(item.dataset.lng)];
      var link = document.createElement("a");
      link.href = item.dataset.url;
      link.textContent = item.dataset.name;
      L.marker(point, { title: item.dataset.name, alt: item.dataset.name }).addTo(map).bindPopup(link);
      bounds.push(point);
    });
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
  }

  locate();
  drawMap();
  document.body.addEventListener("htmx:afterSettle", drawMap);
}());
