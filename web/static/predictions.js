// Test images with the model's top-3 classes, and the confusion matrix.

import {paintGray} from "./tiles.js";

// result: playground.evaluate()'s dict; onChoose(index) when a picture is chosen.
export function renderPredictions(container, result, classes, selected, onChoose) {
  const n = result.labels.length;
  const side = Math.round(Math.sqrt(result.pixels.length / n));
  while (container.children.length > n) container.lastChild.remove();
  while (container.children.length < n) {
    const cell = document.createElement("button");
    cell.className = "prediction";
    cell.type = "button";
    const canvas = document.createElement("canvas");
    const list = document.createElement("ol");
    const truth = document.createElement("span");
    truth.className = "truth";
    cell.append(canvas, list, truth);
    container.append(cell);
  }
  for (let i = 0; i < n; i++) {
    const cell = container.children[i];
    const index = result.indices[i];
    const [canvas, list, truth] = cell.children;
    paintGray(canvas, result.pixels, i * side * side, side, side);
    const top = result.top3[i], probs = result.top3_probs[i];
    const label = result.labels[i];
    const wrong = top[0] !== label;
    cell.classList.toggle("wrong", wrong);
    cell.classList.toggle("selected", index === selected);
    cell.onclick = () => onChoose(index);
    list.replaceChildren(...top.map((k, j) => {
      const item = document.createElement("li");
      item.className = k === label ? "right" : "";
      item.innerHTML = `<span class="name"></span><span class="bar" style="width:${Math.round(60 * probs[j])}px"></span><span class="p">${Math.round(100 * probs[j])}%</span>`;
      item.firstChild.textContent = classes[k];
      return item;
    }));
    truth.textContent = wrong ? `true: ${classes[label]}` : "";
    cell.setAttribute("aria-label", `test image ${index}: predicted ${classes[top[0]]} ` +
      `(${Math.round(100 * probs[0])}%), true ${classes[label]}${wrong ? ": a mistake" : ""}`);
  }
}

export function markSelected(container, indices, selected) {
  [...container.children].forEach((cell, i) => cell.classList.toggle("selected", indices[i] === selected));
}

// result: playground.confusion()'s dict: matrix[true][predicted] over the test set.
export function renderConfusion(container, result) {
  const {matrix, classes} = result;
  const table = document.createElement("table");
  table.className = "confusion";
  const head = table.createTHead().insertRow();
  head.append(cell("th", "true ↓ / predicted →"), ...classes.map((c) => cell("th", c)), cell("th", "recall"));
  const body = table.createTBody();
  matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const tr = body.insertRow();
    tr.append(cell("th", classes[t]));
    row.forEach((n, p) => {
      const td = cell("td", n.toLocaleString("en"));
      const share = total ? n / total : 0;
      td.style.background = p === t ? `rgba(37, 99, 235, ${0.1 + 0.8 * share})`
        : n ? `rgba(220, 38, 38, ${Math.min(0.9, 0.08 + 6 * share)})` : "";
      if (p === t && share > 0.6) td.style.color = "white";
      td.title = `true ${classes[t]}, predicted ${classes[p]}: ${n}`;
      tr.append(td);
    });
    tr.append(cell("td", total ? `${(100 * row[t] / total).toFixed(1)}%` : "–"));
  });
  container.replaceChildren(table);
}

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}
