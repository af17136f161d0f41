// The zone form's drawing map (docs/web-tagging.md, "Drawing a zone"). The map is an SVG whose user
// coordinates are British National Grid metres (x = easting, y = -northing: vru.tagging.report.drawing_svg),
// so the browser's own screen-to-SVG matrix turns a click into a grid reference. Each click adds a
// corner; from three corners on, the polygon is written into the GeoJSON field (and the coordinates
// select set to British National Grid), which the server checks exactly as pasted text. Without
// JavaScript the map stays hidden and the field works as before. No network, no inline style (the CSP):
// attributes only.
const root = document.getElementById("zone-draw");
const svg = document.getElementById("zone-draw-map");
const field = document.getElementById("id_geojson");
const crs = document.getElementById("id_crs");

if (root && svg && field && crs) {
  const NS = "http://www.w3.org/2000/svg";
  const drawn = document.getElementById("zone-draw-drawn");
  const names = document.getElementById("zone-draw-names");
  const status = document.getElementById("zone-draw-status");
  const pointer = document.getElementById("zone-draw-pointer");
  const [xmin, ymin, xmax, ymax] = svg.dataset.extent.split(" ").map(Number);
  const full = { x: xmin, y: -ymax, w: xmax - xmin, h: ymax - ymin };
  let view = { ...full };
  let vertices = []; // [easting, northing], whole metres
  let owned = false; // the field holds what was drawn here (typing in it hands it back to the user)

  const grid = (event) => {
    const ctm = svg.getScreenCTM();
    if (!ctm) return null;
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    return [Math.round(p.x), Math.round(-p.y)];
  };
  const unitsPerPixel = () => {
    const ctm = svg.getScreenCTM();
    return ctm && ctm.a ? 1 / ctm.a : view.w / 800;
  };

  const redraw = () => {
    drawn.replaceChildren();
    if (!vertices.length) return;
    const k = unitsPerPixel();
    const pts = vertices.map(([e, n]) => `${e},${-n}`).join(" ");
    const shape = document.createElementNS(NS, vertices.length >= 3 ? "polygon" : "polyline");
    shape.setAttribute("points", pts);
    shape.setAttribute("fill", vertices.length >= 3 ? "#d4351c" : "none");
    shape.setAttribute("fill-opacity", "0.2");
    shape.setAttribute("stroke", "#d4351c");
    shape.setAttribute("stroke-width", "2.5");
    shape.setAttribute("vector-effect", "non-scaling-stroke");
    drawn.append(shape);
    for (const [e, n] of vertices) {
      const dot = document.createElementNS(NS, "circle");
      dot.setAttribute("cx", e);
      dot.setAttribute("cy", -n);
      dot.setAttribute("r", 5 * k);
      dot.setAttribute("fill", "#0b0c0c");
      drawn.append(dot);
    }
  };

  const say = () => {
    const n = vertices.length;
    if (!n) status.textContent = "No corners yet.";
    else if (n < 3) status.textContent = `${n} corner${n > 1 ? "s" : ""}: add at least ${3 - n} more.`;
    else {
      const [e, nn] = vertices[n - 1];
      status.textContent = `${n} corners, written into the GeoJSON field. Last corner: easting ${e}, northing ${nn}.`;
    }
  };

  const write = () => {
    if (vertices.length >= 3) {
      field.value = JSON.stringify({ type: "Polygon", coordinates: [[...vertices, vertices[0]]] });
      crs.value = "BNG";
      owned = true;
    } else if (owned) {
      field.value = "";
    }
    say();
    redraw();
  };

  const show = () => {
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    if (names) names.setAttribute("font-size", String(Math.max(view.w / 90, 1)));
    redraw();
  };

  const zoom = (factor) => {
    const cx = view.x + view.w / 2, cy = view.y + view.h / 2;
    const w = Math.min(Math.max(view.w * factor, 200), full.w), h = (w * full.h) / full.w;
    view = { x: cx - w / 2, y: cy - h / 2, w, h };
    show();
  };
  const pan = (dx, dy) => {
    view = { ...view, x: view.x + dx * view.w / 3, y: view.y + dy * view.h / 3 };
    show();
  };
  const actions = {
    in: () => zoom(0.5), out: () => zoom(2),
    west: () => pan(-1, 0), east: () => pan(1, 0), north: () => pan(0, -1), south: () => pan(0, 1),
    undo: () => { vertices.pop(); write(); },
    clear: () => { vertices = []; write(); },
  };
  root.querySelectorAll("button[data-draw]").forEach((b) => {
    b.addEventListener("click", () => actions[b.dataset.draw]());
  });

  svg.addEventListener("click", (event) => {
    const at = grid(event);
    if (!at) return;
    vertices.push(at);
    write();
  });
  svg.addEventListener("pointermove", (event) => {
    const at = grid(event);
    if (at) pointer.textContent = `Pointer: easting ${at[0]}, northing ${at[1]}.`;
  });
  field.addEventListener("input", () => {
    owned = false;
    vertices = [];
    say();
    redraw();
  });

  // a form shown again (an error elsewhere) keeps a drawn British National Grid polygon: show it
  try {
    const geo = JSON.parse(field.value || "null");
    const ring = geo && geo.type === "Polygon" && crs.value === "BNG" ? geo.coordinates[0] : null;
    if (Array.isArray(ring) && ring.length >= 4 && ring.every((p) => p.length >= 2 && p.every(Number.isFinite))) {
      vertices = ring.slice(0, -1).map(([e, n]) => [e, n]);
      owned = true;
      const es = vertices.map((v) => v[0]), ns = vertices.map((v) => v[1]);
      const w = Math.min(Math.max((Math.max(...es) - Math.min(...es)) * 3, 1000), full.w);
      const h = (w * full.h) / full.w;
      const cx = (Math.max(...es) + Math.min(...es)) / 2, cy = -(Math.max(...ns) + Math.min(...ns)) / 2;
      view = { x: cx - w / 2, y: cy - h / 2, w, h };
    }
  } catch {
    // text that is not JSON is the user's to correct: the server says what is wrong with it
  }
  root.hidden = false;
  show();
  say();
}
