// scanrig web UI: the connection to the rig: the event stream (its events
// routed, a refusal told, a resync when too much was missed) and the access
// token. Loaded before app.js, which holds what these share.
"use strict";

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
    loadLights();
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
  on("lights", (l) => renderLights(l.lights));
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
