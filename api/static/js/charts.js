// Horizontal bar charts drawn with elements, so they scale, print and read aloud as text.

import { el, percent } from "./dom.js";

/** Return a chart of labelled counts; with shares, each bar also says its share of the total. */
export function barChart(title, items, { shares = false } = {}) {
  const total = items.reduce((sum, item) => sum + item.count, 0);
  const top = Math.max(1, ...items.map((item) => item.count));
  const rows = items.map((item) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${(item.count / top) * 100}%`;
    const value = shares && total ? `${item.count} (${percent(item.count / total)})` : String(item.count);
    return el("li", {}, el("span", { class: "key", text: item.label }), el("span", { class: "track" }, bar), el("span", { class: "value", text: value }));
  });
  const body = items.length ? el("ul", { class: "bars" }, ...rows) : el("p", { class: "muted", text: "No faces yet." });
  return el("figure", { class: "chart" }, el("figcaption", { text: title }), body);
}
