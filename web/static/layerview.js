// The layer view: one row per layer, in the order the forward pass runs (ConvNetJS-style).
//
// A row shows the layer (type, arguments, output shape, parameters), its activations
// for the current example as tiles, its weights (and on request their gradients) as
// tiles, and sparklines of statistics over training. All of it comes from a snapshot
// the worker sends: a layout (which piece lies where) and one buffer of float32 values,
// read back from the GPU in one go (web/playground/layer_view.py).

import {describeValues, paintSparkline, paintTiles} from "./tiles.js";

const HISTORY = 400;                  // points kept per sparkline
const SPARK_COLOURS = ["#1f2937", "#d97706"];   // first series dark, second orange

const fmt = (x) => (Math.abs(x) >= 100 || x === 0 ? x.toFixed(0)
  : Math.abs(x) >= 0.01 ? x.toPrecision(3) : x.toExponential(1));
const count = (n) => n.toLocaleString("en");

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function figure(caption) {
  const fig = element("figure", "tiles");
  const canvas = element("canvas");
  const cap = element("figcaption", null, caption);
  fig.append(canvas, cap);
  return {fig, canvas, cap, title: caption};
}

// CSS size: `zoom` screen pixels per value (`zoomY` down, if different), never wider than
// the row (style.css caps it).
function zoomTo(canvas, zoom, zoomY = zoom) {
  canvas.style.width = `${canvas.width * zoom}px`;
  canvas.style.height = zoomY === zoom ? "" : `${canvas.height * zoomY}px`;
}

const shapeText = (shape) => `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;

export class LayerView {
  constructor(container) {
    this.container = container;
    this.rows = [];
    this.showGradients = false;
  }

  // A new model: its summary (engine.summary's as_dict()) and the dataset's class names.
  setModel(summary, classes) {
    this.summary = summary;
    this.classes = classes;
    this.rows = summary.layers.map((layer, i) => this.makeRow(layer, i === summary.layers.length - 1));
    this.container.replaceChildren(...this.rows.map((r) => r.el));
  }

  setClasses(classes) {
    this.classes = classes;
  }

  makeRow(layer, last) {
    const el = element("article", "layer-row");
    el.dataset.name = layer.name;
    const head = element("header", "layer-head");
    head.append(element("span", "layer-name", layer.name), element("b", null, layer.type));
    if (layer.arguments) head.append(element("span", "layer-args", `(${layer.arguments})`));
    head.append(element("span", "layer-shape", `→ ${shapeText(layer.output_shape)}`),
                element("span", "layer-params", `${count(layer.parameters)} parameters`));
    const body = element("div", "layer-body");
    const row = {el, layer, last, act: figure("activations"), weight: figure("weights"),
                 grad: figure("weight gradients"), history: {mean: [], std: [], dead: [], grad_norm: []},
                 latest: {}, activation: null};
    row.weight.fig.hidden = row.grad.fig.hidden = true;
    const sparks = element("div", "sparks");
    row.sparks = {};
    for (const [key, title] of [["mean", "mean · std"], ["dead", "dead ReLU units"],
                                ["grad_norm", "gradient norm"]]) {
      const fig = element("figure", "spark");
      const canvas = element("canvas");
      const cap = element("figcaption", null, title);
      fig.append(canvas, cap);
      fig.hidden = true;
      sparks.append(fig);
      row.sparks[key] = {fig, canvas, cap, title};
    }
    body.append(row.act.fig, row.weight.fig, row.grad.fig, sparks);
    if (last) {
      row.bars = element("div", "prob-bars");
      body.append(row.bars);
    }
    el.append(head, body);
    return row;
  }

  // Draw a snapshot; returns what window.webgrad.layers mirrors.
  update(snapshot) {
    const values = new Float32Array(snapshot.buffer.buffer, snapshot.buffer.byteOffset,
                                    snapshot.buffer.byteLength / 4);
    for (const s of snapshot.stats) {
      const row = this.rows[s.row];
      if (!row) continue;
      row.latest[s.name] = s.value;
      const h = row.history[s.name];
      h.push([snapshot.examples_seen, s.value]);
      if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
    }
    for (const piece of snapshot.layout) {
      const row = this.rows[piece.row];
      if (!row) continue;
      if (piece.kind === "activation") this.drawActivation(row, values, piece);
      else if (piece.kind === "weight") this.drawWeights(row, row.weight, values, piece);
      else if (piece.kind === "gradient") this.drawWeights(row, row.grad, values, piece);
      else if (piece.kind === "probabilities") this.drawBars(row, values, piece);
    }
    for (const row of this.rows) {
      row.grad.fig.hidden = !this.showGradients || !snapshot.layout.some(
        (p) => p.kind === "gradient" && this.rows[p.row] === row);
      this.drawSparks(row);
    }
    return this.rows.map((row) => ({
      name: row.layer.name, type: row.layer.type, output_shape: row.layer.output_shape,
      parameters: row.layer.parameters, activation: row.activation,
      stats: {...row.latest}, examples_seen: snapshot.examples_seen,
    }));
  }

  drawActivation(row, values, piece) {
    const {canvas, cap} = row.act;
    if (piece.skipped) { cap.textContent = `activations: ${piece.skipped}`; return; }
    const shape = piece.shape.slice(1);                  // the batch of one example
    row.activation = describeValues(values, piece.offset, piece.count);
    let m;
    if (shape.length === 3) {                            // feature maps: a tile each
      const [c, h, w] = shape;
      m = paintTiles(canvas, values, {offset: piece.offset, tiles: c, tileH: h, tileW: w,
                                      cols: Math.min(c, 16)});
      zoomTo(canvas, h >= 20 ? 2 : h >= 10 ? 3 : h >= 5 ? 6 : 12);
    } else {                                             // units: a cell each
      const n = piece.count;
      const cols = n <= 16 ? n : Math.ceil(Math.sqrt(n));
      if (n <= 256) {                                    // few: cells apart, as ConvNetJS draws neurons
        m = paintTiles(canvas, values, {offset: piece.offset, tiles: n, tileH: 1, tileW: 1, cols});
        zoomTo(canvas, n <= 16 ? 14 : 6);
      } else {                                           // many (a flattened image): one picture
        m = paintTiles(canvas, values, {offset: piece.offset, tiles: 1, tileH: Math.ceil(n / cols),
                                        tileW: cols, cols: 1, count: n});
        zoomTo(canvas, n <= 1024 ? 4 : 2);
      }
    }
    cap.textContent = `activations ±${fmt(m)}`;
  }

  drawWeights(row, fig, values, piece) {
    fig.fig.hidden = false;
    if (piece.skipped) { fig.cap.textContent = `${fig.title}: ${piece.skipped}`; return; }
    const {canvas} = fig;
    const shape = piece.shape;
    const [c, h, w] = this.summary.input_shape;
    let m, how;
    if (shape.length === 4) {                            // conv (out, in, kh, kw): a filter per column,
      const [out, inC, kh, kw] = shape;                  // one tile per input channel down it
      const cols = inC === 1 ? Math.min(out, 16) : out;
      const start = (k) => (inC === 1 ? k : (k % out) * inC + Math.floor(k / out)) * kh * kw;
      m = paintTiles(canvas, values, {offset: piece.offset, tiles: out * inC, tileH: kh, tileW: kw,
                                      cols, start});
      zoomTo(canvas, Math.max(1, Math.min(8, Math.floor(480 / (cols * (kw + 1))))));
      how = inC === 1 ? `${out} filters` : `${out} filters (columns) × ${inC} input channels (rows)`;
    } else if (shape.length === 2 && shape[1] === c * h * w && h > 1) {
      const out = shape[0];                              // a first dense layer: one image per unit
      m = paintTiles(canvas, values, {offset: piece.offset, tiles: out, tileH: h, tileW: w,
                                      cols: Math.min(out, 16), stride: shape[1]});
      zoomTo(canvas, out <= 16 ? 2 : 1);
      how = `one ${h}×${w} image per unit${c > 1 ? " (channel 0)" : ""}`;
    } else {                                             // a weight matrix: rows are units
      const [out, inputs] = shape.length === 2 ? shape : [1, piece.count];
      m = paintTiles(canvas, values, {offset: piece.offset, tiles: 1, tileH: out, tileW: inputs, cols: 1});
      const zoom = Math.max(1, Math.min(12, Math.floor(320 / inputs)));
      zoomTo(canvas, zoom, Math.max(zoom, Math.min(12, Math.ceil(48 / out))));   // a few units: taller cells
      how = `${out} units × ${inputs} inputs`;
    }
    fig.cap.textContent = `${fig.title} ±${fmt(m)}: ${how}`;
  }

  drawBars(row, values, piece) {
    const probs = Array.from(values.subarray(piece.offset, piece.offset + piece.count));
    renderBars(row.bars, probs, this.classes);
  }

  drawSparks(row) {
    const {history, latest, sparks} = row;
    const show = (key, series, parts) => {      // parts: [text, colour index] of the caption
      const s = sparks[key];
      s.fig.hidden = series[0].length < 1;
      if (s.fig.hidden) return;
      s.cap.replaceChildren(...parts.map(([text, k]) => {
        const span = element("span", null, text);
        span.style.color = SPARK_COLOURS[k];
        return span;
      }));
      paintSparkline(s.canvas, series, SPARK_COLOURS);
    };
    if (latest.mean !== undefined) {
      show("mean", [history.mean, history.std], [[`mean ${fmt(latest.mean)}`, 0], [" · ", 0],
                                                  [`std ${fmt(latest.std)}`, 1]]);
    }
    if (latest.dead !== undefined) {
      show("dead", [history.dead], [[`dead ReLU units ${(100 * latest.dead).toFixed(1)}%`, 0]]);
    }
    if (latest.grad_norm !== undefined) {
      show("grad_norm", [history.grad_norm], [[`gradient norm ${fmt(latest.grad_norm)}`, 0]]);
    }
  }
}

// Probability bars, one per class, the most likely one marked; used by the last layer's
// row and by the drawing pad.
export function renderBars(container, probs, classes) {
  const best = probs.indexOf(Math.max(...probs));
  if (container.children.length !== probs.length) {
    container.replaceChildren(...probs.map(() => {
      const bar = element("div", "bar");
      bar.append(element("span", "bar-label"), element("span", "bar-track"), element("span", "bar-value"));
      bar.children[1].append(element("span", "bar-fill"));
      return bar;
    }));
  }
  probs.forEach((p, k) => {
    const bar = container.children[k];
    bar.classList.toggle("best", k === best);
    bar.children[0].textContent = classes ? classes[k] : String(k);
    bar.children[1].firstChild.style.width = `${(100 * p).toFixed(1)}%`;
    bar.children[2].textContent = `${(100 * p).toFixed(1)}%`;
  });
}
