// The public complaint page's map pick: tap the map, the form's lon/lat get the place (WGS-84).
// Loaded only when the office has a tile server (PUBLIC_MAP_TILES); without it the address in words is enough.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("complaint-map");
    if (!box || !window.L) { return; }
    var form = box.closest("form");
    var lon = form.querySelector('input[name="lon"]');
    var lat = form.querySelector('input[name="lat"]');
    var picked = form.querySelector('[data-test="picked"]');
    var centre = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lon)];
    var map = L.map(box, { attributionControl: false }).setView(centre, 14);
    L.tileLayer(box.dataset.tiles, { maxZoom: 18 }).addTo(map);
    var marker = null;
    function put(latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
      lon.value = latlng.lng.toFixed(6);
      lat.value = latlng.lat.toFixed(6);
      picked.classList.remove("hidden");
    }
    if (lat.value && lon.value) { put(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
    map.on("click", function (e) { put(e.latlng); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
