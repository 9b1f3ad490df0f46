// Analysing a file: drag-and-drop or choose, upload with progress, then the answer — top-3,
// waveform, spectrogram, every layer (in the network view) and per-window results. The same
// rendering shows analyses and events reopened from the history.
import { colormaps } from "./colormaps.js";
import { indexer, paintGrid, paintLegend } from "./draw.js";
import { reason, signIn } from "./api.js";

/** Uploads `file` to /v1/classify, reporting progress; resolves with the answer or throws the reason. */
export function upload(file, { onProgress, record = true } = {}) {
  return new Promise((resolve, reject) => {
    const send = () => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/v1/classify${record ? "" : "?record=false"}`);
      xhr.withCredentials = true;
      const form = new FormData();
      form.append("file", file, file.name ?? "recording");
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total, "uploading");
      xhr.upload.onload = () => onProgress?.(1, "analysing");
      xhr.onerror = () => reject(new Error("the server could not be reached"));
      xhr.onload = async () => {
        if (xhr.status === 401) { await signIn(); send(); return; }
        const response = new Response(xhr.responseText, { status: xhr.status });
        if (xhr.status === 200) resolve(JSON.parse(xhr.responseText));
        else reject(new Error(explain(xhr.status, await reason(response))));
      };
      xhr.send(form);
    };
    send();
  });
}

function explain(status, why) {
  switch (status) {
    case 413: return `Too big: ${why}`;
    case 415: return `Not an audio file Hark can read: ${why}`;
    case 400: return `The file could not be used: ${why}`;
    case 503: return `The server is busy with other files; try again in a few seconds.`;
    default: return `The server failed (${status}): ${why}`;
  }
}

/** Renders an answer of /v1/classify into `container`. */
export function renderAnalysis(container, result, { title, onMaps } = {}) {
  container.hidden = false;
  container.replaceChildren();
  const grid = document.createElement("div");
  grid.className = "result-grid";
  const top = document.createElement("article");
  top.className = "card";
  top.innerHTML = `<h2></h2><ol class="top3 result-top3" aria-label="Top three classes"></ol><p class="muted"></p>`;
  top.querySelector("h2").textContent = title ?? result.filename ?? "Result";
  top.querySelector("ol").replaceChildren(...result.predictions.map((p) => {
    const li = document.createElement("li");
    li.dataset.label = p.class;
    li.innerHTML = `<span class="emoji" aria-hidden="true"></span><span class="label"></span><span class="score"></span>
      <span class="meter" aria-hidden="true"><span></span></span>`;
    li.querySelector(".emoji").textContent = p.emoji;
    li.querySelector(".label").textContent = p.class.replaceAll("_", " ");
    li.querySelector(".score").textContent = `${(p.confidence * 100).toFixed(1)} %`;
    li.querySelector(".meter span").style.width = `${(p.confidence * 100).toFixed(1)}%`;
    return li;
  }));
  top.querySelector("p").textContent = `${result.waveform.duration.toFixed(1)} s at ${result.waveform.sample_rate} Hz`
    + (result.windows.length ? ` · ${result.windows.length} windows (top-3 of their mean)` : "");
  const pictures = document.createElement("article");
  pictures.className = "card";
  pictures.innerHTML = `<h2>Waveform</h2><canvas class="result-waveform" width="1000" height="100" aria-label="Waveform of the file"></canvas>
    <h2>Log-mel spectrogram <span class="muted"></span></h2>
    <div class="with-legend"><canvas class="result-spectrogram" width="1000" height="192" aria-label="Log-mel spectrogram"></canvas>
    <div class="legend"></div></div>`;
  const v = result.visualized_window;
  pictures.querySelector("h2 span").textContent = `(window ${v.start.toFixed(1)}–${v.end.toFixed(1)} s)`;
  drawWaveform(pictures.querySelector(".result-waveform"), result.waveform.values);
  const spec = result.input_spectrogram, values = Float32Array.from(spec.values.flat());
  const hi = Math.max(...values), lo = Math.max(Math.min(...values), hi - 80);
  paintGrid(pictures.querySelector(".result-spectrogram"), spec.shape[0], spec.shape[1], indexer(values, lo, hi, false), colormaps.viridis.lut);
  paintLegend(pictures.querySelector(".legend"), colormaps.viridis.lut, lo, hi, " dB");
  grid.append(top, pictures);
  const more = document.createElement("article");
  more.className = "card maps";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = `Open its ${Object.keys(result.visualization).length} feature maps`;
  button.onclick = () => onMaps?.(result.visualization, title ?? result.filename ?? "file");
  more.append(button);
  if (result.windows.length) {
    const table = document.createElement("table");
    table.className = "table";
    table.innerHTML = `<caption class="sr-only">Per-window results</caption>
      <thead><tr><th scope="col">Window</th><th scope="col">Top class</th><th scope="col">Second</th><th scope="col">Third</th></tr></thead><tbody></tbody>`;
    table.tBodies[0].replaceChildren(...result.windows.map((w) => {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td></td><td></td><td></td><td></td>";
      tr.children[0].textContent = `${w.start.toFixed(1)}–${w.end.toFixed(1)} s`;
      w.predictions.forEach((p, i) => { tr.children[i + 1].textContent = `${p.emoji} ${p.class} ${(p.confidence * 100).toFixed(0)} %`; });
      return tr;
    }));
    more.append(table);
  }
  grid.append(more);
  container.append(grid);
}

function drawWaveform(canvas, values) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, mid = h / 2;
  ctx.fillStyle = "#0b0e13"; ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = "#7aa2ff";
  // Scaled to the file's loudest sample (at most ×50), as the live waveform is.
  const scale = 0.95 / values.reduce((m, v) => Math.max(m, Math.abs(v)), 0.02);
  const per = values.length / w;
  for (let x = 0; x < w; x++) {
    let lo = 0, hi = 0;
    for (let i = Math.floor(x * per); i < Math.max(Math.floor((x + 1) * per), Math.floor(x * per) + 1) && i < values.length; i++) {
      lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]);
    }
    ctx.fillRect(x, mid - hi * scale * mid, 1, Math.max(1, (hi - lo) * scale * mid));
  }
}

/** The "Analyse a file" view. */
export class AnalyseView {
  constructor({ onMaps, onAnalysed }) {
    this.onMaps = onMaps; this.onAnalysed = onAnalysed;
    this.zone = document.getElementById("drop-zone");
    this.input = document.getElementById("file-input");
    this.status = document.getElementById("analyse-status");
    this.progress = document.getElementById("analyse-progress");
    this.result = document.getElementById("analyse-result");
    this.input.onchange = () => this.input.files[0] && this.analyse(this.input.files[0]);
    this.zone.ondragover = (e) => { e.preventDefault(); this.zone.classList.add("over"); };
    this.zone.ondragleave = () => this.zone.classList.remove("over");
    this.zone.ondrop = (e) => {
      e.preventDefault();
      this.zone.classList.remove("over");
      if (e.dataTransfer.files[0]) this.analyse(e.dataTransfer.files[0]);
    };
    this.zone.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.input.click(); } };
  }

  async analyse(file) {
    this.status.className = "status";
    this.status.textContent = `Uploading ${file.name}…`;
    this.progress.hidden = false; this.progress.value = 0;
    this.result.hidden = true;
    try {
      const result = await upload(file, {
        onProgress: (f, phase) => {
          this.progress.value = Math.round(f * 100);
          if (phase === "analysing") this.status.textContent = `Analysing ${file.name}…`;
        },
      });
      this.status.textContent = `${file.name}: ${result.predictions[0].emoji} ${result.predictions[0].class.replaceAll("_", " ")}`;
      renderAnalysis(this.result, result, { title: file.name, onMaps: this.onMaps });
      this.onAnalysed?.(result);
    } catch (error) {
      this.status.className = "status error";
      this.status.textContent = error.message;
    } finally {
      this.progress.hidden = true;
      this.input.value = "";
    }
  }
}
