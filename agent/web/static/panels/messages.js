// Messages panel: the outbox (queued / sent / delivered / failed, with notes such as the
// WhatsApp 24-hour fallback), inbound messages, strangers (approve them), and pairing codes.
// Strangers' text is untrusted: it is only ever inserted as text, never as HTML.

const { api, onNotice, el } = window.homeclaw || {};

function when(ts) {
  return ts ? window.homeclaw.when(ts, "short") : "–";
}

function mount() {
  if (!api) return;
  const counts = el("p", { class: "messages-counts" });
  const outbound = el("tbody");
  const inbound = el("tbody");
  const strangers = el("tbody");
  const pairingResult = el("p", { class: "messages-pairing" });
  const name = el("input", { type: "text", placeholder: "name", "aria-label": "Name", size: "10" });
  const role = el("select", { "aria-label": "Role" }, ...["guest", "family", "owner"].map((r) => el("option", { value: r }, r)));
  const pairForm = el("form", {}, "New person: ", name, role, el("button", { type: "submit" }, "Create pairing code"));

  const table = (head, body) =>
    el("table", { class: "messages-table" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), body);

  const panel = el(
    "section",
    { class: "panel", id: "messages" },
    el("h2", {}, "Messages"),
    counts,
    el("h3", {}, "Sent by the house"),
    table(["#", "when", "status", "channel", "to", "text", "note"], outbound),
    el("h3", {}, "Received"),
    table(["when", "from", "channel", "status", "text"], inbound),
    el("h3", {}, "Strangers (no reply, no LLM call)"),
    table(["when", "channel", "from", "text", ""], strangers),
    el("h3", {}, "Pairing"),
    pairForm,
    pairingResult,
    el("style", {}, STYLE),
  );
  document.getElementById("panels").append(panel);

  async function approve(stranger) {
    const who = prompt(`Name for ${stranger.sender}?`, stranger.name || "");
    if (!who) return;
    const asRole = prompt("Role (guest, family, owner)?", "guest");
    if (!asRole) return;
    const { ok, data } = await api("POST", "/api/people", {
      channel: stranger.channel,
      address: stranger.sender,
      name: who,
      role: asRole,
    });
    alert(ok ? `${who} can now talk to the house.` : data.detail);
  }

  async function refresh() {
    const { ok, data } = await api("GET", "/api/messages?limit=20");
    if (!ok) {
      counts.textContent = data.detail || "messaging is not running";
      return;
    }
    const summary = Object.entries(data.counts).map(([k, v]) => `${v} ${k}`).join(", ") || "nothing yet";
    counts.textContent = `Channels: ${data.channels.join(", ") || "none"} · owner alerts via ${
      data.owner_channel ? data.owner_channel[0] : "nothing"
    } · ${summary}`;
    outbound.replaceChildren(
      ...data.outbound.map((m) =>
        el(
          "tr",
          { class: `status-${m.status}` },
          el("td", {}, String(m.id)),
          el("td", {}, when(m.created)),
          el("td", {}, m.status + (m.attempts > 1 ? ` (${m.attempts} tries)` : "")),
          el("td", {}, m.sent_channel || m.channel),
          el("td", {}, m.to),
          el("td", {}, m.text + (m.media.length ? ` [${m.media.length} image]` : "")),
          el("td", {}, m.error || m.note || ""),
        ),
      ),
    );
    inbound.replaceChildren(
      ...data.inbound
        .filter((m) => m.status !== "stranger")
        .map((m) =>
          el("tr", {}, el("td", {}, when(m.ts)), el("td", {}, m.name || m.sender), el("td", {}, m.channel),
            el("td", {}, m.status), el("td", {}, m.text)),
        ),
    );
    strangers.replaceChildren(
      ...data.strangers.map((m) => {
        const button = el("button", { type: "button" }, "Approve…");
        button.addEventListener("click", () => approve(m).then(refresh));
        return el("tr", {}, el("td", {}, when(m.ts)), el("td", {}, m.channel), el("td", {}, m.sender),
          el("td", {}, m.text), el("td", {}, button));
      }),
    );
  }

  pairForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { ok, data } = await api("POST", "/api/people/pairing", { name: name.value, role: role.value });
    pairingResult.textContent = ok ? `${data.instructions} (valid until ${when(data.expires)})` : data.detail;
  });

  let pending = null;
  onNotice("message", () => {
    // Bursts of notices (50 queued messages) refresh once.
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      refresh();
    }, 300);
  });
  refresh();
}

const STYLE = `
#messages .messages-table { width: 100%; border-collapse: collapse; font-size: .8rem; margin-bottom: .6rem; }
#messages .messages-table th, #messages .messages-table td { text-align: left; padding: .2rem .3rem; border-bottom: 1px solid var(--line, #ddd); vertical-align: top; }
#messages .messages-table td:nth-child(6) { max-width: 22rem; overflow-wrap: anywhere; }
#messages tr.status-failed td { color: #b00020; }
#messages h3 { font-size: .85rem; margin: .6rem 0 .3rem; }
#messages .messages-counts, #messages .messages-pairing { font-size: .8rem; }
`;

mount();
