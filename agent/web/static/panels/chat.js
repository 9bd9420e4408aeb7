// Chat panel: talk to the house (POST /api/chat), confirm high-risk commands with
// their one-time code (POST /api/confirm), and see the recent conversation
// (GET /api/chat). Uses the shell's window.homeclaw helpers; the cookie carries
// the API token.

// A wall tablet opened for a room (`/?area=kitchen`) talks from that room, in its own
// conversation: "turn on the lights" there means the kitchen's.
const AREA = new URLSearchParams(window.location.search).get("area") || null;
const CONVERSATION = AREA ? `web:${AREA}` : "web:owner";

const STYLE = `
#chat .chat-log { max-height: 26rem; min-height: 4rem; overflow: auto; display: flex; flex-direction: column;
  gap: .35rem; margin-bottom: .6rem; }
#chat .chat-line { margin: 0; padding: .35rem .6rem; border-radius: .5rem; max-width: 85%;
  overflow-wrap: anywhere; white-space: pre-wrap; }
#chat .chat-user { align-self: flex-end; background: var(--line); }
#chat .chat-house { align-self: flex-start; border: 1px solid var(--line); }
#chat .chat-pending { color: var(--muted); }
#chat .chat-form, #chat .chat-confirm { display: flex; gap: .4rem; flex-wrap: wrap;
  align-items: center; }
#chat .chat-form input { flex: 1; min-width: 12rem; }
#chat .chat-path { font-size: .7rem; color: var(--muted); margin-left: .4rem; }
#chat .chat-tries { display: flex; gap: .4rem; flex-wrap: wrap; align-items: center;
  margin-bottom: .6rem; font-size: .85rem; color: var(--muted); }
#chat .chat-llm { font-size: .8rem; color: var(--muted); margin: 0 0 .5rem; }
#chat .chat-llm[data-blocked] { color: var(--warn, #b60); }
#chat .chat-tries button { font-size: .8rem; padding: .15rem .6rem; border-radius: 99px; }
`;

// Shown while the conversation is empty: something to say that works in any home.
const TRIES = ["what can you do?", "which lights are on?"];

// The shell's helpers (window.homeclaw), with small stand-ins if it is missing.
const shell = window.homeclaw || {};
const el =
  shell.el ||
  ((tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  });

async function call(method, path, body) {
  if (shell.api) return shell.api(method, path, body);
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json", "X-Homeclaw": "1" } : { "X-Homeclaw": "1" },
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { error: "http", detail: `HTTP ${response.status}` };
  }
  return { status: response.status, ok: response.ok, data };
}

function mount() {
  const host =
    document.querySelector("#panels") || document.querySelector("main") || document.body;
  const log = el("div", { class: "chat-log", role: "log", "aria-live": "polite" });
  const input = el("input", {
    type: "text",
    name: "text",
    placeholder: "Say something to the house…",
    autocomplete: "off",
    "aria-label": "Message",
  });
  const send = el("button", { type: "submit" }, "Send");
  const form = el("form", { class: "chat-form" }, input, send);
  const tries = el("div", { class: "chat-tries" }, "Try:");
  for (const text of TRIES) {
    const chip = el("button", { type: "button" }, text);
    chip.addEventListener("click", () => {
      input.value = text;
      form.requestSubmit();
    });
    tries.append(chip);
  }
  const llm = el("p", { class: "chat-llm", id: "chat-llm" });
  const panel = el(
    "section",
    { class: "panel chat-panel", id: "chat" },
    el("h2", {}, "Chat"),
    llm,
    tries,
    log,
    form,
  );
  document.head.append(el("style", {}, STYLE));
  host.append(panel);

  // Text goes in as text nodes: replies may quote device names or messages.
  function line(who, text, extra = "", path = "") {
    tries.remove();
    const row = el("p", { class: `chat-line chat-${who} ${extra}`.trim() });
    row.append(String(text));
    if (path) row.append(el("span", { class: "chat-path", title: "who understood it" }, path));
    log.append(row);
    log.scrollTop = log.scrollHeight;
    return row;
  }

  function confirmBox(confirmation) {
    const code = el("input", {
      type: "text",
      inputmode: "numeric",
      pattern: "[0-9 \\-]{4,14}",
      size: "9",
      "aria-label": "Confirmation code",
    });
    const ok = el("button", { type: "submit" }, "Confirm");
    const expires = new Date(confirmation.expires_at);
    const box = el(
      "form",
      { class: "chat-confirm" },
      `Type the code to confirm (until ${shell.when ? shell.when(expires, "time") : expires.toLocaleTimeString()}): `,
      code,
      ok,
    );
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      ok.disabled = true;
      const { data } = await call("POST", "/api/confirm", { code: code.value.trim() });
      line("house", data.reply || data.detail || "Something went wrong.");
      if (data.status === "done" || data.status === "partial" || data.status === "expired") {
        box.remove();
      } else {
        ok.disabled = false;
      }
    });
    log.append(box);
    code.focus();
  }

  // What the LLM spent today, its budget, and why it is paused (budget, breaker).
  async function refreshLLM() {
    const { ok, data } = await call("GET", "/api/health");
    const brain = ok && data.components && data.components.brain;
    if (!brain || !brain.llm || brain.provider === "none") {
      llm.textContent = brain ? "No language model: simple commands are understood locally." : "";
      return;
    }
    const used = brain.llm.prompt_tokens + brain.llm.completion_tokens;
    const budget = brain.llm.daily_token_budget;
    let text = `${brain.model}: ${brain.llm.calls} calls, ${used.toLocaleString()} tokens today`;
    if (budget) text += ` of ${budget.toLocaleString()}`;
    if (brain.llm.blocked) {
      text += ` — paused: ${brain.llm.blocked}; simple commands still work.`;
      llm.dataset.blocked = "";
    } else {
      delete llm.dataset.blocked;
    }
    llm.textContent = text;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    line("user", text);
    send.disabled = true;
    const thinking = line("house", "…", "chat-pending");
    try {
      const body = { text, conversation: CONVERSATION };
      if (AREA) body.area = AREA;
      const { data } = await call("POST", "/api/chat", body);
      thinking.remove();
      line("house", data.reply ?? data.detail ?? "No answer.", "", data.path || "");
      if (data.confirmation && data.confirmation.code_required) confirmBox(data.confirmation);
    } catch (error) {
      thinking.remove();
      line("house", `The daemon did not answer (${error}).`, "chat-error");
    } finally {
      send.disabled = false;
      input.focus();
      refreshLLM();
    }
  });
  refreshLLM();

  call("GET", `/api/chat?conversation=${encodeURIComponent(CONVERSATION)}`).then(
    ({ status, data }) => {
      if (status !== 200 || !data.messages) return;
      for (const message of data.messages) {
        line(message.role === "user" ? "user" : "house", message.content);
      }
    },
  );
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", mount);
} else {
  mount();
}
