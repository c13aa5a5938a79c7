// The town map: grids, devices, open orders and workers drawn in SVG from the city's
// own coordinates (equirectangular projection; no tiles, works offline).
"use strict";

const GWMap = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 1000, H = 700, PAD = 70;

  function svg(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function projection(points) {
    const lats = points.map((p) => p.lat), lons = points.map((p) => p.lon);
    const minLat = Math.min(...lats), maxLat = Math.max(...lats);
    const minLon = Math.min(...lons), maxLon = Math.max(...lons);
    const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    const spanX = Math.max((maxLon - minLon) * k, 1e-4), spanY = Math.max(maxLat - minLat, 1e-4);
    const s = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
    const ox = (W - spanX * s) / 2, oy = (H - spanY * s) / 2;
    return (lat, lon) => [ox + (lon - minLon) * k * s, H - (oy + (lat - minLat) * s)];
  }

  function draw(root, { grids, devices, orders, workers, onOrder }) {
    root.replaceChildren();
    const pts = [...grids, ...devices].filter((p) => p.lat != null);
    if (!pts.length) return;
    const xy = projection(pts);
    const hot = new Set(orders.filter((o) => o.severity === "red").map((o) => o.grid_id));
    const centers = grids.map((g) => xy(g.lat, g.lon));
    let spacing = 160;
    centers.forEach((a, i) => centers.forEach((b, j) => {
      if (i < j) spacing = Math.min(spacing, Math.hypot(a[0] - b[0], a[1] - b[1]));
    }));
    const r = Math.max(40, spacing * 0.48);
    const layer = (name) => root.appendChild(svg("g", { class: name }));
    const gl = layer("grids"), dl = layer("devices"), wl = layer("workers"), ol = layer("orders");
    grids.forEach((g, i) => {
      const [x, y] = centers[i];
      gl.append(svg("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, rx: 14,
        class: "grid-cell" + (hot.has(g.id) ? " hot" : ""), "data-grid": g.id }));
      gl.append(svg("text", { x: x - r + 8, y: y - r + 18, class: "grid-label" }, g.id));
    });
    const alerting = new Set(devices.filter((d) => d.open_alerts && d.open_alerts.length).map((d) => d.device_id));
    for (const d of devices) {
      const [x, y] = xy(d.lat, d.lon);
      const c = svg("circle", { cx: x, cy: y, r: 4, class: "device" + (alerting.has(d.device_id) ? " alerting" : "") });
      c.append(svg("title", {}, `${d.device_id} · ${d.kind}${d.place ? " · " + d.place : ""}`));
      dl.append(c);
    }
    for (const w of workers) {
      if (w.lat == null) continue;
      const [x, y] = xy(w.lat, w.lon);
      const m = svg("rect", { x: x - 5, y: y - 5, width: 10, height: 10, transform: `rotate(45 ${x} ${y})`,
        class: "worker" + (w.on_duty ? "" : " off"), "data-worker": w.id });
      m.append(svg("title", {}, `${w.id} ${w.name} · ${w.on_duty ? "on duty" : "off duty"} · load ${w.load}`));
      wl.append(m, svg("text", { x: x + 9, y: y + 4, class: "worker-label" }, w.id));
    }
    for (const o of orders) {
      const lat = o.lat ?? devices.find((d) => d.device_id === o.device_id)?.lat;
      const lon = o.lon ?? devices.find((d) => d.device_id === o.device_id)?.lon;
      if (lat == null) continue;
      const [x, y] = xy(lat, lon);
      if (o.severity === "red") ol.append(svg("circle", { cx: x, cy: y, r: 12, class: "pulse" }));
      const pin = svg("circle", { cx: x, cy: y, r: 9, class: `order-pin ${o.severity}`, "data-order": o.id });
      pin.append(svg("title", {}, `#${o.id} ${o.device_id} · ${o.status}`));
      pin.addEventListener("click", () => onOrder(o.id));
      ol.append(pin, svg("text", { x: x + 12, y: y - 10, class: "pin-label" }, `#${o.id}`));
    }
  }

  return { draw };
})();
