// /logs: a LogQL query over a time range. A log query shows the volume of its lines by level and
// the lines, newest first, each expandable to its labels and parsed fields, and can follow new
// lines live (Loki's tail WebSocket); a metric query is drawn as a chart. Everything the page
// shows follows from its URL: query, range, end, limit, direction, live.
import { renderNav } from "/ui/nav.js";
import { getData, matrixSeries, showError } from "/ui/api.js";
import { barChart, lineChart } from "/ui/plot.js";
import { element } from "/ui/dom.js";
import { attachCompletion, logQL } from "/ui/complete.js";
import { endFromInput, endInputValue, formatDuration, parseDuration, parseEnd, selectRange } from "/ui/time.js";

// Levels from the most to the least severe, as tally normalises them; the volume stacks in this order.
const levels = ["critical", "error", "warn", "info", "debug", "trace", "unknown"];
const levelOf = (labels) => (levels.includes(labels.level) ? labels.level : "unknown");

function readState() {
  const q = new URLSearchParams(location.search);
  const limit = Number(q.get("limit"));
  return {
    query: q.get("query") || "",
    range: parseDuration(q.get("range")) || 3600,
    end: parseEnd(q.get("end")),
    limit: Number.isInteger(limit) && limit > 0 ? limit : 1000,
    direction: q.get("direction") === "forward" ? "forward" : "backward",
    live: q.get("live") === "1",
  };
}

function writeState(state, push) {
  const q = new URLSearchParams();
  q.set("query", state.query);
  q.set("range", formatDuration(state.range));
  if (state.end !== null) q.set("end", String(state.end));
  if (state.limit !== 1000) q.set("limit", String(state.limit));
  if (state.direction !== "backward") q.set("direction", state.direction);
  if (state.live) q.set("live", "1");
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
}

let state = readState();
const $ = (id) => document.getElementById(id);

function showControls() {
  $("query").value = state.query;
  selectRange($("range"), state.range);
  $("end").value = endInputValue(state.end);
  if (![...$("limit").options].some((o) => o.text === String(state.limit))) $("limit").add(new Option(String(state.limit)));
  $("limit").value = String(state.limit);
  $("direction").value = state.direction;
  $("live").setAttribute("aria-pressed", String(state.live));
}

// LogQL parse errors name the line and column; point at it under the query.
function showPosition(message) {
  const box = $("position");
  const at = /parse error at line (\d+), col (\d+)/.exec(message || "");
  box.hidden = !at;
  if (!at) return;
  const line = state.query.split("\n")[Number(at[1]) - 1] ?? "";
  box.textContent = `${line}\n${" ".repeat(Math.max(0, Number(at[2]) - 1))}^`;
}

// Nanoseconds since the epoch, as the Loki API's strings, for a time in seconds.
const nanos = (seconds) => `${BigInt(Math.round(seconds * 1000)) * 1000000n}`;

// A line's parsed fields: a JSON object's members (nested ones joined by "_", as LogQL's json
// stage names them), or logfmt's key=value pairs; none for other text.
export function parsedFields(line) {
  const fields = [];
  if (line.trimStart().startsWith("{")) {
    try {
      const walk = (value, prefix) => {
        if (value && typeof value === "object" && !Array.isArray(value)) {
          for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}_${key}` : key);
        } else {
          fields.push([prefix, typeof value === "string" ? value : JSON.stringify(value)]);
        }
      };
      walk(JSON.parse(line), "");
      return fields;
    } catch {
      fields.length = 0;
    }
  }
  for (const [, key, quoted, bare] of line.matchAll(/(?:^|\s)([A-Za-z_][\w.\-]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) {
    fields.push([key, quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare]);
  }
  return fields;
}

// The labels and fields of one line, built when it is first opened.
function details(entry) {
  const table = element("table", "fields");
  const section = (title, pairs) => {
    if (pairs.length === 0) return;
    const head = document.createElement("tr");
    const th = element("th", "", title);
    th.colSpan = 2;
    head.append(th);
    table.append(head);
    for (const [key, value] of pairs) {
      const row = document.createElement("tr");
      row.append(element("td", "name", key), element("td", "", value));
      table.append(row);
    }
  };
  section("Labels", Object.entries(entry.labels).sort(([a], [b]) => a.localeCompare(b)));
  section("Fields", parsedFields(entry.line));
  return table;
}

// The HTML of lines of the list: time, level, text each, in a button that opens (click, Enter or
// Space) the line's labels and fields. Built as one string and parsed once; plain buttons rather
// than <details>, which gives every line a shadow tree (ten thousand lines drew 15% slower).
const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const escape = (text) => text.replace(/[&<>"]/g, (c) => escapes[c]);
function linesHTML(list, first) {
  let html = "";
  list.forEach((entry, i) => {
    const iso = new Date(entry.ms).toISOString();
    html += `<li class="line" data-level="${entry.level}" data-entry="${first + i}"><button type="button" aria-expanded="false">`
      + `<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 23)}</time><span class="level">${entry.level}</span>`
      + `<span class="text">${escape(entry.line)}</span></button></li>`;
  });
  return html;
}

// Every entry the list has shown, by its data-entry number, for the details of an opened line.
let shownEntries = [];

// The streams of a Loki answer as one list of entries, in the order asked for. Nanosecond times
// stay strings (compared by length, then text) so that no line costs a BigInt.
function entries(streams, direction) {
  const list = [];
  for (const stream of streams) {
    const level = levelOf(stream.stream);
    for (const [ns, line] of stream.values) list.push({ ns, ms: Number(ns.slice(0, -6)), line, labels: stream.stream, level });
  }
  const sign = direction === "forward" ? 1 : -1;
  list.sort((a, b) => sign * (a.ns.length - b.ns.length || (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0)));
  return list;
}

// Draws the list: the first screenful at once, the rest in batches between which the page stays
// responsive (the first layout of ten thousand lines takes about a second here, nearly all of it
// shaping their text). Resolves when every line is in; a newer query's list stops an older one's.
let drawing = 0;
async function showLines(list) {
  const generation = ++drawing;
  shownEntries = list.slice();
  const lines = $("lines");
  const first = 200;
  lines.innerHTML = linesHTML(list.slice(0, first), 0);
  void lines.offsetHeight;
  performance.mark("tally:first-lines-drawn");
  for (let from = first; from < list.length; from += 1000) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (generation !== drawing) return false;
    lines.insertAdjacentHTML("beforeend", linesHTML(list.slice(from, from + 1000), from));
    void lines.offsetHeight; // laid out before the time is taken
  }
  return true;
}

// Lines that came after: at the top (newest first) or the bottom; the list keeps `limit` lines.
function addLines(list) {
  const lines = $("lines");
  const html = linesHTML(list, shownEntries.length);
  shownEntries.push(...list);
  lines.insertAdjacentHTML(state.direction === "forward" ? "beforeend" : "afterbegin", html);
  while (lines.children.length > state.limit) (state.direction === "forward" ? lines.firstElementChild : lines.lastElementChild).remove();
}

// Lines per level per step, for a log query: LogQL's count_over_time over the same pipeline.
async function volume(query, start, end, step) {
  const q = new URLSearchParams({
    query: `sum by (level) (count_over_time(${query} [${step}s]))`, start: nanos(start), end: nanos(end), step: `${step}s`,
  });
  const data = await getData(`/loki/api/v1/query_range?${q}`);
  const series = data.result.map((r) => ({
    name: levels.includes(r.metric.level) ? r.metric.level : "unknown",
    points: r.values.map(([t, v]) => [t * 1000, Number(v)]),
  }));
  return series.sort((a, b) => levels.indexOf(a.name) - levels.indexOf(b.name));
}

let socket = null;

function stopTail() {
  if (socket) {
    socket.onclose = null;
    socket.close(1000);
    socket = null;
  }
}

// Follows new lines from `fromNanos` on: each batch the tail sends goes in the list where the
// order puts new lines, and the list keeps at most `limit` lines.
function startTail(fromNanos) {
  stopTail();
  const q = new URLSearchParams({ query: state.query, limit: String(Math.min(state.limit, 5000)), start: String(fromNanos) });
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/loki/api/v1/tail?${q}`);
  let received = 0;
  socket.onopen = () => ($("summary").dataset.live = "open");
  socket.onmessage = (event) => {
    const batch = entries(JSON.parse(event.data).streams || [], state.direction);
    received += batch.length;
    addLines(batch);
    $("summary").textContent = `Live: ${received} new ${received === 1 ? "line" : "lines"} since the page opened the tail`;
  };
  socket.onclose = (event) => {
    socket = null;
    $("live").setAttribute("aria-pressed", "false");
    showError(`Live tail closed${event.reason ? `: ${event.reason}` : ` (code ${event.code})`}`);
  };
}

async function execute() {
  drawing++; // a list still being drawn stops
  stopTail();
  showControls();
  showError("");
  showPosition("");
  if (!state.query.trim()) {
    for (const id of ["volume", "chart", "lines"]) $(id).replaceChildren();
    $("summary").textContent = "";
    return;
  }
  const end = state.end ?? Date.now() / 1000;
  const start = end - state.range;
  const step = Math.max(1, Math.round(state.range / 60));
  const started = performance.now();
  try {
    const q = new URLSearchParams({
      query: state.query, start: nanos(start), end: nanos(end), limit: String(state.limit), direction: state.direction,
      step: `${Math.max(1, Math.round(state.range / 250))}s`,
    });
    const data = await getData(`/loki/api/v1/query_range?${q}`);
    const zoom = (from, to) => update({ end: Math.round(to / 1000), range: Math.max(1, Math.round((to - from) / 1000)) });
    const isLogs = data.resultType === "streams";
    $("chart-panel").hidden = isLogs;
    $("volume-panel").hidden = !isLogs;
    if (!isLogs) {
      $("lines").replaceChildren();
      const series = matrixSeries(data);
      lineChart($("chart"), series, { height: 300, title: state.query, start: start * 1000, end: end * 1000, onZoom: zoom });
      $("summary").textContent = `${series.length} series, ${Math.round(performance.now() - started)} ms`;
      if (state.live) showError("Live tail follows log queries; this is a metric query.");
      return;
    }
    performance.mark("tally:lines-fetched");
    const list = entries(data.result, state.direction);
    if (!(await showLines(list))) return;
    performance.mark("tally:lines-drawn");
    const shown = `${list.length} ${list.length === 1 ? "line" : "lines"}${list.length >= state.limit ? ` (the limit; narrow the query or the range for older ones)` : ""}`;
    $("summary").textContent = `${shown}, ${Math.round(performance.now() - started)} ms`;
    const byLevel = await volume(state.query, start, end, step);
    barChart($("volume"), byLevel, {
      height: 120, title: `Lines by level: ${state.query}`, step: step * 1000, start: start * 1000, end: end * 1000,
      color: (level) => `var(--level-${level})`, onZoom: zoom,
    });
    if (state.live) {
      const newest = list.reduce((max, e) => (e.ns.length > max.length || (e.ns.length === max.length && e.ns > max) ? e.ns : max), "");
      startTail(newest ? BigInt(newest) + 1n : BigInt(nanos(end)));
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
// A line opens to its labels and fields (built when first opened) and closes again.
$("lines").addEventListener("click", (event) => {
  const button = event.target.closest("li.line > button");
  if (!button) return;
  const item = button.parentElement;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  const entry = shownEntries[Number(item.dataset.entry)];
  if (open && entry && !item.querySelector("table")) item.append(details(entry));
  const table = item.querySelector("table");
  if (table) table.hidden = !open;
});
attachCompletion($("query"), $("suggestions"), logQL);
$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  update({ query: $("query").value });
});
$("query").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    update({ query: $("query").value });
  }
});
$("range").addEventListener("change", () => update({ range: parseDuration($("range").value) }));
$("end").addEventListener("change", () => update({ end: endFromInput($("end").value) }));
$("limit").addEventListener("change", () => update({ limit: Number($("limit").value) }));
$("direction").addEventListener("change", () => update({ direction: $("direction").value }));
$("live").addEventListener("click", () => update({ live: !state.live, end: null }));
window.addEventListener("popstate", () => {
  state = readState();
  execute();
});
if (location.search) writeState(state, false);
execute();
