// Small builders of the elements the pages make over and over.

// An element with a class and text, either optional.
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A table cell.
export function cell(text, className) {
  return element("td", className, text);
}

// A table's header row: each title a string, or [title, className].
export function headerRow(...titles) {
  const row = document.createElement("tr");
  for (const title of titles) {
    const [text, className] = Array.isArray(title) ? title : [title];
    const th = element("th", className, text);
    th.scope = "col";
    row.append(th);
  }
  return row;
}

// A figure on a card: its label above, its value below (`text`: a long one, such as a path, smaller).
export function card(label, value, text = false) {
  const div = element("div", "card");
  div.append(element("div", "label", label), element("div", text ? "value text" : "value", value));
  return div;
}

// A row of cells; each a string, or [text, className].
export function row(...cells) {
  const tr = document.createElement("tr");
  for (const content of cells) {
    const [text, className] = Array.isArray(content) ? content : [content];
    tr.append(cell(text, className));
  }
  return tr;
}

// A table's only row, saying it has nothing to show.
export function emptyRow(text, columns) {
  const tr = document.createElement("tr");
  const td = cell(text, "empty");
  td.colSpan = columns;
  tr.append(td);
  return tr;
}
