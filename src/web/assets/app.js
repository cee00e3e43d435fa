// scanrig web UI: one page, three views (#/ the scan, #/rig the rig by hand,
// #/scans past scans), no build step. Live data comes from the
// /api/v1/events stream (each event has an id; the browser's reconnect
// replays what was missed, or the rig says `resync` and the page reads
// everything again). Text goes in via textContent; nothing inline (CSP).
// coverage.js, photos.js, rig.js and history.js are loaded first; this file
// holds what they share and starts the page.
"use strict";

const TOKEN_KEY = "scanrig-token";
const PROFILE_KEY = "scanrig-profile";
const STATE_WORDS = { idle: "Idle", scanning: "Scanning", paused: "Paused", fault: "Fault", uploading: "Uploading" };
const STATE_LOG = {
  idle: "Rig is idle", scanning: "Scanning", paused: "Scan paused",
  fault: "Fault: scan is on hold", uploading: "Uploading the remaining photos",
};
const DEVICE_WORDS = { camera: "Camera", turntable: "Turntable", destination: "Uploads" };
const COVERAGE_WORDS = {
  pending: "to take", active: "being taken", captured: "in the spool", uploaded: "uploaded", failed: "failed",
};
const OUTCOME_WORDS = { completed: "completed", stopped: "stopped", interrupted: "interrupted" };
const SCAN_STATES = ["scanning", "paused", "fault"];
const OFFLINE = "Cannot reach the rig. Check the Wi-Fi and that scanrig is running.";
const MAX_THUMBS = 12;
const MAX_EVENTS = 20;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const cap = (s) => String(s || "").charAt(0).toUpperCase() + String(s || "").slice(1);
const ui = {
  status: null,             // last status object from the server
  statusSeq: 0,             // bumped by every pushed status, so a slow fetch can't overwrite it
  connected: false,         // the event stream is open
  needToken: false,         // the rig refused us for want of the token
  scanId: null,             // scan whose photos are in the grid
  uploadedNames: new Set(), // photos of that scan already uploaded
  busy: new Set(),          // ids of buttons whose request is in flight
  stopTimer: null,          // set while Stop waits for its second tap
  previewOn: false,
  previewProblem: "",
  seenErrorAt: null,        // at_ms of the status.last_error already dealt with
  everOpen: false,
  lastEventId: "",          // for a stream opened anew (the browser keeps it otherwise)
  uploadsTimer: null,
  coverage: null,           // { key, shots: Map(shot → view) } drawn in #coverage
  coverageTimer: null,
  planChosen: false,        // a profile was chosen since the last scan: its plan is shown
  settingsRead: false,      // the Rig view's camera settings were read since it opened
  refused: "",              // why the rig refused the event stream, while it does
  statusError: "",          // the status's last error, as the error box shows it
  view: "scan",
  es: null,
};
let token = takeToken();

// ---- Talking to the rig -------------------------------------------------

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

// An answer the rig refused: its words, HTTP status and code.
class RigError extends Error {
  constructor(message, status, code) { super(message); this.status = status; this.code = code; }
}

// Call the API; resolve with the JSON body, or throw a RigError in plain words.
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
    throw new RigError(OFFLINE, 0, "offline");
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* empty or non-JSON body */ }
  if (res.status === 401) {
    askForToken();
    throw new RigError("This rig needs its access token.", 401, "unauthorized");
  }
  if (!res.ok) {
    const words = (data && data.error) || `The rig answered ${res.status} ${res.statusText}`.trim();
    throw new RigError(cap(words), res.status, data && data.code);
  }
  return data;
}

// Run an API call whose failure is shown in the error box (never twice in a row).
async function attempt(fn) {
  try { return await fn(); } catch (e) {
    if (e.status !== 401) showError(e.message);
    return undefined;
  }
}

// ---- Words ---------------------------------------------------------------

// Seconds as people say them: "40 s", "4 min 5 s", "2 h 10 min".
function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.floor((s % 3600) / 60);
  return m ? `${Math.floor(s / 3600)} h ${m} min` : `${Math.floor(s / 3600)} h`;
}

// An angle as people read it: to a tenth of a degree at most.
function degrees(x) {
  const d = Math.round(Number(x) * 10) / 10;
  return `${d === 0 ? 0 : d}°`;
}

// Bytes as people say them.
function bytes(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(1) + " GB";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + " MB";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + " kB";
  return `${n} bytes`;
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

// ---- Messages ------------------------------------------------------------

// Show a message in the error box; an empty message hides it.
function showError(message) {
  $("error-text").textContent = message || "";
  $("error").hidden = !message;
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

// ---- Connection and token ------------------------------------------------

// Show whether the page is live; while it is not, the controls are off.
function setConnected(up) {
  ui.connected = up;
  document.body.dataset.conn = up ? "up" : "down";
  const conn = $("conn");
  conn.dataset.conn = up ? "up" : "down";
  conn.title = up ? "Connected to the rig" : "Not connected to the rig";
  let words = "Live";
  if (!up) {
    words = ui.needToken ? "Needs the access token"
      : ui.refused ? "Refused by the rig — retrying…"
      : ui.everOpen ? "Not connected — retrying…" : "Connecting…";
  }
  $("conn-text").textContent = words;
  const note = $("offline-note");
  note.hidden = up || ui.needToken || !(ui.everOpen || ui.refused);
  note.textContent = ui.refused
    ? `The rig refused the live connection: ${ui.refused}. The controls are off until it is back.`
    : "Not connected to the rig, so what is shown may be out of date and the controls are off until it is back.";
  if (!up && !ui.status) {
    $("scan-progress").textContent = ui.needToken ? "Not connected: the rig needs its access token"
      : ui.refused ? "Not connected: the rig refused the live connection" : "Connecting to the rig…";
  }
  renderControls();
  renderRig();
}

// Show the token field (the rig answered 401).
function askForToken() {
  if (ui.es) { ui.es.close(); ui.es = null; }
  ui.needToken = true;
  $("token-card").hidden = false;
  $("token-wrong").hidden = !token;
  setConnected(false);
}

// Keep the token typed in and start over with it.
async function useToken(value) {
  token = value.trim();
  try { localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* storage off */ }
  ui.needToken = false;
  try {
    await api("GET", "/status");
  } catch (e) {
    if (e.status !== 401) showError(e.message);
    return;
  }
  $("token-card").hidden = true;
  start();
}

// Open the event stream and route its events; the browser reconnects by
// itself (sending Last-Event-ID), and a stream the rig refused is opened
// again here after a pause.
function connectEvents() {
  if (ui.es) ui.es.close();
  const last = ui.lastEventId ? "?last_event_id=" + encodeURIComponent(ui.lastEventId) : "";
  const es = new EventSource(withToken("/api/v1/events" + last));
  ui.es = es;
  const on = (type, fn) => es.addEventListener(type, (ev) => {
    if (ev.lastEventId) ui.lastEventId = ev.lastEventId;
    let data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    if (data) fn(data);
  });
  es.onopen = () => {
    const again = ui.everOpen;
    ui.everOpen = true;
    ui.refused = "";
    setConnected(true);
    // What went wrong while away is over.
    if ($("error-text").textContent === OFFLINE) showError("");
    if (again) { refreshUploads(); loadProfiles(); }
  };
  es.onerror = async () => {
    setConnected(false);
    if (es.readyState !== EventSource.CLOSED) return;
    es.close();
    // Refused: find out why (the token? too many streams?), say it, and
    // try again after a pause.
    const why = await streamRefusal();
    if (why.status === 401) { askForToken(); return; }
    ui.refused = why.message;
    setConnected(false);
    setTimeout(() => { if (ui.es === es) connectEvents(); }, 3000);
  };
  on("status", (s) => { ui.statusSeq++; renderStatus(s); });
  on("resync", () => resync());
  on("photo", (p) => {
    addThumb(p);
    markShot(p.scan, p.shot, "captured");
    logEvent(`Photo ${p.shot} captured`);
  });
  on("uploaded", (u) => {
    markUploaded(u);
    markShot(u.scan, u.shot, "uploaded");
    logEvent(`Photo ${u.shot} uploaded`);
    scheduleUploads();
  });
  on("button", (b) => logEvent(`${cap(b.button)} button ${b.long ? "held" : "pressed"}`));
  on("finished", (f) => {
    const head = f.outcome === "stopped" ? "Scan stopped" : f.outcome === "completed" ? "Scan finished" : "Scan ended";
    const failed = f.upload_failed > 0 ? `, ${f.upload_failed} failed` : "";
    logEvent(`${head}: ${f.uploaded} of ${f.captured} uploaded${failed}`);
    scheduleUploads();
    scheduleCoverage();
  });
}

// Why the rig refuses the event stream: its status and words (none when
// it takes the stream now, or cannot be reached). A stream it takes is
// closed again at once.
async function streamRefusal() {
  const stop = new AbortController();
  const headers = { Accept: "text/event-stream" };
  if (token) headers.Authorization = "Bearer " + token;
  try {
    const res = await fetch("/api/v1/events", { headers, cache: "no-store", signal: stop.signal });
    if (res.ok) return { status: res.status, message: "" };
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    const words = (data && data.error) || `it answered ${res.status} ${res.statusText}`.trim();
    return { status: res.status, message: words };
  } catch (e) {
    return { status: 0, message: "" };
  } finally {
    stop.abort();
  }
}

// The rig said the page missed too much (or the rig restarted meanwhile):
// read everything again.
async function resync() {
  logEvent("Back after missing too much: everything read again");
  refreshUploads();
  await refreshStatus();
  loadPhotos(true);
  ui.coverage = null;
  scheduleCoverage();
}

// ---- Status ---------------------------------------------------------------

// Fetch /status and draw it, unless a newer status was pushed meanwhile.
async function refreshStatus() {
  const seq = ui.statusSeq;
  const s = await attempt(() => api("GET", "/status"));
  if (s && seq === ui.statusSeq) renderStatus(s);
}

// Draw the status card, then everything that depends on the state.
function renderStatus(s) {
  const prev = ui.status;
  ui.status = s;
  const scan = s.scan || null;
  const state = $("state");
  // Idle but for the motors turning by hand.
  const moving = s.state === "idle" && !!s.motion;
  state.textContent = moving ? "Moving" : STATE_WORDS[s.state] || cap(s.state);
  state.dataset.state = s.state;
  state.dataset.moving = String(moving);
  if (prev && prev.state !== s.state) logEvent(STATE_LOG[s.state] || cap(s.state));
  if (scan && scan.id !== ui.scanId && SCAN_STATES.includes(s.state)) {
    clearThumbs();
    ui.scanId = scan.id;
    ui.planChosen = false;
    clearStatusError();
  }
  // A fault or pause the scan got over: what the error box said is past.
  if (prev && ["fault", "paused"].includes(prev.state) && s.state === "scanning") clearStatusError();

  $("scan-info").hidden = !scan;
  $("scan-id").textContent = scan ? scan.id : "";
  $("scan-profile").textContent = scan ? scan.profile : "";
  let progress = scan ? `${scan.captured} / ${scan.planned} photos` : "No scan running";
  if (scan && scan.outcome) progress = `Last scan ${OUTCOME_WORDS[scan.outcome] || scan.outcome}: ${progress}`;
  $("scan-progress").textContent = progress;
  const bar = $("progress-bar");
  bar.hidden = !scan;
  bar.max = scan && scan.planned > 0 ? scan.planned : 1;
  bar.value = scan ? Math.min(scan.captured || 0, bar.max) : 0;
  renderTiming(s);
  $("uploaded").hidden = !scan;
  $("uploaded").textContent = `${scan ? scan.uploaded : 0} uploaded`;
  const failed = scan ? scan.upload_failed || 0 : 0;
  $("upload-failed").hidden = !failed;
  $("upload-failed").textContent = `${failed} failed to upload`;
  $("backlog").hidden = false;
  $("backlog").textContent = `${s.backlog || 0} waiting to upload`;
  const reason = (scan && scan.paused) || "";
  $("pause-reason").hidden = !reason;
  $("pause-reason").textContent = reason;
  $("motion").hidden = !s.motion;
  $("motion").textContent = motionWords(s.motion);
  renderStages(scan);
  renderDevices(s.devices || {}, reason);
  renderLastError(s, reason);
  renderControls();
  renderRig();
  renderPreview();
  renderCoverage(prev, s);
}

// Elapsed time and, while shots are being taken, about how long is left.
function renderTiming(s) {
  const scan = s.scan;
  const line = $("timing");
  const running = scan && SCAN_STATES.includes(s.state);
  line.hidden = !running;
  if (!running) return;
  let text = `${duration(scan.wall_s)} elapsed`;
  if (s.state !== "scanning") text += " · on hold";
  else if (typeof scan.remaining_s === "number") text += ` · about ${duration(scan.remaining_s)} left`;
  line.textContent = text;
}

// The last error, once: not when the pause reason above already says it.
function renderLastError(s, reason) {
  const err = s.last_error;
  if (!err || err.at_ms === ui.seenErrorAt) return;
  if (errorIsPast(s)) { clearStatusError(); return; }
  ui.seenErrorAt = err.at_ms;
  if (reason && reason.includes(err.message)) { showError(""); return; }
  showError(err.message);
  ui.statusError = err.message;
}

// Whether the status's last error is past: the scan it came in got over
// it, ending with every shot taken and nothing failed.
function errorIsPast(s) {
  const scan = s.scan;
  return !!(scan && scan.outcome === "completed" && !scan.upload_failed && s.state === "idle");
}

// Hide the error box if what it shows is the status's last error.
function clearStatusError() {
  if (ui.statusError && $("error-text").textContent === ui.statusError) showError("");
  ui.statusError = "";
}

// Fill the collapsible "time spent" list from whatever stage keys arrive.
function renderStages(scan) {
  $("stages").hidden = !scan;
  const list = $("stage-list");
  list.replaceChildren();
  if (!scan) return;
  $("wall").textContent = duration(scan.wall_s || 0);
  for (const [key, value] of Object.entries(scan.stages || {})) {
    const li = document.createElement("li");
    const secs = Number(value) < 60 ? `${Number(value).toFixed(1)} s` : duration(value);
    li.textContent = `${key.replace(/_s$/, "").replace(/_/g, " ")}: ${secs}`;
    list.append(li);
  }
}

// List camera (each camera of a column), turntable and destination with
// their health; a problem the pause reason already tells is not told again.
function renderDevices(devices, reason) {
  const list = $("devices");
  list.replaceChildren();
  const column = devices.cameras || [];
  const shown = [];
  for (const [key, d] of Object.entries(devices)) {
    if (key === "cameras") continue;
    if (key === "camera" && column.length) {
      for (const c of column) shown.push([`Camera ${c.name}`, c]);
      continue;
    }
    shown.push([DEVICE_WORDS[key] || cap(key), d]);
  }
  for (const [label, d] of shown) {
    const ok = !!(d && d.ok);
    const li = document.createElement("li");
    li.className = ok ? "ok" : "bad";
    const name = document.createElement("b");
    name.textContent = label + (ok ? "" : ": ");
    let detail = (d && d.detail) || (ok ? "ready" : "not ready");
    if (!ok && reason && reason.includes(detail)) detail = "not ready (see above)";
    const words = document.createElement("span");
    words.className = "detail";
    words.textContent = detail;
    li.title = detail;
    li.append(name, words);
    list.append(li);
  }
}

// Whether the motors are moving by hand (a jog or homing), with no scan.
function motorsMoving() {
  return !!(ui.status && ui.status.motion);
}

// Enable the buttons the current state allows, minus those busy with a
// request; none while the page is not connected.
function renderControls() {
  const state = ui.connected && ui.status ? ui.status.state : null;
  const scanOn = SCAN_STATES.includes(state);
  const allowed = {
    start: (state === "idle" || state === "uploading") && !!$("profile").value && !motorsMoving(),
    pause: state === "scanning",
    resume: state === "paused" || state === "fault",
    stop: scanOn || (ui.connected && motorsMoving()),
    "retry-uploads": ui.connected,
    "past-resume": state === "idle" && !motorsMoving(),
  };
  for (const [id, ok] of Object.entries(allowed)) $(id).disabled = !ok || ui.busy.has(id);
  if (!scanOn) disarmStop();
  if (!ui.stopTimer) $("stop").textContent = !scanOn && motorsMoving() ? "Stop motors" : "Stop";
}

// Send one of the page's own actions, keeping its button disabled meanwhile.
async function act(id, path, body) {
  ui.busy.add(id);
  renderControls();
  renderRig();
  let answer;
  try {
    answer = await api("POST", path, body);
  } catch (e) {
    if (e.status !== 401) showError(e.message);
  } finally {
    ui.busy.delete(id);
    renderControls();
    renderRig();
  }
  await Promise.all([refreshStatus(), refreshUploads()]);
  return answer;
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

// ---- Uploads and profiles -------------------------------------------------

// Fetch the upload backlog and draw it as a table.
async function refreshUploads() {
  clearTimeout(ui.uploadsTimer);
  const u = await attempt(() => api("GET", "/uploads"));
  if (u) renderUploads(u.scans || []);
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
    const options = list.filter((p) => !p.error).map((p) => new Option(
      `${p.name}${p.description ? " — " + p.description : ""} (${p.shots} ${p.shots === 1 ? "shot" : "shots"})`, p.name));
    if (!options.length) options.push(new Option("No scan profiles are set up", ""));
    sel.replaceChildren(...options);
    if (list.some((p) => p.name === keep)) sel.value = keep;
  } catch (e) {
    sel.replaceChildren(new Option("Could not load profiles", ""));
    if (e.status !== 401) showError(e.message);
  }
  renderControls();
  scheduleCoverage(0);
}

// ---- Views ---------------------------------------------------------------

// Show the view the address names: #/, #/rig, #/scans, #/scans/<id>.
function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  let view = "scan", id = null;
  if (hash === "rig") view = "rig";
  else if (hash === "scans") view = "scans";
  else if (hash.startsWith("scans/")) { view = "past"; id = decodeURIComponent(hash.slice(6)); }
  ui.view = view;
  document.body.dataset.view = view;
  for (const v of ["scan", "rig", "scans", "past"]) $("view-" + v).hidden = v !== view;
  for (const a of document.querySelectorAll(".tabs a")) {
    const on = a.dataset.view === view || (view === "past" && a.dataset.view === "scans");
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (ui.needToken) return;
  if (view === "rig") { ui.settingsRead = false; renderRig(); }
  if (view === "scans") loadHistory();
  if (view === "past") loadPastScan(id);
  renderPreview();
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
    if (!SCAN_STATES.includes(state)) {
      act("stop", "/motor/stop");
      return;
    }
    if (!ui.stopTimer) { armStop(); return; }
    disarmStop();
    act("stop", "/scans/current/stop");
  });
  $("retry-uploads").addEventListener("click", () => act("retry-uploads", "/uploads/retry"));
  $("past-resume").addEventListener("click", async () => {
    const id = $("past-resume").dataset.scan;
    if (await act("past-resume", `/scans/${encodeURIComponent(id)}/resume`)) location.hash = "#/";
  });
  $("profile").addEventListener("change", () => {
    try { localStorage.setItem(PROFILE_KEY, $("profile").value); } catch (e) { /* storage off */ }
    ui.planChosen = true;
    renderControls();
    scheduleCoverage(0);
  });
  $("error-dismiss").addEventListener("click", () => showError(""));
  for (const b of document.querySelectorAll("button.jog")) b.addEventListener("click", () => jog(b));
  $("home").addEventListener("click", async () => {
    if (await act("home", "/motor/home")) $("position").textContent = "Homed: every axis at 0°.";
  });
  $("motor-stop").addEventListener("click", () => act("motor-stop", "/motor/stop"));
  $("test-shot").addEventListener("click", testShot);
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
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    useToken($("token-input").value);
  });
  window.addEventListener("hashchange", route);
}

// Read everything and follow the events.
async function start() {
  ui.needToken = false;
  await refreshStatus();
  if (ui.needToken) return;
  loadProfiles();
  loadPhotos(false);
  refreshUploads();
  connectEvents();
  route();
}

bindControls();
setConnected(false);
renderPreview();
route();
start();
