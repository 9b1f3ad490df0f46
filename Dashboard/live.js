// The live view: the latest window's top-3, the scrolling waveform and spectrogram, the event
// timeline, and the counters in the header.
import { colormaps } from "./colormaps.js";
import { ScrollingSpectrogram, ScrollingWaveform } from "./draw.js";

export class LiveView {
  constructor() {
    this.waveform = new ScrollingWaveform(document.getElementById("live-waveform"));
    this.spectrogram = new ScrollingSpectrogram(document.getElementById("live-spectrogram"),
      document.getElementById("live-spectrogram-legend"), colormaps.viridis.lut);
    this.top3 = document.getElementById("live-top3");
    this.windowNote = document.getElementById("live-window");
    this.events = new Map();       // id → the latest line of each open or recent event
    this.streamTime = 0;
    this.timelineDirty = false;
    this.topDirty = null;
  }

  handle(m) {
    switch (m.type) {
      case "window": this.topDirty = m; this.streamTime = Math.max(this.streamTime, m.end); break;
      case "waveform": this.waveform.add(m); break;
      case "spectrogram": this.spectrogram.add(m); break;
      case "event":
        this.events.set(m.id, m);
        this.streamTime = Math.max(this.streamTime, m.stream_time);
        this.timelineDirty = true;
        break;
      case "status": this.status(m); break;
    }
  }

  status(m) {
    const set = (id, text) => { document.getElementById(id).textContent = text; };
    set("capture-state", m.capture.state + (m.capture.source ? ` (${m.capture.source})` : ""));
    if (m.capture.sample_rate) set("sample-rate", `${m.capture.sample_rate} Hz`);
    set("windows-count", m.counters.windows_classified + m.counters.windows_gated);
    set("windows-dropped", m.counters.windows_dropped);
    set("telemetry-dropped", m.client.dropped_telemetry);
  }

  /** Draws what changed since the last frame. */
  draw() {
    if (this.waveform.dirty) this.waveform.draw();
    if (this.spectrogram.dirty) this.spectrogram.draw();
    if (this.topDirty) { this.drawTop(this.topDirty); this.topDirty = null; }
    if (this.timelineDirty) { this.drawTimeline(); this.timelineDirty = false; }
  }

  drawTop(w) {
    const rows = w.gated ? [] : w.top.slice(0, 3);
    this.top3.replaceChildren(...rows.map((t) => {
      const li = document.createElement("li");
      li.dataset.label = t.label;
      li.innerHTML = `<span class="emoji" aria-hidden="true"></span><span class="label"></span><span class="score"></span>
        <span class="meter" role="meter" aria-valuemin="0" aria-valuemax="100"><span></span></span>`;
      li.querySelector(".emoji").textContent = t.emoji;
      li.querySelector(".label").textContent = t.label.replaceAll("_", " ");
      li.querySelector(".score").textContent = `${(t.score * 100).toFixed(1)} %`;
      const meter = li.querySelector(".meter");
      meter.setAttribute("aria-valuenow", (t.score * 100).toFixed(0));
      meter.setAttribute("aria-label", `${t.label} ${(t.score * 100).toFixed(0)} percent`);
      meter.firstElementChild.style.width = `${(t.score * 100).toFixed(1)}%`;
      return li;
    }));
    this.windowNote.textContent = w.gated
      ? `${w.start.toFixed(1)}–${w.end.toFixed(1)} s: quiet (below the energy gate)`
      : `window ${w.start.toFixed(1)}–${w.end.toFixed(1)} s · ${w.rms_dbfs ?? "−∞"} dBFS · ${w.latency_ms.toFixed(0)} ms`;
  }

  drawTimeline() {
    const span = 60, now = this.streamTime;
    // Keep open events and the 12 most recent ended ones.
    const ended = [...this.events.values()].filter((e) => e.phase === "end").sort((a, b) => b.stream_time - a.stream_time);
    for (const old of ended.slice(12)) this.events.delete(old.id);
    const list = [...this.events.values()].sort((a, b) => b.start - a.start);
    const ul = document.getElementById("live-events");
    ul.replaceChildren(...list.map((e) => {
      const open = e.phase !== "end";
      const end = open ? now : e.end;
      const li = document.createElement("li");
      li.className = open ? "open" : "ended";
      li.dataset.label = e.label;
      const left = Math.max(0, (e.start - (now - span)) / span * 100), width = Math.max(1, (end - Math.max(e.start, now - span)) / span * 100);
      li.innerHTML = `<span aria-hidden="true"></span><span class="name"></span><span class="track" aria-hidden="true"><span></span></span><span class="meta"></span>`;
      li.children[0].textContent = e.emoji;
      li.children[1].textContent = e.label.replaceAll("_", " ");
      li.querySelector(".track span").style.left = `${left}%`;
      li.querySelector(".track span").style.width = `${Math.min(width, 100 - left)}%`;
      li.children[3].textContent = open
        ? `open ${(now - e.start).toFixed(0)} s · ${(e.peak_score * 100).toFixed(0)} %`
        : `${e.duration.toFixed(1)} s · ${(e.peak_score * 100).toFixed(0)} %`;
      return li;
    }));
  }
}
