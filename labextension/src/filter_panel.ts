// The FilterPanel: chain editor with controls generated from the filter registry's schemas, and a live
// preview the kernel renders at screen resolution (binary JPEG). At most one preview request is in flight;
// while it runs only the newest parameters are kept, so a dragged slider never builds a queue.
import { Channel, Model, panelWidget } from "./comm";
import { context } from "./drawing";
import { StatusLine, button, bytesToBitmap, el, guarded, onSelection, recordMetric, select } from "./ui";

interface Param { name: string; type: string; default: any; min: number | null; max: number | null; unit: string;
  description: string; choices?: string[]; }
/** The registry's reStructuredText docstrings as plain prose: roles, literals and emphasis unwrapped,
 * directives and field lists dropped, lines joined. */
export function plainText(rst: string): string {
  return (rst || "").split(/\n\s*\n/)[0]
    .split("\n").filter((line) => !/^\s*(\.\.|:\w+:)/.test(line)).join(" ")
    .replace(/:[a-z]+:`~?([^`]+)`/g, "$1").replace(/``([^`]+)``/g, "$1").replace(/`([^`]+)`_?/g, "$1")
    .replace(/\*\*([^*]+)\*\*/g, "$1").replace(/\*([^*]+)\*/g, "$1").replace(/\s+/g, " ").trim();
}

const MASK_HINT = "Mask layers are not filtered: select an image, paint or text layer.";

interface FilterSchema { name: string; category: string; description: string; params: Param[]; }
interface Step { filter: string; params: Record<string, any>; }

class FilterPanelView {
  readonly root = el("div", { class: "is-studio is-filter-panel", "data-lm-suppress-shortcuts": "true" });
  private status = new StatusLine();
  private chainList = el("ol", { class: "is-chain" });
  private params = el("div", { class: "is-params" });
  private presetChoice = el("div", { class: "is-row", "data-role": "preset-choice" });
  private preview = el("canvas", { class: "is-preview", "data-role": "preview" });
  private previewBox = el("div", { class: "is-preview-box" }, this.preview);
  private title = el("div", { class: "is-panel-subtitle" });
  private chain: Step[] = [];
  private selectedStep = 0;
  private inFlight = false;
  private pending: { chain: Step[]; started: number } | null = null;
  private seq = 0;
  private painted = 0;
  private disposers: (() => void)[] = [];

  constructor(private model: Model, private channel: Channel) {
    const schemas = () => (this.model.get("filters") || []) as FilterSchema[];
    const categories = [...new Set(schemas().map((f) => f.category))];
    const adder = el("select", { class: "is-select", "data-role": "add-filter" },
      ...categories.map((category) => el("optgroup", { label: category },
        ...schemas().filter((f) => f.category === category).map((f) => el("option", { value: f.name, text: f.name, title: plainText(f.description) })))));
    const presetSelect = select([["", "preset…"], ...((this.model.get("presets") || []) as any[]).map((p) => [p.name, p.name] as [string, string])],
      "", (name) => { if (name) this.loadPreset(name); presetSelect.value = ""; }, { "data-role": "preset" });
    this.root.append(
      el("div", { class: "is-panel-title", text: "Filters" }), this.title,
      el("div", { class: "is-filter-body" },
        el("div", { class: "is-filter-controls" },
          el("div", { class: "is-row" }, adder, button("Add", () => this.addStep(adder.value), { "data-action": "add-filter" }), presetSelect),
          this.presetChoice,
          this.chainList, this.params,
          el("div", { class: "is-row" },
            button("Apply", () => this.apply(), { class: "is-btn is-primary", "data-action": "apply" }),
            button("Cancel", () => this.cancel(), { "data-action": "cancel" }),
            button("Clear", () => { this.chain = []; this.selectedStep = 0; this.changed(true); }, { "data-action": "clear" }),
            button("Save preset…", () => this.savePreset(), { "data-action": "save-preset" }))),
        this.previewBox),
      this.status.node);
    const onChain = () => this.fromModel();
    for (const key of ["chain", "layer", "layer_name"]) {
      model.on(`change:${key}`, onChain);
      this.disposers.push(() => model.off(`change:${key}`, onChain));
    }
    this.fromModel();
    // Selection belongs to each view: the panel follows the canvas of its own page (same project document).
    const documentPath = model.get("document_path") || "";
    if (documentPath) {
      this.disposers.push(onSelection(documentPath, (detail) => {
        if (detail.layer !== this.layer) this.follow(detail.layer);
      }));
    }
    // The first layout (and any later growth) decides the preview's resolution: ask again when it grows.
    const resize = new ResizeObserver(() => {
      if (this.layer && this.boxSide() > this.lastSide * 1.25) this.requestPreview(performance.now());
    });
    resize.observe(this.previewBox);
    this.disposers.push(() => resize.disconnect());
  }

  private lastSide = 0;

  /** The preview box's longer side in device pixels (0 before layout). */
  private boxSide(): number {
    const rect = this.previewBox.getBoundingClientRect();
    return Math.round(Math.max(rect.width, rect.height) * (window.devicePixelRatio || 1));
  }

  private schema(name: string): FilterSchema | undefined {
    return ((this.model.get("filters") || []) as FilterSchema[]).find((f) => f.name === name);
  }

  // The layer and the chain being edited are this view's own (DESIGN.md D2): they start from what the notebook
  // set and follow what the notebook sets later, but this view's edits never change the shared traits.
  private layer: string | null = null;
  private layerName = "";

  /** What the notebook set (the Python panel's layer and chain). */
  private fromModel(): void {
    this.show(this.model.get("layer") ?? null, this.model.get("layer_name") || "", this.model.get("chain") || []);
  }

  private show(layer: string | null, name: string, chain: Step[]): void {
    this.layer = layer;
    this.layerName = name;
    this.chain = JSON.parse(JSON.stringify(chain));
    this.selectedStep = Math.min(this.selectedStep, Math.max(0, this.chain.length - 1));
    this.title.textContent = name ? `Layer: ${name}` : "Select a layer on the canvas to filter it.";
    this.renderChain();
    if (layer) this.requestPreview(performance.now());
  }

  /** This page's canvas selected `layer`: edit its stored chain. */
  private async follow(layer: string | null): Promise<void> {
    this.layer = layer;
    const reply = await guarded(this.status, () => this.channel.request("layer-info", { layer }));
    if (!reply || this.layer !== layer) return;
    const info = reply[0].result;
    this.selectedStep = 0;
    this.show(info.layer, info.name, info.filters);
  }

  /** The chain changed: redraw the controls if its shape changed, and ask for a preview. */
  private changed(structural: boolean, _commit = true, started = performance.now()): void {
    if (structural) this.renderChain();
    this.requestPreview(started);
  }

  private addStep(name: string): void {
    const schema = this.schema(name);
    if (!schema) return;
    const params: Record<string, any> = {};
    for (const p of schema.params) params[p.name] = JSON.parse(JSON.stringify(p.default));
    this.chain.push({ filter: name, params });
    this.selectedStep = this.chain.length - 1;
    this.changed(true);
  }

  private renderChain(): void {
    this.chainList.replaceChildren(...this.chain.map((step, index) => {
      const row = el("li", { class: index === this.selectedStep ? "is-selected" : "", "data-step": String(index) },
        el("span", { class: "is-layer-name", text: `${index + 1}. ${step.filter}` }),
        button("↑", (e) => { e.stopPropagation(); this.move(index, -1); }, { class: "is-btn is-icon", title: "Earlier" }),
        button("↓", (e) => { e.stopPropagation(); this.move(index, 1); }, { class: "is-btn is-icon", title: "Later" }),
        button("✕", (e) => {
          e.stopPropagation();
          this.chain.splice(index, 1);
          this.selectedStep = Math.max(0, Math.min(this.selectedStep, this.chain.length - 1));
          this.changed(true);
        }, { class: "is-btn is-icon", title: "Remove", "data-action": "remove-step" }));
      row.addEventListener("click", () => { this.selectedStep = index; this.renderChain(); });
      return row;
    }));
    if (!this.chain.length) this.chainList.append(el("li", { class: "is-muted", text: "No filters: add one or pick a preset." }));
    this.renderParams();
  }

  private move(index: number, delta: number): void {
    const to = index + delta;
    if (to < 0 || to >= this.chain.length) return;
    [this.chain[index], this.chain[to]] = [this.chain[to], this.chain[index]];
    this.selectedStep = to;
    this.changed(true);
  }

  private renderParams(): void {
    const step = this.chain[this.selectedStep];
    const schema = step && this.schema(step.filter);
    if (!step || !schema) { this.params.replaceChildren(); return; }
    this.params.replaceChildren(el("div", { class: "is-muted is-help", text: plainText(schema.description) }),
      ...schema.params.map((p) => this.control(step, p)));
  }

  private control(step: Step, p: Param): HTMLElement {
    const value = step.params[p.name] ?? p.default;
    const set = (v: any, commit: boolean, started = performance.now()) => { step.params[p.name] = v; this.changed(false, commit, started); };
    let input: HTMLElement;
    let shown: HTMLElement = el("span", { class: "is-value" });
    if (p.type === "float" || p.type === "int") {
      const step_ = p.type === "int" ? 1 : Math.max(1e-4, ((p.max ?? 1) - (p.min ?? 0)) / 200);
      const range = el("input", { type: "range", min: String(p.min), max: String(p.max), step: String(step_), value: String(value),
        "data-param": p.name });
      const fmt = (v: number) => (p.type === "int" ? String(v) : v.toFixed(Math.abs(step_) < 0.01 ? 3 : 2)) + (p.unit ? ` ${p.unit}` : "");
      shown.textContent = fmt(Number(value));
      range.addEventListener("input", (e) => {
        const v = p.type === "int" ? Math.round(Number(range.value)) : Number(range.value);
        shown.textContent = fmt(v);
        set(v, false, e.timeStamp || performance.now());
      });
      range.addEventListener("change", () => set(p.type === "int" ? Math.round(Number(range.value)) : Number(range.value), true));
      input = range;
    } else if (p.type === "bool") {
      const box = el("input", { type: "checkbox", checked: Boolean(value), "data-param": p.name });
      box.addEventListener("change", () => set(box.checked, true));
      input = box;
    } else if (p.type === "choice") {
      input = select(p.choices || [], String(value), (v) => set(v, true), { "data-param": p.name });
    } else if (p.type === "color") {
      const color = el("input", { type: "color", value: String(value), "data-param": p.name });
      color.addEventListener("input", () => set(color.value, false));
      color.addEventListener("change", () => set(color.value, true));
      input = color;
    } else {
      const text = el("input", { type: "text", value: JSON.stringify(value), "data-param": p.name, title: p.description });
      text.addEventListener("change", () => {
        try { set(p.type === "asset" ? text.value.trim() : JSON.parse(text.value), true); }
        catch { this.status.error(`${p.name}: not valid JSON, e.g. ${JSON.stringify(p.default)}`); }
      });
      input = text;
      shown = el("span");
    }
    return el("div", { class: "is-param", title: plainText(p.description) }, el("span", { text: p.name }), input, shown);
  }

  // --- preview ---------------------------------------------------------------------------------------
  private requestPreview(started: number): void {
    if (!this.layer) return;
    if (this.layerName.endsWith("(mask)")) {  // nothing to filter: say so, no error
      this.status.info(MASK_HINT);
      return;
    }
    if (this.status.node.textContent === MASK_HINT) this.status.info("");
    this.pending = { chain: JSON.parse(JSON.stringify(this.chain)), started };
    if (!this.inFlight) this.pump();
  }

  private async pump(): Promise<void> {
    const request = this.pending;
    if (!request) return;
    this.pending = null;
    this.inFlight = true;
    const seq = ++this.seq;
    try {
      const side = Math.min(this.boxSide() || 512, 2048);
      this.lastSide = side;
      const [msg, buffers] = await this.channel.request("preview", { seq, chain: request.chain, max_side: side, layer: this.layer });
      const bitmap = await bytesToBitmap(buffers[0], msg.mime);
      if (seq > this.painted) {
        this.painted = seq;
        if (this.preview.width !== bitmap.width || this.preview.height !== bitmap.height) {
          this.preview.width = bitmap.width;
          this.preview.height = bitmap.height;
        }
        context(this.preview).drawImage(bitmap, 0, 0);
        const drawn = performance.now();
        recordMetric("preview_round_trip_ms", drawn - request.started);
        recordMetric("preview_kernel_ms", msg.kernel_ms);
        this.preview.dataset.seq = String(seq);
        requestAnimationFrame(() => recordMetric("preview_to_frame_ms", performance.now() - request.started));
        if (this.status.node.classList.contains("is-error")) this.status.info("");
      }
      bitmap.close();
    } catch (error) {
      // A reply about a layer that is no longer the panel's (the selection moved on) is old news.
      if (!this.layerName.endsWith("(mask)")) this.status.error(error);
    } finally {
      this.inFlight = false;
      if (this.pending) this.pump();
    }
  }

  // --- actions ---------------------------------------------------------------------------------------
  private async apply(): Promise<void> {
    const chain = await guarded(this.status, () => this.channel.call("apply", { chain: this.chain, layer: this.layer }));
    if (chain) this.show(this.layer, this.layerName, chain);
    if (chain) this.status.info(`Applied ${chain.length} filter${chain.length === 1 ? "" : "s"} to the layer.`, 4000);
  }

  private async cancel(): Promise<void> {
    const chain = await guarded(this.status, () => this.channel.call("cancel", { layer: this.layer }));
    if (chain) this.show(this.layer, this.layerName, chain);
  }

  /** A preset over an empty chain loads; over a tuned chain it first says what it brings and asks
   * whether to replace the chain or add to it (Cancel still returns to the stored chain). */
  private async loadPreset(name: string): Promise<void> {
    const preset = ((this.model.get("presets") || []) as any[]).find((p) => p.name === name);
    const load = async (merge: boolean) => {
      this.presetChoice.replaceChildren();
      const chain = await guarded(this.status, () => this.channel.call("load_preset", { name, merge, chain: this.chain }));
      this.selectedStep = 0;
      if (chain) this.show(this.layer, this.layerName, chain);
    };
    if (!this.chain.length) return load(false);
    const what = preset ? `${preset.steps} step${preset.steps === 1 ? "" : "s"}: ${preset.description}` : "";
    this.presetChoice.replaceChildren(
      el("span", { class: "is-muted", text: `“${name}” (${what}) ` }),
      button("Replace chain", () => load(false), { "data-action": "preset-replace" }),
      button("Add to chain", () => load(true), { "data-action": "preset-merge" }),
      button("Keep mine", () => this.presetChoice.replaceChildren()));
  }

  private async savePreset(): Promise<void> {
    const name = window.prompt("Preset name");
    if (!name) return;
    const ok = await guarded(this.status, () => this.channel.call("save_preset", { name, chain: this.chain }));
    if (ok !== undefined) this.status.info(`Saved preset “${name}”.`, 4000);
  }

  dispose(): void {
    for (const d of this.disposers) d();
  }
}

export default panelWidget((model, channel) => new FilterPanelView(model, channel));
