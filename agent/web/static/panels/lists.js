// Lists panel: the owner's lists (shopping, to-do, and Home Assistant's to-do lists),
// each with its items; add an item, tick one off, or remove it. Changes made anywhere
// (a chat message, WhatsApp, the markdown file, HA's app) arrive as "lists" notices.
// Item text is inserted as text, never as HTML.

const { api, onNotice, on, el } = window.homeclaw || {};

function mount() {
  if (!api) return;
  const body = el("div", { class: "lists-body" });
  const panel = el("section", { class: "panel", id: "lists" }, el("h2", {}, "Lists"), body);
  document.getElementById("panels").append(panel);

  async function change(name, edit) {
    const { ok, data } = await api("POST", `/api/lists/${encodeURIComponent(name)}`, edit);
    if (!ok) alert(data.detail || "That did not work.");
    await refresh();
  }

  function listCard(list) {
    const items = el("ul", { class: "list-items" });
    for (const item of list.items) {
      items.append(el("li", { class: item.done ? "done" : "" },
        el("input", { type: "checkbox", checked: item.done, disabled: item.done, "aria-label": `tick off ${item.text}`,
          onchange: () => change(list.name, { complete: [item.text] }) }),
        el("span", {}, item.text),
        el("button", { class: "remove", "aria-label": `remove ${item.text}`, onclick: () => change(list.name, { remove: [item.text] }) }, "×")));
    }
    const input = el("input", { type: "text", placeholder: "add an item", "aria-label": `add to ${list.name}` });
    const form = el("form", { onsubmit: (e) => {
      e.preventDefault();
      if (input.value.trim()) change(list.name, { add: [input.value.trim()] });
    } }, input, el("button", { type: "submit" }, "Add"));
    const source = list.source === "homeassistant" ? " (Home Assistant)" : "";
    return el("div", { class: "list-card", "data-list": list.name }, el("h3", {}, list.name + source), items, form);
  }

  async function refresh() {
    const { ok, data } = await api("GET", "/api/lists");
    if (!ok) {
      body.replaceChildren(el("p", { class: "muted" }, data.detail || "lists are off"));
      return;
    }
    const cards = [];
    for (const entry of data.lists) {
      if (entry.error) {
        cards.push(el("div", { class: "list-card" }, el("h3", {}, entry.name), el("p", { class: "muted" }, entry.error)));
        continue;
      }
      const one = await api("GET", `/api/lists/${encodeURIComponent(entry.name)}`);
      if (one.ok) cards.push(listCard(one.data));
    }
    body.replaceChildren(...cards);
  }

  onNotice("lists", refresh);
  on("connected", refresh);
  panel.append(el("style", {}, STYLE));
}

const STYLE = `
#lists { order: 6; }
.lists-body { display: flex; flex-wrap: wrap; gap: .8rem; }
.list-card { flex: 1 1 220px; min-width: 0; }
.list-card h3 { margin: .2rem 0 .4rem; font-size: 1rem; }
.list-items { list-style: none; padding: 0; margin: 0 0 .5rem; }
.list-items li { display: flex; align-items: center; gap: .4rem; padding: .15rem 0; }
.list-items li span { flex: 1; overflow-wrap: anywhere; }
.list-items li.done span { text-decoration: line-through; opacity: .6; }
.list-items .remove { border: 0; background: none; cursor: pointer; font-size: 1.1rem; line-height: 1; }
.list-card form { display: flex; gap: .4rem; }
.list-card form input { flex: 1; min-width: 0; }
`;

mount();
