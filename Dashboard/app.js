// Hark's dashboard: wires the views to the live socket and the API, switches tabs (arrow keys
// too), asks the server only for what the visible view draws, and redraws on animation frames.
// `window.harkStats` exposes how drawing keeps up (the browser test reads it).
import { AnalyseView, renderAnalysis } from "./analyse.js";
import { signIn } from "./api.js";
import { HistoryView } from "./history.js";
import { LiveView } from "./live.js";
import { NetworkView } from "./network.js";
import { LiveSocket } from "./socket.js";

const live = new LiveView();
const network = new NetworkView({ onLayersChanged: () => subscribe() });
const showMaps = (visualization, name) => { network.showFile(visualization, name); select("network"); };
const analyse = new AnalyseView({ onMaps: showMaps, onAnalysed: () => history.refresh() });
const history = new HistoryView({
  onMaps: showMaps,
  onOpenAnalysis: (result, name) => {
    select("analyse");
    renderAnalysis(document.getElementById("analyse-result"), result, { title: name, onMaps: showMaps });
  },
});

const stats = { messages: 0, windows: 0, frames: 0, frameMs: [], delaysMs: [], queued: 0, maxQueued: 0 };
window.harkStats = {
  raw: stats,
  /** Draw time per frame and window delay (capture → message here), p50/p99 in ms. */
  summary() {
    const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] : null; };
    return { messages: stats.messages, windows: stats.windows, frames: stats.frames, maxQueued: stats.maxQueued,
             frameP50: pct(stats.frameMs, 0.5), frameP99: pct(stats.frameMs, 0.99),
             delayP50: pct(stats.delaysMs, 0.5), delayP99: pct(stats.delaysMs, 0.99) };
  },
};
const keep = (a, v) => { a.push(v); if (a.length > 2000) a.shift(); };

const badge = document.getElementById("connection");
let historyRefresh = null;
const socket = new LiveSocket({
  onState(state, retryIn, why) {
    badge.dataset.state = state;
    badge.textContent = state === "live" ? "Live" : state === "connecting" ? "Connecting…"
      : `Reconnecting${retryIn ? ` in ${retryIn} s` : ""}${why ? ` (${why})` : ""}`;
  },
  onMessage(m) {
    stats.messages++;
    stats.queued++;
    stats.maxQueued = Math.max(stats.maxQueued, stats.queued);
    if (m.type === "hello") {
      network.setLayers(m.layers);
      history.setLabels(m.labels);
      subscribe();
      return;
    }
    if (m.type === "window") { stats.windows++; keep(stats.delaysMs, Date.now() - m.captured_at * 1000); }
    if (m.type === "maps") network.handle(m); else live.handle(m);
    if (m.type === "event" && m.phase === "end" && view === "history") {   // a finished event joins the list
      clearTimeout(historyRefresh);
      historyRefresh = setTimeout(() => history.loadEvents().catch(() => {}), 1000);
    }
  },
});

// What the server sends: the live view's telemetry while it shows, maps of the visible layers
// while the network view shows the live stream, and always events and status (the timeline and
// counters keep up in every view).
let view = "live";
function subscribe() {
  const kinds = ["event", "status"];
  let layers = [];
  if (view === "live") kinds.push("window", "spectrogram", "waveform");
  if (view === "network" && network.source === "live") { kinds.push("window", "maps"); layers = network.visibleLayers(); }
  socket.subscribe(kinds, layers);
}

const tabs = [...document.querySelectorAll('[role="tab"]')];
function select(name) {
  view = name;
  for (const tab of tabs) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
  }
  if (name === "history") history.refresh();
  if (name === "network") network.repaintAll();
  subscribe();
}
tabs.forEach((tab, i) => {
  tab.onclick = () => select(tab.id.slice(4));
  tab.onkeydown = (e) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    next.focus();
    select(next.id.slice(4));
  };
});

function frame() {
  const started = performance.now();
  if (view === "live") live.draw();
  if (view === "network") network.draw();
  const spent = performance.now() - started;
  if (stats.queued > 0) { stats.frames++; keep(stats.frameMs, spent); }
  stats.queued = 0;
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// Sign in first when the server wants a token, then connect.
const session = await fetch("/v1/session", { credentials: "same-origin" }).then((r) => r.json()).catch(() => ({}));
if (session.required && !session.signed_in) await signIn();
socket.connect();
