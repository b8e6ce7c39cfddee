/* The console's maps: every element with a data-map attribute (JSON from web/console/maps.py).
   Positions arrive already in the basemap's CRS (GCJ-02 shifted on the server). Labels are set
   as text, never as HTML. No inline script: this file is loaded with script-src 'self'. */
(function () {
  "use strict";
  var COLOURS = {record: "#c0392b", photo: "#2471a3", point: "#7d3c98", case: "#d68910", finding: "#c0392b",
                 visit: "#1e8449", callback: "#117a65", report: "#2471a3", leader_visit: "#884ea0",
                 inspection: "#a04000", filing: "#5d6d7e"};

  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function popup(m) {
    var box = document.createElement("div");
    box.className = "map-popup";
    var title = document.createElement(m.href ? "a" : "strong");
    title.textContent = m.label;
    if (m.href) { title.href = m.href; }
    box.appendChild(title);
    if (m.detail) { box.appendChild(document.createElement("br")); box.appendChild(textNode(m.detail)); }
    return box;
  }

  function init(el) {
    var spec = JSON.parse(el.getAttribute("data-map"));
    var base = spec.basemap || {};
    // maxZoom on the map itself: without a tile layer (no basemap) clustering needs one.
    var map = L.map(el, {scrollWheelZoom: !!spec.wheel, maxZoom: 18, minZoom: 3});
    if (base.tiles) {
      L.tileLayer(base.tiles, {subdomains: base.subdomains || "abc", attribution: base.attribution || "",
                               maxZoom: 18}).addTo(map);
    } else {
      el.classList.add("no-basemap");
    }
    var bounds = L.latLngBounds([]);
    (spec.boundaries || []).forEach(function (b) {
      var layer = L.geoJSON(b.geometry, {style: {color: "#34495e", weight: 2, fillOpacity: 0.04}});
      layer.bindTooltip(textNode(b.name), {sticky: true});
      layer.addTo(map);
      bounds.extend(layer.getBounds());
    });
    (spec.lines || []).forEach(function (line) {
      L.polyline(line, {color: "#7f8c8d", weight: 2, dashArray: "4 4"}).addTo(map);
    });
    var groups = {};
    (spec.markers || []).forEach(function (m) {
      var marker = L.circleMarker([m.lat, m.lon], {radius: 7, color: COLOURS[m.kind] || "#333", weight: 2,
                                                   fillOpacity: 0.75});
      marker.bindTooltip(textNode(m.label));
      marker.bindPopup(popup(m));
      var key = m.layer || "markers";
      if (!groups[key]) {
        groups[key] = spec.cluster && L.markerClusterGroup ? L.markerClusterGroup({showCoverageOnHover: false})
                                                           : L.layerGroup();
      }
      groups[key].addLayer(marker);
      bounds.extend(marker.getLatLng());
    });
    var overlays = {};
    Object.keys(groups).forEach(function (key) {
      groups[key].addTo(map);
      overlays[(spec.layer_names || {})[key] || key] = groups[key];
    });
    if (Object.keys(overlays).length > 1) { L.control.layers(null, overlays, {collapsed: false}).addTo(map); }
    if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [24, 24], maxZoom: spec.max_zoom || 16});
    } else {
      map.setView([29.5, 106.5], 10);
    }
    el.setAttribute("data-ready", "1");
  }

  document.querySelectorAll("[data-map]").forEach(init);
})();
