// scanrig web UI: the rig's lights on the Rig view (a switch and, for a
// dimmable light, a slider each) and the Pi's health under the status.
"use strict";

// Read the lights and show them.
async function loadLights() {
  const answer = await attempt(() => api("GET", "/lights"));
  if (answer) renderLights(answer.lights);
}

// One row per light: its switch, its slider (dimmable ones) and its level.
function renderLights(lights) {
  const list = $("lights");
  $("lights-card").hidden = !lights || !lights.length;
  if (!lights) return;
  list.replaceChildren(...lights.map(lightRow));
}

function lightRow(light) {
  const li = document.createElement("li");
  li.dataset.light = light.name;
  const id = "light-" + light.name;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = light.name;
  const on = document.createElement("input");
  on.type = "checkbox";
  on.id = id;
  on.setAttribute("role", "switch");
  on.checked = light.brightness > 0;
  on.addEventListener("change", () => setLight(light.name, on.checked ? 100 : 0));
  li.append(label, on);
  if (light.dimmable) {
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "100";
    slider.value = String(light.brightness);
    slider.setAttribute("aria-label", `${light.name} brightness`);
    slider.addEventListener("change", () => setLight(light.name, Number(slider.value)));
    li.append(slider);
  }
  const level = document.createElement("span");
  level.className = "level";
  level.textContent = `${light.brightness} %`;
  li.append(level);
  return li;
}

// The page shows the lights as their events tell (an answer may come
// after a newer event); a refused change is undone by reading them again.
async function setLight(name, brightness) {
  const answer = await act(`light-${name}`, `/lights/${encodeURIComponent(name)}`, { brightness });
  if (!answer) loadLights();
}

// The Pi's health, in one line; trouble stands out.
function renderHealth(h) {
  const p = $("health");
  p.hidden = !h;
  if (!h) return;
  const known = (v) => v !== null && v !== undefined;
  const parts = [];
  if (known(h.cpu_temp_c)) parts.push(`CPU ${h.cpu_temp_c.toFixed(1)} °C`);
  if (known(h.spool_free_mb)) parts.push(`${(h.spool_free_mb / 1000).toFixed(1)} GB free`);
  const trouble = [];
  if (h.under_voltage) trouble.push("under-voltage now");
  else if (h.under_voltage_since_boot) trouble.push("under-voltage since boot");
  if (h.throttled) trouble.push("throttled now");
  else if (h.throttled_since_boot) trouble.push("throttled since boot");
  p.textContent = ["Pi: " + (parts.join(", ") || "health not known"), ...trouble].join("; ");
  p.className = trouble.length ? "small bad" : "small";
}
