// Line charts of time series, drawn as SVG by the pages themselves (no library): a time axis,
// a value axis with round ticks, one line per series, and a legend under the chart.
const NS = "http://www.w3.org/2000/svg";

// Round tick values covering [min, max], about `count` of them.
export function valueTicks(min, max, count = 5) {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const timeSteps = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400].map((s) => s * 1000);

// Tick times (milliseconds) on round steps covering [min, max], about `count` of them.
export function timeTicks(min, max, count = 6) {
  const step = timeSteps.find((s) => (max - min) / s <= count) || timeSteps[timeSteps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) ticks.push(t);
  return ticks;
}

function label(t, span) {
  const iso = new Date(t).toISOString();
  return span > 86400000 ? iso.slice(5, 16).replace("T", " ") : iso.slice(11, span >= 60000 ? 16 : 19);
}

function element(name, attributes, parent) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent.append(node);
  return node;
}

// Draws `series` ([{name, points: [[milliseconds, value], …]}]) into `container`, replacing what
// was there. Times are UTC. Returns the SVG element.
export function lineChart(container, series, { height = 220, title = "chart", format = String } = {}) {
  container.replaceChildren();
  const width = Math.max(container.clientWidth || 0, 280);
  const margin = { left: 64, right: 12, top: 10, bottom: 26 };
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", height, role: "img", "aria-label": title, class: "chart" }, container);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    element("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = "No data";
    return svg;
  }
  const tMin = Math.min(...all.map((p) => p[0]));
  const tMax = Math.max(...all.map((p) => p[0]), tMin + 1000);
  const vMin = Math.min(0, ...all.map((p) => p[1]));
  let vMax = Math.max(...all.map((p) => p[1]));
  if (vMax <= vMin) vMax = vMin + 1;
  const x = (t) => margin.left + ((t - tMin) / (tMax - tMin)) * (width - margin.left - margin.right);
  const y = (v) => height - margin.bottom - ((v - vMin) / (vMax - vMin)) * (height - margin.top - margin.bottom);
  const axis = element("g", { class: "axis" }, svg);
  for (const v of valueTicks(vMin, vMax)) {
    element("line", { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v), class: "grid" }, axis);
    element("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end" }, axis).textContent = format(v);
  }
  for (const t of timeTicks(tMin, tMax)) {
    element("text", { x: x(t), y: height - 8, "text-anchor": "middle" }, axis).textContent = label(t, tMax - tMin);
  }
  series.forEach((s, i) => {
    const d = s.points.map((p, k) => `${k === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    const path = element("path", { d, class: "line", "data-series": s.name, "data-points": s.points.length }, svg);
    path.style.stroke = `var(--c${i % 6})`;
  });
  const legend = document.createElement("ul");
  legend.className = "legend";
  series.forEach((s, i) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = `var(--c${i % 6})`;
    item.append(swatch, document.createTextNode(s.name));
    legend.append(item);
  });
  container.append(legend);
  return svg;
}
