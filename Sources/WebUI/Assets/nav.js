// The navigation bar every page shows: the pages tally serves, the current one marked.
const pages = [
  ["/graph", "Graph"],
  ["/logs", "Logs"],
  ["/report", "Report"],
  ["/cardinality", "Cardinality"],
  ["/status", "Status"],
];

export function renderNav() {
  const nav = document.createElement("nav");
  nav.className = "top";
  nav.setAttribute("aria-label", "tally");
  const brand = document.createElement("span");
  brand.className = "brand";
  brand.textContent = "tally";
  nav.append(brand);
  for (const [path, title] of pages) {
    const link = document.createElement("a");
    link.href = path;
    link.textContent = title;
    if (location.pathname === path) link.setAttribute("aria-current", "page");
    nav.append(link);
  }
  document.body.prepend(nav);
}
