// The history: past events (filter by sound and time, newest first, paged) with their recorded
// audio, and past analyses (open one again, delete it).
import { json, request } from "./api.js";
import { renderAnalysis, upload } from "./analyse.js";

const time = (iso) => new Date(iso).toLocaleString();

export class HistoryView {
  constructor({ onOpenAnalysis, onMaps }) {
    this.onOpenAnalysis = onOpenAnalysis; this.onMaps = onMaps;
    this.eventsCursor = null; this.analysesCursor = null;
    document.getElementById("events-filter").onsubmit = (e) => { e.preventDefault(); this.loadEvents(); };
    document.getElementById("events-more").onclick = () => this.loadEvents(this.eventsCursor);
    document.getElementById("analyses-more").onclick = () => this.loadAnalyses(this.analysesCursor);
  }

  setLabels(labels) {
    const select = document.getElementById("filter-label");
    if (select.options.length > 1) return;
    for (const l of labels) select.append(new Option(`${l.emoji} ${l.name.replaceAll("_", " ")}`, l.name));
  }

  /** Reloads both lists; a failure is shown in the view, not thrown. */
  refresh() {
    return Promise.all([this.loadEvents(), this.loadAnalyses()]).catch((error) => {
      document.getElementById("events-rows").replaceChildren();
      const row = document.createElement("tr"), cell = document.createElement("td");
      cell.colSpan = 5; cell.className = "error"; cell.textContent = `The history could not be read: ${error.message}`;
      row.append(cell);
      document.getElementById("events-rows").append(row);
    });
  }

  async loadEvents(cursor = null) {
    const q = new URLSearchParams({ limit: "25" });
    const label = document.getElementById("filter-label").value;
    const from = document.getElementById("filter-from").value, to = document.getElementById("filter-to").value;
    if (label) q.set("label", label);
    if (from) q.set("from", new Date(from).toISOString());
    if (to) q.set("to", new Date(to).toISOString());
    if (cursor) q.set("cursor", cursor);
    const page = await json(`/v1/events?${q}`);
    const body = document.getElementById("events-rows");
    if (!cursor) body.replaceChildren();
    for (const e of page.events) {
      const tr = document.createElement("tr");
      tr.dataset.id = e.id;
      tr.innerHTML = "<td></td><td></td><td></td><td></td><td></td>";
      tr.children[0].textContent = time(e.started_at);
      tr.children[1].textContent = `${e.emoji} ${e.label.replaceAll("_", " ")}`;
      tr.children[2].textContent = e.duration == null ? "open" : `${e.duration.toFixed(1)} s`;
      tr.children[3].textContent = `${(e.peak_score * 100).toFixed(0)} %`;
      if (e.audio) {
        const play = document.createElement("button");
        play.type = "button";
        play.textContent = "Play";
        play.setAttribute("aria-label", `Play the recorded ${e.label.replaceAll("_", " ")} from ${time(e.started_at)}`);
        play.onclick = () => this.openEvent(e);
        tr.children[4].append(play);
      } else {
        tr.children[4].textContent = "—";
      }
      body.append(tr);
    }
    this.eventsCursor = page.next;
    document.getElementById("events-more").hidden = !page.next;
  }

  /** Plays an event's audio and shows its spectrogram (its clip analysed, not recorded again). */
  async openEvent(e) {
    const detail = document.getElementById("event-detail");
    detail.hidden = false;
    detail.replaceChildren();
    const heading = document.createElement("h3");
    heading.textContent = `${e.emoji} ${e.label.replaceAll("_", " ")} · ${time(e.started_at)}`;
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.src = e.audio;
    const analysis = document.createElement("div");
    detail.append(heading, audio, analysis);
    audio.play().catch(() => {});   // autoplay may be refused; the controls remain
    const r = await request(e.audio);
    if (!r.ok) { analysis.textContent = "The audio is no longer kept."; return; }
    const clip = new File([await r.blob()], `${e.id}.flac`, { type: "audio/flac" });
    try {
      renderAnalysis(analysis, await upload(clip, { record: false }), { title: `Recorded ${e.label.replaceAll("_", " ")}`, onMaps: this.onMaps });
    } catch (error) {
      analysis.textContent = error.message;
    }
  }

  async loadAnalyses(cursor = null) {
    const page = await json(`/v1/analyses?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    const body = document.getElementById("analyses-rows");
    if (!cursor) body.replaceChildren();
    for (const a of page.analyses) {
      const tr = document.createElement("tr");
      tr.dataset.id = a.id;
      tr.innerHTML = "<td></td><td></td><td></td><td></td>";
      tr.children[0].textContent = time(a.created_at);
      tr.children[1].textContent = a.filename ?? "(upload)";
      const top = a.predictions[0];
      tr.children[2].textContent = top ? `${top.emoji} ${top.class.replaceAll("_", " ")} ${(top.confidence * 100).toFixed(0)} %` : "—";
      const open = document.createElement("button"), remove = document.createElement("button");
      open.type = remove.type = "button";
      open.textContent = "Open"; remove.textContent = "Delete"; remove.className = "secondary";
      open.setAttribute("aria-label", `Open the analysis of ${a.filename ?? "the upload"}`);
      remove.setAttribute("aria-label", `Delete the analysis of ${a.filename ?? "the upload"}`);
      open.onclick = async () => this.onOpenAnalysis(await json(`/v1/analyses/${a.id}`), a.filename ?? "upload");
      remove.onclick = async () => {
        const r = await request(`/v1/analyses/${a.id}`, { method: "DELETE" });
        if (r.ok) tr.remove();
      };
      tr.children[3].append(open, " ", remove);
      body.append(tr);
    }
    this.analysesCursor = page.next;
    document.getElementById("analyses-more").hidden = !page.next;
  }
}

export { renderAnalysis };
