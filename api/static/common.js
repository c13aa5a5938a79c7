// gridwatch web views: token handling, API calls and the live event stream.
// The token comes from the URL fragment (#token=..., never sent to the server) or the
// sign-in form, and is kept in sessionStorage for this tab only.
"use strict";

const GW = (() => {
  const KEY = "gridwatch.token";

  function takeToken() {
    const m = location.hash.match(/token=([^&]+)/);
    if (m) sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    return sessionStorage.getItem(KEY);
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    history.replaceState(null, "", location.pathname);
    location.reload();
  }

  async function api(path, options = {}) {
    const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY), ...(options.headers || {}) };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch("/api/v1" + path, {
      ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (res.status === 401) { sessionStorage.removeItem(KEY); throw new ApiError(401, "Signed out: the token is not valid"); }
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) throw new ApiError(res.status, (body && (body.detail || body.title)) || res.statusText);
    return body;
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // Server-Sent Events over fetch (EventSource cannot send the Authorization header).
  // Reconnects with Last-Event-ID so nothing still in the server's ring is missed.
  function stream(onEvent, onState) {
    let lastId = null, stopped = false;
    async function run() {
      while (!stopped) {
        try {
          const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY), Accept: "text/event-stream" };
          if (lastId) headers["Last-Event-ID"] = lastId;
          const res = await fetch("/api/v1/events", { headers, cache: "no-store" });
          if (!res.ok || !res.body) throw new Error("stream " + res.status);
          onState("live");
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let cut;
            while ((cut = buf.indexOf("\n\n")) >= 0) {
              const ev = parse(buf.slice(0, cut));
              buf = buf.slice(cut + 2);
              if (ev) { if (ev.id) lastId = ev.id; onEvent(ev); }
            }
          }
        } catch (err) { /* fall through to reconnect */ }
        onState("reconnecting");
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
    run();
    return () => { stopped = true; };
  }

  function parse(block) {
    const ev = { type: "message", data: "" };
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = line.slice(0, i), value = line.slice(i + 1).replace(/^ /, "");
      if (field === "event") ev.type = value;
      else if (field === "data") ev.data += value;
      else if (field === "id") ev.id = value;
    }
    if (!ev.data) return null;
    try { ev.data = JSON.parse(ev.data); } catch { return null; }
    return ev;
  }

  const OPEN = ["created", "dispatched", "accepted", "en_route", "on_site"];
  const SEV_RANK = { red: 4, orange: 3, yellow: 2, blue: 1 };
  const KIND_LABEL = { wearable: "Wearable", smoke: "Smoke", river_gauge: "River gauge", meter: "Meter" };
  const STATUS_LABEL = {
    created: "Created", dispatched: "Dispatched", accepted: "Accepted", en_route: "En route",
    on_site: "On site", resolved: "Resolved", closed: "Closed", cancelled: "Cancelled",
  };

  function ms(iso) { return iso ? Date.parse(iso) : null; }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(Math.abs(seconds)));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}:${String(r).padStart(2, "0")}`;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c.nodeType ? c : String(c));
    return node;
  }

  function signIn(onToken, message) {
    const form = document.getElementById("signin");
    form.hidden = false;
    let note = form.querySelector(".error");
    if (!note) { note = el("p", { class: "error", role: "alert" }); form.append(note); }
    note.textContent = message || (sessionStorage.getItem(KEY) === null && form.token.value ? "That token is not valid." : "");
    form.onsubmit = (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY, form.token.value.trim());
      form.hidden = true;
      onToken();
    };
  }

  return { takeToken, signOut, api, stream, OPEN, SEV_RANK, KIND_LABEL, STATUS_LABEL, ms, duration, el, signIn };
})();
