// Routines panel: each routine with its phrases, steps and last result, and a Run button;
// the schedules with their next run (cancel a one-off or a standing one); the heartbeat's
// concerns. Talks to /api/routines, /api/schedules, /api/heartbeat; refreshes on
// "routine" notices. Text comes from config and chat, so it is always set as text.

const { api, onNotice, el } = window.homeclaw;

const STYLE = `
#routines .rt-list { list-style: none; padding: 0; margin: 0 0 1rem; }
#routines .rt-list > li { border-top: 1px solid var(--line); padding: .5rem 0; }
#routines .rt-head { display: flex; gap: .5rem; align-items: baseline; justify-content: space-between; }
#routines .rt-name { font-weight: 600; }
#routines .rt-phrases, #routines .rt-steps, #routines .rt-last { font-size: .82rem; color: var(--muted); }
#routines .rt-steps { margin: .2rem 0 0 1rem; padding: 0; }
#routines .rt-last.ok::before { content: "✓ "; color: var(--ok); }
#routines .rt-last.failed::before { content: "⚠ "; color: var(--warn); }
#routines table { width: 100%; border-collapse: collapse; font-size: .85rem; }
#routines td, #routines th { text-align: left; padding: .25rem .3rem; border-top: 1px solid var(--line); }
#routines th { font-weight: 600; color: var(--muted); font-size: .75rem; }
#routines h3 { font-size: .8rem; text-transform: uppercase; letter-spacing: .08em; color: var(--muted);
  margin: .8rem 0 .3rem; }
`;

// "when Hallway motion senses motion", not "when Hallway motion motion".
const BECOMES = {
  on: "turns on", off: "turns off", open: "opens", opened: "opens", closed: "closes",
  motion: "senses motion", detected: "senses motion", clear: "is clear again",
  locked: "locks", unlocked: "unlocks", playing: "starts playing", paused: "pauses",
  stopped: "stops", heating: "starts heating", armed: "is armed", disarmed: "is disarmed",
  triggered: "goes off", offline: "goes offline", unavailable: "goes offline",
};

function describeWhen(w) {
  const change = w.to
    ? BECOMES[w.to.toLowerCase()] || `is ${w.to}`
    : w.above !== undefined && w.above !== null ? `goes above ${w.above}` : `goes below ${w.below}`;
  const window = w.after || w.before
    ? ` (${[w.after && `after ${w.after}`, w.before && `before ${w.before}`].filter(Boolean).join(", ")})`
    : "";
  return `when ${w.device} ${change}${window}`;
}

// Next runs and last runs in the home's clock (the shell's formatter).
const when = (value) => (value ? window.homeclaw.when(value, "short") : "—");

function mount() {
  document.head.append(el("style", {}, STYLE));
  const status = el("div", { class: "muted", role: "status" });
  const routines = el("ul", { class: "rt-list", "aria-label": "Routines" });
  const scheduleBody = el("tbody");
  const schedules = el("table", { "aria-label": "Schedules" },
    el("thead", {}, el("tr", {}, el("th", {}, "What"), el("th", {}, "When"), el("th", {}, "Next run"), el("th", {}))),
    scheduleBody);
  const concerns = el("ul", { class: "rt-steps", "aria-label": "Heartbeat concerns" });
  const heartbeatInfo = el("div", { class: "muted" });
  const panel = el("section", { class: "panel", id: "routines" },
    el("h2", {}, "Routines"), status, routines,
    el("h3", {}, "Schedules"), schedules,
    el("h3", {}, "Heartbeat"), heartbeatInfo, concerns);
  (document.querySelector("#panels") || document.body).append(panel);

  function lastLine(last) {
    if (!last) return el("div", { class: "rt-last" }, "Not run yet.");
    const line = el("div", { class: `rt-last ${last.ok ? "ok" : "failed"}` });
    line.textContent = `${when(last.started)}: ${last.summary}`;
    return line;
  }

  function routineRow(routine) {
    const last = el("div", {}, lastLine(routine.last_run));
    const run = el("button", { type: "button", class: "primary" }, "Run");
    run.addEventListener("click", async () => {
      run.disabled = true;
      run.textContent = "Running…";
      const { ok, data } = await api("POST", `/api/routines/${encodeURIComponent(routine.name)}/run`);
      run.disabled = false;
      run.textContent = "Run";
      if (ok) last.replaceChildren(lastLine(data));
      else last.replaceChildren(el("div", { class: "error", role: "alert" }, data.detail || data.error));
    });
    const name = el("span", { class: "rt-name" });
    name.textContent = routine.name;
    const phrases = el("div", { class: "rt-phrases" });
    const triggers = [
      ...routine.phrases.map((p) => `“${p}”`),
      ...routine.schedules,
      ...routine.when.map(describeWhen),
    ];
    phrases.textContent = triggers.join(" · ");
    const steps = el("ul", { class: "rt-steps" }, ...routine.steps.map((s) => {
      const item = el("li");
      item.textContent = s;
      return item;
    }));
    return el("li", {}, el("div", { class: "rt-head" }, name, run), phrases, steps, last);
  }

  function scheduleRow(item) {
    const what = el("td");
    what.textContent = item.name ? `${item.name} (${item.what})` : item.what;
    const cancel = el("button", { type: "button", title: "Cancel this schedule" }, "Cancel");
    cancel.addEventListener("click", async () => {
      if (!confirm(`Cancel “${item.name || item.what}”?`)) return;
      const { ok, data } = await api("DELETE", `/api/schedules/${encodeURIComponent(item.id)}`);
      ok ? refresh() : (status.textContent = data.detail || data.error);
    });
    const whenCell = el("td");
    whenCell.textContent = item.when;
    return el("tr", {}, what, whenCell, el("td", {}, when(item.next_run)), el("td", {}, item.source === "undo" ? "" : cancel));
  }

  async function refresh() {
    const [r, s, h] = await Promise.all([
      api("GET", "/api/routines"), api("GET", "/api/schedules"), api("GET", "/api/heartbeat"),
    ]);
    if (!r.ok) {
      status.textContent = r.data.detail || r.data.error || "Routines are not available.";
      return;
    }
    status.textContent = (r.data.problems || []).join(" · ");
    routines.replaceChildren(...r.data.routines.map(routineRow));
    if (!r.data.routines.length) routines.append(el("li", { class: "muted" }, "No routines yet."));
    if (s.ok) {
      scheduleBody.replaceChildren(...s.data.schedules.map(scheduleRow));
      if (!s.data.schedules.length) scheduleBody.append(el("tr", {}, el("td", { class: "muted", colspan: "4" }, "No schedules.")));
    }
    if (h.ok) {
      heartbeatInfo.textContent = h.data.enabled
        ? `Every ${h.data.every_minutes} min${h.data.last ? `; last check ${window.homeclaw.when(h.data.last.at, "time")}` : ""}.`
        : `Off (to turn it on, ${h.data.how_to_enable}).`;
      concerns.replaceChildren(...h.data.concerns.map((c) => {
        const item = el("li");
        item.textContent = `${c.text} — ${c.checked_by === "rule" ? "rule" : "LLM"}`;
        return item;
      }));
    }
  }

  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 300); };
  onNotice("routine", soon);
  setInterval(refresh, 60000); // next-run times move on
  refresh();
}

mount();
