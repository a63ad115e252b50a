// /cardinality: what the storage head holds, by metric, label and pair, and what the limits refused.
import { renderNav } from "/ui/nav.js";
import { getData, getMetrics, formatCount, matrixSeries, showError } from "/ui/api.js";
import { lineChart } from "/ui/plot.js";
import { card, cell, emptyRow, headerRow } from "/ui/dom.js";

// The counters of what series limits turned away, in the order shown; for the counters that
// also count other refusals, the reasons that are series limits.
const limitFamilies = [
  ["tally_series_limit_dropped_lines_total"],
  ["tally_series_limit_per_metric_dropped_lines_total"],
  ["tally_statsd_store_limit_dropped_lines_total"],
  ["tally_push_series_limit_per_metric_refused_samples_total"],
  ["tally_remote_write_rejected_samples_total", ["series_limit", "series_per_metric_limit"]],
  ["tally_otlp_rejected_data_points_total", ["series_limit", "series_per_metric_limit"]],
];

const limitChoices = ["10", "20", "50", "100", "500"];

function currentLimit() {
  const asked = new URLSearchParams(location.search).get("limit");
  return limitChoices.includes(asked) ? asked : "10";
}

// A table of name, count and a bar scaled to the largest count.
function fillCounts(table, entries, nameTitle, countTitle) {
  table.replaceChildren(headerRow(nameTitle, [countTitle, "num"], ["", "bar"]));
  if (entries.length === 0) {
    table.append(emptyRow("Nothing in the head yet.", 3));
    return;
  }
  const largest = entries.reduce((most, e) => Math.max(most, e.value), 1);
  for (const entry of entries) {
    const row = document.createElement("tr");
    const bar = cell("", "bar");
    const span = document.createElement("span");
    span.style.width = `${(100 * entry.value) / largest}%`;
    bar.append(span);
    row.append(cell(entry.name, "name"), cell(formatCount(entry.value), "num"), bar);
    table.append(row);
  }
}

function time(milliseconds, empty) {
  return empty ? "—" : new Date(milliseconds).toISOString().slice(0, 19).replace("T", " ");
}

function fillLimits(table, metrics) {
  table.replaceChildren(headerRow("Refused", "Labels", ["Total", "num"]));
  for (const [name, reasons] of limitFamilies) {
    const family = metrics.get(name);
    if (!family) continue;
    let samples = family.samples.filter((s) => !reasons || reasons.includes(s.labels.reason));
    if (samples.length === 0) samples = [{ labels: {}, value: 0 }];
    for (const sample of samples) {
      const row = document.createElement("tr");
      const what = cell(family.help || name);
      const code = document.createElement("code");
      code.textContent = name;
      what.append(document.createElement("br"), code);
      const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${v}"`).join(", ");
      row.append(what, cell(labels, "name"), cell(formatCount(sample.value), "num"));
      table.append(row);
    }
  }
}

async function load() {
  const limit = currentLimit();
  try {
    const [stats, metrics, growth] = await Promise.all([
      getData(`/api/v1/status/tsdb?limit=${limit}`), getMetrics(), getData("/api/v1/status/head_series"),
    ]);
    showError("");
    const head = stats.headStats;
    const empty = head.numSeries === 0;
    const active = metrics.get("tally_series_active");
    document.getElementById("head").replaceChildren(
      card("Series", formatCount(head.numSeries)),
      card("Chunks", formatCount(head.chunkCount)),
      card("Label pairs", formatCount(head.numLabelPairs)),
      card("Oldest sample (UTC)", time(head.minTime, empty)),
      card("Newest sample (UTC)", time(head.maxTime, empty)),
      card("Active StatsD series", active ? formatCount(active.samples.reduce((sum, s) => sum + s.value, 0)) : "—"),
    );
    lineChart(document.getElementById("growth"), matrixSeries(growth), {
      title: "Series in the head over the last 24 hours", format: formatCount,
    });
    fillCounts(document.getElementById("by-metric"), stats.seriesCountByMetricName, "Metric", "Series");
    fillCounts(document.getElementById("by-pair"), stats.seriesCountByLabelValuePair, "Label pair", "Series");
    fillCounts(document.getElementById("by-label"), stats.labelValueCountByLabelName, "Label", "Values");
    fillCounts(document.getElementById("bytes-by-label"), stats.memoryInBytesByLabelName, "Label", "Bytes");
    fillLimits(document.getElementById("limits"), metrics);
    document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
  } catch (error) {
    showError(error.message);
  }
}

renderNav();
const select = document.getElementById("limit");
select.value = currentLimit();
select.addEventListener("change", () => {
  const url = new URL(location.href);
  url.searchParams.set("limit", select.value);
  history.replaceState(null, "", url);
  load();
});
document.getElementById("refresh").addEventListener("click", load);
load();
