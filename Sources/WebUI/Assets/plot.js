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

const timeSteps = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000].map((s) => s * 1000);

// Tick times (milliseconds) on round steps covering [min, max], about `count` of them.
export function timeTicks(min, max, count = 6) {
  const step = timeSteps.find((s) => (max - min) / s <= count) || timeSteps[timeSteps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) ticks.push(t);
  return ticks;
}

function label(t, span) {
  const iso = new Date(t).toISOString();
  if (span > 3 * 86400000) return iso.slice(5, 10); // days apart: the date alone
  return span > 86400000 ? iso.slice(5, 16).replace("T", " ") : iso.slice(11, span >= 60000 ? 16 : 19);
}

function element(name, attributes, parent) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  parent.append(node);
  return node;
}

// Starts a chart in `container` (replacing what was there): the SVG, the scales for `points`
// ([[milliseconds, value], …]; the value axis from 0 or below) and both axes. Returns null, after
// drawing "No data", when there is no point.
function axes(container, points, { height, title, format, start, end }) {
  container.replaceChildren();
  const width = Math.max(container.clientWidth || 0, 280);
  const margin = { left: 64, right: 12, top: 10, bottom: 26 };
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", height, role: "img", "aria-label": title, class: "chart" }, container);
  if (points.length === 0) {
    element("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = "No data";
    return null;
  }
  // Extents by a loop: spreading 100,000 points into Math.min passes the engine's argument limit.
  let [firstT, lastT, lowest, highest] = [Infinity, -Infinity, 0, -Infinity];
  for (const [t, v] of points) {
    if (t < firstT) firstT = t;
    if (t > lastT) lastT = t;
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  }
  const tMin = start ?? firstT;
  const tMax = Math.max(end ?? lastT, tMin + 1000);
  const vMin = lowest;
  let vMax = highest;
  if (vMax <= vMin) vMax = vMin + 1;
  // The value axis ends on a tick.
  const ticks = valueTicks(vMin, vMax);
  if (ticks.length > 1 && ticks[ticks.length - 1] < vMax) vMax = ticks[ticks.length - 1] + (ticks[1] - ticks[0]);
  const plotWidth = width - margin.left - margin.right;
  const x = (t) => margin.left + ((t - tMin) / (tMax - tMin)) * plotWidth;
  const y = (v) => height - margin.bottom - ((v - vMin) / (vMax - vMin)) * (height - margin.top - margin.bottom);
  const timeAt = (px) => tMin + ((px - margin.left) / plotWidth) * (tMax - tMin);
  const axis = element("g", { class: "axis" }, svg);
  for (const v of valueTicks(vMin, vMax)) {
    element("line", { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v), class: "grid" }, axis);
    element("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end" }, axis).textContent = format(v);
  }
  for (const t of timeTicks(tMin, tMax)) {
    element("text", { x: x(t), y: height - 8, "text-anchor": "middle" }, axis).textContent = label(t, tMax - tMin);
  }
  return { svg, x, y, width, height, margin, plotWidth, tMin, tMax, timeAt };
}

// A legend under a chart: a swatch and a name per series, and an empty value span for each
// (returned, for hover values); `color(i)` is each swatch's colour.
// With `pick(i)`, each item is a button (click, Enter or Space) and `pressed(i)` marks it.
function legendOf(container, names, color, pick, pressed) {
  const legend = document.createElement("ul");
  legend.className = "legend";
  const values = names.map((name, i) => {
    const item = document.createElement("li");
    if (pick) {
      item.tabIndex = 0;
      item.setAttribute("role", "button");
      item.setAttribute("aria-pressed", String(pressed(i)));
      item.title = "Show only this series; again to show all";
      item.addEventListener("click", () => pick(i));
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          pick(i);
        }
      });
    }
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color(i);
    const value = document.createElement("span");
    value.className = "value";
    item.append(swatch, document.createTextNode(name), value);
    legend.append(item);
    return value;
  });
  container.append(legend);
  return { legend, values };
}

// Draws `series` ([{name, points: [[milliseconds, value], …]}]) into `container`, replacing what
// was there; times are UTC. Options: `stacked` (each series drawn on top of the ones before),
// `onZoom(start, end)` (a drag across the chart picks a time range), `format` (value labels),
// `start` and `end` (the time axis, milliseconds; by default the points' own extent), `markers`
// ([{time, title}]: events drawn as dashed rules with a flag, the title shown on hover).
// Hovering shows each series' value at the nearest time in the legend; a legend item shows that
// series alone (`isolate`, its name) and again all of them. Returns the SVG element.
export function lineChart(container, series, options = {}) {
  const { height = 220, title = "chart", format = String, stacked = false, onZoom, start, end, markers = [], isolate = null } = options;
  const colour = new Map(series.map((s, i) => [s, `var(--c${i % 6})`]));
  const alone = series.find((s) => s.name === isolate);
  const shown = alone ? [alone] : series;
  const drawn = stacked ? stack(shown) : shown;
  const all = drawn.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  const frame = axes(container, all, { height, title, format, start, end });
  if (!frame) return container.querySelector("svg");
  const { svg, x, y, margin, tMin, tMax } = frame;
  drawn.forEach((s, i) => {
    // A gap in the points (a missing step, NaN) breaks the line.
    let d = "";
    let pen = "M";
    for (const [t, v] of s.points) {
      if (!Number.isFinite(v)) { pen = "M"; continue; }
      d += `${pen}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = "L";
    }
    const path = element("path", { d, class: "line", "data-series": s.name, "data-points": s.points.length }, svg);
    path.style.stroke = colour.get(shown[i]);
  });
  for (const marker of markers) {
    if (marker.time < tMin || marker.time > tMax) continue;
    const group = element("g", { class: "marker", "data-title": marker.title }, svg);
    const at = x(marker.time);
    element("line", { x1: at, x2: at, y1: margin.top, y2: height - margin.bottom }, group);
    element("path", { d: `M${at - 5},${margin.top}L${at + 5},${margin.top}L${at},${margin.top + 7}Z` }, group);
    element("title", {}, group).textContent = `${new Date(marker.time).toISOString()} ${marker.title}`;
  }
  const pick = series.length > 1 ? (i) => lineChart(container, series, { ...options, isolate: alone === series[i] ? null : series[i].name }) : null;
  const { legend, values } = legendOf(container, series.map((s) => s.name), (i) => colour.get(series[i]), pick, (i) => alone === series[i]);

  // Hover: a rule at the nearest time, each series' value there in the legend.
  const times = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  const rule = element("line", { y1: margin.top, y2: height - margin.bottom, class: "rule", visibility: "hidden" }, svg);
  pointer(frame, {
    onZoom,
    onMove(t) {
      let nearest = times[0];
      for (const candidate of times) if (Math.abs(candidate - t) < Math.abs(nearest - t)) nearest = candidate;
      rule.setAttribute("x1", x(nearest));
      rule.setAttribute("x2", x(nearest));
      rule.setAttribute("visibility", "visible");
      series.forEach((s, i) => {
        const point = shown.includes(s) ? s.points.find((p) => p[0] === nearest) : undefined;
        values[i].textContent = point ? ` ${format(point[1])}` : "";
      });
      legend.dataset.time = String(nearest);
    },
    onLeave() {
      rule.setAttribute("visibility", "hidden");
      values.forEach((v) => (v.textContent = ""));
    },
  });
  return svg;
}

// The pointer over a chart's plot area: `onMove(time)` as it moves, `onLeave()`, and, when
// `onZoom(start, end)` is given, a drag that selects a time range (milliseconds).
function pointer({ svg, width, height, margin, plotWidth, timeAt }, { onMove, onLeave, onZoom }) {
  const selection = element("rect", { y: margin.top, height: height - margin.top - margin.bottom, class: "selection", visibility: "hidden" }, svg);
  const overlay = element("rect", { x: margin.left, y: margin.top, width: plotWidth, height: height - margin.top - margin.bottom, class: "overlay" }, svg);
  const px = (event) => {
    const box = svg.getBoundingClientRect();
    return ((event.clientX - box.left) / box.width) * width;
  };
  let dragFrom = null;
  overlay.addEventListener("pointermove", (event) => {
    const at = px(event);
    onMove?.(timeAt(at));
    if (dragFrom !== null) {
      selection.setAttribute("x", Math.min(dragFrom, at));
      selection.setAttribute("width", Math.abs(at - dragFrom));
      selection.setAttribute("visibility", "visible");
    }
  });
  if (onLeave) overlay.addEventListener("pointerleave", onLeave);
  if (!onZoom) return;
  overlay.addEventListener("pointerdown", (event) => {
    dragFrom = px(event);
    overlay.setPointerCapture?.(event.pointerId);
  });
  overlay.addEventListener("pointerup", (event) => {
    const from = dragFrom;
    dragFrom = null;
    selection.setAttribute("visibility", "hidden");
    if (from === null || Math.abs(px(event) - from) < 5) return;
    const [a, b] = [timeAt(from), timeAt(px(event))].sort((p, q) => p - q);
    onZoom(Math.round(a), Math.round(b));
  });
}

// Draws `series` ([{name, points: [[milliseconds, value], …]}], values that add up, such as counts
// of log lines per step) as stacked bars, each point the bar of the `step` milliseconds that end at
// its time. Options: `color(name, i)` (each series' colour), `start`, `end`, `height`, `title`,
// `onZoom` as for lineChart. The legend gives each series' total; a bar's title its counts.
export function barChart(container, series, { height = 140, title = "chart", step, color = (_, i) => `var(--c${i % 6})`, start, end, onZoom } = {}) {
  const stacked = stack(series);
  const tops = stacked.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  const width = step || 1000;
  const frame = axes(container, tops.length ? [...tops, [tops[0][0] - width, 0]] : [], {
    height, title, format: (v) => (Number.isInteger(v) ? String(v) : ""), start, end,
  });
  if (!frame) return container.querySelector("svg");
  const { svg, x, y } = frame;
  stacked.forEach((s, i) => {
    s.points.forEach(([t, top], j) => {
      const count = series[i].points[j][1];
      if (!Number.isFinite(count) || count === 0) return;
      const left = x(t - width);
      const bar = element("rect", {
        x: left.toFixed(1), width: Math.max(1, x(t) - left - 1).toFixed(1), y: y(top).toFixed(1),
        height: Math.max(0, y(top - count) - y(top)).toFixed(1), class: "bar", "data-series": s.name, "data-value": count,
      }, svg);
      bar.style.fill = color(s.name, i);
      element("title", {}, bar).textContent = `${new Date(t - width).toISOString()} … ${new Date(t).toISOString()}: ${count} ${s.name}`;
    });
  });
  const { values } = legendOf(container, series.map((s) => s.name), (i) => color(series[i].name, i));
  series.forEach((s, i) => {
    values[i].textContent = ` ${s.points.reduce((sum, p) => sum + (Number.isFinite(p[1]) ? p[1] : 0), 0)}`;
  });
  pointer(frame, { onZoom });
  return svg;
}

// The series with each one's values added to those of the series before it, time by time.
function stack(series) {
  const below = new Map();
  return series.map((s) => ({
    name: s.name,
    points: s.points.map(([t, v]) => {
      const base = below.get(t) || 0;
      const top = Number.isFinite(v) ? base + v : base;
      below.set(t, top);
      return [t, Number.isFinite(v) ? top : NaN];
    }),
  }));
}
