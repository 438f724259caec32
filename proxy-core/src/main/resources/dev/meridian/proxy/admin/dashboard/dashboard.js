// Meridian's dashboard: renders /admin/api/stream snapshots (one a second); no library, no build step.
"use strict";

const HISTORY = 120;
const PALETTE = ["#2e86de", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#d35400", "#7f8c8d"];
const state = { group: null, snapshot: null, series: {}, colors: {} };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
  }
  return node;
}

function fmt(value, digits) {
  return value == null || Number.isNaN(value) ? "–" : Number(value).toFixed(digits);
}

function colorOf(region) {
  if (!state.colors[region]) {
    state.colors[region] = PALETTE[Object.keys(state.colors).length % PALETTE.length];
  }
  return state.colors[region];
}

function setStatus(text, kind) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = "status " + (kind || "");
}

function say(text) {
  document.getElementById("message").textContent = text;
}

async function act(group, region, action, query) {
  const path = `/admin/api/regions/${encodeURIComponent(group)}/${encodeURIComponent(region)}/${action}` + (query || "");
  try {
    const response = await fetch(path, authorized({ method: "POST" }));
    const body = await response.text();
    say(response.ok ? `${region}: ${action}${query || ""} applied` : `${region}: ${response.status} ${body}`);
    if (response.status === 401) askForToken();
  } catch (e) {
    say(`${region}: ${e}`);
  }
}

function regionCard(group, name) {
  const card = el("article", { class: "card", "data-region": name },
    el("h3", {}, name, el("span", { "data-field": "badges" })),
    el("div", { class: "share", "data-field": "share" }, "–"),
    el("dl", { "data-field": "figures" }),
    el("div", { class: "controls" },
      ...[0, 50, 100].map((p) => el("button", { "data-action": "dial", "data-percent": String(p),
        onclick: () => act(group, name, "dial", `?percent=${p}`) }, `dial ${p}%`)),
      el("button", { "data-action": "eject", onclick: () => act(group, name, "eject") }, "eject"),
      el("button", { "data-action": "restore", onclick: () => act(group, name, "restore") }, "restore")));
  card.style.setProperty("--region-color", colorOf(name));
  return card;
}

// Updates a card in place (its buttons stay the same elements between updates).
function updateCard(card, r) {
  const badges = [];
  if (r.panic) badges.push(el("span", { class: "badge panic" }, "panic"));
  if (r.dial < 100) badges.push(el("span", { class: "badge dialled" }, `dial ${r.dial}%`));
  card.querySelector("[data-field=badges]").replaceChildren(...badges);
  card.querySelector("[data-field=share]").textContent = fmt(r.share * 100, 0) + "%";
  const figure = (label, field, value) => [el("dt", {}, label), el("dd", { "data-field": field }, value)];
  card.querySelector("[data-field=figures]").replaceChildren(
    ...figure("healthy", "healthy", `${r.available} / ${r.backends}`),
    ...figure("requests/s", "rps", fmt(r.rps, 1)),
    ...figure("errors/s", "errors", fmt(r["errors-per-second"], 1)),
    ...figure("p50 / p99", "latency", `${fmt(r["p50-ms"], 1)} / ${fmt(r["p99-ms"], 1)} ms`),
    ...figure("p99, last minute", "p99-1m", `${fmt(r["p99-ms-1m"], 1)} ms`),
    ...figure("best EWMA", "ewma", `${fmt(r["ewma-ms"], 1)} ms`),
    ...figure("dial", "dial", `${r.dial}%`),
    ...figure("in flight", "in-flight", r["in-flight"]));
}

function renderCards(group, regions) {
  const container = document.getElementById("regions");
  const wanted = regions.map((r) => group + "/" + r.name).join(",");
  if (container.dataset.regions !== wanted) {
    container.replaceChildren(...regions.map((r) => regionCard(group, r.name)));
    container.dataset.regions = wanted;
  }
  regions.forEach((r, i) => updateCard(container.children[i], r));
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows);
}

function render(snapshot) {
  const names = Object.keys(snapshot.groups);
  if (!names.length) {
    say("no backend groups");
    return;
  }
  if (!state.group || !snapshot.groups[state.group]) state.group = names[0];
  const choice = document.getElementById("group");
  if (choice.options.length !== names.length) {
    choice.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    choice.value = state.group;
    document.getElementById("group-choice").hidden = names.length < 2;
  }
  const group = snapshot.groups[state.group];
  renderCards(state.group, group.regions);

  fillTable("failover", Object.entries(group.failover).map(([client, order]) =>
    el("tr", {}, el("td", {}, client), el("td", {}, order.join(" → ")))));
  fillTable("backends", group.backends.map((b) => el("tr", { "data-backend": b.id },
    el("td", {}, b.id), el("td", {}, b.region), el("td", {}, b.address),
    el("td", { class: b.available ? "in" : "out" }, b.available ? "available" : "out: " + b["out-reasons"].join(", ")),
    el("td", { class: "num", "data-field": "rps" }, fmt(b.rps, 1)),
    el("td", { class: "num" }, fmt(b["ewma-ms"], 1)), el("td", { class: "num" }, b["in-flight"]))));
  // The group shown, and requests no group served (no route, a local answer).
  const decisions = snapshot.decisions.filter((d) => !d.group || d.group === state.group);
  fillTable("decisions", decisions.map((d) => el("tr", {},
    el("td", {}, new Date(d.time).toLocaleTimeString()), el("td", {}, `${d.method || ""} ${d.path || ""}`),
    el("td", {}, d["client-region"] || "unknown"), el("td", {}, d.backend ? `${d.backend} (${d.region})` : "–"),
    el("td", { class: "num" }, d.status), el("td", { class: "num" }, fmt(d.ms, 1)), el("td", {}, d.why || ""))));

  for (const r of group.regions) {
    const key = state.group + "/" + r.name;
    if (!state.series[key] && group.history && group.history[r.name]) {
      // A page that just opened starts from the server's last minute, second by second.
      const past = group.history[r.name];
      state.series[key] = { share: past.share.slice(0, -1), p99: past["p99-ms"].slice(0, -1) };
    }
    const s = state.series[key] || (state.series[key] = { share: [], p99: [] });
    s.share.push(r.share);
    s.p99.push(r["p99-ms"]);
    if (s.share.length > HISTORY) { s.share.shift(); s.p99.shift(); }
  }
  const regions = group.regions.map((r) => r.name);
  draw("share-chart", regions, "share", 1, (v) => `${Math.round(v * 100)}%`);
  const peak = Math.max(1, ...regions.flatMap((r) => state.series[state.group + "/" + r].p99.filter((v) => v != null && !Number.isNaN(v))));
  draw("p99-chart", regions, "p99", peak * 1.1, (v) => `${Math.round(v)} ms`);
  document.getElementById("legend").replaceChildren(...regions.map((r) => {
    const item = el("span", {}, r);
    item.style.setProperty("--swatch", colorOf(r));
    return item;
  }));
}

function draw(id, regions, field, top, label) {
  const canvas = document.getElementById(id);
  const g = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 48, bottom = 18;
  g.clearRect(0, 0, w, h);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#677086";
  g.strokeStyle = "#dde1e8";
  for (let i = 0; i <= 4; i++) {
    const y = (h - bottom) * (1 - i / 4);
    g.beginPath(); g.moveTo(left, y); g.lineTo(w, y); g.stroke();
    g.fillText(label(top * i / 4), 2, Math.max(10, y + 4));
  }
  g.fillText(`last ${HISTORY} s`, w - 60, h - 4);
  const step = (w - left) / (HISTORY - 1);
  for (const region of regions) {
    const values = state.series[state.group + "/" + region][field];
    g.strokeStyle = colorOf(region);
    g.lineWidth = 2;
    g.beginPath();
    let pen = false;
    values.forEach((v, i) => {
      if (v == null || Number.isNaN(v)) { pen = false; return; }
      const x = left + (HISTORY - values.length + i) * step;
      const y = (h - bottom) * (1 - Math.min(v, top) / top);
      if (pen) g.lineTo(x, y); else g.moveTo(x, y);
      pen = true;
    });
    g.stroke();
  }
}

// The admin token, when one is configured: kept in this tab's session storage, which belongs to
// this page's origin alone (a cookie would go to every port of the host, to the proxy's own
// listeners and on to their backends), and sent as an Authorization header.
const TOKEN_KEY = "meridian_admin_token";

function authorized(init) {
  const options = Object.assign({}, init || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) options.headers = { Authorization: `Bearer ${token}` };
  return options;
}

// Reads the Server-Sent Events of /admin/api/stream through fetch (EventSource cannot send the
// token). Returns when the stream ends; throws when it cannot be read; "token" on a 401.
async function stream() {
  const response = await fetch("/admin/api/stream", authorized());
  if (response.status === 401) return "token";
  if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "ended";
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (data && lines.includes("event: snapshot")) {
        setStatus("live", "live");
        state.snapshot = JSON.parse(data);
        render(state.snapshot);
      }
    }
  }
}

let polling = false;

async function connect() {
  if (!window.ReadableStream || !window.TextDecoderStream) {
    if (!polling) {
      polling = true;
      setInterval(poll, 1000);
    }
    return;
  }
  for (;;) {
    let outcome;
    try {
      outcome = await stream();
    } catch (e) {
      outcome = "failed";
    }
    if (outcome === "token") {
      askForToken();
      return;
    }
    setStatus("reconnecting", "down");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function askForToken() {
  setStatus("token needed", "down");
  document.getElementById("login").hidden = false;
}

function useToken(event) {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
  document.getElementById("login").hidden = true;
  connect();
}

async function poll() {
  try {
    const response = await fetch("/admin/api/dashboard", authorized());
    if (response.status === 401) {
      askForToken();
      return;
    }
    render(await response.json());
    setStatus("live (polling)", "live");
  } catch (e) {
    setStatus("unreachable", "down");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  // Earlier versions kept the token in a cookie, which the browser sends to every port of the host:
  // expire any such cookie left from them.
  document.cookie = `${TOKEN_KEY}=; path=/; max-age=0; SameSite=Strict`;
  document.getElementById("login").addEventListener("submit", useToken);
  document.getElementById("group").addEventListener("change", (e) => {
    state.group = e.target.value;
    if (state.snapshot) render(state.snapshot);
  });
  connect();
});
