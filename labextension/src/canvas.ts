// The Canvas widget: a layered editor bound to a project document. The document lives in a Yjs doc synced
// with the kernel (ysync.ts); strokes and transforms are edited there directly, panel commands call Project
// methods in the kernel; undo and redo go through the document's history in the kernel.
import { Channel, Model } from "./comm";
import { Compositor, LayerView, readLayer } from "./compositor";
import { checkerboard, context, makeCanvas } from "./drawing";
import { LayersPanel } from "./layers_panel";
import { Brush, ToolHost, Tools } from "./tools";
import { StatusLine, button, collapsible, download, el, guarded, isolateClicks, labelled, select } from "./ui";
import { DocSync } from "./ysync";
import { DEFAULT_BRUSH, TOOLS as TOOL_NAMES, Tool } from "./constants";


// Label, shortcut, icon and what it does, for exactly the tools the kernel declares (a Record over the
// generated Tool type: the compiler refuses a missing or unknown tool).
const TOOL_INFO: Record<Tool, [string, string, string, string]> = {
  move: ["Move", "v", "✥", "drag the selected layer"], scale: ["Scale", "s", "⤡", "drag to resize the selected layer"],
  rotate: ["Rotate", "r", "⟳", "drag to rotate the selected layer"], crop: ["Crop", "c", "✂", "drag a rectangle to crop"],
  brush: ["Brush", "b", "✎", "paint (on an image layer: on a new paint layer above it)"], eraser: ["Eraser", "e", "⌫", "erase paint"],
  mask: ["Mask", "m", "◐", "paint the area to edit or keep"], text: ["Text", "t", "T", "click to place text"],
  eyedropper: ["Pick", "i", "⊙", "pick a colour"], pan: ["Pan", "h", "⇄", "drag the view (or hold Space)"],
};
const TOOLS: [Tool, string, string, string, string][] = TOOL_NAMES.map((tool) => [tool, ...TOOL_INFO[tool]]);
/** The options each tool uses; the options bar shows only these. */
const TOOL_OPTIONS: Record<string, string[]> = {
  brush: ["size", "hardness", "opacity", "color"], eraser: ["size", "hardness"], mask: ["size", "hardness", "mask-mode"],
  text: ["font-size", "color"], eyedropper: ["color"],
};
const MIN_ZOOM = 0.1, MAX_ZOOM = 8;

interface Shared { channel: Channel; sync: DocSync; }
const shared = new WeakMap<Model, Shared>();

function sharedFor(model: Model): Shared {
  let entry = shared.get(model);
  if (!entry) {
    const channel = new Channel(model);
    entry = { channel, sync: new DocSync(channel) };
    shared.set(model, entry);
  }
  return entry;
}

class CanvasView implements ToolHost {
  readonly root = el("div", { class: "is-studio is-canvas", "data-lm-suppress-shortcuts": "true" });
  readonly status = new StatusLine();
  readonly screen = el("canvas", { class: "is-screen", tabindex: "0" });
  readonly stage = el("div", { class: "is-stage" }, this.screen);
  readonly comp = makeCanvas(1, 1);
  readonly compositor: Compositor;
  private layersPanel: LayersPanel;
  private tools: Tools;
  zoom = 1;
  ox = 0;
  oy = 0;
  spaceDown = false;
  maskRemove = false;
  autoFit = true;
  /** Font size of new text layers (view state; a text layer's own size is edited in the layers panel). */
  fontSize = 48;
  layers: LayerView[] = [];
  private fitted = false;
  private synced = false;
  private frame = 0;
  private toolButtons = new Map<string, HTMLButtonElement>();
  private zoomLabel = el("span", { class: "is-value", "data-role": "zoom" });
  private resize: ResizeObserver;
  private disposers: (() => void)[] = [];

  constructor(private model: Model, readonly channel: Channel, readonly sync: DocSync) {
    this.compositor = new Compositor(channel, () => this.scheduleRender());
    this.tools = new Tools(this);
    this.compositor.onError = (error) => this.status.error(error);
    this.layersPanel = new LayersPanel(channel, this.status, () => this.selected, (id) => this.setSelected(id),
      () => this.setTool("text"), () => this.model.get("background_templates") || []);
    const [toolColumn, optionsBar] = this.toolbar();
    this.root.append(optionsBar, el("div", { class: "is-canvas-body" }, toolColumn, this.stage,
      collapsible("Layers", this.layersPanel.node, { class: "is-section is-side", "data-panel": "layers" })), this.status.node);
    isolateClicks(this.root);
    this.root.style.setProperty("--is-height", `${model.get("height") || 560}px`);
    this.tools.bindPointer();
    this.bindKeys();
    const onDoc = () => this.docChanged();
    sync.layers.observeDeep(onDoc);
    sync.meta.observe(onDoc);
    this.disposers.push(() => sync.layers.unobserveDeep(onDoc), () => sync.meta.unobserve(onDoc));
    const onModel = () => this.docChanged();
    for (const key of ["selected_layer", "tool", "brush"]) {
      model.on(`change:${key}`, onModel);
      this.disposers.push(() => model.off(`change:${key}`, onModel));
    }
    const onZoom = () => this.setZoom(model.get("zoom") || this.zoom);
    model.on("change:zoom", onZoom);
    this.disposers.push(() => model.off("change:zoom", onZoom));
    // Until the user zooms or pans, the view keeps fitting the stage as the layout settles and resizes.
    this.resize = new ResizeObserver(() => { if (this.autoFit) this.fitted = false; this.scheduleRender(); });
    // For benchmarks: the naive alternative to the live stroke path, a full recomposite and present.
    (this.screen as any).imagestudioFullRender = () => {
      const started = performance.now();
      this.renderNow();
      context(this.screen).getImageData(0, 0, 1, 1); // wait until the pixels are really drawn
      return performance.now() - started;
    };
    this.resize.observe(this.stage);
    sync.ready.then(() => { this.synced = true; this.docChanged(); }).catch((error) => this.status.error(error));
  }

  // --- state ---------------------------------------------------------------------------------------
  get selected(): string | null { return this.model.get("selected_layer") || null; }
  get tool(): string { return this.model.get("tool") || "move"; }
  get brush(): Brush {
    return { ...DEFAULT_BRUSH, ...(this.model.get("brush") || {}) };
  }

  setSelected(id: string | null): void {
    this.model.set("selected_layer", id);
    this.model.save_changes();
    this.docChanged();
  }

  setTool(tool: string): void {
    this.model.set("tool", tool);
    this.model.save_changes();
  }

  setBrush(changes: Record<string, unknown>): void {
    this.model.set("brush", { ...this.brush, ...changes });
    this.model.save_changes();
  }

  private docChanged(): void {
    const meta = this.sync.meta.get("canvas") || { width: 1024, height: 1024 };
    this.compositor.canvasWidth = meta.width;
    this.compositor.canvasHeight = meta.height;
    this.layers = this.sync.layers.toArray().map(readLayer);
    this.layersPanel.update(this.layers);
    for (const [tool, node] of this.toolButtons) node.classList.toggle("is-active", tool === this.tool);
    this.syncBrushControls?.();
    this.showToolOptions?.();
    this.scheduleRender();
  }

  selectedLayer(): LayerView | undefined {
    return this.layers.find((l) => l.id === this.selected);
  }

  // --- toolbar ---------------------------------------------------------------------------------------
  private syncBrushControls: (() => void) | null = null;
  private showToolOptions: (() => void) | null = null;

  /** The tool column (icon, label, shortcut in the tooltip) and the options bar above the canvas. */
  private toolbar(): [HTMLElement, HTMLElement] {
    const tools = el("div", { class: "is-tools", role: "toolbar", "aria-orientation": "vertical" });
    for (const [tool, label, key, icon, help] of TOOLS) {
      const node = el("button", { type: "button", class: "is-btn is-tool", title: `${label} (${key.toUpperCase()}): ${help}`,
        "data-tool": tool, "aria-label": label, onclick: () => this.setTool(tool) },
        el("span", { class: "is-tool-icon", text: icon }), el("span", { class: "is-tool-label", text: label }),
        el("kbd", { text: key.toUpperCase() }));
      this.toolButtons.set(tool, node);
      tools.append(node);
    }
    const size = el("input", { type: "range", min: "1", max: "200", step: "1", "data-brush": "size" });
    const hardness = el("input", { type: "range", min: "0", max: "100", step: "1", "data-brush": "hardness" });
    const opacity = el("input", { type: "range", min: "1", max: "100", step: "1", "data-brush": "opacity" });
    const color = el("input", { type: "color", "data-brush": "color" });
    const maskMode = select([["add", "add to mask"], ["remove", "remove from mask"]], "add", (v) => { this.maskRemove = v === "remove"; },
      { "data-brush": "mask-mode", title: "Mask brush: add to or remove from the mask (Alt inverts)" });
    size.addEventListener("input", () => this.setBrush({ size: Number(size.value) }));
    hardness.addEventListener("input", () => this.setBrush({ hardness: Number(hardness.value) / 100 }));
    opacity.addEventListener("input", () => this.setBrush({ opacity: Number(opacity.value) / 100 }));
    color.addEventListener("input", () => this.setBrush({ color: color.value }));
    this.syncBrushControls = () => {
      const b = this.brush;
      size.value = String(b.size); hardness.value = String(Math.round(b.hardness * 100));
      opacity.value = String(Math.round(b.opacity * 100)); color.value = b.color;
    };
    const fontSize = el("input", { type: "number", min: "4", max: "2000", step: "1", value: String(this.fontSize),
      "data-text": "font-size", title: "Font size of new text, in canvas pixels" });
    fontSize.addEventListener("change", () => { this.fontSize = Math.max(4, Math.min(2000, Number(fontSize.value) || 48)); });
    const fields: Record<string, HTMLElement> = { "font-size": labelled("Font size", fontSize), size: labelled("Size", size), hardness: labelled("Hardness", hardness),
      opacity: labelled("Opacity", opacity), color: labelled("Colour", color), "mask-mode": maskMode };
    const hint = el("span", { class: "is-muted", "data-role": "tool-hint" });
    const brush = el("div", { class: "is-brush", "data-role": "tool-options" }, ...Object.values(fields), hint);
    this.showToolOptions = () => {
      const used = TOOL_OPTIONS[this.tool] || [];
      for (const [name, node] of Object.entries(fields)) node.classList.toggle("is-hidden", !used.includes(name));
      const entry = TOOLS.find(([tool]) => tool === this.tool);
      hint.textContent = entry ? `${entry[1]}: ${entry[4]}` : "";
    };
    const view = el("div", { class: "is-view" },
      button("−", () => this.zoomAt(this.zoom / 1.25), { title: "Zoom out (-)", "data-action": "zoom-out" }),
      this.zoomLabel,
      button("+", () => this.zoomAt(this.zoom * 1.25), { title: "Zoom in (+)", "data-action": "zoom-in" }),
      button("Fit", () => { this.autoFit = true; this.fit(); }, { title: "Fit (0)", "data-action": "fit" }),
      button("Undo", () => this.undo(), { title: "Undo (Ctrl+Z)", "data-action": "undo" }),
      button("Redo", () => this.redo(), { title: "Redo (Ctrl+Shift+Z)", "data-action": "redo" }),
      this.exportFormat, this.exportQuality,
      button("Export", () => this.export(), { title: "Render with Python, save in the project's exports/ folder (never over an earlier export) and download", "data-action": "export" }));
    return [tools, el("div", { class: "is-toolbar" }, brush, view)];
  }

  private undo(): void { guarded(this.status, () => this.channel.call("undo")); }
  private redo(): void { guarded(this.status, () => this.channel.call("redo")); }

  private exportFormat = select([["png", "PNG"], ["jpeg", "JPEG"], ["webp", "WebP"]], "png", () => this.syncExportQuality(),
    { "data-role": "export-format", title: "Export format" });
  private exportQuality = el("input", { type: "number", min: "1", max: "100", value: "90", size: "3", class: "is-hidden",
    "data-role": "export-quality", title: "Quality (JPEG and WebP; 100 = lossless WebP)" });

  private syncExportQuality(): void {
    this.exportQuality.classList.toggle("is-hidden", this.exportFormat.value === "png");
  }

  private async export(): Promise<void> {
    this.status.busy("Rendering…");
    const args = { format: this.exportFormat.value, quality: Number(this.exportQuality.value) || 90 };
    const reply = await guarded(this.status, () => this.channel.request("call", { method: "export", args }));
    if (!reply) return;
    const [msg, buffers] = reply;
    this.status.info(`Exported ${msg.result.path}`, 8000);
    if (buffers[0]) download(buffers[0], msg.result.filename, msg.result.mime || "image/png");
  }

  // --- view ------------------------------------------------------------------------------------------
  private fit(): void {
    const rect = this.stage.getBoundingClientRect();
    const w = this.compositor.canvasWidth, h = this.compositor.canvasHeight;
    if (!rect.width || !rect.height) return;
    this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, Math.min((rect.width - 16) / w, (rect.height - 16) / h)));
    this.ox = (rect.width - w * this.zoom) / 2;
    this.oy = (rect.height - h * this.zoom) / 2;
    this.fitted = true;
    this.zoomChanged();
  }

  private setZoom(zoom: number): void {
    const rect = this.stage.getBoundingClientRect();
    this.zoomAt(zoom, rect.width / 2, rect.height / 2);
  }

  zoomAt(zoom: number, sx?: number, sy?: number): void {
    const rect = this.stage.getBoundingClientRect();
    sx = sx ?? rect.width / 2;
    sy = sy ?? rect.height / 2;
    const next = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    if (Math.abs(next - this.zoom) > 1e-6) this.autoFit = false;
    const dx = (sx - this.ox) / this.zoom, dy = (sy - this.oy) / this.zoom;
    this.zoom = next;
    this.ox = sx - dx * next;
    this.oy = sy - dy * next;
    this.zoomChanged();
  }

  private zoomChanged(): void {
    this.zoomLabel.textContent = `${Math.round(this.zoom * 100)}%`;
    if (Math.abs((this.model.get("zoom") || 0) - this.zoom) > 1e-6) {
      this.model.set("zoom", this.zoom);
      this.model.save_changes();
    }
    this.scheduleRender();
  }

  toDoc(event: { offsetX: number; offsetY: number }): [number, number] {
    return [(event.offsetX - this.ox) / this.zoom, (event.offsetY - this.oy) / this.zoom];
  }

  // --- rendering -------------------------------------------------------------------------------------
  scheduleRender(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.renderNow(); });
  }

  private renderNow(): void {
    const w = this.compositor.canvasWidth, h = this.compositor.canvasHeight;
    if (this.comp.width !== w || this.comp.height !== h) { this.comp.width = w; this.comp.height = h; }
    if (!this.fitted) this.fit();
    this.compositor.render(context(this.comp, true), this.layers, this.tools.overrides());
    this.present();
  }

  /** Draw the composite on screen with the view transform, then the overlays. */
  present(): void {
    const dpr = window.devicePixelRatio || 1;
    const rect = this.stage.getBoundingClientRect();
    const pw = Math.max(1, Math.round(rect.width * dpr)), ph = Math.max(1, Math.round(rect.height * dpr));
    if (this.screen.width !== pw || this.screen.height !== ph) { this.screen.width = pw; this.screen.height = ph; }
    const ctx = context(this.screen);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#3a3d42";
    ctx.fillRect(0, 0, pw, ph);
    ctx.setTransform(dpr * this.zoom, 0, 0, dpr * this.zoom, dpr * this.ox, dpr * this.oy);
    const pattern = checkerboard(ctx);
    pattern.setTransform(new DOMMatrix().scale(1 / this.zoom));
    ctx.fillStyle = pattern;
    ctx.fillRect(0, 0, this.comp.width, this.comp.height);
    ctx.imageSmoothingEnabled = this.zoom < 2;
    ctx.drawImage(this.comp, 0, 0);
    this.tools.drawOverlays(ctx, dpr);
    const data = this.screen.dataset;
    data.zoom = String(this.zoom); data.ox = String(this.ox); data.oy = String(this.oy);
    if (this.synced) data.ready = "1";
  }

  // --- keys ------------------------------------------------------------------------------------------
  private bindKeys(): void {
    this.root.addEventListener("keydown", (e) => {
      const target = e.target as HTMLElement;  // typing in a field is not a shortcut
      if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) && (target as HTMLInputElement).type !== "range"
          && (target as HTMLInputElement).type !== "color") return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      let handled = true;
      if (mod && key === "z" && !e.shiftKey) this.undo();
      else if ((mod && key === "z" && e.shiftKey) || (mod && key === "y")) this.redo();
      else if (mod) handled = false;
      else if (key === " ") this.spaceDown = true;
      else if (key === "+" || key === "=") this.zoomAt(this.zoom * 1.25);
      else if (key === "-") this.zoomAt(this.zoom / 1.25);
      else if (key === "0") { this.autoFit = true; this.fit(); }
      else {
        const tool = TOOLS.find(([, , k]) => k === key);
        if (tool) this.setTool(tool[0]);
        else handled = false;
      }
      if (handled) { e.preventDefault(); e.stopPropagation(); }
    });
    this.root.addEventListener("keyup", (e) => { if (e.key === " ") this.spaceDown = false; });
  }

  dispose(): void {
    this.resize.disconnect();
    for (const dispose of this.disposers) dispose();
    if (this.frame) cancelAnimationFrame(this.frame);
  }
}

export default {
  initialize({ model }: { model: Model }) {
    sharedFor(model);
    return () => {
      const entry = shared.get(model);
      if (entry) { entry.sync.dispose(); entry.channel.dispose(); shared.delete(model); }
    };
  },
  render({ model, el: host }: { model: Model; el: HTMLElement }) {
    const { channel, sync } = sharedFor(model);
    const view = new CanvasView(model, channel, sync);
    host.append(view.root);
    return () => { view.dispose(); view.root.remove(); };
  },
};
