// The drawing pad: mouse, pen or finger on a canvas, turned into a digit the way MNIST's
// were made (LeCun et al.): the ink's bounding box scaled, keeping its aspect ratio, to
// fit 20x20 (anti-aliased: each small pixel averages the big ones it covers), then
// placed in a 28x28 field so that its centre of mass is the field's centre.

const SIZE = 28, BOX = 20;
const LIVE_MS = 200;          // while a stroke goes on, the prediction follows this often

export class DrawPad {
  // onChange(pixels): during a stroke (every LIVE_MS) and after it, with the 28x28 uint8
  // image, or null when the pad is cleared
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", {willReadFrequently: true});
    this.onChange = onChange;
    this.drawing = false;
    this.last = null;
    this.clear(false);
    canvas.style.touchAction = "none";     // a finger draws instead of scrolling the page
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
      canvas.addEventListener(type, () => this.up());
    }
  }

  clear(notify = true) {
    const {ctx, canvas} = this;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (notify) this.onChange(null);
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * (this.canvas.width / rect.width),
            (event.clientY - rect.top) * (this.canvas.height / rect.height)];
  }

  down(event) {
    this.drawing = true;
    this.sentAt = performance.now();
    this.canvas.setPointerCapture?.(event.pointerId);
    this.last = this.point(event);
    this.stroke(this.last, this.last);
  }

  move(event) {
    if (!this.drawing) return;
    const p = this.point(event);
    this.stroke(this.last, p);
    this.last = p;
    if (performance.now() - this.sentAt > LIVE_MS) {
      this.sentAt = performance.now();
      this.onChange(this.pixels());
    }
  }

  up() {
    if (!this.drawing) return;
    this.drawing = false;
    this.onChange(this.pixels());
  }

  stroke(from, to) {
    const {ctx, canvas} = this;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = canvas.width / 13;     // about MNIST's pen: 2 pixels of 28 after scaling
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
  }

  // The drawing as the model reads it: 28x28 uint8 (ink 255 on 0), or null if blank.
  pixels() {
    const {width, height} = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    const ink = new Float32Array(width * height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i];
    return mnistStyle(ink, width, height);
  }
}

// ink: brightness 0..255 of a width x height image. Returns 28x28 uint8 or null (no ink).
export function mnistStyle(ink, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);                 // the longer side becomes 20
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  // area average: every source pixel adds to the small pixel it falls in
  const sum = new Float32Array(tw * th), hits = new Float32Array(tw * th);
  for (let y = y0; y <= y1; y++) {
    const ty = Math.min(th - 1, Math.floor((y - y0) * th / bh));
    for (let x = x0; x <= x1; x++) {
      const tx = Math.min(tw - 1, Math.floor((x - x0) * tw / bw));
      sum[ty * tw + tx] += ink[y * width + x];
      hits[ty * tw + tx] += 1;
    }
  }
  const small = sum.map((s, i) => (hits[i] ? s / hits[i] : 0));
  // centre of mass of the small image
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      mass += v; mx += v * (x + 0.5); my += v * (y + 0.5);
    }
  }
  const dx = Math.round(SIZE / 2 - mx / mass), dy = Math.round(SIZE / 2 - my / mass);
  const out = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const X = x + dx, Y = y + dy;
      if (X >= 0 && X < SIZE && Y >= 0 && Y < SIZE) {
        out[Y * SIZE + X] = Math.min(255, Math.round(small[y * tw + x]));
      }
    }
  }
  return out;
}
