// A photo with a box per face, each box labelled; boxes are placed in percentages of the upright image.

import { el, percent } from "./dom.js";

// A canvas larger than this adds memory, not detail, at the sizes a page shows.
const MAX_CANVAS_SIDE = 1280;

/** Return the label lines of a face: age (with its range), gender and ethnicity with probabilities. */
export function faceLines(face) {
  const range = face.age_range ? ` (${Math.round(face.age_range.low)}–${Math.round(face.age_range.high)})` : "";
  const ethnicity = face.ethnicity.label;
  return [
    `age ${Math.round(face.age)}${range}`,
    `${face.gender.label} ${percent(face.gender.probability)}`,
    `${ethnicity} ${percent(face.ethnicity.probabilities[ethnicity])}`,
  ];
}

/** Return a figure of the image (a bitmap, or null for none) with every face boxed and labelled. */
export function figure(bitmap, width, height, faces, { labels = true } = {}) {
  const frame = el("div", { class: bitmap ? "frame" : "frame blank" });
  frame.style.aspectRatio = `${width} / ${height}`;
  if (bitmap) frame.append(canvasOf(bitmap));
  faces.forEach((face, index) => frame.append(box(face, index, width, height, labels)));
  return frame;
}

/** Return a canvas holding the bitmap, scaled down to MAX_CANVAS_SIDE. */
function canvasOf(bitmap) {
  const scale = Math.min(1, MAX_CANVAS_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = el("canvas", { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale), "aria-hidden": "true" });
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** Return one face's box, numbered, with its label inside the frame (below the box unless near the bottom). */
function box(face, index, width, height, labels) {
  const { x, y, w, h } = face.box;
  const lines = faceLines(face);
  const node = el("div", { class: "box", role: "img", "aria-label": `face ${index + 1}: ${lines.join(", ")}` });
  Object.assign(node.style, { left: share(x / width), top: share(y / height), width: share(w / width), height: share(h / height) });
  node.append(el("span", { class: "number", text: String(index + 1) }));
  if (labels) {
    const label = el("div", { class: (y + h) / height > 0.7 ? "label above" : "label" }, ...lines.map((line) => el("span", { text: line })));
    node.append(label);
  }
  return node;
}

const share = (value) => `${(Math.max(0, value) * 100).toFixed(2)}%`;

/** Return a numbered list of the faces' labels, readable beside (or instead of) the picture. */
export function legend(faces) {
  return el("ol", { class: "legend" }, ...faces.map((face) => el("li", { text: [face.person, ...faceLines(face)].filter(Boolean).join(" · ") })));
}
