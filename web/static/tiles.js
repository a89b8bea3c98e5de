// Pixels from numbers: the diverging colour map, grids of tiles, sparklines.
//
// Every picture of the layer view is a grid of tiles painted into one canvas at one
// canvas pixel per value; CSS enlarges it with `image-rendering: pixelated`, so a
// 5x5 filter stays a crisp 5x5 block at any zoom.

// ColorBrewer's RdBu, reversed: blue for negative, white for zero, red for positive.
const ANCHORS = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
                 [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77],
                 [178, 24, 43], [103, 0, 31]];
export const LUT = (() => {     // 256 colours from -1 to +1, as packed RGBA
  const lut = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (ANCHORS.length - 1);
    const k = Math.min(Math.floor(t), ANCHORS.length - 2), f = t - k;
    const [r, g, b] = ANCHORS[k].map((c, j) => Math.round(c + f * (ANCHORS[k + 1][j] - c)));
    lut[i] = (255 << 24) | (b << 16) | (g << 8) | r;   // little-endian RGBA
  }
  return lut;
})();
const GAP = 0xffe5e7eb | 0;     // the light grey between tiles

// The largest magnitude in values[offset, offset + count): the colour scale's ±max.
export function maxAbs(values, offset = 0, count = values.length - offset) {
  let m = 0;
  for (let i = offset; i < offset + count; i++) {
    const a = Math.abs(values[i]);
    if (a > m && Number.isFinite(a)) m = a;
  }
  return m;
}

// mean, std, min and max of a slice, for window.webgrad and the captions
export function describeValues(values, offset, count) {
  let sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (let i = offset; i < offset + count; i++) {
    const v = values[i];
    sum += v; sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / count;
  return {mean, std: Math.sqrt(Math.max(0, sq / count - mean * mean)), min, max};
}

// Paint `tiles` tiles of tileH x tileW values in a grid of `cols` columns with one-pixel
// gaps. Tile k starts at offset + k * stride, or at offset + start(k) when `start` is
// given (to lay a tensor's tiles out in another order); values past `count` (from
// offset) are left grey. Returns the ±max the colours are scaled to.
export function paintTiles(canvas, values, {offset = 0, tiles, tileH, tileW, cols, start = null,
                                             stride = tileH * tileW, count = Infinity, scale = null}) {
  const rows = Math.ceil(tiles / cols);
  const width = cols * (tileW + 1) - 1, height = rows * (tileH + 1) - 1;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const end = offset + Math.min(count, (tiles - 1) * stride + tileH * tileW);
  const m = scale ?? (maxAbs(values, offset, end - offset) || 1);
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  const pixels = new Uint32Array(image.data.buffer);
  pixels.fill(GAP);
  for (let k = 0; k < tiles; k++) {
    const x0 = (k % cols) * (tileW + 1), y0 = Math.floor(k / cols) * (tileH + 1);
    const base = offset + (start ? start(k) : k * stride);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        if (base + y * tileW + x >= end) continue;
        const v = values[base + y * tileW + x];
        const i = Math.round((Math.max(-1, Math.min(1, v / m)) + 1) * 127.5);
        pixels[(y0 + y) * width + x0 + x] = Number.isFinite(v) ? LUT[i] : 0xff00ffff;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  return m;
}

// A grey-scale image (uint8, ink dark on white) into a canvas of its size.
export function paintGray(canvas, bytes, offset, h, w, invert = true) {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    const v = invert ? 255 - bytes[offset + p] : bytes[offset + p];
    image.data[4 * p] = image.data[4 * p + 1] = image.data[4 * p + 2] = v;
    image.data[4 * p + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// The colour bar of the legend: one row of the map from -1 to +1.
export function paintLegend(canvas) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, 1);
  const pixels = new Uint32Array(image.data.buffer);
  for (let x = 0; x < canvas.width; x++) pixels[x] = LUT[Math.round((x / (canvas.width - 1)) * 255)];
  ctx.putImageData(image, 0, 0);
}

// A sparkline of one or more series [[x, y], ...], each in its own colour, scaled together.
export function paintSparkline(canvas, series, colours) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 96, h = canvas.clientHeight || 24;
  if (canvas.width !== Math.round(w * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const points = series.flat().filter(([, y]) => Number.isFinite(y));
  if (points.length < 2) return;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
  series.forEach((s, k) => {
    ctx.strokeStyle = colours[k];
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    s.forEach(([x, y], i) => {
      const px = x1 > x0 ? ((x - x0) / (x1 - x0)) * (w - 2) + 1 : w / 2;
      const py = h - 2 - ((y - y0) / (y1 - y0)) * (h - 4);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
  });
}
