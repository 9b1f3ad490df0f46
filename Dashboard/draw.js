// Drawing on canvases: heat maps of grids, colour legends, and the two scrolling live views
// (waveform envelope and log-mel spectrogram). Everything is drawn from data already received;
// the page redraws on animation frames only when something changed.

/** Decodes the server's 8-bit grids (`u8-base64`) into bytes. */
export function bytesOf(base64) {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Paints a rows × columns grid (row 0 at the bottom: low frequencies low) on `canvas`.
 * `index(i)` gives the LUT index 0…255 of value i (row-major).
 */
export function paintGrid(canvas, rows, columns, index, lut) {
  const image = new ImageData(columns, rows);
  for (let r = 0; r < rows; r++) {
    const y = rows - 1 - r;
    for (let c = 0; c < columns; c++) {
      const k = index(r * columns + c) * 4, o = (y * columns + c) * 4;
      image.data[o] = lut[k]; image.data[o + 1] = lut[k + 1]; image.data[o + 2] = lut[k + 2]; image.data[o + 3] = 255;
    }
  }
  const off = new OffscreenCanvas(columns, rows);
  off.getContext("2d").putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

/** LUT indices for values with their range, on a sequential or a signed (diverging) map. */
export function indexer(values, min, max, signed) {
  if (signed) {
    const m = Math.max(Math.abs(min), Math.abs(max)) || 1;
    return (i) => Math.max(0, Math.min(255, Math.round(((values[i] / m) + 1) * 127.5)));
  }
  const span = max - min || 1;
  return (i) => Math.max(0, Math.min(255, Math.round(((values[i] - min) / span) * 255)));
}

/** A legend: the colour bar and its two ends (numbers with a unit, or `labels` [low, high]). */
export function paintLegend(element, lut, low, high, unit = "", vertical = true, labels = null) {
  element.replaceChildren();
  const bar = document.createElement("canvas");
  bar.width = vertical ? 1 : 256; bar.height = vertical ? 256 : 1;
  const image = new ImageData(bar.width, bar.height);
  for (let i = 0; i < 256; i++) {
    const k = (vertical ? 255 - i : i) * 4;
    image.data.set(lut.subarray(i * 4, i * 4 + 4), k);
  }
  bar.getContext("2d").putImageData(image, 0, 0);
  bar.setAttribute("aria-hidden", "true");
  const hi = document.createElement("span"), lo = document.createElement("span");
  const [low$, high$] = labels ?? [`${format(low)}${unit}`, `${format(high)}${unit}`];
  hi.textContent = high$; lo.textContent = low$;
  if (vertical) element.append(hi, bar, lo); else element.append(lo, bar, hi);
  element.setAttribute("aria-label", `Colour scale from ${low$} to ${high$}`);
}

function format(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2); }

/** The waveform of the last `seconds`: min/max columns, scrolled by stream time. */
export class ScrollingWaveform {
  constructor(canvas, seconds = 10) {
    this.canvas = canvas; this.seconds = seconds;
    this.columns = canvas.width;
    this.low = new Float32Array(this.columns); this.high = new Float32Array(this.columns);
    this.end = null; this.dirty = true;
  }

  /** A `waveform` message: `points` min/max pairs over [start, end]. */
  add(message) {
    const perColumn = this.seconds / this.columns;
    if (this.end !== null && message.end > this.end) this.shift(Math.round((message.end - this.end) / perColumn));
    if (this.end === null || message.end > this.end) this.end = message.end;
    const span = message.end - message.start;
    for (let p = 0; p < message.points; p++) {
      const t = message.start + (p + 0.5) * span / message.points;
      const c = this.columns - 1 - Math.floor((this.end - t) / perColumn);
      if (c < 0 || c >= this.columns) continue;
      this.low[c] = Math.min(this.low[c], message.min[p]);
      this.high[c] = Math.max(this.high[c], message.max[p]);
    }
    this.dirty = true;
  }

  shift(n) {
    if (n <= 0) return;
    n = Math.min(n, this.columns);
    this.low.copyWithin(0, n); this.high.copyWithin(0, n);
    this.low.fill(0, this.columns - n); this.high.fill(0, this.columns - n);
  }

  draw() {
    const ctx = this.canvas.getContext("2d"), h = this.canvas.height, mid = h / 2;
    ctx.fillStyle = "#0b0e13"; ctx.fillRect(0, 0, this.columns, h);
    ctx.fillStyle = "#7aa2ff";
    // Scaled to the loudest of the last seconds (at most ×50), so a quiet room still shows.
    let peak = 0.02;
    for (let c = 0; c < this.columns; c++) peak = Math.max(peak, this.high[c], -this.low[c]);
    const scale = mid * 0.95 / peak;
    for (let c = 0; c < this.columns; c++) {
      const top = mid - this.high[c] * scale, bottom = mid - this.low[c] * scale;
      ctx.fillRect(c, top, 1, Math.max(1, bottom - top));
    }
    this.dirty = false;
  }
}

/** The log-mel spectrogram of the last `seconds`, new columns appended at the right. */
export class ScrollingSpectrogram {
  constructor(canvas, legend, lut, seconds = 20) {
    this.canvas = canvas; this.legend = legend; this.lut = lut; this.seconds = seconds;
    this.off = null; this.end = null; this.top = null; this.dirty = false; this.legendTop = null;
  }

  /** A `spectrogram` message: `frames` columns of `mels` bytes over [start, end]. */
  add(m) {
    const columns = Math.round(this.seconds / m.frame_seconds);
    if (!this.off || this.off.height !== m.mels || this.off.width !== columns) {
      this.off = new OffscreenCanvas(columns, m.mels);
      const c = this.off.getContext("2d"); c.fillStyle = "#000"; c.fillRect(0, 0, columns, m.mels);
      this.end = null;
    }
    const ctx = this.off.getContext("2d");
    const shift = this.end === null ? m.frames : Math.round((m.end - this.end) / m.frame_seconds);
    if (shift <= 0) return;
    ctx.drawImage(this.off, -shift, 0);
    ctx.fillStyle = "#000"; ctx.fillRect(columns - shift, 0, shift, m.mels);
    this.end = m.end;
    // A steady colour scale: the loudest level of late (decaying slowly), down 80 dB.
    this.top = this.top === null ? m.db_max : Math.max(m.db_max, this.top - 0.5);
    const low = this.top - 80, bytes = bytesOf(m.data);
    const image = new ImageData(m.frames, m.mels);
    for (let r = 0; r < m.mels; r++) {
      for (let c = 0; c < m.frames; c++) {
        const db = m.db_min + (bytes[r * m.frames + c] / 255) * (m.db_max - m.db_min);
        const k = Math.max(0, Math.min(255, Math.round((db - low) / 80 * 255))) * 4;
        const o = ((m.mels - 1 - r) * m.frames + c) * 4;
        image.data[o] = this.lut[k]; image.data[o + 1] = this.lut[k + 1]; image.data[o + 2] = this.lut[k + 2]; image.data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, columns - m.frames, 0);
    this.dirty = true;
  }

  draw() {
    if (!this.off) return;
    const ctx = this.canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.off, 0, 0, this.canvas.width, this.canvas.height);
    const rounded = Math.round(this.top);
    if (rounded !== this.legendTop) {
      paintLegend(this.legend, this.lut, rounded - 80, rounded, " dB");
      this.legendTop = rounded;
    }
    this.dirty = false;
  }
}
