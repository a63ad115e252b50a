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
