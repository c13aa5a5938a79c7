// The grid worker's phone: my open orders, one big button for the next step.
"use strict";

const { api, el, OPEN, SEV_RANK, KIND_LABEL, STATUS_LABEL, ms, duration } = GW;
const NEXT = {
  dispatched: ["accept", "Accept"], created: ["accept", "Accept"], accepted: ["en-route", "I'm on my way"],
  en_route: ["on-site", "I'm on site"], on_site: ["resolve", "Resolved"],
};
const W = { me: null, worker: null, orders: new Map() };

function toast(text, ok = false) {
  const t = document.getElementById("toast");
  t.textContent = text; t.className = "toast" + (ok ? " ok" : ""); t.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 3500);
}

async function start() {
  try { W.me = await api("/me"); } catch (e) { return GW.signIn(start); }
  if (W.me.role !== "worker") { document.getElementById("empty").hidden = false;
    document.getElementById("empty").textContent = "This view is for grid workers; dispatchers use the console at /."; return; }
  W.worker = await api(`/workers/${W.me.worker_id}`);
  document.getElementById("who").textContent = `${W.worker.name} · ${W.worker.id} · grid ${W.worker.grid_id}`;
  document.getElementById("tools").hidden = false;
  document.getElementById("signout").onclick = GW.signOut;
  document.getElementById("duty").onclick = toggleDuty;
  document.getElementById("locate").onclick = sendLocation;
  showDuty();
  await load();
  GW.stream(onEvent, (state) => {
    const c = document.getElementById("conn");
    c.textContent = state === "live" ? "live" : "reconnecting…"; c.className = "conn " + state;
    if (state === "live") load();
  });
  setInterval(render, 1000);
}

async function load() {
  const page = await api("/work-orders?status=open&limit=200");
  W.orders = new Map(page.items.map((o) => [o.id, o]));
  render();
}

function onEvent(ev) {
  if (ev.type === "worker") { W.worker = ev.data; showDuty(); return; }
  if (ev.type !== "order") return;
  const o = ev.data;
  if (o.assignee === W.me.worker_id && OPEN.includes(o.status)) W.orders.set(o.id, { ...W.orders.get(o.id), ...o });
  else W.orders.delete(o.id);
  render();
}

function card(o, now) {
  const [action, label] = NEXT[o.status] || [];
  const maps = o.lat != null ? `geo:${o.lat},${o.lon}` : null;
  return el("article", { class: `card ${o.severity}`, "data-order": o.id, "data-status": o.status },
    el("div", { class: "head" }, el("span", { class: "sev" }, `${o.severity} · ${KIND_LABEL[o.kind] || o.kind}`),
      el("span", { class: "age" }, `#${o.id} · ${duration((now - ms(o.created_at)) / 1000)} ago`)),
    el("div", { class: "reason" }, o.reason || "Check the device"),
    el("div", { class: "place" }, el("span", { class: "pin" }), o.place || o.device_id),
    el("div", { class: "meta" }, `device ${o.device_id} · grid ${o.grid_id}`, maps ? " · " : "",
      maps ? el("a", { class: "maplink", href: maps }, "open in maps") : null),
    el("span", { class: "status" }, STATUS_LABEL[o.status] || o.status),
    action ? el("button", { class: `big ${action.replace("-", "_")}`, "data-action": action,
      onclick: (e) => act(o, action, e.target) }, label) : null);
}

async function act(o, action, button) {
  button.disabled = true;
  try {
    const updated = await api(`/work-orders/${o.id}/${action}`, { method: "POST", body: {} });
    W.orders.set(o.id, { ...o, ...updated });
    toast(`#${o.id}: ${STATUS_LABEL[updated.status]}`, true);
  } catch (e) { toast(e.message); }
  render();
}

function render() {
  const now = Date.now();
  const list = [...W.orders.values()].sort((a, b) => (SEV_RANK[b.severity] - SEV_RANK[a.severity]) || (ms(a.created_at) - ms(b.created_at)));
  const busy = document.activeElement && document.activeElement.tagName === "BUTTON" && document.activeElement.disabled;
  if (busy) return;
  document.getElementById("orders").replaceChildren(...list.map((o) => card(o, now)));
  document.getElementById("empty").hidden = list.length > 0;
}

function showDuty() {
  const b = document.getElementById("duty");
  b.textContent = W.worker.on_duty ? "On duty ✓" : "Off duty";
  b.className = "tool" + (W.worker.on_duty ? " on" : "");
}

async function toggleDuty() {
  try { W.worker = await api(`/workers/${W.me.worker_id}/duty`, { method: "PUT", body: { on_duty: !W.worker.on_duty } }); showDuty(); }
  catch (e) { toast(e.message); }
}

function sendLocation() {
  if (!navigator.geolocation) return toast("This phone cannot share its location");
  navigator.geolocation.getCurrentPosition(async (p) => {
    try { await api(`/workers/${W.me.worker_id}/location`, { method: "PUT", body: { lat: p.coords.latitude, lon: p.coords.longitude } });
      toast("Location sent", true); } catch (e) { toast(e.message); }
  }, () => toast("Location not available"), { enableHighAccuracy: true, timeout: 10000 });
}

GW.takeToken() ? start() : GW.signIn(start);
