// Colour maps as 256-entry RGBA lookup tables: viridis (perceptually uniform, for magnitudes) and a
// blue-white-orange diverging map for signed values.

function viridisAt(t) {
  // A 6th-order polynomial fit of matplotlib's viridis (per channel, t in [0, 1]).
  const c = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  return [0, 1, 2].map((k) => {
    let v = c[6][k];
    for (let i = 5; i >= 0; i--) v = c[i][k] + t * v;
    return Math.round(255 * Math.min(1, Math.max(0, v)));
  });
}

function divergingAt(t) {
  // t in [0, 1]: 0 = strong blue (negative), 0.5 = white (zero), 1 = strong orange (positive).
  const blue = [33, 102, 172], white = [247, 247, 247], orange = [230, 97, 1];
  const [from, to, f] = t < 0.5 ? [blue, white, t / 0.5] : [white, orange, (t - 0.5) / 0.5];
  return from.map((a, k) => Math.round(a + (to[k] - a) * f));
}

function table(at) {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = at(i / 255);
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
}

export const colormaps = {
  viridis: { name: "viridis", lut: table(viridisAt), signed: false },
  diverging: { name: "blue-white-orange", lut: table(divergingAt), signed: true },
};
