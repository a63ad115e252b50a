// /status: what this tally is and does: build and runtime, listeners, ingest and drop counters,
// the storage's WAL and blocks, forwarding queues, the slowest recent queries, the config in force.
import { renderNav } from "/ui/nav.js";
import { formatCount, getData, getJSON, getMetrics, showError } from "/ui/api.js";
import { card, element, emptyRow, headerRow, row } from "/ui/dom.js";

const $ = (id) => document.getElementById(id);

// Counters of what came in and what was turned away: a family whose name says so.
const ingestWords = /_(received|appended|imported|dropped|rejected|refused|bad|invalid|truncated|conflict|parse_errors|limited|corruptions)_/;
const refusalWords = /_(dropped|rejected|refused|bad|invalid|truncated|conflict|parse_errors|limited|corruptions)_/;
// Forwarding: remote_write queues, Loki push queues, the agent's export queue.
const forwardingPrefixes = ["tally_remote_storage_", "tally_loki_push_", "tally_agent_"];

export function formatBytes(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function utc(milliseconds) {
  return new Date(milliseconds).toISOString().slice(0, 19).replace("T", " ");
}

function uptime(since) {
  let seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) {
    if (seconds >= size) parts.push(`${Math.floor(seconds / size)}${unit}`);
    seconds %= size;
  }
  return parts.length ? parts.join(" ") : `${seconds}s`;
}

const labelText = (labels) => Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(", ");
const sum = (files) => files.reduce((total, f) => total + f.bytes, 0);

function showRuntime(build, runtime) {
  const started = Date.parse(runtime.startTime);
  $("runtime").replaceChildren(
    card("Version", build.version),
    card("Revision", build.revision || "—"),
    card("Started (UTC)", utc(started)),
    card("Up", uptime(started)),
    card("Cores", String(runtime.cores)),
    card("Data directory", runtime.dataDir, true),
    card("Retention", runtime.storageRetention),
    card("Damaged blocks at start", String(runtime.corruptionCount)),
  );
}

function showListeners(listeners) {
  const table = $("listeners");
  table.replaceChildren(headerRow("Receives", "Transport", "Address", "TLS"));
  for (const l of listeners) table.append(row(l.name, l.transport, [l.address, "name"], l.tls ? "yes" : "no"));
  if (listeners.length === 0) table.append(emptyRow("No listener.", 4));
}

// The group a family belongs to: the word after "tally_" (statsd, logs, remote_write, http …).
function group(name) {
  const known = ["remote_write", "delivery_events", "storage", "statsd", "logs", "series", "ring", "http", "otlp", "push", "aggregate"];
  const rest = name.replace(/^tally_/, "");
  return known.find((k) => rest.startsWith(`${k}_`)) || rest.split("_")[0];
}

function showIngest(metrics) {
  const table = $("ingest");
  table.replaceChildren(headerRow("Source", "Counter", "Labels", ["Total", "num"]));
  const rows = [];
  for (const [name, family] of metrics) {
    if (!name.startsWith("tally_") || !name.endsWith("_total") || !ingestWords.test(`${name}_`)) continue;
    if (forwardingPrefixes.some((p) => name.startsWith(p))) continue;
    for (const sample of family.samples) rows.push({ group: group(name), name, labels: labelText(sample.labels), value: sample.value, help: family.help });
  }
  rows.sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name) || a.labels.localeCompare(b.labels));
  for (const r of rows) {
    const tr = row(r.group, [r.name, "name"], [r.labels, "name"], [formatCount(r.value), "num"]);
    tr.title = r.help;
    if (refusalWords.test(`${r.name}_`) && r.value > 0) tr.className = "refused";
    table.append(tr);
  }
  if (rows.length === 0) table.append(emptyRow("No counters.", 4));
}

function showStorage(storage) {
  $("storage").replaceChildren(
    card("Head series", formatCount(storage.head.series)),
    card("Head chunks", formatCount(storage.head.chunks)),
    card("WAL", `${storage.wal.length} ${storage.wal.length === 1 ? "segment" : "segments"}, ${formatBytes(sum(storage.wal))}`),
    card("Blocks", `${storage.blocks.length}, ${formatBytes(storage.blocks.reduce((t, b) => t + b.bytes, 0))}`),
    card("Log WAL", `${storage.logWAL.length} ${storage.logWAL.length === 1 ? "segment" : "segments"}, ${formatBytes(sum(storage.logWAL))}`),
    card("Log segments", `${storage.logSegments.length}, ${formatBytes(sum(storage.logSegments))}`),
  );
  const table = $("blocks");
  table.replaceChildren(headerRow("Block", "From (UTC)", "To (UTC)", ["Series", "num"], ["Samples", "num"], ["Size", "num"], ["Level", "num"]));
  for (const b of storage.blocks) {
    table.append(row([b.ulid, "name"], utc(b.minTime), utc(b.maxTime), [formatCount(b.series), "num"], [formatCount(b.samples), "num"],
      [formatBytes(b.bytes), "num"], [String(b.level), "num"]));
  }
  if (storage.blocks.length === 0) table.append(emptyRow("No block yet: samples are in the head and its WAL until a block range is complete.", 7));
}

function showForwarding(metrics) {
  const table = $("forwarding");
  table.replaceChildren(headerRow("Queue", "Figure", "Labels", ["Value", "num"]));
  let count = 0;
  for (const [name, family] of metrics) {
    const prefix = forwardingPrefixes.find((p) => name.startsWith(p));
    if (!prefix) continue;
    for (const sample of family.samples) {
      const tr = row(prefix.slice(6, -1), [name, "name"], [labelText(sample.labels), "name"], [formatCount(sample.value), "num"]);
      tr.title = family.help;
      table.append(tr);
      count++;
    }
  }
  if (count === 0) table.append(emptyRow("No forwarding configured (remote_write, loki_push or agent in the config).", 4));
}

// A query's own page: PromQL in /graph, LogQL in /logs, over the span it covered.
function queryLink(q) {
  const range = q.timeRangeSeconds > 0 ? `${q.timeRangeSeconds}s` : "1h";
  const page = q.language === "logql" ? "/logs" : "/graph";
  const key = q.language === "logql" ? "query" : "expr";
  const link = element("a", "", q.query);
  link.href = `${page}?${new URLSearchParams({ [key]: q.query, range })}`;
  return link;
}

function showQueries(top) {
  const table = $("queries");
  table.replaceChildren(headerRow("Language", "Query", ["Range", "num"], ["Runs", "num"], ["Average", "num"], ["Total", "num"]));
  for (const q of top.topByAvgDuration) {
    const tr = row(q.language, "", [q.timeRangeSeconds > 0 ? `${q.timeRangeSeconds} s` : "instant", "num"], [formatCount(q.count), "num"],
      [`${(q.avgDurationSeconds * 1000).toFixed(1)} ms`, "num"], [`${(q.sumDurationSeconds * 1000).toFixed(1)} ms`, "num"]);
    tr.children[1].className = "name";
    tr.children[1].append(queryLink(q));
    table.append(tr);
  }
  if (top.topByAvgDuration.length === 0) table.append(emptyRow("No query in the last 10 minutes.", 6));
}

function showConfig(runtime, flags, config) {
  $("config-source").textContent = runtime.configFile
    ? `The built-in defaults, then ${runtime.configFile} (below, secrets hidden), then the flags.`
    : "The built-in defaults (Config/tally.yaml lists them), then the flags.";
  const table = $("flags");
  table.replaceChildren(headerRow("Flag", "Value"));
  for (const [name, value] of Object.entries(flags)) table.append(row([name, "name"], [value, "name"]));
  if (Object.keys(flags).length === 0) table.append(emptyRow("No flags given.", 2));
  $("config").textContent = config.yaml;
  $("config").hidden = !config.yaml;
}

async function refresh() {
  showError("");
  try {
    const [build, runtime, listeners, storage, flags, config, metrics, top] = await Promise.all([
      getData("/api/v1/status/buildinfo"), getData("/api/v1/status/runtimeinfo"), getData("/api/v1/status/listeners"),
      getData("/api/v1/status/storage"), getData("/api/v1/status/flags"), getData("/api/v1/status/config"), getMetrics(),
      getJSON("/api/v1/status/top_queries?topN=10&maxLifetime=10m"),
    ]);
    showRuntime(build, runtime);
    showListeners(listeners);
    showIngest(metrics);
    showStorage(storage);
    showForwarding(metrics);
    showQueries(top);
    showConfig(runtime, flags, config);
    $("updated").textContent = `Updated ${utc(Date.now())} UTC`;
  } catch (error) {
    showError(error.message);
  }
}

renderNav();
$("refresh").addEventListener("click", refresh);
refresh();
