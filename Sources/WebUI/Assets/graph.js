// /graph: a PromQL expression run over a time range and drawn, or evaluated at one time and listed.
// Everything the page shows follows from its URL: expr, range, end, step, tab, stacked.
import { renderNav } from "/ui/nav.js";
import { getData, matrixSeries, seriesName, showError } from "/ui/api.js";
import { lineChart } from "/ui/plot.js";
import { cell, headerRow } from "/ui/dom.js";
import { attachCompletion } from "/ui/complete.js";
import { endFromInput, endInputValue, formatDuration, parseDuration, parseEnd, selectRange } from "/ui/time.js";

function readState() {
  const q = new URLSearchParams(location.search);
  return {
    expr: q.get("expr") || "",
    range: parseDuration(q.get("range")) || 3600,
    end: parseEnd(q.get("end")),
    step: parseDuration(q.get("step")) || (Number(q.get("step")) > 0 ? Number(q.get("step")) : null),
    tab: q.get("tab") === "table" ? "table" : "graph",
    stacked: q.get("stacked") === "1",
  };
}

function writeState(state, push) {
  const q = new URLSearchParams();
  q.set("expr", state.expr);
  q.set("range", formatDuration(state.range));
  if (state.end !== null) q.set("end", String(state.end));
  if (state.step !== null) q.set("step", `${state.step}s`);
  if (state.tab !== "graph") q.set("tab", state.tab);
  if (state.stacked) q.set("stacked", "1");
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
}

let state = readState();
const $ = (id) => document.getElementById(id);

function showControls() {
  $("expr").value = state.expr;
  selectRange($("range"), state.range);
  $("end").value = endInputValue(state.end);
  $("step").value = state.step === null ? "" : formatDuration(state.step);
  $("stacked").checked = state.stacked;
  for (const tab of ["graph", "table"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(state.tab === tab));
    $(`${tab}-panel`).hidden = state.tab !== tab;
  }
}

// The server's parse errors start with line:column; point at it under the expression.
function showPosition(message) {
  const box = $("position");
  const at = /"query": (\d+):(\d+):/.exec(message || "");
  if (!at) {
    box.hidden = true;
    return;
  }
  const line = state.expr.split("\n")[Number(at[1]) - 1] ?? "";
  box.textContent = `${line}\n${" ".repeat(Math.max(0, Number(at[2]) - 1))}^`;
  box.hidden = false;
}

function fillTable(data) {
  const table = $("table");
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

async function execute() {
  showControls();
  showError("");
  showPosition("");
  if (!state.expr.trim()) {
    $("chart").replaceChildren();
    $("summary").textContent = "";
    return;
  }
  const end = state.end ?? Date.now() / 1000;
  const started = performance.now();
  try {
    if (state.tab === "graph") {
      const step = state.step ?? Math.max(1, Math.round(state.range / 250));
      const q = new URLSearchParams({ query: state.expr, start: String(end - state.range), end: String(end), step: String(step) });
      const [data, markers] = await Promise.all([getData(`/api/v1/query_range?${q}`), deliveryMarkers(end - state.range, end)]);
      const series = matrixSeries(data);
      lineChart($("chart"), series, {
        markers,
        height: 320, title: state.expr, stacked: state.stacked, start: (end - state.range) * 1000, end: end * 1000,
        onZoom: (from, to) => {
          state = { ...state, end: Math.round(to / 1000), range: Math.max(1, Math.round((to - from) / 1000)) };
          writeState(state, true);
          execute();
        },
      });
      // For the benchmark of navigation to a drawn chart (.ci/bench/ui_chart.py).
      performance.mark("tally:chart-drawn");
      const points = series.reduce((n, s) => n + s.points.length, 0);
      $("summary").textContent = `${series.length} series, ${points} points, step ${formatDuration(step)}, ${Math.round(performance.now() - started)} ms`;
    } else {
      const q = new URLSearchParams({ query: state.expr, time: String(end) });
      const rows = fillTable(await getData(`/api/v1/query?${q}`));
      $("summary").textContent = `${rows} rows at ${new Date(end * 1000).toISOString()}, ${Math.round(performance.now() - started)} ms`;
    }
  } catch (error) {
    showError(error.message);
    showPosition(error.message);
    $("summary").textContent = "";
  }
}

function update(changes) {
  state = { ...state, ...changes };
  writeState(state, true);
  execute();
}

renderNav();
// Attached first: with its list open, Enter picks a completion instead of running the query.
attachCompletion($("expr"), $("suggestions"));
$("query").addEventListener("submit", (event) => {
  event.preventDefault();
  update({ expr: $("expr").value });
});
$("expr").addEventListener("keydown", (event) => {
  // Enter runs the query; Shift+Enter starts a new line.
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    update({ expr: $("expr").value });
  }
});
$("range").addEventListener("change", () => update({ range: parseDuration($("range").value) }));
$("end").addEventListener("change", () => update({ end: endFromInput($("end").value) }));
$("step").addEventListener("change", () => update({ step: parseDuration($("step").value) }));
$("stacked").addEventListener("change", () => update({ stacked: $("stacked").checked }));
$("tab-graph").addEventListener("click", () => update({ tab: "graph" }));
$("tab-table").addEventListener("click", () => update({ tab: "table" }));
window.addEventListener("popstate", () => {
  state = readState();
  execute();
});
if (location.search) writeState(state, false);
execute();
