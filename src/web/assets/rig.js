// scanrig web UI: the rig by hand (#/rig): jog, home, stop, test shot, camera
// settings, live preview. Loaded before app.js, which holds what these share.
"use strict";

// Whether the rig may be handled by hand now.
function rigFree() {
  const s = ui.status;
  return ui.connected && !!s && !SCAN_STATES.includes(s.state);
}

// Enable the rig view's controls the state allows.
function renderRig() {
  const free = rigFree();
  const moving = motorsMoving();
  $("rig-busy").hidden = !(ui.status && SCAN_STATES.includes(ui.status.state));
  for (const b of document.querySelectorAll("button.jog")) b.disabled = !free || moving || ui.busy.has("jog");
  $("home").disabled = !free || moving || ui.busy.has("home");
  $("motor-stop").disabled = !ui.connected;
  $("test-shot").disabled = !free || ui.busy.has("test-shot");
  $("check").disabled = !free || motorsMoving() || ui.busy.has("check");
  for (const input of $("settings").querySelectorAll("select, input")) {
    input.disabled = !free || input.dataset.locked === "yes";
  }
  // The camera's settings are read once the view shows and the rig is
  // free: on opening it, once connected, again after a scan.
  if (!free) ui.settingsRead = false;
  else if (ui.view === "rig" && !ui.settingsRead) loadSettings();
}

// Jog an axis by the button's degrees; show where it ended.
async function jog(button) {
  const axis = button.dataset.axis;
  const degrees = Number(button.dataset.degrees);
  const answer = await act("jog", "/motor/jog", { axis, degrees });
  if (!answer) return;
  const where = typeof answer.position === "number" ? `${answer.position.toFixed(1)}°` : "not known";
  const how = answer.stopped ? ` (stopped: ${answer.stopped})` : "";
  $("position").textContent = `${axis === "tilt" ? "Tilt arm" : "Turntable"} at ${where}${how}.`;
}

// Take a test shot and show it with its timing.
async function testShot() {
  const began = performance.now();
  const answer = await act("test-shot", "/camera/capture");
  if (!answer || !answer.files || !answer.files.length) return;
  const f = answer.files[0];
  $("test-shot-result").hidden = false;
  $("test-shot-img").src = withToken(f.thumbnail);
  const took = typeof answer.took_ms === "number" ? answer.took_ms / 1000 : (performance.now() - began) / 1000;
  $("test-shot-text").textContent = `${f.name}, ${bytes(f.size)}: taken and downloaded in ${took.toFixed(1)} s.`;
}

// Read the camera's settings, marking those the chosen profile sets.
async function loadSettings() {
  if (!rigFree()) return;
  ui.settingsRead = true;
  const profile = $("profile").value;
  const list = await attempt(() => api("GET", "/camera/settings" + (profile ? `?profile=${encodeURIComponent(profile)}` : "")));
  if (!Array.isArray(list)) return;
  const ul = $("settings");
  ul.replaceChildren();
  for (const s of list) ul.append(settingRow(s, profile));
  $("settings-note").textContent = profile
    ? `Settings ${profile} sets are applied when its scan starts, so they are changed in the profile.`
    : "Choose a profile on the Scan view to see which settings it sets.";
  renderRig();
}

// One setting: a chooser, or a field; locked when the profile sets it or
// the camera does not let it change.
function settingRow(s, profile) {
  const li = document.createElement("li");
  const id = "setting-" + s.name.replace(/[^a-z0-9_-]/gi, "_");
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = s.label || s.name;
  let input;
  const range = s.kind === "range" && rangeOf(s.choices);
  if (range) {
    input = document.createElement("input");
    input.type = "number";
    input.inputMode = "decimal";
    for (const k of ["min", "max", "step"]) if (Number.isFinite(range[k])) input[k] = String(range[k]);
    input.value = s.value;
  } else if (Array.isArray(s.choices) && s.choices.length) {
    input = document.createElement("select");
    const choices = s.choices.includes(s.value) ? s.choices : [s.value, ...s.choices];
    input.replaceChildren(...choices.map((c) => new Option(c, c)));
    input.value = s.value;
  } else {
    input = document.createElement("input");
    input.value = s.value;
  }
  input.id = id;
  input.dataset.name = s.name;
  const locked = s.read_only || (s.set_by_profile !== null && s.set_by_profile !== undefined);
  input.dataset.locked = locked ? "yes" : "no";
  input.addEventListener("change", () => changeSetting(input, profile));
  li.append(label, input);
  if (locked) {
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = s.read_only ? "Read-only" : `Set to ${s.set_by_profile} by ${profile} when its scan starts`;
    li.append(why);
  }
  return li;
}

// A range's bounds and step, as the camera writes them (`min..max step s`).
function rangeOf(choices) {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)(?:\s+step\s+(\d+(?:\.\d+)?))?\s*$/.exec((choices || [])[0] || "");
  return m ? { min: Number(m[1]), max: Number(m[2]), step: m[3] === undefined ? NaN : Number(m[3]) } : null;
}

async function changeSetting(input, profile) {
  const body = { name: input.dataset.name, value: input.value };
  if (profile) body.profile = profile;
  input.disabled = true;
  try {
    const s = await api("POST", "/camera/settings", body);
    input.value = s.value;
    logEvent(`Camera ${s.label || s.name} set to ${s.value}`);
  } catch (e) {
    if (e.status !== 401) showError(e.message);
    loadSettings();
  } finally {
    renderRig();
  }
}

// Show the live preview stream only when switched on and no scan is running.
function renderPreview() {
  const s = ui.status;
  const img = $("preview");
  const btn = $("preview-toggle");
  btn.textContent = ui.previewOn ? "Hide preview" : "Show live preview";
  btn.setAttribute("aria-pressed", String(ui.previewOn));
  const scanRunning = !!(s && s.scan && (!s.preview || SCAN_STATES.includes(s.state)));
  const show = ui.previewOn && ui.view === "rig" && ui.connected && !!(s && s.preview) && !scanRunning;
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
