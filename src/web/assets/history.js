// scanrig web UI: past scans (#/scans, #/scans/<id>): the list, a scan's
// coverage, photos, manifest and ZIP. Loaded before app.js, which holds what
// these share.
"use strict";

async function loadHistory() {
  const rows = await attempt(() => api("GET", "/scans"));
  if (!Array.isArray(rows)) return;
  const list = $("history");
  list.replaceChildren();
  for (const r of rows) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "#/scans/" + encodeURIComponent(r.id);
    const id = document.createElement("span");
    id.className = "id";
    id.textContent = r.id;
    const outcome = document.createElement("span");
    outcome.className = "outcome " + r.state;
    outcome.textContent = OUTCOME_WORDS[r.state] || r.state;
    const when = r.started_at_ms ? new Date(r.started_at_ms).toLocaleString() : "";
    const line = document.createElement("span");
    line.className = "small";
    line.textContent = `${r.profile} · ${when} · ${r.uploaded} of ${r.planned} uploaded` +
      (r.waiting ? `, ${r.waiting} waiting` : "") + (r.failed ? `, ${r.failed} failed` : "") +
      (r.missing ? `, ${r.missing} lost` : "") + ` · ${r.destination}`;
    a.append(id, outcome, document.createElement("br"), line);
    li.append(a);
    list.append(li);
  }
  $("history-empty").hidden = rows.length > 0;
}

async function loadPastScan(id) {
  $("past-id").textContent = id;
  for (const el of ["past-coverage", "past-photos"]) $(el).replaceChildren();
  $("past-zip").hidden = true;
  $("past-resume").hidden = true;
  $("past-manifest-box").hidden = true;
  $("past-none").hidden = true;
  const enc = encodeURIComponent(id);
  const row = await attempt(() => api("GET", `/scans/${enc}`));
  if (!row) return;
  $("past-summary").textContent = `${row.profile}: ${row.captured} of ${row.planned} taken, ${row.uploaded} uploaded` +
    (row.failed ? `, ${row.failed} failed` : "") + (row.missing ? `, ${row.missing} lost` : "") +
    ` (${OUTCOME_WORDS[row.state] || row.state}).`;
  $("past-destination").textContent = `Photos went to ${row.destination}.`;
  // Interrupted (the rig lost power, say): it goes on from its next shot.
  const running = ui.status && ui.status.scan && ui.status.scan.id === id && !ui.status.scan.outcome;
  $("past-resume").hidden = row.state !== "interrupted" || running;
  $("past-resume").dataset.scan = id;
  if (row.manifest) {
    $("past-manifest").textContent = JSON.stringify(row.manifest, null, 2);
    $("past-manifest-box").hidden = false;
  }
  try {
    const shots = await api("GET", `/scans/${enc}/shots`);
    drawCoverage($("past-coverage"), shots.shots, null);
  } catch (e) { /* only at its destination */ }
  const photos = (await attempt(() => api("GET", `/scans/${enc}/photos`))) || [];
  const grid = $("past-photos");
  for (const p of photos) grid.append(photoTile({ ...p, scan: id }));
  const here = photos.some((p) => p.url);
  $("past-zip").hidden = !here;
  $("past-zip").href = withToken(`/api/v1/scans/${enc}/archive.zip`);
  $("past-zip").setAttribute("download", `${id}.zip`);
  $("past-none").hidden = here;
  $("past-none").textContent = photos.length
    ? "None of these photos is on the rig any more: they are at the scan's destination."
    : "The rig has no photo list for this scan: its photos are at its destination.";
}
