// scanrig web UI: one page, three views (#/ the scan, #/rig the rig by hand,
// #/scans past scans), no build step. Live data comes from the
// /api/v1/events stream (each event has an id; the browser's reconnect
// replays what was missed, or the rig says `resync` and the page reads
// everything again). Text goes in via textContent; nothing inline (CSP).
// coverage.js, photos.js, rig.js, history.js, connection.js and status.js
// are loaded first; this file holds what they share and starts the page.
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
// How many times a thumbnail that did not load is asked for again.
const THUMB_TRIES = 4;
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
  if (m.state === "checking") return `Checking the set-up for ${m.profile}${who}`;
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
    // A scan sent to several destinations: what waits for each.
    for (const d of s.destinations || []) {
      const line = document.createElement("small");
      line.textContent = `${d.name}: ${d.waiting}`;
      waiting.append(document.createElement("br"), line);
    }
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
  $("check").addEventListener("click", checkSetup);
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
