// scanrig web UI: the coverage picture: every shot of a scan or a profile
// placed by azimuth and tilt, coloured by its state, the current one ringed.
// Loaded before app.js, which holds what these share.
"use strict";

// Which picture #coverage shows: the scan being taken (or uploaded), or
// the one just over until another profile is chosen; else what the chosen
// profile would shoot.
function coverageKey(s) {
  const scan = s && s.scan;
  if (scan && [...SCAN_STATES, "uploading"].includes(s.state)) return "scan:" + scan.id;
  if (scan && scan.outcome && !ui.planChosen) return "scan:" + scan.id;
  const profile = $("profile").value;
  return profile ? "profile:" + profile : "";
}

// Redraw the picture; fetch its shots when it is another picture, or again
// when uploads failed or photos were flagged.
function renderCoverage(prev, s) {
  const key = coverageKey(s);
  const same = prev && prev.scan && s.scan && prev.scan.id === s.scan.id;
  const failedMore = same && prev.scan.upload_failed !== s.scan.upload_failed;
  const flaggedMore = same && prev.scan.flagged !== s.scan.flagged;
  if (!ui.coverage || ui.coverage.key !== key || failedMore || flaggedMore) scheduleCoverage(0);
  else drawLiveCoverage();
}

// Fetch the picture's shots soon, once for a burst of changes.
function scheduleCoverage(delay = 300) {
  clearTimeout(ui.coverageTimer);
  ui.coverageTimer = setTimeout(loadCoverage, delay);
}

async function loadCoverage() {
  const key = coverageKey(ui.status);
  if (!key) {
    ui.coverage = null;
    $("coverage").replaceChildren();
    $("coverage-caption").textContent = "Choose a profile to see what it will shoot.";
    return;
  }
  const [kind, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
  const path = kind === "scan" ? `/scans/${encodeURIComponent(name)}/shots` : `/profiles/${encodeURIComponent(name)}/shots`;
  let answer;
  try { answer = await api("GET", path); } catch (e) { return; }
  if (coverageKey(ui.status) !== key) return;
  ui.coverage = { key, kind, name, shots: new Map(answer.shots.map((s) => [s.shot, s])) };
  drawLiveCoverage();
}

// A shot of the scan in the picture changed.
function markShot(scan, shot, state) {
  const c = ui.coverage;
  if (!c || c.key !== "scan:" + scan || !c.shots.has(shot)) return;
  const s = c.shots.get(shot);
  if (s.state === "uploaded" && state === "captured") return;
  s.state = state;
  drawLiveCoverage();
}

function drawLiveCoverage() {
  const c = ui.coverage;
  if (!c) return;
  const shots = [...c.shots.values()];
  const s = ui.status;
  const current = c.kind === "scan" && s && s.scan && s.state === "scanning" ? s.scan.current_shot : null;
  drawCoverage($("coverage"), shots, current);
  const rings = new Set(shots.map((x) => x.ring)).size;
  const plural = (n, w) => `${n} ${w}${n === 1 ? "" : "s"}`;
  const over = c.kind === "scan" && s && s.scan && s.scan.id === c.name && s.scan.outcome;
  const how = over ? ` (${OUTCOME_WORDS[s.scan.outcome] || s.scan.outcome})` : "";
  $("coverage-caption").textContent = c.kind === "scan"
    ? `Scan ${c.name}${how}: ${plural(shots.length, "shot")} in ${plural(rings, "ring")}.`
    : `What ${c.name} will shoot: ${plural(shots.length, "shot")} in ${plural(rings, "ring")}.`;
}

// The rings as the profile defines them (a ring of one tilt, or a band of
// a sphere's nearby tilts): by number, their shots and tilts.
function ringsOf(shots) {
  const rings = new Map();
  for (const s of shots) {
    const r = rings.get(s.ring) || { shots: 0, sum: 0, low: s.tilt, high: s.tilt };
    r.shots += 1;
    r.sum += s.tilt;
    r.low = Math.min(r.low, s.tilt);
    r.high = Math.max(r.high, s.tilt);
    rings.set(s.ring, r);
  }
  return rings;
}

// A ring's tilt in words: one angle, or the span of a band.
function ringTilt(r) {
  if (r.high - r.low < 0.5) return `tilt ${degrees(r.low)}`;
  return `tilt ${Math.round(r.low)}…${degrees(Math.round(r.high))}`;
}

// Draw shots seen from above: azimuth around (0° at the top, clockwise),
// tilt inwards (straight down at the centre, the lowest tilt at the rim).
function drawCoverage(box, shots, current) {
  const size = 320, c = size / 2, R = 140;
  const rings = ringsOf(shots);
  const low = Math.min(0, ...[...rings.values()].map((r) => r.low)) - 10;
  const radius = (t) => R * (90 - t) / (90 - low);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  const counts = {};
  for (const s of shots) counts[s.state] = (counts[s.state] || 0) + 1;
  svg.setAttribute("aria-label", "Shots by angle: " +
    Object.entries(counts).map(([k, n]) => `${n} ${COVERAGE_WORDS[k] || k}`).join(", "));
  const el = (name, attrs) => {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.append(e);
    return e;
  };
  el("line", { x1: c, y1: c - R - 4, x2: c, y2: c + R + 4, class: "axis" });
  el("line", { x1: c - R - 4, y1: c, x2: c + R + 4, y2: c, class: "axis" });
  for (const [label, x, y] of [["az 0°", c + 3, 10], ["90°", size - 22, c - 4], ["180°", c + 3, size - 2], ["270°", 2, c - 4]]) {
    el("text", { x, y }).textContent = label;
  }
  for (const ring of rings.values()) {
    el("circle", { cx: c, cy: c, r: radius(ring.sum / ring.shots).toFixed(1), class: "ring" });
  }
  for (const s of shots) {
    const r = radius(s.tilt);
    const a = (s.azimuth * Math.PI) / 180;
    const inRing = rings.get(s.ring).shots;
    const dot = Math.max(3, Math.min(9, (Math.PI * r) / inRing / 1.3));
    const cls = ["shot", s.state];
    if (s.shot === current && s.state !== "uploaded") cls.push("current");
    const flagged = s.flagged || [];
    if (flagged.length) cls.push("flagged");
    const circle = el("circle", {
      cx: (c + r * Math.sin(a)).toFixed(1), cy: (c - r * Math.cos(a)).toFixed(1),
      r: dot.toFixed(1), class: cls.join(" "), "data-shot": s.shot,
    });
    const title = document.createElementNS(SVG, "title");
    const said = `Shot ${s.shot}: azimuth ${degrees(s.azimuth)}, tilt ${degrees(s.tilt)} (${COVERAGE_WORDS[s.state] || s.state})`;
    title.textContent = flagged.length ? `${said}, flagged: ${flagged.join(" / ")}` : said;
    circle.append(title);
    // A tap shows a flagged shot's reasons below the picture (a phone
    // shows no hover titles).
    if (flagged.length) circle.addEventListener("click", () => { $(box.id + "-flag").textContent = title.textContent; });
  }
  // Rings of one tilt each are labelled in the picture, over the shots;
  // bands (a sphere's), whose labels would crowd it, in a list below.
  const bands = [...rings.values()].some((r) => r.high - r.low >= 0.5);
  const list = document.createElement("ul");
  list.className = "rings";
  for (const [n, ring] of rings) {
    if (bands) {
      const li = document.createElement("li");
      li.textContent = `Ring ${n}: ${ringTilt(ring)}, ${ring.shots} ${ring.shots === 1 ? "shot" : "shots"}`;
      list.append(li);
      continue;
    }
    const d = radius(ring.sum / ring.shots) * Math.SQRT1_2;
    el("text", { x: (c - d - 2).toFixed(1), y: (c + d + 12).toFixed(1), "text-anchor": "end", class: "ring-tilt" })
      .textContent = ringTilt(ring);
  }
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const k of Object.keys(COVERAGE_WORDS)) {
    if (!counts[k]) continue;
    const li = document.createElement("li");
    li.className = k;
    li.textContent = `${counts[k]} ${COVERAGE_WORDS[k]}`;
    legend.append(li);
  }
  const flaggedShots = shots.filter((x) => (x.flagged || []).length).length;
  if (flaggedShots) {
    const li = document.createElement("li");
    li.className = "flagged";
    li.textContent = `${flaggedShots} flagged (tap one for why)`;
    legend.append(li);
  }
  const note = document.createElement("p");
  note.id = box.id + "-flag";
  note.className = "note flag-note";
  box.replaceChildren(svg, legend, ...(bands ? [list] : []), note);
}
