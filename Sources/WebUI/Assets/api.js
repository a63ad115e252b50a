// Reading tally's HTTP API from the pages: JSON in Prometheus's envelope, and /metrics text.

// GETs a JSON answer as it is (an answer outside Prometheus's envelope, such as the report's or
// VictoriaMetrics's top_queries); throws the server's own error message (Prometheus's error JSON,
// or the plain text Loki's API answers errors with).
export async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(response.ok ? `${path}: not JSON` : text.trim() || `${path}: HTTP ${response.status} ${response.statusText}`);
  }
  if (!response.ok || body.status === "error") {
    throw new Error(body.error ? `${body.errorType || "error"}: ${body.error}` : `${path}: HTTP ${response.status}`);
  }
  return body;
}

// GETs a Prometheus-style JSON answer and returns its `data`.
export async function getData(path) {
  const body = await getJSON(path);
  if (body.status !== "success") throw new Error(`${path}: not a Prometheus API answer`);
  return body.data;
}

// Tally's own metrics (the Prometheus text format), as name -> {help, samples: [{labels, value}]}.
export async function getMetrics() {
  const response = await fetch("/metrics");
  if (!response.ok) throw new Error(`/metrics: HTTP ${response.status}`);
  return parseMetrics(await response.text());
}

export function parseMetrics(text) {
  const families = new Map();
  const family = (name) => {
    if (!families.has(name)) families.set(name, { help: "", samples: [] });
    return families.get(name);
  };
  for (const line of text.split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (help) family(help[1]).help = help[2].replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const pair of (match[3] || "").matchAll(pairs)) {
      labels[pair[1]] = pair[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    family(match[1]).samples.push({ labels, value: Number(match[4]) });
  }
  return families;
}

// A series' labels as Prometheus prints them: name{a="1", b="2"}, or {…} without a name.
export function seriesName(metric) {
  const pairs = Object.entries(metric).filter(([k]) => k !== "__name__").map(([k, v]) => `${k}="${v}"`);
  return (metric.__name__ || "") + (pairs.length || !metric.__name__ ? `{${pairs.join(", ")}}` : "");
}

// A range query's matrix as chart series: [{name, points: [[milliseconds, value], …]}].
export function matrixSeries(data) {
  return (data.result || []).map((r) => ({ name: seriesName(r.metric), points: r.values.map(([t, v]) => [t * 1000, Number(v)]) }));
}

// A count with thousands separators.
export function formatCount(value) {
  return Number(value).toLocaleString("en-US");
}

// Shows an error above the page's content (or at the top of `within`, in a box with the id `id`),
// or clears it.
export function showError(message, within = document.querySelector("main"), id = "error") {
  let box = document.getElementById(id);
  if (!box) {
    box = document.createElement("div");
    box.id = id;
    box.className = "error";
    box.setAttribute("role", "alert");
    within.prepend(box);
  }
  box.hidden = !message;
  box.textContent = message || "";
}
