// Completion in the query boxes: metric names, label names, label values, functions and keywords,
// from what tally holds (its label APIs) and what PromQL or LogQL knows, offered for the word at
// the cursor.
import { getData } from "/ui/api.js";
import { aggregations, functions, keywords } from "/ui/promql-words.js";
import * as logql from "/ui/logql-words.js";

const identifier = /[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// What the cursor is in: {kind: "metric" | "label" | "value", prefix, start, metric, label}, or null.
export function completionContext(text, cursor) {
  const before = text.slice(0, cursor);
  const quotes = (before.match(/(?<!\\)"/g) || []).length;
  const brace = before.lastIndexOf("{");
  const inBraces = brace > before.lastIndexOf("}");
  const metricBefore = (at) => (identifier.exec(before.slice(0, at).trimEnd()) || [""])[0];
  if (quotes % 2 === 1) {
    const value = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(before);
    if (!value || !inBraces) return null;
    return { kind: "value", label: value[1], prefix: value[3], start: cursor - value[3].length, metric: metricBefore(brace) };
  }
  if (before.lastIndexOf("[") > before.lastIndexOf("]")) return null; // a range or subquery duration
  if (inBraces) {
    const label = /(?:^|[{,]\s*)([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(before.slice(brace));
    if (!label) return null;
    const prefix = label[1] || "";
    return { kind: "label", prefix, start: cursor - prefix.length, metric: metricBefore(brace) };
  }
  const grouping = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)$/.exec(before);
  if (grouping) {
    const prefix = (/[a-zA-Z_][a-zA-Z0-9_]*$/.exec(grouping[1]) || [""])[0];
    return { kind: "label", prefix, start: cursor - prefix.length, metric: "" };
  }
  const word = identifier.exec(before);
  if (!word) return null;
  return { kind: "metric", prefix: word[0], start: cursor - word[0].length };
}

// The words that fit a prefix: those that start with it first, then those that contain it.
export function rank(words, prefix, limit = 10) {
  const starts = words.filter((w) => w.startsWith(prefix) && w !== prefix);
  const contains = words.filter((w) => !w.startsWith(prefix) && w.includes(prefix));
  return [...new Set([...starts.sort(), ...contains.sort()])].slice(0, limit);
}

const match = (metric) => (metric ? `?match[]=${encodeURIComponent(metric)}` : "");

// Where the words come from: `words(context, fetchOnce)` gives the candidates for a context (see
// completionContext); `fetchOnce(path)` reads an API answer once per page.
export const promql = {
  async words(context, fetchOnce) {
    if (context.kind === "metric") {
      return [...(await fetchOnce("/api/v1/label/__name__/values")), ...functions, ...aggregations, ...keywords];
    }
    if (context.kind === "label") {
      return (await fetchOnce(`/api/v1/labels${match(context.metric)}`)).filter((n) => n !== "__name__");
    }
    return fetchOnce(`/api/v1/label/${encodeURIComponent(context.label)}/values${match(context.metric)}`);
  },
};

// LogQL: stream labels and their values from the Loki API; outside braces, LogQL's own words.
export const logQL = {
  async words(context, fetchOnce) {
    if (context.kind === "metric") return [...logql.functions, ...logql.aggregations, ...logql.stages, ...logql.keywords];
    if (context.kind === "label") return fetchOnce("/loki/api/v1/labels");
    return fetchOnce(`/loki/api/v1/label/${encodeURIComponent(context.label)}/values`);
  },
};

// Attaches completion to a textarea; `list` is the (empty) element the suggestions go in; `source`
// is `promql` or `logQL`. Returns a function telling whether the list is open (Enter then picks
// instead of running the query).
export function attachCompletion(box, list, source = promql) {
  const cache = new Map();
  const fetchOnce = (path) => {
    if (!cache.has(path)) cache.set(path, getData(path).then((d) => d || []).catch(() => []));
    return cache.get(path);
  };
  let items = [];
  let active = -1;
  let context = null;
  let generation = 0;

  list.setAttribute("role", "listbox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);

  function close() {
    items = [];
    active = -1;
    list.replaceChildren();
    list.hidden = true;
    box.removeAttribute("aria-activedescendant");
  }

  function show(words) {
    items = words;
    active = words.length ? 0 : -1;
    list.replaceChildren(...words.map((word, i) => {
      const li = document.createElement("li");
      li.id = `${list.id}-${i}`;
      li.setAttribute("role", "option");
      li.textContent = word;
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        accept(i);
      });
      return li;
    }));
    list.hidden = words.length === 0;
    mark();
  }

  function mark() {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0) box.setAttribute("aria-activedescendant", `${list.id}-${active}`);
  }

  function accept(i) {
    if (!context || i < 0 || i >= items.length) return;
    const word = items[i];
    box.value = box.value.slice(0, context.start) + word + box.value.slice(box.selectionStart);
    const at = context.start + word.length;
    box.setSelectionRange(at, at);
    close();
    box.focus();
  }

  async function suggest() {
    const asked = ++generation;
    context = completionContext(box.value, box.selectionStart);
    if (!context || (context.kind === "metric" && context.prefix.length === 0)) return close();
    const words = await source.words(context, fetchOnce);
    if (asked !== generation) return; // the text changed while the names were on their way
    show(rank(words, context.prefix));
  }

  box.addEventListener("input", suggest);
  box.addEventListener("blur", close);
  box.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      mark();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      event.stopImmediatePropagation();
      accept(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  close();
  return () => !list.hidden;
}
