// Small DOM helpers shared by the panels: elements, labelled controls and the error/status line.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, any> = {},
    ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = String(value);
    else if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") (node as any)[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function button(label: string, onClick: (event: MouseEvent) => void, attrs: Record<string, any> = {}):
    HTMLButtonElement {
  return el("button", { type: "button", class: "is-btn", onclick: onClick, ...attrs }, label);
}

export function select(options: (string | [string, string])[], value: string | null,
    onChange: (value: string) => void, attrs: Record<string, any> = {}): HTMLSelectElement {
  const node = el("select", { class: "is-select", ...attrs });
  setOptions(node, options, value);
  node.addEventListener("change", () => onChange(node.value));
  return node;
}

export function setOptions(node: HTMLSelectElement, options: (string | [string, string])[], value: string | null) {
  node.replaceChildren(...options.map((option) => {
    const [val, label] = Array.isArray(option) ? option : [option, option];
    return el("option", { value: val, text: label });
  }));
  if (value !== null && options.some((o) => (Array.isArray(o) ? o[0] : o) === value)) node.value = value;
}

export function labelled(label: string, control: HTMLElement, attrs: Record<string, any> = {}): HTMLElement {
  return el("label", { class: "is-field", ...attrs }, el("span", { class: "is-field-label", text: label }), control);
}

/** The one-line status of a panel: errors in red, never a traceback. */
export class StatusLine {
  readonly node = el("div", { class: "is-status", role: "status" });
  private timer: number | undefined;

  info(text: string, clearAfterMs = 0): void {
    this.node.classList.remove("is-error", "is-busy");
    this.node.textContent = text;
    window.clearTimeout(this.timer);
    if (clearAfterMs) this.timer = window.setTimeout(() => { this.node.textContent = ""; }, clearAfterMs);
  }

  busy(text: string): void {
    this.info(text);
    this.node.classList.add("is-busy");
  }

  get hasError(): boolean { return this.node.classList.contains("is-error"); }

  /** Clear an error shown earlier (the next action that works does this). */
  clearError(): void {
    if (this.hasError) this.info("");
  }

  error(error: unknown): void {
    this.info("");
    this.node.classList.add("is-error");
    this.node.textContent = error instanceof Error ? error.message : String(error);
  }
}

/** Focus without scrolling: a focus() that scrolls moves the notebook under the user's pointer. */
export function focusQuietly(node: HTMLElement): void {
  node.focus({ preventScroll: true });
}

/**
 * Keep a widget's clicks to itself. JupyterLab's notebook activates the cell under a mousedown and scrolls
 * the active cell into view, which for a cell taller than the window means jumping to its top; a widget
 * in that cell handles its own clicks, so they stop at its root.
 */
export function isolateClicks(root: HTMLElement): void {
  for (const type of ["mousedown", "pointerdown"]) root.addEventListener(type, (e) => e.stopPropagation());
}

/** A panel header with a collapse toggle; collapsing hides `body`. */
export function collapsible(title: string, body: HTMLElement, attrs: Record<string, any> = {}): HTMLElement {
  const section = el("section", { class: "is-section", ...attrs });
  const toggle = el("button", { type: "button", class: "is-section-toggle", title: `Collapse or expand ${title}`,
    "aria-expanded": "true", "data-action": "collapse" }, `▾ ${title}`);
  toggle.addEventListener("click", () => {
    const collapsed = section.classList.toggle("is-collapsed");
    toggle.textContent = `${collapsed ? "▸" : "▾"} ${title}`;
    toggle.setAttribute("aria-expanded", String(!collapsed));
  });
  section.append(toggle, body);
  return section;
}

/** Run an async action, showing its failure in the status line instead of throwing; a success clears an
 * earlier error, so a banner never outlives the problem it reported. */
export async function guarded<T>(status: StatusLine, action: () => Promise<T>): Promise<T | undefined> {
  try {
    const result = await action();
    status.clearError();
    return result;
  } catch (error) {
    status.error(error);
    return undefined;
  }
}

export function bytesToBitmap(bytes: Uint8Array, mime: string): Promise<ImageBitmap> {
  return createImageBitmap(new Blob([bytes as BlobPart], { type: mime }));
}

export function download(bytes: Uint8Array, filename: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }));
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Timings the browser tests and benchmarks read (performance.now() milliseconds). */
export function recordMetric(name: string, value: number): void {
  const w = window as any;
  w.__imagestudioMetrics = w.__imagestudioMetrics || {};
  (w.__imagestudioMetrics[name] = w.__imagestudioMetrics[name] || []).push(value);
}

// --- the panels of one page ---------------------------------------------------------------------------
// Selection is each view's own (DESIGN.md D2), but the panels of one page work on their page's canvas: the
// canvas announces its selection as a window event keyed by the project's document path, the filter panel
// follows it and the prompt panel and gallery ask the canvas to select a layer they put there.

const SELECTION_EVENT = "imagestudio:selection";

export interface SelectionDetail {
  documentPath: string;
  layer: string | null;
  /** true: a panel asks the page's canvas to select `layer`; false: a canvas says what it selected. */
  request: boolean;
  /** The tool the canvas should switch to with the selection (a cut-out selects its mask and the mask tool). */
  tool?: string;
}

export function announceSelection(detail: SelectionDetail): void {
  window.dispatchEvent(new CustomEvent<SelectionDetail>(SELECTION_EVENT, { detail }));
}

export function onSelection(documentPath: string, handler: (detail: SelectionDetail) => void): () => void {
  const listener = (event: Event) => {
    const detail = (event as CustomEvent<SelectionDetail>).detail;
    if (detail && detail.documentPath === documentPath) handler(detail);
  };
  window.addEventListener(SELECTION_EVENT, listener);
  return () => window.removeEventListener(SELECTION_EVENT, listener);
}

/** The views (canvases) of this page per document path, newest last: the panels tag their calls with the
 * page's canvas view, so a layer the prompt panel generates is undone by that canvas's Undo. */
const pageViews = new Map<string, string[]>();

export function registerPageView(documentPath: string, view: string): () => void {
  const list = pageViews.get(documentPath) || [];
  list.push(view);
  pageViews.set(documentPath, list);
  return () => { const i = list.indexOf(view); if (i >= 0) list.splice(i, 1); };
}

export function pageView(documentPath: string): string | undefined {
  const list = pageViews.get(documentPath);
  return list && list.length ? list[list.length - 1] : undefined;
}

/** A fresh id for a rendered view. */
export function newViewId(): string {
  const c = (globalThis as any).crypto;
  return c && typeof c.randomUUID === "function" ? c.randomUUID() : `v${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}
