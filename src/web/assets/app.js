// scanrig web UI: one page, no build step. Live data comes from the
// /api/v1/events stream; /status and /uploads are fetched only at load,
// on reconnect and after this page's own actions. Text goes in via textContent.
"use strict";

const TOKEN_KEY = "scanrig-token";
const PROFILE_KEY = "scanrig-profile";
const TOKEN_MSG = "This rig needs its access token: open the address shown by `scanrig web token`.";
const STATE_WORDS = { idle: "Idle", scanning: "Scanning", paused: "Paused", fault: "Fault", uploading: "Uploading" };
const STATE_LOG = {
  idle: "Rig is idle", scanning: "Scanning", paused: "Scan paused",
  fault: "Fault: scan is on hold", uploading: "Uploading the remaining photos",
};
const DEVICE_WORDS = { camera: "Camera", turntable: "Turntable", destination: "Upload to" };
const MAX_THUMBS = 12;
const MAX_EVENTS = 20;

const $ = (id) => document.getElementById(id);
const cap = (s) => String(s || "").charAt(0).toUpperCase() + String(s || "").slice(1);
const ui = {
  status: null,             // last status object from the server
  statusSeq: 0,             // bumped by every pushed status, so a slow fetch can't overwrite it
  scanId: null,             // scan whose photos are in the grid
  uploadedNames: new Set(), // photos of that scan already uploaded
  busy: new Set(),          // ids of buttons whose request is in flight
  stopTimer: null,          // set while Stop waits for its second tap
  previewOn: false,
  previewProblem: "",
  seenErrorAt: null,        // at_ms of the status.last_error already shown
  everOpen: false,
  uploadsTimer: null,
};
const token = takeToken();

// Take ?token= from the address (store it, strip it from the bar); return the stored token.
function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl !== null) {
    try { if (fromUrl) localStorage.setItem(TOKEN_KEY, fromUrl); } catch (e) { /* storage off */ }
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  try { return localStorage.getItem(TOKEN_KEY) || fromUrl || ""; } catch (e) { return fromUrl || ""; }
}

// Add the token as a query parameter, for URLs that cannot carry headers.
function withToken(path) {
  if (!token) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

// Call the API; resolve with the JSON body, or throw an Error with plain words.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch("/api/v1" + path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error("Cannot reach the rig. Check the Wi-Fi and that scanrig is running.");
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* empty or non-JSON body */ }
  if (res.status === 401) throw new Error(TOKEN_MSG);
  if (!res.ok) throw new Error((data && data.error) || `The rig answered ${res.status} ${res.statusText}`.trim());
  return data;
}

// Show a message in the error box; an empty message hides it.
function showError(message) {
  $("error-text").textContent = message || "";
  $("error").hidden = !message;
}

// Fetch /status and draw it, unless a newer status was pushed meanwhile.
async function refreshStatus() {
  const seq = ui.statusSeq;
  try {
    const s = await api("GET", "/status");
    if (s && seq === ui.statusSeq) renderStatus(s);
  } catch (e) { showError(e.message); }
}

// Draw the status card, then everything that depends on the state.
function renderStatus(s) {
  const prev = ui.status;
  ui.status = s;
  const scan = s.scan || null;
  const state = $("state");
  state.textContent = STATE_WORDS[s.state] || cap(s.state);
  state.dataset.state = s.state;
  if (prev && prev.state !== s.state) {
    logEvent((STATE_LOG[s.state] || cap(s.state)) + (scan && scan.paused ? `: ${scan.paused}` : ""));
  }
  if (scan && scan.id !== ui.scanId) { clearThumbs(); ui.scanId = scan.id; }

  $("scan-info").hidden = !scan;
  $("scan-id").textContent = scan ? scan.id : "";
  $("scan-profile").textContent = scan ? scan.profile : "";
  $("scan-progress").textContent = scan ? `${scan.captured} / ${scan.planned} photos` : "No scan running";
  const bar = $("progress-bar");
  bar.hidden = !scan;
  bar.max = scan && scan.planned > 0 ? scan.planned : 1;
  bar.value = scan ? Math.min(scan.captured || 0, bar.max) : 0;
  $("uploaded").hidden = !scan;
  $("uploaded").textContent = `${scan ? scan.uploaded : 0} uploaded`;
  const failed = scan ? scan.upload_failed || 0 : 0;
  $("upload-failed").hidden = !failed;
  $("upload-failed").textContent = `${failed} failed to upload`;
  $("backlog").textContent = `${s.backlog || 0} waiting to upload`;
  $("pause-reason").hidden = !(scan && scan.paused);
  $("pause-reason").textContent = (scan && scan.paused) || "";
  $("motion").hidden = !s.motion;
  $("motion").textContent = motionWords(s.motion);
  renderStages(scan);
  renderDevices(s.devices || {});

  if (s.last_error && s.last_error.at_ms !== ui.seenErrorAt) {
    ui.seenErrorAt = s.last_error.at_ms;
    showError(s.last_error.message);
  }
  renderControls();
  renderPreview();
}

// Fill the collapsible "time spent" list from whatever stage keys arrive.
function renderStages(scan) {
  $("stages").hidden = !scan;
  const list = $("stage-list");
  list.replaceChildren();
  if (!scan) return;
  const secs = (v) => (typeof v === "number" ? v.toFixed(1) : String(v)) + " s";
  $("wall").textContent = secs(scan.wall_s || 0);
  for (const [key, value] of Object.entries(scan.stages || {})) {
    const li = document.createElement("li");
    li.textContent = `${key.replace(/_s$/, "").replace(/_/g, " ")}: ${secs(value)}`;
    list.append(li);
  }
}

// List camera, turntable and destination with their health.
function renderDevices(devices) {
  const list = $("devices");
  list.replaceChildren();
  for (const [key, d] of Object.entries(devices)) {
    const ok = !!(d && d.ok);
    const li = document.createElement("li");
    li.className = ok ? "ok" : "bad";
    const name = document.createElement("b");
    name.textContent = (DEVICE_WORDS[key] || cap(key)) + ": ";
    li.append(name, (d && d.detail) || (ok ? "ready" : "not ready"));
    list.append(li);
  }
}

// A motion asked for by hand, in words.
function motionWords(m) {
  if (!m) return "";
  const who = m.origin ? ` (asked from ${m.origin})` : "";
  if (m.state === "homing") return `Homing the motors${who}`;
  const axis = m.axis === "tilt" ? "tilt arm" : "turntable";
  const by = (m.degrees >= 0 ? "+" : "") + Number(m.degrees).toFixed(1);
  return `Turning the ${axis} by ${by}°${who}`;
}

// Whether the motors are moving by hand (a jog or homing), with no scan.
function motorsMoving() {
  return !!(ui.status && ui.status.motion);
}

// Enable the buttons the current state allows, minus those busy with a request.
function renderControls() {
  const state = ui.status ? ui.status.state : null;
  const scanOn = state === "scanning" || state === "paused" || state === "fault";
  const allowed = {
    start: (state === "idle" || state === "uploading") && !!$("profile").value && !motorsMoving(),
    pause: state === "scanning",
    resume: state === "paused" || state === "fault",
    stop: scanOn || motorsMoving(),
    "retry-uploads": true,
  };
  for (const [id, ok] of Object.entries(allowed)) $(id).disabled = !ok || ui.busy.has(id);
  if (!scanOn) disarmStop();
  if (!ui.stopTimer) $("stop").textContent = !scanOn && motorsMoving() ? "Stop motors" : "Stop";
}

// Send one of the page's own actions, keeping its button disabled meanwhile.
async function act(id, path, body) {
  ui.busy.add(id);
  renderControls();
  try {
    await api("POST", path, body);
  } catch (e) {
    showError(e.message);
  } finally {
    ui.busy.delete(id);
    renderControls();
  }
  await Promise.all([refreshStatus(), refreshUploads()]);
}

// First tap on Stop: ask for a second tap within 3 seconds.
function armStop() {
  const btn = $("stop");
  btn.textContent = "Tap again to stop";
  btn.classList.add("armed");
  ui.stopTimer = setTimeout(disarmStop, 3000);
}

// Put the Stop button back to normal.
function disarmStop() {
  clearTimeout(ui.stopTimer);
  ui.stopTimer = null;
  const btn = $("stop");
  btn.textContent = "Stop";
  btn.classList.remove("armed");
}

// Show the live preview stream only when switched on and no scan is running.
function renderPreview() {
  const s = ui.status;
  const img = $("preview");
  const btn = $("preview-toggle");
  btn.textContent = ui.previewOn ? "Hide preview" : "Show live preview";
  btn.setAttribute("aria-pressed", String(ui.previewOn));
  const scanRunning = !!(s && s.scan && (!s.preview || ["scanning", "paused", "fault"].includes(s.state)));
  const show = ui.previewOn && !!(s && s.preview) && !scanRunning;
  if (show) {
    const url = withToken("/api/v1/preview");
    if (img.getAttribute("src") !== url) img.src = url;
  } else if (img.hasAttribute("src")) {
    img.removeAttribute("src"); // releases the stream
  }
  img.hidden = !show;
  let note = ui.previewProblem;
  if (scanRunning) note = "Preview pauses during a scan";
  else if (!note && ui.previewOn && !show) note = "Live preview is not available right now.";
  $("preview-note").textContent = note;
  $("preview-note").hidden = !note;
}

// Empty the photo grid (a new scan started).
function clearThumbs() {
  $("thumbs").replaceChildren();
  ui.uploadedNames.clear();
}

// Put a newly captured photo first in the grid, keeping the last 12.
function addThumb(p) {
  if (p.scan !== ui.scanId) { clearThumbs(); ui.scanId = p.scan; }
  const src = p.thumbnail ||
    `/api/v1/photos/${encodeURIComponent(p.scan)}/${encodeURIComponent(p.name)}/thumbnail`;
  const tile = document.createElement("figure");
  tile.className = "tile";
  const img = document.createElement("img");
  img.className = "thumb";
  img.dataset.name = p.name;
  img.alt = p.name;
  img.title = p.name;
  img.src = withToken(src);
  tile.append(img);
  const grid = $("thumbs");
  grid.prepend(tile);
  while (grid.children.length > MAX_THUMBS) grid.lastElementChild.remove();
  if (ui.uploadedNames.has(p.name)) setUploaded(img);
}

// Show the latest scan's photos the rig still has thumbnails of (page load).
async function loadPhotos() {
  let photos;
  try { photos = await api("GET", "/photos"); } catch (e) { showError(e.message); return; }
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
  img.classList.add("uploaded");
  img.parentElement.classList.add("uploaded");
}

// "demo_0003_r1_az090.0_t+00.0.jpg" → "3"; falls back to the whole name.
function photoNumber(name) {
  const m = /(?:^|_)(\d{3,})(?=[_.])/.exec(name || "");
  return m ? String(parseInt(m[1], 10)) : name;
}

// Add a line to the event list, newest first, keeping the last 20.
function logEvent(text) {
  const li = document.createElement("li");
  const time = document.createElement("time");
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  li.append(time, " ", text);
  const list = $("events");
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

// Fetch the upload backlog and draw it as a table.
async function refreshUploads() {
  clearTimeout(ui.uploadsTimer);
  try {
    const u = await api("GET", "/uploads");
    renderUploads((u && u.scans) || []);
  } catch (e) { showError(e.message); }
}

// Refresh uploads soon, once for a burst of upload events.
function scheduleUploads() {
  clearTimeout(ui.uploadsTimer);
  ui.uploadsTimer = setTimeout(refreshUploads, 500);
}

// Draw the backlog table: one row per scan with waiting and failed photos.
function renderUploads(scans) {
  const body = $("uploads");
  body.replaceChildren();
  for (const s of scans) {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    name.className = "scan-id";
    name.textContent = s.id;
    if (s.last_error) {
      const why = document.createElement("small");
      why.textContent = s.last_error;
      name.append(document.createElement("br"), why);
    }
    const waiting = document.createElement("td");
    waiting.textContent = String(s.waiting);
    const failed = document.createElement("td");
    failed.textContent = String(s.failed);
    if (s.failed > 0) failed.className = "bad";
    tr.append(name, waiting, failed);
    body.append(tr);
  }
  $("uploads-table").hidden = scans.length === 0;
  $("uploads-empty").hidden = scans.length > 0;
}

// Fill the profile chooser, keeping the operator's last choice.
async function loadProfiles() {
  const sel = $("profile");
  try {
    const list = (await api("GET", "/profiles")) || [];
    let keep = sel.value;
    try { keep = keep || localStorage.getItem(PROFILE_KEY) || ""; } catch (e) { /* storage off */ }
    const options = list.map((p) => new Option(
      `${p.name}${p.description ? " — " + p.description : ""} (${p.shots} ${p.shots === 1 ? "shot" : "shots"})`, p.name));
    if (!options.length) options.push(new Option("No scan profiles are set up", ""));
    sel.replaceChildren(...options);
    if (list.some((p) => p.name === keep)) sel.value = keep;
  } catch (e) {
    sel.replaceChildren(new Option("Could not load profiles", ""));
    showError(e.message);
  }
  renderControls();
}

// Show the connection dot: green when live, grey with "reconnecting…" when not.
function setConnected(up) {
  const conn = $("conn");
  conn.dataset.conn = up ? "up" : "down";
  conn.title = up ? "Connected to the rig" : "Connection lost, reconnecting";
  $("conn-text").textContent = up ? "" : "reconnecting…";
  $("conn-text").hidden = up;
}

// Open the event stream and route its events; the browser reconnects by itself.
function connectEvents() {
  const es = new EventSource(withToken("/api/v1/events"));
  const on = (type, fn) => es.addEventListener(type, (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    if (data) fn(data);
  });
  es.onopen = () => {
    setConnected(true);
    if (ui.everOpen) { refreshStatus(); refreshUploads(); loadProfiles(); }
    ui.everOpen = true;
  };
  es.onerror = () => {
    setConnected(false);
    // A refused stream (e.g. an error answer) is not retried by the browser: retry here.
    if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connectEvents, 5000); }
  };
  on("status", (s) => { ui.statusSeq++; renderStatus(s); });
  on("photo", (p) => { addThumb(p); logEvent(`Photo ${photoNumber(p.name)} captured`); });
  on("uploaded", (u) => { markUploaded(u); logEvent(`Photo ${photoNumber(u.name)} uploaded`); scheduleUploads(); });
  on("button", (b) => logEvent(`${cap(b.button)} button ${b.long ? "held" : "pressed"}`));
  on("finished", (f) => {
    const head = f.outcome === "stopped" ? "Scan stopped" : f.outcome === "completed" ? "Scan finished" : "Scan ended";
    const failed = f.upload_failed > 0 ? `, ${f.upload_failed} failed` : "";
    logEvent(`${head}: ${f.uploaded} of ${f.captured} uploaded${failed}`);
    scheduleUploads();
  });
}

// Wire up the buttons.
function bindControls() {
  $("start").addEventListener("click", () => act("start", "/scans", { profile: $("profile").value }));
  $("pause").addEventListener("click", () => act("pause", "/scans/current/pause"));
  $("resume").addEventListener("click", () => act("resume", "/scans/current/resume"));
  $("stop").addEventListener("click", () => {
    const state = ui.status ? ui.status.state : null;
    // A jog or homing stops at the first tap: stopping a motor is never
    // the wrong thing to do.
    if (!["scanning", "paused", "fault"].includes(state)) {
      act("stop", "/motor/stop");
      return;
    }
    if (!ui.stopTimer) { armStop(); return; }
    disarmStop();
    act("stop", "/scans/current/stop");
  });
  $("retry-uploads").addEventListener("click", () => act("retry-uploads", "/uploads/retry"));
  $("profile").addEventListener("change", () => {
    try { localStorage.setItem(PROFILE_KEY, $("profile").value); } catch (e) { /* storage off */ }
    renderControls();
  });
  $("error-dismiss").addEventListener("click", () => showError(""));
  $("preview-toggle").addEventListener("click", () => {
    ui.previewOn = !ui.previewOn;
    ui.previewProblem = "";
    renderPreview();
  });
  $("preview").addEventListener("error", () => {
    if (!$("preview").hasAttribute("src")) return;
    ui.previewOn = false;
    ui.previewProblem = "The live preview stopped. Tap “Show live preview” to try again.";
    renderPreview();
  });
}

bindControls();
renderControls();
renderPreview();
refreshStatus();
loadProfiles();
loadPhotos();
refreshUploads();
connectEvents();
