// Memory panel: browse, search, add, edit, approve and forget what the house remembers.
// Talks to /api/memory; refreshes on "memory" notices (hand edits of the files included).
// All memory text is set with textContent: it may hold anything someone typed.

const { api, onNotice, el } = window.homeclaw;

const STYLE = `
#memory .mem-tools { display: flex; gap: .4rem; flex-wrap: wrap; margin-bottom: .6rem; }
#memory .mem-tools input[type=search] { flex: 1; min-width: 10rem; }
#memory .mem-add { display: flex; gap: .4rem; flex-wrap: wrap; margin-bottom: .6rem; }
#memory .mem-add input[type=text] { flex: 1; min-width: 12rem; }
#memory ul { list-style: none; padding: 0; margin: 0; max-height: 32rem; overflow: auto; }
#memory li { border-top: 1px solid var(--line); padding: .45rem 0; display: flex; gap: .5rem;
  align-items: flex-start; }
#memory li .body { flex: 1; min-width: 0; }
#memory li .text { overflow-wrap: anywhere; }
#memory li .meta { font-size: .75rem; color: var(--muted); display: flex; gap: .5rem; flex-wrap: wrap; }
#memory li .actions { display: flex; gap: .25rem; }
#memory li .actions button { font-size: .8rem; padding: .15rem .5rem; }
#memory .mem-waiting { border: 1px solid var(--bad); border-radius: 6px; padding: .2rem .6rem;
  margin-bottom: .6rem; }
#memory .mem-waiting h3 { margin: .3rem 0; font-size: .95rem; }
#memory .badge { border-radius: 99px; padding: 0 .45rem; background: var(--line); }
#memory .badge.owner { background: #d9eedf; color: var(--ok); }
#memory .badge.inferred { background: #f6ebcf; color: var(--warn); }
#memory .badge.unverified { background: #f3d9d4; color: var(--bad); }
#memory li.editing .text { display: none; }
#memory li input.edit { width: 100%; }
`;

function sourceClass(memory) {
  if (memory.unverified) return "unverified";
  if (memory.source === "inferred") return "inferred";
  if (memory.source === "owner" || memory.source === "owner-approved") return "owner";
  return "";
}

function sourceLabel(memory) {
  if (memory.unverified) return `proposed by ${memory.source.replace(/^unverified:/, "")}`;
  if (memory.source === "owner") return "you said";
  if (memory.source === "owner-approved") return "you approved";
  if (memory.source === "inferred") return "inferred";
  return memory.source;
}

function mount() {
  document.head.append(el("style", {}, STYLE));
  const search = el("input", { type: "search", placeholder: "Search memory…", "aria-label": "Search memory" });
  const kind = el("select", { "aria-label": "Which memories" },
    el("option", { value: "fact" }, "Facts"),
    el("option", { value: "note" }, "Daily notes"),
    el("option", { value: "" }, "Everything"));
  const addText = el("input", { type: "text", placeholder: "Tell the house something to remember…",
    "aria-label": "New memory", maxlength: 1000 });
  const pinned = el("input", { type: "checkbox", "aria-label": "Pinned" });
  const addForm = el("form", { class: "mem-add" }, addText,
    el("label", { class: "muted" }, pinned, " always in mind"),
    el("button", { type: "submit", class: "primary" }, "Remember"));
  const status = el("div", { class: "muted", role: "status" });
  const list = el("ul", { "aria-label": "Memories" });
  // Changes the model asked for that the owner's own words did not (forget, camera alerts).
  const waitingList = el("ul", { "aria-label": "Waiting for your approval" });
  const waiting = el("div", { class: "mem-waiting", hidden: true },
    el("h3", {}, "Waiting for your approval"), waitingList);
  const panel = el("section", { class: "panel", id: "memory" },
    el("h2", {}, "Memory"),
    waiting,
    el("div", { class: "mem-tools" }, search, kind),
    addForm, status, list);
  (document.querySelector("#panels") || document.body).append(panel);

  async function refresh() {
    const params = new URLSearchParams({ limit: "300" });
    if (search.value.trim()) params.set("q", search.value.trim());
    if (kind.value) params.set("kind", kind.value);
    const { ok, data } = await api("GET", `/api/memory?${params}`);
    if (!ok) {
      status.textContent = data.detail || data.error || "Memory is not available.";
      return;
    }
    const counts = data.counts || {};
    status.textContent = `${counts.fact || 0} facts, ${counts.note || 0} note lines · files in ${data.folder}`;
    list.replaceChildren(...data.memories.map(row));
    if (!data.memories.length) list.append(el("li", { class: "muted" }, "Nothing here."));
  }

  async function refreshWaiting() {
    const { ok, data } = await api("GET", "/api/approvals");
    const items = ok ? data.approvals : [];
    waiting.hidden = !items.length;
    waitingList.replaceChildren(...items.map((proposal) => {
      const text = el("div", { class: "text" });
      text.textContent = proposal.summary;
      const body = el("div", { class: "body" }, text, el("div", { class: "meta" },
        el("span", { class: "badge unverified" }, `asked by ${proposal.proposed_by}`),
        el("span", {}, window.homeclaw.when(proposal.created, "short")),
        el("code", {}, proposal.id)));
      const item = el("li", { "data-id": proposal.id }, body);
      const decide = (verb) => async () => {
        const { ok: done, data: answer } = await api("POST",
          `/api/approvals/${encodeURIComponent(proposal.id)}/${verb}`);
        done ? (refreshWaiting(), refresh()) : problem(item, answer);
      };
      item.append(el("div", { class: "actions" },
        el("button", { type: "button", onclick: decide("approve") }, "Approve"),
        el("button", { type: "button", onclick: decide("reject") }, "Reject")));
      return item;
    }));
  }

  function problem(item, data) {
    item.querySelector(".error")?.remove();
    item.querySelector(".body").append(el("div", { class: "error", role: "alert" },
      data.detail || data.error || "That did not work."));
  }

  function row(memory) {
    const text = el("div", { class: "text" });
    text.textContent = memory.text;
    const where = memory.kind === "note" ? memory.file : memory.section;
    const meta = el("div", { class: "meta" },
      el("span", { class: `badge ${sourceClass(memory)}` }, sourceLabel(memory)),
      el("span", {}, memory.date),
      where ? el("span", {}, where) : null,
      memory.pinned ? el("span", {}, "📌 pinned") : null,
      el("code", {}, memory.id));
    const body = el("div", { class: "body" }, text, meta);
    const item = el("li", { "data-id": memory.id }, body);
    const actions = el("div", { class: "actions" });

    if (memory.unverified || memory.source === "inferred") {
      actions.append(el("button", { type: "button", title: "Keep this as a fact", onclick: async () => {
        const { ok, data } = await api("POST", `/api/memory/${encodeURIComponent(memory.id)}/approve`);
        ok ? refresh() : problem(item, data);
      } }, "Approve"));
    }
    actions.append(el("button", { type: "button", onclick: () => edit(item, memory) }, "Edit"));
    actions.append(el("button", { type: "button", title: "Remove it from the files, the index and past conversations",
      onclick: async () => {
        if (!confirm(`Forget this for good?\n\n${memory.text}`)) return;
        const { ok, data } = await api("DELETE", `/api/memory/${encodeURIComponent(memory.id)}`);
        ok ? item.remove() : problem(item, data);
      } }, "Forget"));
    item.append(actions);
    return item;
  }

  function edit(item, memory) {
    if (item.classList.contains("editing")) return;
    item.classList.add("editing");
    const input = el("input", { type: "text", class: "edit", value: memory.text, maxlength: 1000,
      "aria-label": "Memory text" });
    const save = el("button", { type: "submit", class: "primary" }, "Save");
    const cancel = el("button", { type: "button" }, "Cancel");
    const form = el("form", {}, input, save, cancel);
    item.querySelector(".body").prepend(form);
    input.focus();
    cancel.addEventListener("click", () => { form.remove(); item.classList.remove("editing"); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { ok, data } = await api("PATCH", `/api/memory/${encodeURIComponent(memory.id)}`,
        { text: input.value });
      ok ? refresh() : problem(item, data);
    });
  }

  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = addText.value.trim();
    if (!text) return;
    const { ok, data } = await api("POST", "/api/memory", { text, pinned: pinned.checked });
    if (!ok) {
      status.textContent = data.detail || data.error || "Could not remember that.";
      return;
    }
    addText.value = "";
    pinned.checked = false;
    await refresh();
    if (data.status === "duplicate") status.textContent = `Already known. ${status.textContent}`;
  });

  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
  search.addEventListener("input", soon);
  kind.addEventListener("change", refresh);
  onNotice("memory", () => {
    // Do not yank an edit box away from the owner mid-typing.
    if (!list.querySelector("li.editing")) soon();
  });
  onNotice("approvals", refreshWaiting);
  refresh();
  refreshWaiting();
}

mount();
