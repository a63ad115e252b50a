// /report: the daily retrospective of a day (the URL's `date`, else yesterday): the four keys
// with their tiers and trends, deploys over 30 days, each service's keys and health, the largest
// changes, open incidents and refused events. Every figure links to the query behind it: the
// delivery events in /logs, the health queries in /graph, over the report's day.
import { renderNav } from "/ui/nav.js";
import { formatCount, getJSON, showError } from "/ui/api.js";
import { barChart } from "/ui/plot.js";
import { cell, element, emptyRow, headerRow, row } from "/ui/dom.js";

const $ = (id) => document.getElementById(id);

// Seconds as a person reads a duration: 45s, 12m, 3h 20m, 2d 4h.
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`;
}

const plural = (count, noun) => `${count} ${noun}${Number(count) === 1 ? "" : "s"}`;
const percent = (value) => (value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`);
const number = (value, digits = 2) => (value === null || value === undefined ? "—" : Number(value.toFixed(digits)).toString());

// Midnight of a YYYY-MM-DD day in an IANA time zone, as milliseconds since the epoch.
export function midnight(date, timeZone) {
  const [y, m, d] = date.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  const offsetAt = (t) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - t;
  };
  const first = guess - offsetAt(guess);
  return guess - offsetAt(first);
}

// The day after (or before) a YYYY-MM-DD day.
export function shiftDay(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

let report = null;

// The report's day as the pages' range and end: its length in seconds and its end.
function dayWindow() {
  const start = midnight(report.date, report.timezone);
  const end = midnight(shiftDay(report.date, 1), report.timezone);
  return { range: `${Math.round((end - start) / 1000)}s`, end: String(Math.round(end / 1000)) };
}

function logsLink(text, query) {
  const link = element("a", "", text);
  link.href = `/logs?${new URLSearchParams({ query, ...dayWindow() })}`;
  return link;
}

function graphLink(text, expr) {
  const link = element("a", "", text);
  link.href = `/graph?${new URLSearchParams({ expr, ...dayWindow() })}`;
  return link;
}

// The delivery-event queries behind each key, for all services or one.
function eventQueries(service) {
  const only = service ? `, service="${service.replace(/["\\]/g, "\\$&")}"` : "";
  return {
    deploys: `{event="deployment"${only}}`,
    lead: `{event="deployment"${only}} | json | status="success"`,
    failures: `{event=~"deployment|incident"${only}}`,
    restore: `{event="incident"${only}}`,
  };
}

const trendWords = { better: "↑ better", worse: "↓ worse", same: "→ same" };

function keyCard(title, value, query, tier, trend, periods) {
  const div = element("div", "card key");
  const figure = element("div", "value");
  figure.append(logsLink(value, query));
  div.append(element("div", "label", title), figure);
  const line = element("div", "meta");
  line.append(element("span", `tier tier-${tier || "none"}`, tier || "no tier"));
  if (trend) line.append(element("span", `trend trend-${trend}`, trendWords[trend] || trend));
  div.append(line, element("div", "muted periods", periods));
  return div;
}

function showKeys(keys) {
  const q = eventQueries("");
  const [d, w, m] = [keys, keys.last_7_days, keys.last_30_days];
  $("keys").replaceChildren(
    keyCard("Deployment frequency", `${plural(d.deployment_frequency.deploys, "deploy")}, ${plural(number(d.deployment_frequency.deploy_days_per_week, 1), "deploy day")} a week`,
      q.deploys, d.deployment_frequency.tier, keys.trend.deployment_frequency,
      `7 days: ${w.deployment_frequency.deploys} · 30 days: ${m.deployment_frequency.deploys}`),
    keyCard("Lead time for changes", `${formatSeconds(d.lead_time_seconds.median)} median, p90 ${formatSeconds(d.lead_time_seconds.p90)}`,
      q.lead, d.lead_time_seconds.tier, keys.trend.lead_time,
      `7 days: ${formatSeconds(w.lead_time_seconds.median)} · 30 days: ${formatSeconds(m.lead_time_seconds.median)}`),
    keyCard("Change failure rate", `${percent(d.change_failure_rate.value)} (${d.change_failure_rate.failed} of ${d.change_failure_rate.deploys})`,
      q.failures, d.change_failure_rate.tier, keys.trend.change_failure_rate,
      `7 days: ${percent(w.change_failure_rate.value)} · 30 days: ${percent(m.change_failure_rate.value)}`),
    keyCard("Time to restore service", `${formatSeconds(d.time_to_restore_seconds.median)} median, ${d.time_to_restore_seconds.open} open`,
      q.restore, d.time_to_restore_seconds.tier, keys.trend.time_to_restore,
      `7 days: ${formatSeconds(w.time_to_restore_seconds.median)} · 30 days: ${formatSeconds(m.time_to_restore_seconds.median)}`),
  );
}

function showDeploys(history) {
  const at = (date) => midnight(shiftDay(date, 1), report.timezone);
  const series = [
    { name: "failed", points: history.days.map((d) => [at(d.date), d.failed]) },
    { name: "successful", points: history.days.map((d) => [at(d.date), d.deploys]) },
  ];
  const first = history.days[0]?.date;
  barChart($("deploys"), series, {
    height: 140, title: "Production deploys per day", step: 86400000,
    start: first ? midnight(first, report.timezone) : undefined, end: at(history.days[history.days.length - 1]?.date || report.date),
    color: (name) => (name === "failed" ? "var(--level-error)" : "var(--level-info)"),
  });
}

// A table cell holding a link.
function linkCell(link, className = "num") {
  const td = cell("", className);
  td.append(link);
  return td;
}

function showServices(services) {
  const table = $("services");
  table.replaceChildren(headerRow("Service", ["Deploys", "num"], ["Lead time", "num"], ["Failure rate", "num"], ["Restore", "num"],
    ["Requests/s", "num"], ["Error ratio", "num"], ["p99", "num"], ["Error lines", "num"], ["Log lines", "num"]));
  const names = Object.keys(services).sort();
  for (const name of names) {
    const s = services[name];
    const k = s.four_keys;
    const h = s.health;
    const q = eventQueries(name);
    const lines = Object.values(h.log_lines_by_level).reduce((a, b) => a + b, 0);
    const errors = (h.log_lines_by_level.error || 0) + (h.log_lines_by_level.critical || 0);
    const p99 = h.queries.p99_latency || `${h.queries.latency_metric}{quantile="0.99"}`;
    const tr = document.createElement("tr");
    tr.append(
      cell(name, "name"),
      linkCell(logsLink(String(k.deployment_frequency.deploys), q.deploys)),
      linkCell(logsLink(formatSeconds(k.lead_time_seconds.median), q.lead)),
      linkCell(logsLink(percent(k.change_failure_rate.value), q.failures)),
      linkCell(logsLink(formatSeconds(k.time_to_restore_seconds.median), q.restore)),
      linkCell(graphLink(number(h.request_rate, 3), h.queries.request_rate)),
      linkCell(graphLink(percent(h.error_ratio), h.queries.error_ratio)),
      linkCell(graphLink(h.p99_latency_seconds === null ? "—" : `${number(h.p99_latency_seconds * 1000, 1)} ms`, p99)),
      linkCell(logsLink(formatCount(errors), `{service="${name}", level=~"error|critical"}`)),
      linkCell(logsLink(formatCount(lines), `{service="${name}"}`)),
    );
    table.append(tr);
  }
  if (names.length === 0) table.append(emptyRow("No service had events or log lines.", 10));
}

function showMovers(movers) {
  const table = $("movers");
  table.replaceChildren(headerRow("Service", "Measure", ["Day", "num"], ["Day before", "num"], ["Change", "num"]));
  for (const m of movers) {
    table.append(row([m.service, "name"], m.measure, [number(m.today, 3), "num"], [number(m.yesterday, 3), "num"],
      [m.change_percent === null ? "new" : `${m.change_percent > 0 ? "+" : ""}${number(m.change_percent, 1)}%`, "num"]));
  }
  if (movers.length === 0) table.append(emptyRow("Nothing moved much.", 5));
}

function showIncidents(incidents) {
  const table = $("incidents");
  table.replaceChildren(headerRow("Incident", "Service", "Severity", "Opened (UTC)", ["Open for", "num"]));
  for (const i of incidents) {
    const tr = row("", [i.service, "name"], i.severity || "—", String(i.opened_at).replace("T", " ").replace(/\.\d+Z$|Z$/, ""), [formatSeconds(i.age_seconds), "num"]);
    tr.firstChild.append(logsLink(i.incident_id, `{event="incident"} | json | incident_id="${i.incident_id}"`));
    table.append(tr);
  }
  if (incidents.length === 0) table.append(emptyRow("None open at the end of the day.", 5));
}

function showQuality(quality) {
  const table = $("quality");
  table.replaceChildren(headerRow("Time", "Service", "Event", "Problems"));
  for (const r of quality.refused) table.append(row(String(r.time), [r.service || "—", "name"], r.event || "—", r.problems));
  if (quality.refused.length === 0) table.append(emptyRow("Every delivery event of the day was valid.", 4));
  else if (quality.refused_events > quality.refused.length) {
    table.append(emptyRow(`…and ${quality.refused_events - quality.refused.length} more refused events.`, 4));
  }
}

async function load() {
  showError("");
  const asked = new URLSearchParams(location.search).get("date");
  try {
    report = await getJSON(`/api/v1/report/daily${asked ? `?date=${encodeURIComponent(asked)}` : ""}`);
  } catch (error) {
    showError(error.message);
    return;
  }
  render();
}

function render() {
  $("date").value = report.date;
  $("page-link").href = `/report/daily?date=${report.date}`;
  $("notes").replaceChildren(...report.notes.map((n) => element("li", "", n)));
  showKeys(report.four_keys);
  showDeploys(report.history);
  showServices(report.services);
  showMovers(report.movers);
  showIncidents(report.open_incidents);
  showQuality(report.data_quality);
  $("updated").textContent = `${report.date}, ${report.timezone}: ${report.events.deployments} deploys and ${report.events.incidents} incident events reported`;
}

function go(date) {
  history.pushState(null, "", `${location.pathname}?date=${date}`);
  load();
}

renderNav();
$("date").addEventListener("change", () => $("date").value && go($("date").value));
$("previous").addEventListener("click", () => report && go(shiftDay(report.date, -1)));
$("next").addEventListener("click", () => report && go(shiftDay(report.date, 1)));
window.addEventListener("popstate", load);
load();
