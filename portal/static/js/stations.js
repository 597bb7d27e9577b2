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
  // A station on the map is a shape with a word (a round "open" pin, a square "closed" one), never colour alone;
  // its popup says what the list says, and goes straight to a map app.
  function stationIcon(open, word) {
    var label = document.createElement("span");
    label.textContent = word;
    return L.divIcon({ className: "station-marker " + (open ? "station-marker-open" : "station-marker-closed"),
                       html: (open ? "● " : "■ ") + label.innerHTML, iconSize: null, iconAnchor: [12, 14] });
  }

  function popupOf(item, el) {
    var box = document.createElement("div");
    var name = document.createElement("a");
    name.href = item.dataset.url;
    name.textContent = item.dataset.name;
    var state = document.createElement("p");
    var badge = item.querySelector(".badge");
    var opens = item.querySelector(".opens");
    state.textContent = (badge ? badge.textContent : "") + (opens ? " · " + opens.textContent : "");
    var distance = document.createElement("p");
    distance.textContent = item.dataset.distance;
    var go = document.createElement("a");
    go.className = "button button-secondary";
    go.href = item.dataset.goUrl;
    go.rel = "noopener";
    go.textContent = el.dataset.go;
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = ": " + item.dataset.name;
    go.appendChild(who);
    [name, state, distance, go].forEach(function (part) { box.appendChild(part); });
    return box;
  }

  function drawMap() {
    var el = document.getElementById("stations-map");
    if (map) { map.remove(); map = null; }
    if (!el || typeof L === "undefined") { return; }
    var here = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)];
    map = L.map(el).setView(here, 13);
    map.attributionControl.setPrefix(false);  // Leaflet's own link and flag; the tiles' credit stays
    var failed = el.parentNode.querySelector("[data-map-failed]");
    var errors = 0;
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution })
      .on("tileerror", function () {
        errors += 1;
        if (failed && errors >= 2) { failed.hidden = false; }
      })
      .on("tileload", function () { errors = 0; if (failed) { failed.hidden = true; } })
      .addTo(map);
    L.circleMarker(here, { radius: 9, weight: 3, color: "#1f4e99", fillColor: "#ffffff", fillOpacity: 1,
                           className: "you-are-here" })
      .bindTooltip(el.dataset.here, { permanent: true, direction: "right", offset: [10, 0] }).addTo(map);
    var bounds = [here];
    document.querySelectorAll("[data-station]").forEach(function (item) {
      var point = [parseFloat(item.dataset.lat), parseFloat(item.dataset.lng)];
      var open = item.dataset.open === "yes";
      L.marker(point, { title: item.dataset.name, alt: item.dataset.name, keyboard: true,
                        icon: stationIcon(open, open ? el.dataset.openWord : el.dataset.closedWord) })
        .addTo(map)
        .bindPopup(popupOf(item, el), { autoPanPaddingTopLeft: [56, 96], autoPanPadding: [12, 12] });
      bounds.push(point);
    });
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
  }

  // After a swap: say how many were found (a polite status outside the swapped part, so it is announced), and
  // bring the results' heading to the top of the screen with focus, except while a place is being chosen in
  // the region lists (the next list would jump away from under the finger).
  function announce(event) {
    var heading = document.getElementById("stations-results-title");
    var status = document.querySelector("[data-found-status]");
    if (!heading || !event.detail || !event.detail.target || event.detail.target.id !== "stations-results") { return; }
    if (status) { status.textContent = heading.textContent.trim(); }
    var source = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    var from = source && source.target;
    if (from && from.closest && from.closest("#regions-picker")) { return; }
    heading.focus({ preventScroll: true });
    heading.scrollIntoView({ block: "start" });
  }

  locate();
  drawMap();
  document.body.addEventListener("htmx:afterSettle", function (event) { drawMap(); announce(event); });
}());
