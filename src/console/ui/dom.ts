/** A few helpers to build the page with the DOM (text is always set as text, never parsed as HTML). */

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | undefined | null | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "class") element.className = String(value);
    else if (name === "value" && "value" in element) (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href }, ...children);
}

/** A table from a header row and body rows (each row may carry attributes). */
export function table(
  headers: string[],
  rows: Array<Child[] | { attrs: Attrs; cells: Child[] }>,
  attrs: Attrs = {},
): HTMLTableElement {
  return h(
    "table",
    attrs,
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        headers.map((header) => h("th", null, header)),
      ),
    ),
    h(
      "tbody",
      null,
      rows.length === 0
        ? h("tr", null, h("td", { colspan: headers.length, class: "empty" }, "nothing here yet"))
        : rows.map((row) =>
            Array.isArray(row)
              ? h(
                  "tr",
                  null,
                  row.map((cell) => h("td", null, cell)),
                )
              : h(
                  "tr",
                  row.attrs,
                  row.cells.map((cell) => h("td", null, cell)),
                ),
          ),
    ),
  );
}

/** JSON, pretty-printed, in a scrollable block. */
export function json(value: unknown, attrs: Attrs = {}): HTMLPreElement {
  return h("pre", { class: "json", ...attrs }, value === undefined ? "" : JSON.stringify(value, null, 2));
}

export function badge(status: string): HTMLSpanElement {
  return h("span", { class: `badge ${status}`, "data-status": status }, status);
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "0 ms";
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.round(value / 60_000)} min`;
}

export function time(epochMs: number | null | undefined): string {
  if (epochMs === null || epochMs === undefined) return "–";
  const date = new Date(epochMs);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

export function ago(epochMs: number): string {
  const diff = Date.now() - epochMs;
  const future = diff < 0;
  const abs = Math.abs(diff);
  const text =
    abs < 1000
      ? "now"
      : abs < 60_000
        ? `${Math.round(abs / 1000)} s`
        : abs < 3_600_000
          ? `${Math.round(abs / 60_000)} min`
          : `${Math.round(abs / 3_600_000)} h`;
  return text === "now" ? text : future ? `in ${text}` : `${text} ago`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (value < 1024) return `${value} B`;
  if (value < 1024 ** 2) return `${(value / 1024).toFixed(1)} KB`;
  if (value < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(1)} MB`;
  return `${(value / 1024 ** 3).toFixed(2)} GB`;
}

export function rate(value: number): string {
  return value === 0 ? "0" : value < 10 ? value.toFixed(1) : String(Math.round(value));
}

/** A tiny bar chart of per-second counts (an inline SVG, no library). */
export function sparkline(values: number[], errors: number[] = []): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const width = 120;
  const height = 24;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  const max = Math.max(1, ...values);
  const step = width / values.length;
  values.forEach((value, i) => {
    if (value === 0) return;
    const bar = document.createElementNS(ns, "rect");
    const barHeight = Math.max(1, (value / max) * height);
    bar.setAttribute("x", String(i * step));
    bar.setAttribute("y", String(height - barHeight));
    bar.setAttribute("width", String(Math.max(1, step - 0.5)));
    bar.setAttribute("height", String(barHeight));
    bar.setAttribute("class", (errors[i] ?? 0) > 0 ? "bar error" : "bar");
    svg.appendChild(bar);
  });
  return svg;
}

/** Read the hash route's query parameters. */
export function routeParams(): URLSearchParams {
  const hash = location.hash.slice(1);
  const q = hash.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : hash.slice(q + 1));
}

/** Change the hash route's query parameters without a new history entry for every keystroke. */
export function setRouteParams(values: Record<string, string | undefined>): void {
  const hash = location.hash.slice(1);
  const q = hash.indexOf("?");
  const path = q === -1 ? hash : hash.slice(0, q);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
  const text = params.toString();
  history.replaceState(null, "", `#${path}${text ? `?${text}` : ""}`);
}
