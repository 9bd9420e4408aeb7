// Devices panel: every device grouped by area, live state, and controls fitting its
// features. Commands go to POST /api/devices/{id}/commands; high-risk ones (unlock,
// disarm, opening a garage) come back 409 with a confirmation code to type back.

const { api, on, el } = window.homeclaw;

const devices = new Map();
let areas = {};
let units = "metric";
const tiles = new Map(); // device id -> tile element

const toDisplay = (c) => (units === "imperial" ? c * 9 / 5 + 32 : c);
const fromDisplay = (t) => (units === "imperial" ? (t - 32) * 5 / 9 : t);
const deg = () => (units === "imperial" ? "°F" : "°C");
const fmtTemp = (c) => `${toDisplay(c).toFixed(units === "imperial" ? 0 : 1)}${deg()}`;
const has = (device, feature) => device.features.includes(feature);
const hex = (rgb) => "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
const rgbOf = (hexValue) => [1, 3, 5].map((i) => parseInt(hexValue.slice(i, i + 2), 16));

async function send(device, command, tile) {
  tile.querySelector(".error")?.remove();
  const { status, data } = await api("POST", `/api/devices/${encodeURIComponent(device.id)}/commands`, command);
  // The state may have changed (and the tile been redrawn) before the answer came.
  tile = tiles.get(device.id) || tile;
  if (status === 409 && data.confirmation) {
    showConfirm(tile, data.confirmation);
  } else if (status >= 400) {
    tile.append(el("div", { class: "error", role: "alert" }, data.detail || data.error || `HTTP ${status}`));
  }
}

function showConfirm(tile, confirmation) {
  tile.querySelector(".confirm")?.remove();
  const code = el("input", { type: "text", inputmode: "numeric", size: 5, "aria-label": "Confirmation code" });
  const box = el("form", { class: "confirm" },
    el("div", {}, confirmation.prompt || "Type the confirmation code:"), code,
    el("button", { type: "submit", class: "primary" }, "Confirm"));
  box.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { status, data } = await api("POST", "/api/confirm", { code: code.value.trim() });
    box.replaceChildren(el("div", { class: status < 400 ? "muted" : "error" },
      data.reply || data.detail || data.error || (status < 400 ? "Done." : "Refused.")));
    setTimeout(() => box.remove(), 6000);
  });
  tile.append(box);
  code.focus();
}

function summary(device) {
  const s = device.state;
  if (!device.available) return "unavailable";
  const parts = [];
  switch (device.kind) {
    case "light": case "switch": case "fan":
      parts.push(s.on ? "on" : "off");
      if (s.on && s.brightness !== undefined && has(device, "brightness")) parts.push(`${s.brightness}%`);
      if (s.power_w !== undefined) parts.push(`${s.power_w} W`);
      break;
    case "climate":
      if (s.current_temperature_c !== undefined) parts.push(`now ${fmtTemp(s.current_temperature_c)}`);
      if (s.target_low_c !== undefined && s.target_high_c !== undefined) parts.push(`${fmtTemp(s.target_low_c)}–${fmtTemp(s.target_high_c)}`);
      if (s.hvac_action) parts.push(s.hvac_action);
      break;
    case "vacuum":
      parts.push(s.activity || "?");
      if (s.battery !== undefined) parts.push(`battery ${s.battery}%`);
      break;
    case "cover": case "valve":
      if (s.position !== undefined) parts.push(s.position === 0 ? "closed" : s.position === 100 ? "open" : `${s.position}% open`);
      if (s.moving && s.moving !== "stopped") parts.push(s.moving);
      break;
    case "lock": parts.push(s.locked === undefined ? (s.lock_state || "?").toUpperCase() : s.locked ? "locked" : "UNLOCKED"); break;
    case "alarm": parts.push((s.alarm_state || "?").replace("_", " ")); break;
    case "speaker":
      parts.push(s.playback || "idle");
      if (s.media_title) parts.push(`“${s.media_title}”${s.media_artist ? " · " + s.media_artist : ""}`);
      break;
    default:
      if (s.motion !== undefined) parts.push(s.motion ? "motion" : "clear");
      if (s.contact_open !== undefined) parts.push(s.contact_open ? "open" : "closed");
      if (s.current_temperature_c !== undefined) parts.push(fmtTemp(s.current_temperature_c));
      else if (s.value !== undefined) parts.push(`${s.value}${s.unit ? " " + s.unit : ""}`);
      if (s.humidity !== undefined) parts.push(`${Math.round(s.humidity)}% RH`);
      if (s.battery !== undefined) parts.push(`battery ${s.battery}%`);
  }
  return parts.join(" · ");
}

function controls(device, tile) {
  const s = device.state;
  const out = [];
  const cmd = (command) => send(device, command, tile);
  if (has(device, "on_off")) {
    out.push(el("button", {
      class: "switch", role: "switch", "aria-checked": String(!!s.on), "aria-label": `${device.name} power`,
      disabled: !device.available, onclick: () => cmd({ action: s.on ? "turn_off" : "turn_on" }),
    }));
  }
  if (has(device, "brightness")) {
    out.push(el("input", {
      type: "range", min: 1, max: 100, value: s.brightness ?? 100, "aria-label": `${device.name} brightness`,
      disabled: !device.available, onchange: (e) => cmd({ action: "set_brightness", brightness: Number(e.target.value) }),
    }));
  }
  if (has(device, "color")) {
    out.push(el("input", {
      type: "color", class: "swatch", value: s.color ? hex(s.color) : "#ffb060", "aria-label": `${device.name} colour`,
      disabled: !device.available, onchange: (e) => cmd({ action: "set_color", color: rgbOf(e.target.value) }),
    }));
  }
  const step = units === "imperial" ? 1 : 0.5;
  // One −/setpoint/+ stepper sending `field` (°C) for the value shown.
  const stepper = (field, valueC, label, title) => {
    const shown = valueC === undefined || valueC === null ? null : toDisplay(valueC);
    const set = (delta) => cmd({ action: "set_temperature", [field]: Math.round(fromDisplay(Math.round(shown / step) * step + delta) * 10) / 10 });
    // One unbreakable group: "+" never wraps away from its setpoint.
    return el("span", { class: "stepper" },
      el("button", { "aria-label": label ? `${label} cooler` : "cooler", disabled: shown === null || !device.available, onclick: () => set(-step) }, "−"),
      el("span", { class: "setpoint", title }, shown === null ? "–" : `${title === "target" ? "" : title + " "}${shown.toFixed(units === "imperial" ? 0 : 1)}${deg()}`),
      el("button", { "aria-label": label ? `${label} warmer` : "warmer", disabled: shown === null || !device.available, onclick: () => set(step) }, "+"));
  };
  // A thermostat holding a heat/cool range shows both ends; otherwise its one setpoint.
  const ranged = has(device, "target_temperature_range") && s.target_low_c !== undefined
    && (!has(device, "target_temperature") || ["heat_cool", "auto"].includes(s.hvac_mode));
  if (ranged) {
    out.push(stepper("target_low_c", s.target_low_c, "heat to", "heat"),
      stepper("target_high_c", s.target_high_c, "cool to", "cool"));
  } else if (has(device, "target_temperature")) {
    out.push(stepper("temperature_c", s.target_temperature_c, null, "target"));
  }
  if (has(device, "hvac_mode")) {
    const modes = device.hvac_modes || device.info.hvac_modes || ["off", "heat", "cool", "auto"];
    const select = el("select", { "aria-label": `${device.name} mode`, disabled: !device.available,
      onchange: (e) => cmd({ action: "set_hvac_mode", hvac_mode: e.target.value }) },
      modes.map((m) => el("option", { value: m, selected: m === s.hvac_mode }, m)));
    out.push(select);
  }
  if (has(device, "position")) {
    out.push(el("input", {
      type: "range", min: 0, max: 100, value: s.position ?? 0, "aria-label": `${device.name} position`,
      disabled: !device.available, onchange: (e) => cmd({ action: "set_position", position: Number(e.target.value) }),
    }));
  } else if (has(device, "open_close")) {
    out.push(el("button", { onclick: () => cmd({ action: "open" }) }, "Open"), el("button", { onclick: () => cmd({ action: "close" }) }, "Close"));
  }
  if (has(device, "clean")) {
    // A vacuum: start (or resume), pause, and home; only what it declares.
    const busy = s.activity === "cleaning";
    out.push(busy && has(device, "pause")
      ? el("button", { disabled: !device.available, onclick: () => cmd({ action: "pause" }) }, "Pause")
      : el("button", { class: "primary", disabled: !device.available || busy, onclick: () => cmd({ action: "start" }) }, "Start"));
  }
  if (has(device, "return_home")) {
    out.push(el("button", { disabled: !device.available || ["docked", "returning"].includes(s.activity),
      onclick: () => cmd({ action: "return_to_base" }) }, "Dock"));
  }
  if (has(device, "lock")) {
    out.push(s.locked
      ? el("button", { disabled: !device.available, onclick: () => cmd({ action: "unlock" }) }, "Unlock…")
      : el("button", { class: "primary", disabled: !device.available, onclick: () => cmd({ action: "lock" }) }, "Lock"));
  }
  if (has(device, "alarm")) {
    out.push((s.alarm_state || "disarmed") === "disarmed"
      ? el("button", { disabled: !device.available, onclick: () => cmd({ action: "arm", arm_mode: "away" }) }, "Arm away")
      : el("button", { disabled: !device.available, onclick: () => cmd({ action: "disarm" }) }, "Disarm…"));
  }
  if (has(device, "playback")) {
    const playing = s.playback === "playing";
    out.push(el("button", { "aria-label": playing ? "pause" : "play", disabled: !device.available,
      onclick: () => cmd({ action: playing ? "pause" : "play" }) }, playing ? "Pause" : "Play"));
  }
  if (has(device, "tracks")) {
    out.push(el("button", { "aria-label": "next", disabled: !device.available, onclick: () => cmd({ action: "next" }) }, "Next"));
  }
  if (has(device, "volume")) {
    out.push(el("input", {
      type: "range", min: 0, max: 100, value: s.volume ?? 0, "aria-label": `${device.name} volume`,
      disabled: !device.available, onchange: (e) => cmd({ action: "set_volume", volume: Number(e.target.value) }),
    }));
  }
  return out;
}

function renderTile(device) {
  const old = tiles.get(device.id);
  const lit = device.available && (device.state.on || device.state.playback === "playing" || device.state.activity === "cleaning");
  const tile = el("article", {
    class: `tile ${lit ? "lit" : ""} ${device.available ? "" : "unavailable"}`.trim(),
    "data-id": device.id, "data-kind": device.kind,
  },
    el("header", {}, el("span", { class: "name" }, device.name), el("span", { class: "kind" }, (device.device_class || device.kind).replace(/_/g, " "))),
    el("div", { class: "state" }, summary(device)));
  // Controls are built after the tile: they show errors and confirmations in it.
  tile.append(el("div", { class: "row" }, controls(device, tile)));
  if (old) {
    const pending = old.querySelector(".confirm, .error");
    if (pending) tile.append(pending);
    old.replaceWith(tile);
    tile.classList.add("flash");
    setTimeout(() => tile.classList.remove("flash"), 400);
  }
  tiles.set(device.id, tile);
  return tile;
}

// Rooms fold: open on wide screens, folded on phones (a room's line says what is on),
// and each room keeps what the owner chose while the page lives.
const openRooms = new Map();
const phone = window.matchMedia("(max-width: 640px)");
const roomOpen = (key) => (openRooms.has(key) ? openRooms.get(key) : !phone.matches);

function renderAll(panel) {
  const body = panel.querySelector(".areas");
  tiles.clear();
  const byArea = new Map();
  for (const device of devices.values()) {
    if (device.kind === "camera") continue;
    const key = device.area || "~";
    if (!byArea.has(key)) byArea.set(key, []);
    byArea.get(key).push(device);
  }
  const sorted = [...byArea.keys()].sort((a, b) => a.localeCompare(b));
  body.replaceChildren(...sorted.map((key) => {
    const info = areas[key] || {};
    const name = key === "~" ? "Unassigned" : info.name || key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
    const list = byArea.get(key).sort((a, b) => a.name.localeCompare(b.name));
    const lit = list.filter((d) => d.available && (d.state.on || d.state.playback === "playing")).length;
    const room = el("details", { class: "area", "data-area": key, open: roomOpen(key) },
      el("summary", {},
        el("h3", {}, name, info.floor ? el("span", { class: "floor" }, ` · ${info.floor}`) : null),
        el("span", { class: "muted room-count" }, `${list.length} device${list.length > 1 ? "s" : ""}${lit ? ` · ${lit} on` : ""}`)),
      el("div", { class: "tiles" }, list.map(renderTile)));
    room.addEventListener("toggle", () => openRooms.set(key, room.open));
    return room;
  }));
  panel.querySelector(".count").textContent =
    `${devices.size} devices · ${[...devices.values()].filter((d) => !d.available).length} unavailable`;
}

async function mount() {
  const panel = el("section", { class: "panel", id: "devices" },
    el("h2", {}, "Devices ", el("span", { class: "muted count" })),
    el("div", { class: "areas" }, el("p", { class: "muted" }, "Loading…")));
  document.getElementById("panels").append(panel);
  async function load() {
    const { ok, data } = await api("GET", "/api/devices");
    if (!ok) return;
    areas = data.areas || {};
    units = data.units || "metric";
    devices.clear();
    for (const device of data.devices) devices.set(device.id, device);
    renderAll(panel);
  }
  on("connected", load); // also reloads after a reconnect, so nothing is stale
  on("device", ({ device }) => {
    const known = devices.has(device.id);
    devices.set(device.id, device);
    if (known && tiles.has(device.id)) renderTile(device);
    else renderAll(panel);
  });
  on("device_removed", ({ id }) => { devices.delete(id); renderAll(panel); });
  await load();
}

mount();
