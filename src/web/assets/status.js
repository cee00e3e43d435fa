// scanrig web UI: the status card (state, progress, timing, devices, the
// last error) and the controls the state allows. Loaded before app.js,
// which holds what these share.
"use strict";

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
  const at = Object.entries(s.backlog_at || {}).map(([name, n]) => `${name} ${n}`);
  $("backlog").textContent = `${s.backlog || 0} waiting to upload` + (at.length ? ` (${at.join(", ")})` : "");
  const reason = (scan && scan.paused) || "";
  $("pause-reason").hidden = !reason;
  $("pause-reason").textContent = reason;
  renderMoved(scan && scan.moved);
  $("motion").hidden = !s.motion;
  $("motion").textContent = motionWords(s.motion);
  renderStages(scan);
  renderDevices(s.devices || {}, reason);
  renderHealth(s.health);
  renderLastError(s, reason);
  renderControls();
  renderRig();
  renderPreview();
  renderCoverage(prev, s);
}

// The two pictures of the check that found the object moved, side by side.
function renderMoved(moved) {
  $("moved").hidden = !moved;
  if (!moved) return;
  for (const which of ["photo", "frame"]) {
    const img = $(`moved-${which}`);
    const src = withToken(moved[which]);
    if (img.getAttribute("src") !== src) img.src = src;
  }
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
