// Cameras panel: each camera's latest picture (with motion masks drawn over it) and a
// timeline of events with keyframes and what the describer said. Live through
// "camera_event" notices. Descriptions come from a vision model: untrusted text,
// always set with textContent.

const { api, onNotice, el } = window.homeclaw;

const STYLE = `
#cameras .cams { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: .8rem; }
#cameras .cam { border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
#cameras .cam .view { position: relative; background: #000; aspect-ratio: 16 / 9; }
#cameras .cam img, #cameras .cam canvas { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
#cameras .cam canvas { cursor: crosshair; }
#cameras .cam .bar { display: flex; gap: .4rem; align-items: center; padding: .35rem .5rem; flex-wrap: wrap; }
#cameras .cam .bar .name { font-weight: 600; flex: 1; }
#cameras .cam .bar button { font-size: .75rem; padding: .1rem .45rem; }
#cameras .dot { width: .6rem; height: .6rem; border-radius: 50%; background: var(--bad); display: inline-block; }
#cameras .dot.ok { background: var(--ok); }
#cameras .timeline { list-style: none; padding: 0; margin: .8rem 0 0; max-height: 34rem; overflow: auto; }
#cameras .timeline li { display: flex; gap: .6rem; border-top: 1px solid var(--line); padding: .5rem 0; }
#cameras .timeline li.quiet { opacity: .55; }
#cameras .timeline .frames { display: flex; gap: .25rem; flex-shrink: 0; }
#cameras .timeline .frames img { width: 6.5rem; aspect-ratio: 16 / 9; object-fit: cover; border-radius: 6px; background: var(--line); }
#cameras .timeline .title { font-weight: 600; overflow-wrap: anywhere; }
#cameras .timeline .desc { overflow-wrap: anywhere; }
#cameras .timeline .meta { font-size: .75rem; color: var(--muted); display: flex; gap: .5rem; flex-wrap: wrap; }
#cameras .label { border-radius: 99px; padding: 0 .45rem; background: var(--line); font-size: .75rem; }
#cameras .timeline .meta button, #cameras .hushed button { font-size: .7rem; padding: 0 .4rem; }
#cameras .hushed { list-style: none; padding: 0; margin: .6rem 0 0; }
#cameras .hushed li { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; padding: .2rem 0; }
`;

const enc = encodeURIComponent;

const time = (ts) => window.homeclaw.when(ts, "short");

function drawMasks(canvas, masks, pending) {
  const ctx = canvas.getContext("2d");
  canvas.width = canvas.clientWidth;
  canvas.height = canvas.clientHeight;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const poly = (points, fill) => {
    if (!points.length) return;
    ctx.beginPath();
    points.forEach(([x, y], i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x * canvas.width, y * canvas.height));
    if (fill) { ctx.closePath(); ctx.fillStyle = "rgba(184,65,47,.35)"; ctx.fill(); }
    ctx.strokeStyle = "#f2b33d"; ctx.lineWidth = 2; ctx.stroke();
  };
  masks.forEach((m) => poly(m, true));
  poly(pending, false);
}

function cameraCard(camera, refreshAll) {
  const img = el("img", { alt: `Latest picture from ${camera.name}` });
  const canvas = el("canvas", { "aria-label": "Motion masks" });
  const dot = el("span", { class: "dot", title: "" });
  const status = el("span", { class: "muted" });
  let masks = (camera.masks || []).map((m) => m.map(([x, y]) => [x, y]));
  let pending = null; // points of a mask being drawn
  const draw = el("button", { type: "button", title: "Click points on the picture, then Save" }, "Draw mask");
  const clear = el("button", { type: "button" }, "Clear masks");
  const card = el("div", { class: "cam" },
    el("div", { class: "view" }, img, canvas),
    el("div", { class: "bar" }, dot, el("span", { class: "name" }, camera.name), status, draw, clear));

  const save = async () => {
    const { ok, data } = await api("PUT", `/api/cameras/${enc(camera.name)}/masks`, { masks });
    status.textContent = ok ? "masks saved" : data.detail || "could not save masks";
  };
  draw.addEventListener("click", async () => {
    if (pending === null) {
      pending = [];
      draw.textContent = "Save mask";
    } else {
      if (pending.length >= 3) masks.push(pending);
      pending = null;
      draw.textContent = "Draw mask";
      await save();
    }
    drawMasks(canvas, masks, pending || []);
  });
  clear.addEventListener("click", async () => {
    masks = [];
    pending = null;
    draw.textContent = "Draw mask";
    drawMasks(canvas, masks, []);
    await save();
  });
  canvas.addEventListener("click", (event) => {
    if (pending === null) return;
    const rect = canvas.getBoundingClientRect();
    pending.push([(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height]
      .map((v) => Math.min(1, Math.max(0, Math.round(v * 1000) / 1000))));
    drawMasks(canvas, masks, pending);
  });

  const update = (info) => {
    const health = info.health || {};
    dot.className = `dot ${health.status === "ok" ? "ok" : ""}`;
    dot.title = health.status || "";
    status.textContent = health.status === "ok" ? `${health.fps || 0} fps` : health.error || health.status || "";
  };
  const reload = () => {
    if (document.hidden) return;
    const next = new Image();
    next.onload = () => { img.src = next.src; };
    next.src = `/api/cameras/${enc(camera.name)}/snapshot.jpg?t=${Date.now()}`;
  };
  update(camera);
  reload();
  img.addEventListener("load", () => drawMasks(canvas, masks, pending || []), { once: true });
  return { card, update, reload };
}

// "Not useful" on an alert that was sent: similar alerts are hushed (undo below the cameras).
function feedbackButton(event, done) {
  const button = el("button", { type: "button", title: "Stop alerts like this one" }, "Not useful");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { ok, data } = await api("POST", `/api/cameras/events/${enc(event.id)}/feedback`, { text: "not useful" });
    button.textContent = ok ? "hushed" : data.detail || "failed";
    done();
  });
  return button;
}

function hushedItem(rule, done) {
  const undo = el("button", { type: "button" }, "Undo");
  undo.addEventListener("click", async () => {
    undo.disabled = true;
    await api("DELETE", `/api/cameras/hushed/${enc(rule.id)}`);
    done();
  });
  const what = el("span", {});
  what.textContent = `${rule.camera || "All cameras"}: ${rule.summary} — you said “${rule.said}”`;
  return el("li", {}, what, el("span", { class: "muted" }, time(rule.created)), undo);
}

function eventItem(event, done) {
  const frames = el("div", { class: "frames" },
    (event.keyframes || []).map((_, i) => {
      const src = `/api/cameras/events/${enc(event.id)}/${i}.jpg`;
      return el("a", { href: src, target: "_blank", rel: "noopener" },
        el("img", { src, alt: `Keyframe ${i + 1}`, loading: "lazy" }));
    }));
  const title = el("div", { class: "title" });
  title.textContent = event.title || (event.ended ? "Motion" : "Motion — looking…");
  const desc = el("div", { class: "desc muted" });
  desc.textContent = event.description && event.description !== event.title ? event.description : "";
  const labels = (event.labels || []).filter((l) => l !== "motion")
    .map((l) => el("span", { class: "label" }, l));
  if (event.carrier) labels.push(el("span", { class: "label" }, event.carrier));
  const told = event.notified ? (event.notified.startsWith("no") ? `not sent (${event.notified.slice(4)})` : "sent")
    : event.quiet ? `ignored (${event.quiet})` : "";
  const seconds = event.ended ? `${Math.max(0, event.ended - event.started).toFixed(0)} s` : "in progress";
  return el("li", { class: event.quiet ? "quiet" : "" }, frames,
    el("div", {}, title, desc,
      el("div", { class: "meta" }, el("span", {}, time(event.started)), el("span", {}, event.camera),
        el("span", {}, seconds), told ? el("span", {}, told) : null, ...labels,
        told === "sent" ? feedbackButton(event, done) : null)));
}

function mount() {
  document.head.append(el("style", {}, STYLE));
  const cams = el("div", { class: "cams" });
  const which = el("select", { "aria-label": "Which camera" }, el("option", { value: "" }, "All cameras"));
  const timeline = el("ul", { class: "timeline", "aria-label": "Camera events" });
  const empty = el("p", { class: "muted" });
  const hushed = el("ul", { class: "hushed", "aria-label": "Alerts you called not useful" });
  const panel = el("section", { class: "panel", id: "cameras" },
    el("h2", {}, "Cameras"), cams, hushed,
    el("div", { style: "display:flex; gap:.5rem; align-items:center; margin-top:.8rem" },
      el("h3", { style: "margin:0; flex:1" }, "Events"), which),
    empty, timeline);
  document.getElementById("panels").append(panel);
  const cards = new Map();

  async function refreshCameras() {
    const { ok, data } = await api("GET", "/api/cameras");
    if (!ok) { empty.textContent = data.detail || "Cameras unavailable."; return; }
    for (const camera of data.cameras) {
      if (!cards.has(camera.name)) {
        const card = cameraCard(camera);
        cards.set(camera.name, card);
        cams.append(card.card);
        which.append(el("option", { value: camera.name }, camera.name));
      }
      cards.get(camera.name).update(camera);
    }
    if (!data.cameras.length) empty.textContent = "No cameras configured (add them under cameras: in config.yaml).";
    await refreshHushed();
  }

  async function refreshHushed() {
    const { ok, data } = await api("GET", "/api/cameras/hushed");
    if (!ok) return;
    const items = data.hushed.map((rule) => hushedItem(rule, refreshHushed));
    if (items.length) items.unshift(el("li", { class: "muted" }, "Not telling you about:"));
    hushed.replaceChildren(...items);
  }

  async function refreshEvents() {
    const query = which.value ? `&camera=${enc(which.value)}` : "";
    const { ok, data } = await api("GET", `/api/cameras/events?limit=40${query}`);
    if (!ok) return;
    timeline.replaceChildren(...data.events.map((e) => eventItem(e, refreshHushed)));
    if (cards.size) empty.textContent = data.events.length ? "" : "No camera events yet.";
  }

  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(refreshEvents, 200); };
  which.addEventListener("change", refreshEvents);
  onNotice("camera_event", soon);
  onNotice("camera_preferences", refreshHushed);
  setInterval(() => cards.forEach((c) => c.reload()), 2000);
  setInterval(refreshCameras, 10000);
  refreshCameras().then(refreshEvents);
}

mount();
