// Durations as PromQL and LogQL write them ("1h30m"), for the pages' URLs and range pickers.
const units = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

// "1h30m" -> 5400 seconds; null when it is not a duration.
export function parseDuration(text) {
  if (!/^(\d+[smhdwy])+$/.test(text || "")) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhdwy])/g)) total += Number(n) * units[unit];
  return total;
}

// 5400 -> "90m": the largest unit that divides the seconds exactly.
export function formatDuration(seconds) {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

// A URL's `end`: seconds since the epoch, or an ISO date; null (now) when absent or unreadable.
export function parseEnd(text) {
  if (!text) return null;
  if (Number.isFinite(Number(text))) return Number(text);
  return Date.parse(text) / 1000 || null;
}

// The value of a datetime-local input showing `seconds` in UTC, or "" for now.
export function endInputValue(seconds) {
  return seconds === null ? "" : new Date(seconds * 1000).toISOString().slice(0, 19);
}

// Makes sure a range <select> offers `seconds` (a URL may ask for any range) and selects it.
export function selectRange(select, seconds) {
  const range = formatDuration(seconds);
  if (![...select.options].some((o) => o.text === range)) select.add(new Option(range));
  select.value = range;
}

// A datetime-local input's value (UTC) as seconds since the epoch, or null (now) when empty.
export function endFromInput(value) {
  return value ? Date.parse(`${value}Z`) / 1000 : null;
}
