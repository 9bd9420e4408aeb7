// The dashboard shell: a small shared API for panels (window.homeclaw), the live
// websocket with reconnect, the health badge and the section navigation.
// Panels are ES modules in /static/panels/ that append a <section class="panel">
// to #panels; they may use window.homeclaw or plain fetch (the cookie carries the token).

const listeners = new Map(); // message type -> Set of handlers

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    // X-Homeclaw: proof for the server that this write comes from the dashboard itself.
    headers: body === undefined ? { "X-Homeclaw": "1" } : { "Content-Type": "application/json", "X-Homeclaw": "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { error: "http", detail: `HTTP ${response.status}` };
  }
  return { status: response.status, ok: response.ok, data };
}

function on(type, handler) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(handler);
  return () => listeners.get(type).delete(handler);
}

function onNotice(topic, handler) {
  return on("notice", (message) => {
    if (message.topic === topic) handler(message.data);
  });
}

function emit(message) {
  for (const handler of listeners.get(message.type) || []) {
    try {
      handler(message);
    } catch (error) {
      console.error("panel handler failed", error);
    }
  }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

let socket = null;
let retryDelay = 500;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
  socket.addEventListener("open", () => {
    retryDelay = 500;
    setHealth("live", "ok");
    emit({ type: "connected" });
  });
  socket.addEventListener("message", (event) => {
    try {
      emit(JSON.parse(event.data));
    } catch (error) {
      console.error("bad live message", error);
    }
  });
  socket.addEventListener("close", () => {
    setHealth("reconnecting…", "bad");
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  });
}

function setHealth(text, level) {
  const badge = document.getElementById("health");
  badge.textContent = text;
  badge.dataset.level = level;
}

async function refreshHealth() {
  const { ok, data } = await api("GET", "/api/health");
  if (!ok) return;
  const troubled = Object.values(data.tasks || {}).filter(
    (t) => !["running", "done", "ok"].includes(t.status),
  );
  const badge = document.getElementById("health");
  const describe = (t) => `${t.name}: ${t.status}${t.detail ? " — " + t.detail : ""}`;
  badge.title = Object.values(data.tasks || {}).map(describe).join("\n");
  // The badge explains itself on a tap too (phones have no hover).
  document.getElementById("health-detail").replaceChildren(troubled.length
    ? el("ul", {}, troubled.map((t) => el("li", {}, describe(t))))
    : el("p", { class: "muted" }, "Everything is running."));
  if (socket && socket.readyState === WebSocket.OPEN) {
    setHealth(
      troubled.length ? `${troubled.length} problem${troubled.length > 1 ? "s" : ""}` : "all good",
      troubled.length ? "warn" : "ok",
    );
  }
}

function buildNav() {
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    ...[...document.querySelectorAll("#panels > .panel")]
      .sort((a, b) => getComputedStyle(a).order - getComputedStyle(b).order)
      .map((panel) => {
        // The heading's own words, not the live counts a panel may add to it.
        const h2 = panel.querySelector("h2");
        const title = panel.dataset.title || h2?.firstChild?.textContent.trim() || panel.id;
        return el("a", { href: `#${panel.id}` }, title);
      }),
  );
}

function toggleHealthDetail() {
  const badge = document.getElementById("health");
  const detail = document.getElementById("health-detail");
  detail.hidden = !detail.hidden;
  badge.setAttribute("aria-expanded", String(!detail.hidden));
}

// Every time on the page is the home's clock, whatever the browser's timezone.
const timeZone = document.body.dataset.timezone || undefined;
const asDate = (value) => (value instanceof Date ? value : new Date(typeof value === "number" ? value * 1000 : value));
const dayOf = (d) => d.toLocaleDateString("en-CA", { timeZone });

// when(unix seconds | ISO string | Date, "time" | "short" | "full"): "short" drops today's date.
function when(value, style = "full") {
  const d = asDate(value);
  const time = { timeZone, hour: "2-digit", minute: "2-digit" };
  if (style === "time") return d.toLocaleTimeString([], time);
  if (style === "short" && dayOf(d) === dayOf(new Date())) return `today ${d.toLocaleTimeString([], time)}`;
  return d.toLocaleString([], { ...time, weekday: "short", month: "short", day: "numeric" });
}

window.homeclaw = { api, on, onNotice, el, when, timeZone, demo: document.body.dataset.demo === "true" };
connect();
document.getElementById("health").addEventListener("click", toggleHealthDetail);
on("health", refreshHealth);
on("connected", refreshHealth);
setInterval(refreshHealth, 15000);
new MutationObserver(buildNav).observe(document.getElementById("panels"), { childList: true });

// Each table cell learns its column's name, so the phone layout can label it.
function labelCells() {
  for (const table of document.querySelectorAll("#panels table")) {
    const names = [...table.querySelectorAll("thead th, tr:first-child th")].map((th) => th.textContent.trim());
    if (!names.length) continue;
    for (const row of table.querySelectorAll("tr")) {
      [...row.children].forEach((cell, i) => {
        if (cell.tagName === "TD" && names[i] && cell.dataset.label !== names[i]) cell.dataset.label = names[i];
      });
    }
  }
}
new MutationObserver(labelCells).observe(document.getElementById("panels"), { childList: true, subtree: true });
