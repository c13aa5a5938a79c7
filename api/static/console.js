// The dispatcher console: live board of open orders (red first, age, SLA countdown),
// the town map, and an order's detail with its timeline and actions.
"use strict";

const { api, el, OPEN, SEV_RANK, KIND_LABEL, STATUS_LABEL, ms, duration } = GW;
const S = { me: null, town: null, orders: new Map(), grids: [], devices: [], workers: [], targets: {}, selected: null, fresh: new Set() };

function toast(text, ok = false) {
  const t = document.getElementById("toast");
  t.textContent = text; t.className = "toast" + (ok ? " ok" : ""); t.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// ---------------------------------------------------------------- start-up

async function start() {
  try { S.me = await api("/me"); } catch (e) { document.getElementById("main").hidden = true; return GW.signIn(start); }
  if (S.me.role === "worker") { location.href = "/worker" + location.hash; return; }
  document.getElementById("main").hidden = false;
  document.body.classList.remove("signed-out");
  document.getElementById("who").textContent = `${S.me.name} · ${S.me.role}`;
  document.getElementById("signout").onclick = GW.signOut;
  S.targets = await api("/sla-targets");
  const staff = S.me.role === "admin" || S.me.role === "dispatcher";
  const towns = staff ? await api("/towns") : [];
  const select = document.getElementById("town");
  select.replaceChildren(...towns.map((t) => el("option", { value: t.id }, `${t.id}  (${t.open_orders.red} red)`)));
  const busiest = [...towns].sort((a, b) => b.open_orders.red - a.open_orders.red || b.open_orders.total - a.open_orders.total)[0];
  S.town = S.me.town_id || (busiest && busiest.id) || null;
  select.value = S.town || "";
  select.disabled = S.me.role !== "admin";
  select.onchange = () => { S.town = select.value; loadTown(); };
  document.querySelector(".mapbox").hidden = !staff;
  document.body.classList.toggle("no-map", !staff);
  await loadTown();
  GW.stream(onEvent, (state) => {
    const c = document.getElementById("conn");
    c.textContent = state === "live" ? "live" : "reconnecting…"; c.className = "conn " + state;
    if (state === "live") loadOrders();  // catch up on anything missed while away
  });
  setInterval(tick, 1000);
  tick();
}

async function loadTown() {
  const q = S.town ? `town_id=${encodeURIComponent(S.town)}` : "";
  const staff = S.me.role === "admin" || S.me.role === "dispatcher";
  if (staff && S.town) {
    [S.grids, S.devices, S.workers] = await Promise.all([
      api(`/grids?${q}`), api(`/devices?${q}&limit=10000`).then((p) => p.items), api(`/workers?${q}`),
    ]);
  }
  await loadOrders();
}

async function loadOrders() {
  const town = S.town && S.me.role === "admin" ? `&town_id=${encodeURIComponent(S.town)}` : "";
  const page = await api(`/work-orders?status=open&limit=1000${town}`);
  S.orders = new Map(page.items.map((o) => [o.id, o]));
  render();
}

// ---------------------------------------------------------------- live events

function onEvent(ev) {
  const d = ev.data;
  if (ev.type === "order") {
    if (S.town && d.town_id && d.town_id !== S.town) return;
    if (OPEN.includes(d.status)) {
      if (!S.orders.has(d.id)) S.fresh.add(d.id);
      S.orders.set(d.id, { ...S.orders.get(d.id), ...d });
    } else {
      S.orders.delete(d.id);
    }
    scheduleRender();
    if (S.selected === d.id) showDetail(d.id);
    if (S.workers.length) {  // assignments change workers' load: refresh them, at most every 5 s
      clearTimeout(onEvent.crewTimer);
      onEvent.crewTimer = setTimeout(async () => {
        S.workers = await api(`/workers?town_id=${encodeURIComponent(S.town)}`); scheduleRender();
      }, 5000);
    }
  } else if (ev.type === "worker") {
    const i = S.workers.findIndex((w) => w.id === d.id);
    if (i >= 0) { S.workers[i] = d; scheduleRender(); }
  } else if (ev.type === "alert") {  // keep the map's alerting devices current without a reload
    const dev = S.devices.find((x) => x.device_id === d.device_id);
    if (!dev) return;
    const others = (dev.open_alerts || []).filter((a) => a.fingerprint !== d.fingerprint);
    dev.open_alerts = d.state === "firing" ? [...others, d] : others;
    scheduleRender();
  }
}

function scheduleRender() {
  if (scheduleRender.pending) return;
  scheduleRender.pending = true;
  requestAnimationFrame(() => { scheduleRender.pending = false; render(); });
}

// ---------------------------------------------------------------- board

function sorted() {
  return [...S.orders.values()].sort((a, b) =>
    (SEV_RANK[b.severity] - SEV_RANK[a.severity]) || (ms(a.created_at) - ms(b.created_at)));
}

function sla(o, now) {
  const t = S.targets[o.severity];
  const start = ms(o.dispatched_at || o.created_at);
  if (!t || !start || o.status === "on_site") return null;
  const accepting = o.status === "created" || o.status === "dispatched";
  const due = start + 1000 * (accepting ? t.accept_s : t.arrive_s);
  return { left: (due - now) / 1000, what: accepting ? "to accept" : "to arrive", total: accepting ? t.accept_s : t.arrive_s };
}

function slaCell(o, now) {
  const s = sla(o, now);
  if (!s) return el("span", { class: "sla ok" }, "on site");
  const cls = s.left < 0 ? "late" : s.left < s.total * 0.25 ? "soon" : "ok";
  const text = s.left < 0 ? `+${duration(-s.left)} late` : duration(s.left);
  return el("span", { class: "sla " + cls }, text, el("small", {}, s.left < 0 ? "" : s.what));
}

function row(o, now) {
  const tr = el("tr", { class: `order ${o.severity}${S.fresh.has(o.id) ? " fresh" : ""}${S.selected === o.id ? " selected" : ""}`,
    "data-order": o.id, "data-status": o.status, onclick: () => showDetail(o.id) },
  el("td", { class: "sev" }),
  el("td", {}, el("span", { class: "oid" }, `#${o.id}`), el("span", { class: "sevtag" }, o.severity),
    el("div", { class: "place" }, KIND_LABEL[o.kind] || o.kind)),
  el("td", {}, el("div", {}, el("span", { class: "dev" }, o.device_id), o.place ? el("span", { class: "who-at" }, ` · ${o.place}`) : null),
    el("div", { class: "place" }, o.reason || "")),
  el("td", {}, o.grid_id),
  el("td", {}, o.assignee || el("span", { class: "muted" }, "—")),
  el("td", {}, el("span", { class: "status " + o.status }, STATUS_LABEL[o.status] || o.status)),
  el("td", { class: "age", "data-created": o.created_at }, duration((now - ms(o.created_at)) / 1000)),
  el("td", { class: "slacell" }, slaCell(o, now)));
  return tr;
}

function render() {
  const now = Date.now(), list = sorted();
  document.getElementById("orders").replaceChildren(...list.map((o) => row(o, now)));
  S.fresh.clear();
  document.getElementById("empty").hidden = list.length > 0;
  document.getElementById("board-count").textContent = `${list.length} open`;
  const n = { red: 0, orange: 0, yellow: 0, blue: 0 };
  list.forEach((o) => { n[o.severity] += 1; });
  document.getElementById("counts").replaceChildren(
    ...Object.entries(n).map(([k, v]) => el("span", { class: "chip " + k, title: k }, `${v} ${k}`)));
  renderCrew(list);
  const opt = document.querySelector(`#town option[value="${S.town}"]`);
  if (opt) opt.textContent = `${S.town}  (${n.red} red)`;
  GWMap.draw(document.getElementById("map"), { grids: S.grids, devices: S.devices, orders: list, workers: S.workers, onOrder: showDetail });
}

function renderCrew(list) {
  const box = document.getElementById("crew-box");
  box.hidden = !S.workers.length;
  const busy = new Set(list.filter((o) => o.status !== "dispatched").map((o) => o.assignee));
  const onDuty = S.workers.filter((w) => w.on_duty).length;
  document.getElementById("crew-count").textContent = `${onDuty} of ${S.workers.length} on duty`;
  document.getElementById("crew").replaceChildren(...S.workers.map((w) => el("div", {
    class: "person" + (w.on_duty ? "" : " off") + (busy.has(w.id) ? " busy" : ""), "data-worker": w.id,
    title: `${w.skills.join(", ")}${w.located_at ? " · located " + new Date(w.located_at).toLocaleTimeString() : ""}` },
  el("span", { class: "state" }),
  el("div", {}, el("div", { class: "nm" }, `${w.id} ${w.name}`),
    el("div", { class: "sub" }, `${w.grid_id} · ${w.role}${w.on_duty ? "" : " · off duty"}`)),
  el("span", { class: "load" }, `${w.load} open`))));
}

function tick() {
  const now = Date.now();
  document.getElementById("clock").textContent = new Date(now).toLocaleTimeString([], { hour12: false });
  for (const tr of document.querySelectorAll("#orders tr.order")) {
    const o = S.orders.get(Number(tr.dataset.order));
    if (!o) continue;
    tr.querySelector(".age").textContent = duration((now - ms(o.created_at)) / 1000);
    tr.querySelector(".slacell").replaceChildren(slaCell(o, now));
  }
}

// ---------------------------------------------------------------- detail and actions

async function showDetail(id) {
  S.selected = id;
  const box = document.getElementById("detail");
  let o;
  try { o = await api(`/work-orders/${id}`); } catch (e) { return toast(e.message); }
  box.hidden = false;
  const staff = S.me.role === "admin" || S.me.role === "dispatcher";
  box.replaceChildren(...[
    el("button", { class: "ghost close-x", onclick: () => { box.hidden = true; S.selected = null; render(); } }, "✕"),
    el("h3", {}, `#${o.id} `, el("span", { class: `chip ${o.severity}` }, o.severity), " ", KIND_LABEL[o.kind] || o.kind),
    el("div", { class: "reason" }, o.reason || "(no reason given)"),
    el("dl", {},
      el("dt", {}, "Device"), el("dd", { class: "dev" }, o.device_id),
      el("dt", {}, "Place"), el("dd", {}, o.place || "—"),
      el("dt", {}, "Grid · town"), el("dd", {}, `${o.grid_id} · ${o.town_id || "—"}`),
      el("dt", {}, "Status"), el("dd", {}, el("span", { class: "status " + o.status }, STATUS_LABEL[o.status])),
      el("dt", {}, "Assignee"), el("dd", {}, `${o.assignee || "—"}${o.backup ? `  (backup ${o.backup})` : ""}`),
      el("dt", {}, "Escalation"), el("dd", {}, `level ${o.escalation_level}`),
      el("dt", {}, "Created"), el("dd", {}, new Date(o.created_at).toLocaleString()),
      el("dt", {}, "Departments"), el("dd", {}, o.departments.length
        ? o.departments.map((c) => `${c.dept_id} (${c.status})`).join(", ") : "—")),
    staff ? actions(o) : S.me.role === "department" ? departmentActions(o) : null,
    el("h4", {}, "Timeline"),
    el("ol", { class: "timeline" }, o.timeline.map((e) => el("li", {},
      el("div", {}, el("span", { class: "t" }, new Date(e.at).toLocaleTimeString([], { hour12: false })), " ",
        el("span", { class: "ty" }, e.type.replace(/_/g, " ")), " ", el("span", { class: "muted" }, e.actor)),
      e.note ? el("div", { class: "note" }, e.note) : null)))].filter(Boolean));
  render();
}

function departmentActions(o) {
  const call = o.departments.find((c) => c.dept_id === S.me.dept_id && (c.status === "called" || c.status === "overdue"));
  if (!call) return null;
  const note = el("input", { name: "note", placeholder: "e.g. ambulance 7 on its way", style: "flex:1" });
  const answer = (what) => async () => {
    try {
      await api(`/departments/${encodeURIComponent(S.me.dept_id)}/calls/${call.id}/${what}`,
        { method: "POST", body: { note: note.value || null } });
      toast(`#${o.id}: call ${what === "accept" ? "accepted" : "returned"}`, true);
      showDetail(o.id);
    } catch (e) { toast(`#${o.id}: ${e.message}`); }
  };
  return el("div", { class: "actions" },
    el("div", {}, `${call.purpose || "Called"} · answer by ${new Date(call.accept_by).toLocaleTimeString([], { hour12: false })}`),
    el("div", { class: "row" }, note),
    el("div", { class: "row" }, el("button", { class: "primary", onclick: answer("accept") }, "Accept the call"),
      el("button", { class: "danger", onclick: answer("return") }, "Return it")));
}

function actions(o) {
  const open = OPEN.includes(o.status);
  const who = el("select", { name: "worker" }, S.workers.filter((w) => w.id !== o.assignee)
    .map((w) => el("option", { value: w.id }, `${w.id} ${w.name}${w.on_duty ? "" : " (off duty)"} · ${w.grid_id}`)));
  const evaluation = el("select", { name: "evaluation" }, [5, 4, 3, 2, 1].map((v) => el("option", { value: v }, `${v} ★`)));
  const code = el("select", { name: "closure_code" },
    ["true_event", "false_alarm", "device_fault", "duplicate"].map((c) => el("option", { value: c }, c.replace("_", " "))));
  const note = el("input", { name: "note", placeholder: "note for the timeline", style: "flex:1" });
  const act = (action, body = {}) => async () => {
    try {
      await api(`/work-orders/${o.id}/${action}`, { method: "POST", body: { ...body, note: note.value || null } });
      toast(`#${o.id}: ${action} done`, true);
      showDetail(o.id);
    } catch (e) { toast(`#${o.id}: ${e.message}`); }
  };
  return el("div", { class: "actions" },
    el("div", { class: "row" }, note),
    el("div", { class: "row" }, who, el("button", { onclick: () => act("reassign", { worker_id: who.value })(), disabled: !open }, "Reassign"),
      el("button", { class: "primary", onclick: act("escalate"), disabled: !open }, "Escalate")),
    el("div", { class: "row" }, evaluation, code,
      el("button", { onclick: () => act("close", { evaluation: Number(evaluation.value), closure_code: code.value })(),
        disabled: o.status !== "resolved" }, "Close"),
      el("button", { class: "danger", onclick: act("cancel"), disabled: !open }, "Cancel order")));
}

GW.takeToken() ? start() : GW.signIn(start);
