// scanrig web UI: the setup check (#/rig): each pose's photo with its
// sharpness heat map and brightness histogram drawn over it, and what to
// change. Loaded before app.js, which holds what these share.
"use strict";

// The least sharpness a photo needs (the judges' default limit): cells
// below it are drawn red, cells at twice it or more green.
const SHARP_ENOUGH = 20;

// A tilt as the verdicts say it: "+45°", "0°", "-10°".
const tiltWords = (t) => (t > 0 ? "+" : "") + degrees(t);

// Check the set-up for the profile chosen on the Scan view.
async function checkSetup() {
  const profile = $("profile").value;
  if (!profile) {
    showError("Choose a profile on the Scan view first: the check visits its lowest and highest tilt.");
    return;
  }
  $("check-summary").hidden = false;
  $("check-summary").textContent = `Checking ${profile}: the rig moves to each pose and takes a photo…`;
  $("check-poses").replaceChildren();
  const report = await act("check", "/check", { profile });
  if (!report) {
    $("check-summary").hidden = true;
    return;
  }
  const bad = report.poses.filter((p) => !p.good).length;
  $("check-summary").textContent = bad
    ? `${profile}: ${bad} of ${report.poses.length} poses need a change (see below), then check again.`
    : `${profile}: every pose is good (${report.poses.length} checked).`;
  if (report.unchecked_tilts.length) {
    $("check-summary").textContent += ` Not checked: tilt ${report.unchecked_tilts.map(tiltWords).join(", ")}; ` +
      "the rig has no tilt motor, so only the tilt a scan begins at was.";
  }
  $("check-poses").replaceChildren(...report.poses.map(poseItem));
}

// One pose: where, its verdict, its photo with the measures drawn over.
function poseItem(pose) {
  const li = document.createElement("li");
  li.className = "check-pose";
  li.dataset.good = pose.good ? "yes" : "no";
  const h = document.createElement("h3");
  const camera = pose.camera ? `, camera ${pose.camera}` : "";
  h.textContent = `Tilt ${tiltWords(pose.tilt)}${camera}: `;
  const verdict = document.createElement("span");
  verdict.className = pose.good ? "good" : "bad";
  verdict.textContent = pose.good ? "good" : "needs a change";
  h.append(verdict);
  li.append(h);
  const advice = document.createElement("ul");
  advice.className = "advice";
  for (const a of pose.advice) {
    const item = document.createElement("li");
    item.textContent = a;
    advice.append(item);
  }
  li.append(advice);
  li.append(shotFigure(pose));
  return li;
}

// The photo, the heat map over it and the histogram along its foot.
function shotFigure(pose) {
  const figure = document.createElement("figure");
  figure.className = "check-shot";
  const frame = document.createElement("div");
  frame.className = "check-frame";
  const img = document.createElement("img");
  img.src = withToken(pose.photo_url);
  img.alt = `The check's photo at tilt ${tiltWords(pose.tilt)}`;
  frame.append(img);
  figure.append(frame);
  const j = pose.judgement;
  const caption = document.createElement("figcaption");
  if (j) {
    frame.append(heatMap(j.sharpness), histogram(j.exposure));
    caption.textContent = `Sharpness ${Math.round(j.sharpness.object)} over the object (red: soft, green: sharp); ` +
      `brightness ${j.exposure.median} of 255 in the middle, ${Math.round(100 * j.exposure.clipped)} % blown out, ` +
      `${Math.round(100 * j.exposure.crushed)} % black; the object fills ${Math.round(100 * j.framing.fill)} % of the frame.`;
  } else {
    caption.textContent = "This photo could not be judged.";
  }
  figure.append(caption);
  return figure;
}

// The sharpness of each cell of the 8 × 6 grid, shaded red to green.
function heatMap(sharpness) {
  const cols = 8;
  const rows = Math.max(1, Math.round(sharpness.grid.length / cols));
  const cell = 40;
  const canvas = document.createElement("canvas");
  canvas.className = "heat";
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `Sharpness heat map, ${cols} by ${rows} cells`);
  const g = canvas.getContext("2d");
  g.font = "12px system-ui, sans-serif";
  g.textAlign = "center";
  g.textBaseline = "middle";
  sharpness.grid.forEach((v, i) => {
    const x = (i % cols) * cell;
    const y = Math.floor(i / cols) * cell;
    const hue = Math.round(120 * Math.min(1, Math.max(0, (v - SHARP_ENOUGH / 2) / (1.5 * SHARP_ENOUGH))));
    g.fillStyle = `hsla(${hue}, 90%, 45%, 0.35)`;
    g.fillRect(x, y, cell, cell);
    g.strokeStyle = "rgba(255, 255, 255, 0.5)";
    g.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
    g.fillStyle = "#fff";
    g.fillText(String(v), x + cell / 2, y + cell / 2);
  });
  return canvas;
}

// The whole frame's brightness in 32 bins, dark to light, as bars.
function histogram(exposure) {
  const bins = exposure.histogram;
  const canvas = document.createElement("canvas");
  canvas.className = "histogram";
  canvas.width = 320;
  canvas.height = 80;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Brightness histogram, dark on the left, light on the right");
  const g = canvas.getContext("2d");
  g.fillStyle = "rgba(0, 0, 0, 0.55)";
  g.fillRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(1, ...bins);
  const w = canvas.width / bins.length;
  bins.forEach((share, i) => {
    const h = (canvas.height - 4) * share / top;
    // The ends, where blown-out and black pixels fall, stand out.
    g.fillStyle = i === 0 || i === bins.length - 1 ? "#ffd24d" : "#fff";
    g.fillRect(i * w + 1, canvas.height - h, w - 2, h);
  });
  return canvas;
}
