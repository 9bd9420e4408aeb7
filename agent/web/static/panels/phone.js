// The demo's simulated phone: type as the owner over "WhatsApp" and see the house reply.
// Messages go to the Twilio fake's phone (through POST /api/messaging/phone), which signs
// and posts the webhook exactly like Twilio; replies come back through the real outbox.
// Only shown in `homeclaw demo`. All text is inserted as text, never as HTML.

const { api, onNotice, el, demo } = window.homeclaw || {};

function mount() {
  if (!demo || !api) return;
  const thread = el("div", { class: "phone-thread", role: "log", "aria-live": "polite" });
  const input = el("input", {
    type: "text",
    placeholder: "turn off all the lights",
    autocomplete: "off",
    "aria-label": "WhatsApp message",
  });
  const status = el("p", { class: "phone-status" });
  const form = el("form", { class: "phone-form" }, input, el("button", { type: "submit", class: "primary" }, "Send"));
  const panel = el(
    "section",
    { class: "panel", id: "phone" },
    el("h2", {}, "Phone (simulated WhatsApp)"),
    el("div", { class: "phone-frame" }, el("div", { class: "phone-bar" }, "WhatsApp · the house"), thread, form),
    status,
    el("style", {}, STYLE),
  );
  document.getElementById("panels").append(panel);

  let shown = "";
  async function refresh() {
    const { ok, data } = await api("GET", "/api/messaging/phone");
    if (!ok) {
      status.textContent = data.detail || "the simulated phone is not available";
      return;
    }
    const key = JSON.stringify(data.messages.map((m) => [m.ts, m.status]));
    if (key === shown) return;
    shown = key;
    thread.replaceChildren(
      ...data.messages.map((m) =>
        el(
          "div",
          { class: `bubble ${m.direction === "in" ? "mine" : "theirs"}` },
          m.text ? el("span", {}, m.text) : null,
          ...(m.media || []).map((url) => el("img", { src: url, alt: "image from the house", loading: "lazy" })),
          el(
            "small",
            {},
            `${window.homeclaw.when(m.ts, "time")}${m.direction === "out" ? ` · ${m.channel} · ${m.status}` : ""}`,
          ),
        ),
      ),
    );
    thread.scrollTop = thread.scrollHeight;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    status.textContent = "sending…";
    const { ok, data } = await api("POST", "/api/messaging/phone", { text });
    status.textContent = ok && data.status === 200 ? "" : `the webhook answered ${data.status || data.detail}`;
    refresh();
  });

  onNotice("message", () => refresh());
  setInterval(refresh, 3000);
  refresh();
}

const STYLE = `
#phone .phone-frame { max-width: 360px; border: 8px solid #222; border-radius: 24px; overflow: hidden; background: #efeae2; }
#phone .phone-bar { background: #075e54; color: white; padding: .5rem .8rem; font-size: .9rem; }
#phone .phone-thread { height: 320px; overflow-y: auto; padding: .5rem; display: flex; flex-direction: column; gap: .35rem; }
#phone .bubble { max-width: 80%; padding: .35rem .55rem; border-radius: 8px; font-size: .9rem; display: flex; flex-direction: column; gap: .2rem; color: #111; }
#phone .bubble.mine { align-self: flex-end; background: #d9fdd3; }
#phone .bubble.theirs { align-self: flex-start; background: white; }
#phone .bubble img { max-width: 100%; border-radius: 6px; }
#phone .bubble small { color: #667; font-size: .7rem; }
#phone .phone-form { display: flex; gap: .3rem; padding: .4rem; background: #f0f0f0; }
#phone .phone-form input { flex: 1; }
#phone .phone-status { font-size: .8rem; min-height: 1em; }
`;

mount();
