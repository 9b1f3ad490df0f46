// The network view: the feature maps of the main layers (conv1, layer1 … layer4) as heat maps,
// each expandable into the layers inside its blocks; live from the stream, or an analysed file's.
// Only the layers on screen are asked of the server.
import { colormaps } from "./colormaps.js";
import { bytesOf, indexer, paintGrid, paintLegend } from "./draw.js";

export class NetworkView {
  constructor({ onLayersChanged }) {
    this.onLayersChanged = onLayersChanged;
    this.container = document.getElementById("maps-stages");
    this.sourceSelect = document.getElementById("maps-source");
    this.colormapSelect = document.getElementById("maps-colormap");
    this.legend = document.getElementById("maps-legend");
    this.layers = []; this.expanded = new Set(); this.canvases = new Map();
    this.pending = new Map();   // layer → the latest map to paint
    this.fileMaps = null;
    this.colormapSelect.onchange = () => { this.paintLegend(); this.repaintAll(); };
    this.sourceSelect.onchange = () => { this.onLayersChanged(); this.repaintAll(); };
    this.paintLegend();
  }

  get colormap() { return colormaps[this.colormapSelect.value]; }
  get source() { return this.sourceSelect.value; }

  /** The model's layers (from `hello`): stages are the names without a dot. */
  setLayers(layers) {
    if (layers.join() === this.layers.join()) return;
    this.layers = layers;
    this.container.replaceChildren();
    this.canvases.clear();
    for (const stage of layers.filter((l) => !l.includes("."))) {
      const card = document.createElement("article");
      card.className = "card stage";
      const inner = layers.filter((l) => l.startsWith(stage + "."));
      card.innerHTML = `<header><h2></h2><span class="range"></span></header><canvas width="432" height="160"></canvas>`;
      card.querySelector("h2").textContent = stage;
      const canvas = card.querySelector("canvas");
      canvas.setAttribute("aria-label", `Feature map of ${stage}, mean over channels`);
      canvas.dataset.layer = stage;
      this.canvases.set(stage, { canvas, range: card.querySelector(".range") });
      if (inner.length) {
        const button = document.createElement("button");
        button.type = "button"; button.className = "secondary";
        button.textContent = `Show the ${inner.length} layers inside`;
        button.setAttribute("aria-expanded", "false");
        const grid = document.createElement("div");
        grid.className = "inner"; grid.hidden = true;
        for (const name of inner) {
          const figure = document.createElement("figure");
          figure.innerHTML = `<canvas width="216" height="70"></canvas><figcaption></figcaption>`;
          figure.querySelector("figcaption").textContent = name;
          const c = figure.querySelector("canvas");
          c.setAttribute("aria-label", `Feature map of ${name}`);
          c.dataset.layer = name;
          this.canvases.set(name, { canvas: c, range: null });
          grid.append(figure);
        }
        button.onclick = () => {
          const open = grid.hidden;
          grid.hidden = !open;
          button.setAttribute("aria-expanded", String(open));
          button.textContent = open ? "Hide the inner layers" : `Show the ${inner.length} layers inside`;
          for (const name of inner) open ? this.expanded.add(name) : this.expanded.delete(name);
          this.onLayersChanged();
          this.repaintAll();
        };
        card.append(button, grid);
      }
      this.container.append(card);
    }
  }

  /** The layers whose maps are on screen. */
  visibleLayers() {
    return this.layers.filter((l) => !l.includes(".") || this.expanded.has(l));
  }

  /** A live `maps` message. */
  handle(m) {
    for (const layer of m.layers) this.pending.set(layer.name, { kind: "bytes", layer });
  }

  /** An analysed file's `visualization` ({layer: {shape, values}}). */
  showFile(visualization, name) {
    this.fileMaps = visualization;
    const option = this.sourceSelect.querySelector('option[value="file"]');
    option.disabled = false;
    option.textContent = `the analysed file (${name})`;
    this.sourceSelect.value = "file";
    this.onLayersChanged();
    this.repaintAll();
  }

  repaintAll() {
    this.pending.clear();
    if (this.source === "file" && this.fileMaps) {
      for (const [name, grid] of Object.entries(this.fileMaps)) this.pending.set(name, { kind: "grid", grid });
    }
    for (const { canvas } of this.canvases.values()) {
      const ctx = canvas.getContext("2d"); ctx.fillStyle = "#0b0e13"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
  }

  draw() {
    if (!this.pending.size) return;
    const { lut, signed } = this.colormap;
    for (const [name, item] of this.pending) {
      const target = this.canvases.get(name);
      if (!target || (item.kind === "bytes" && this.source !== "live")) continue;
      if (target.canvas.closest("[hidden]")) continue;
      let rows, columns, values, min, max;
      if (item.kind === "bytes") {
        const l = item.layer, bytes = bytesOf(l.data);
        rows = l.height; columns = l.width; min = l.min; max = l.max;
        values = Float32Array.from(bytes, (b) => l.min + (b / 255) * (l.max - l.min));
      } else {
        [rows, columns] = item.grid.shape;
        values = Float32Array.from(item.grid.values.flat());
        min = Math.min(...values); max = Math.max(...values);
      }
      paintGrid(target.canvas, rows, columns, indexer(values, min, max, signed), lut);
      if (target.range) target.range.textContent = `${min.toFixed(2)} … ${max.toFixed(2)}`;
    }
    this.pending.clear();
  }

  paintLegend() {
    const { lut, signed } = this.colormap;
    paintLegend(this.legend, lut, 0, 1, "", false, signed ? ["−|max|", "+|max| (each map)"] : ["min", "max (each map)"]);
  }
}
