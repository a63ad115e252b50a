// /graph: PromQL expressions, each in its own panel, run over a time range and drawn, or evaluated
// at one time and listed. Everything the page shows follows from its URL: the first panel's
// expr, range, end, step, tab and stacked, the others' the same with a `g1.`, `g2.` … prefix.
// Prometheus's own links (g0.expr, g0.range_input, g0.tab=1 …) open too.
import { renderNav } from "/ui/nav.js";
import { getData, matrixSeries, seriesName, showError } from "/ui/api.js";
import { lineChart } from "/ui/plot.js";
import { cell, headerRow } from "/ui/dom.js";
import { attachCompletion } from "/ui/complete.js";
import { endFromInput, endInputValue, formatDuration, parseDuration, parseEnd, selectRange } from "/ui/time.js";

const prefix = (i) => (i === 0 ? "" : `g${i}.`);

// One panel's settings from the URL: ours first, then Prometheus's names for the same.
function readPanel(q, i) {
  const own = (name) => q.get(prefix(i) + name);
  const prom = (name) => q.get(`g${i}.${name}`);
  const step = own("step") ?? prom("step_input");
  return {
    expr: own("expr") ?? prom("expr") ?? "",
    range: parseDuration(own("range") ?? prom("range_input")) || 3600,
    end: parseEnd(own("end") ?? prom("end_input")),
    step: parseDuration(step) || (Number(step) > 0 ? Number(step) : null),
    tab: (own("tab") ?? prom("tab")) === "table" || prom("tab") === "1" ? "table" : "graph",
    stacked: (own("stacked") ?? prom("stacked")) === "1",
  };
}

function readState() {
  const q = new URLSearchParams(location.search);
  const panels = [readPanel(q, 0)];
  for (let i = 1; q.has(`g${i}.expr`); i++) panels.push(readPanel(q, i));
  return panels;
}

function writeState(push) {
  const q = new URLSearchParams();
  panels.forEach((p, i) => {
    const key = (name) => prefix(i) + name;
    q.set(key("expr"), p.expr);
    q.set(key("range"), formatDuration(p.range));
    if (p.end !== null) q.set(key("end"), String(p.end));
    if (p.step !== null) q.set(key("step"), `${p.step}s`);
    if (p.tab !== "graph") q.set(key("tab"), p.tab);
    if (p.stacked) q.set(key("stacked"), "1");
  });
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
}

let panels = readState();
// Each panel's elements by their name in the template (`expr`, `chart` …).
let views = [];

function fillTable(table, data) {
  table.replaceChildren(headerRow("Series", ["Value", "num"]));
  const rows =
    data.resultType === "vector" ? data.result.map((r) => [seriesName(r.metric), r.value[1]])
    : data.resultType === "matrix" ? data.result.map((r) => [seriesName(r.metric), r.values.map((v) => `${v[1]} @${v[0]}`).join("\n")])
    : [[data.resultType, data.result[1]]];
  if (rows.length === 0) rows.push(["No data", ""]);
  for (const [name, value] of rows) {
    const tr = document.createElement("tr");
    tr.append(cell(name, "name"), cell(value, "num value"));
    table.append(tr);
  }
  return rows.length;
}

// Deploys and incidents (the delivery events, kept in the log store) between two times, as chart markers.
async function deliveryMarkers(startSeconds, endSeconds) {
  const q = new URLSearchParams({
    query: '{event=~"deployment|incident"}', start: `${Math.floor(startSeconds)}000000000`,
    end: `${Math.ceil(endSeconds)}000000000`, limit: "500", direction: "forward",
  });
  try {
    const data = await getData(`/loki/api/v1/query_range?${q}`);
    return data.result.flatMap((stream) => stream.values.map(([ns, line]) => {
      let event = {};
      try { event = JSON.parse(line); } catch { /* a line that is not JSON: its stream's labels only */ }
      const what = [event.event || stream.stream.event, event.service || stream.stream.service, event.version || event.id, event.status || event.state];
      return { time: Number(ns) / 1e6, title: what.filter(Boolean).join(" ") };
    }));
  } catch {
    return []; // no log store, or the events cannot be read: the chart without markers
  }
}

// The server's parse errors start with line:column; point at it under the expression.
function showPosition(view, expr, message) {
  const at = /"query": (\d+):(\d+):/.exec(message || "");
  view.position.hidden = !at;
  if (!at) return;
  const line = expr.split("\n")[Number(at[1]) - 1] ?? "";
  view.position.textContent = `${line}\n${" ".repeat(Math.max(0, Number(at[2]) - 1))}^`;
}

function showControls(i) {
  const [p, v] = [panels[i], views[i]];
  v.expr.value = p.expr;
  selectRange(v.range, p.range);
  v.end.value = endInputValue(p.end);
  v.step.value = p.step === null ? "" : formatDuration(p.step);
  v.stacked.checked = p.stacked;
  for (const tab of ["graph", "table"]) {
    v[`tab-${tab}`].setAttribute("aria-selected", String(p.tab === tab));
    v[`${tab}-panel`].hidden = p.tab !== tab;
  }
  v.remove.hidden = panels.length === 1;
}

async function execute(i) {
  const [p, v] = [panels[i], views[i]];
  showControls(i);
  showError("", v.section, v.errorId);
  showPosition(v, p.expr, "");
  if (!p.expr.trim()) {
    v.chart.replaceChildren();
    v.summary.textContent = "";
    return;
  }
  const end = p.end ?? Date.now() / 1000;
  const started = performance.now();
  try {
    if (p.tab === "graph") {
      const step = p.step ?? Math.max(1, Math.round(p.range / 250));
      const q = new URLSearchParams({ query: p.expr, start: String(end - p.range), end: String(end), step: String(step) });
      const [data, markers] = await Promise.all([getData(`/api/v1/query_range?${q}`), deliveryMarkers(end - p.range, end)]);
      const series = matrixSeries(data);
      lineChart(v.chart, series, {
        markers,
        height: 320, title: p.expr, stacked: p.stacked, start: (end - p.range) * 1000, end: end * 1000,
        onZoom: (from, to) => update(i, { end: Math.round(to / 1000), range: Math.max(1, Math.round((to - from) / 1000)) }),
      });
      // For the benchmark of navigation to a drawn chart (.ci/bench/ui_chart.py).
      if (i === 0) performance.mark("tally:chart-drawn");
      const points = series.reduce((n, s) => n + s.points.length, 0);
      v.summary.textContent = `${series.length} series, ${points} points, step ${formatDuration(step)}, ${Math.round(performance.now() - started)} ms`;
    } else {
      const q = new URLSearchParams({ query: p.expr, time: String(end) });
      const rows = fillTable(v.table, await getData(`/api/v1/query?${q}`));
      v.summary.textContent = `${rows} rows at ${new Date(end * 1000).toISOString()}, ${Math.round(performance.now() - started)} ms`;
    }
  } catch (error) {
    showError(error.message, v.section, v.errorId);
    showPosition(v, p.expr, error.message);
    v.summary.textContent = "";
  }
}

function update(i, changes) {
  panels[i] = { ...panels[i], ...changes };
  writeState(true);
  execute(i);
}

// A panel's elements from the template; the first panel's ids are the plain names (expr,
// chart …), the others' carry their number (expr-1 …).
function makeView(i) {
  const section = document.getElementById("panel-template").content.firstElementChild.cloneNode(true);
  const id = (name) => (i === 0 ? name : `${name}-${i}`);
  const view = { section, errorId: id("error") };
  section.id = id("panel");
  section.setAttribute("aria-label", `Query ${i + 1}`);
  for (const node of section.querySelectorAll("[data-id]")) {
    node.id = id(node.dataset.id);
    view[node.dataset.id] = node;
  }
  for (const node of section.querySelectorAll("[data-for]")) node.htmlFor = id(node.dataset.for);
  for (const node of section.querySelectorAll("[data-controls]")) node.setAttribute("aria-controls", id(node.dataset.controls));
  for (const node of section.querySelectorAll("[data-labelledby]")) node.setAttribute("aria-labelledby", id(node.dataset.labelledby));
  // Attached first: with its list open, Enter picks a completion instead of running the query.
  attachCompletion(view.expr, view.suggestions);
  section.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    update(i, { expr: view.expr.value });
  });
  view.expr.addEventListener("keydown", (event) => {
    // Enter runs the query; Shift+Enter starts a new line.
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      update(i, { expr: view.expr.value });
    }
  });
  view.range.addEventListener("change", () => update(i, { range: parseDuration(view.range.value) }));
  view.end.addEventListener("change", () => update(i, { end: endFromInput(view.end.value) }));
  view.step.addEventListener("change", () => update(i, { step: parseDuration(view.step.value) }));
  view.stacked.addEventListener("change", () => update(i, { stacked: view.stacked.checked }));
  view["tab-graph"].addEventListener("click", () => update(i, { tab: "graph" }));
  view["tab-table"].addEventListener("click", () => update(i, { tab: "table" }));
  view.remove.addEventListener("click", () => {
    panels.splice(i, 1);
    writeState(true);
    render();
  });
  return view;
}

// Builds a panel for each query in the state and runs them all.
function render() {
  views = panels.map((_, i) => makeView(i));
  document.getElementById("panels").replaceChildren(...views.map((v) => v.section));
  panels.forEach((_, i) => execute(i));
}

renderNav();
document.getElementById("add-panel").addEventListener("click", () => {
  const last = panels[panels.length - 1];
  panels.push({ expr: "", range: last.range, end: last.end, step: null, tab: "graph", stacked: false });
  writeState(true);
  render();
  views[views.length - 1].expr.focus();
});
window.addEventListener("popstate", () => {
  panels = readState();
  render();
});
if (location.search) writeState(false);
render();
