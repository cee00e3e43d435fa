// scanrig web UI: the photo grid of the scan in hand, upload marks and the
// viewer. Loaded before app.js, which holds what these share.
"use strict";

// Empty the photo grid (a new scan started).
function clearThumbs() {
  $("thumbs").replaceChildren();
  ui.uploadedNames.clear();
}

// A tile for a photo: its thumbnail, tapping it opens the viewer.
function photoTile(p) {
  const tile = document.createElement("figure");
  tile.className = "tile";
  const button = document.createElement("button");
  button.type = "button";
  button.title = p.name;
  if (p.thumbnail) {
    const img = document.createElement("img");
    img.className = "thumb";
    img.dataset.name = p.name;
    img.alt = p.name;
    img.addEventListener("error", () => retryThumb(img));
    img.src = withToken(p.thumbnail);
    button.append(img);
    if (p.uploaded === true) { img.classList.add("uploaded"); tile.classList.add("uploaded"); }
  } else {
    const missing = document.createElement("span");
    missing.className = "missing";
    missing.dataset.name = p.name;
    missing.textContent = `Shot ${p.shot}: at its destination`;
    button.append(missing);
  }
  button.addEventListener("click", () => openViewer(p));
  tile.append(button);
  return tile;
}

// A thumbnail that did not load (the connection dropped, or the photo was
// on its way from the spool to its destination) is asked for again, a
// little later each time, a few times at most.
function retryThumb(img) {
  const tries = Number(img.dataset.tries || 0);
  if (tries >= THUMB_TRIES) return;
  img.dataset.tries = String(tries + 1);
  setTimeout(() => { if (img.isConnected) img.src = img.src; }, 1000 * (tries + 1));
}

// Put a newly captured photo first in the grid, keeping the last 12.
function addThumb(p) {
  if (p.scan !== ui.scanId) { clearThumbs(); ui.scanId = p.scan; }
  const grid = $("thumbs");
  if ([...grid.querySelectorAll("[data-name]")].some((i) => i.dataset.name === p.name)) return;
  // A photo just captured is in the spool: its thumbnail is made on demand.
  const thumbnail = p.thumbnail || (p.url === undefined
    ? `/api/v1/photos/${encodeURIComponent(p.scan)}/${encodeURIComponent(p.name)}/thumbnail`
    : null);
  const tile = photoTile({ ...p, thumbnail });
  grid.prepend(tile);
  while (grid.children.length > MAX_THUMBS) grid.lastElementChild.remove();
  if (ui.uploadedNames.has(p.name)) setUploaded(tile.querySelector("img"));
}

// Show the photos of the scan in hand with their upload marks, from the
// rig's record of it (page load, resync); with no scan, the latest photos
// the rig has thumbnails of (test shots).
async function loadPhotos(reset) {
  const scan = ui.status && ui.status.scan ? ui.status.scan.id : null;
  if (reset || (scan && scan !== ui.scanId)) { clearThumbs(); ui.scanId = scan; }
  if (scan) {
    const photos = await attempt(() => api("GET", `/scans/${encodeURIComponent(scan)}/photos`));
    if (!Array.isArray(photos) || ui.scanId !== scan) return;
    for (const p of photos.slice(-MAX_THUMBS)) {
      if (p.uploaded) ui.uploadedNames.add(p.name);
      addThumb({ ...p, scan });
    }
    return;
  }
  const photos = await attempt(() => api("GET", "/photos"));
  if (!Array.isArray(photos) || photos.length === 0 || ui.scanId) return;
  const latest = photos[0].scan;
  photos.filter((p) => p.scan === latest).reverse().forEach(addThumb);
}

// Mark a photo of the current scan as uploaded (check mark on its thumbnail).
function markUploaded(u) {
  if (u.scan !== ui.scanId) return;
  ui.uploadedNames.add(u.name);
  for (const img of $("thumbs").querySelectorAll("img.thumb")) {
    if (img.dataset.name === u.name) setUploaded(img);
  }
}

// Add the check mark (class "uploaded" on the img and its tile).
function setUploaded(img) {
  if (!img) return;
  img.classList.add("uploaded");
  img.closest(".tile").classList.add("uploaded");
}

// The photo viewer: the photo, its shot data, a link to it at full size.
function openViewer(p) {
  const shot = ui.coverage && ui.coverage.key === "scan:" + p.scan && ui.coverage.shots.get(p.shot);
  const data = { ...(shot || {}), ...p };
  $("viewer-name").textContent = p.name;
  const full = p.url || (p.scan ? `/api/v1/photos/${encodeURIComponent(p.scan)}/${encodeURIComponent(p.name)}` : "");
  const img = $("viewer-img");
  if (p.thumbnail || full) img.src = withToken(full || p.thumbnail);
  img.alt = p.name;
  img.hidden = !(p.thumbnail || full);
  $("viewer-full").hidden = !full;
  if (full) $("viewer-full").href = withToken(full);
  const rows = [
    ["Shot", data.shot], ["Ring", data.ring],
    ["Azimuth", typeof data.azimuth === "number" ? degrees(data.azimuth) : undefined],
    ["Tilt", typeof data.tilt === "number" ? degrees(data.tilt) : undefined],
    ["Captured", data.captured_at], ["Size", typeof data.size === "number" ? bytes(data.size) : undefined],
    ["Pixels", Array.isArray(data.pixels) ? data.pixels.join(" × ") : undefined],
    ["Uploaded", typeof data.uploaded === "boolean" ? (data.uploaded ? "yes" : "no") : undefined],
    ["sha256", data.sha256],
  ];
  const dl = $("viewer-data");
  dl.replaceChildren();
  for (const [k, v] of rows) {
    if (v === undefined || v === null) continue;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = String(v);
    dl.append(dt, dd);
  }
  const dialog = $("viewer");
  if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
}
