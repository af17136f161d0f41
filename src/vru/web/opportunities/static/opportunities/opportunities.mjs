// "Use my location" on the search form: fills latitude and longitude from the browser's geolocation.
// The page works without it (type the numbers); nothing is sent anywhere but the search form itself.
const button = document.querySelector(".lvn-locate");
if (button && "geolocation" in navigator) {
  button.closest(".lvn-js-only").hidden = false;
  button.addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition((pos) => {
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(5);
      document.getElementById("id_lon").value = pos.coords.longitude.toFixed(5);
    });
  });
}

// The provider form's map picker: the chosen borough's outline (an SVG drawn by vru.web.core.maps in a
// local equirectangular frame), where a click or tap sets the venue's latitude and longitude, and the
// marker follows typed numbers. The same linear formula as maps.Frame.to_px / to_latlon. Without
// JavaScript the page asks for the numbers only.
const picker = document.querySelector(".lvn-picker");
const framesScript = document.getElementById("lvn-map-frames");
if (picker && framesScript) {
  const frames = JSON.parse(framesScript.textContent);
  const holder = picker.querySelector(".lvn-picker__map");
  const marker = picker.querySelector(".lvn-picker__marker");
  const borough = document.getElementById("id_borough");
  const lat = document.getElementById("id_latitude");
  const lon = document.getElementById("id_longitude");
  const img = document.createElement("img");
  img.id = "lvn-picker-map";
  img.className = "lvn-map";
  img.alt = "Map of the borough: click or tap to place the venue";
  img.setAttribute("aria-describedby", "lvn-picker-hint");
  holder.prepend(img);
  picker.hidden = false;

  // the map on screen is the chosen borough's, loaded: only then do clicks and the marker mean anything
  let shown = null;
  const ready = () => frames[borough.value] && shown === borough.value && img.complete && img.naturalWidth > 0;
  const place = () => {
    const f = frames[borough.value];
    const y = parseFloat(lat.value), x = parseFloat(lon.value);
    if (!ready() || !img.clientWidth || Number.isNaN(x) || Number.isNaN(y)) {
      marker.hidden = true;
      return;
    }
    const scale = img.clientWidth / f.width;
    const px = (x - f.min_lon) * f.cos * f.k * scale, py = (f.max_lat - y) * f.k * scale;
    const inside = px >= 0 && py >= 0 && px <= img.clientWidth && py <= img.clientHeight;
    marker.hidden = !inside;
    marker.style.left = `${img.offsetLeft + img.clientLeft + px}px`;
    marker.style.top = `${img.offsetTop + img.clientTop + py}px`;
  };
  const show = () => {
    const f = frames[borough.value];
    shown = null;
    holder.hidden = !f;
    place();  // hides the marker until the new map has loaded
    if (f) img.src = holder.dataset.src.replace("CODE", encodeURIComponent(f.code));
  };
  img.addEventListener("load", () => {
    shown = Object.keys(frames).find((c) => img.src.includes(`/${c}.svg`)) ?? null;
    place();
  });
  img.addEventListener("error", () => { holder.hidden = true; });
  img.addEventListener("click", (event) => {
    if (!ready()) return;
    const f = frames[borough.value];
    const scale = f.width / img.clientWidth;  // offsetX/Y: from the image's padding edge, as clientWidth
    const x = event.offsetX * scale, y = event.offsetY * scale;
    lat.value = (f.max_lat - y / f.k).toFixed(5);
    lon.value = (f.min_lon + x / (f.cos * f.k)).toFixed(5);
    place();
  });
  borough.addEventListener("change", show);
  lat.addEventListener("input", place);
  lon.addEventListener("input", place);
  new ResizeObserver(place).observe(img);
  show();
}
