// The Canvas: a layered editor bound to a project document. Each rendered view owns a Yjs doc that a transport
// keeps in sync with everyone else's (the project's room in a collaborative JupyterLab, else the kernel relay,
// DESIGN.md D2), its own view state (tool, selection, zoom, brush), its own undo (a Y UndoManager tracking only
// its origin), and presence. Strokes, transforms and deletes are edits of its doc; panel commands call Project
// methods in the kernel on the view's behalf. `mountCanvas` mounts the same editor anywhere (the Studio tab).
import { Channel, ChannelLike, Model, ViewChannel } from "./comm";
import { Compositor, LayerView, readLayer } from "./compositor";
import { checkerboard, context, makeCanvas } from "./drawing";
import { KernelTransport } from "./kernel_transport";
import { LayersPanel } from "./layers_panel";
import { Identity, Presence, fetchIdentity } from "./presence";
import { tryJoinRoom } from "./room";
import { Brush, ToolHost, Tools } from "./tools";
import { ConnectionState, DocTransport, ViewConnection } from "./transport";
import { StatusLine, announceSelection, button, collapsible, download, el, guarded, isolateClicks, labelled,
  newViewId, onSelection, registerPageView, select } from "./ui";
import { DocSync, Y } from "./ysync";
import { DEFAULT_BRUSH, TOOLS as TOOL_NAMES, Tool } from "./constants";

export type { ChannelLike } from "./comm";

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
/** The tools that change nothing in the document: a view-only canvas keeps these. */
const VIEWING_TOOLS: string[] = ["pan", "eyedropper"];

const CONNECTION_LABEL: Record<ConnectionState, string> = { connecting: "connecting…", connected: "connected", offline: "offline" };

export interface CanvasOptions {
  /** The backend: the widget's comm (Channel), or the Studio tab's HTTP channel. */
  channel: ChannelLike;
  /** The project's document file (absolute, or relative to the server root): which room to join. */
  documentPath: string;
  /** A transport chosen by the caller (the Studio tab's room); default: the room, else the kernel relay. */
  transport?: DocTransport;
  /** "kernel" forces the kernel relay (classic Notebook, VS Code, tests); "room" reports when it is missing. */
  transportChoice?: "auto" | "room" | "kernel";
  height?: number;
  backgroundTemplates?: string[];
}

class CanvasView implements ToolHost {
  readonly root = el("div", { class: "is-studio is-canvas", "data-lm-suppress-shortcuts": "true", "data-connection": "connecting" });
  readonly status = new StatusLine();
  readonly screen = el("canvas", { class: "is-screen", tabindex: "0" });
  readonly stage = el("div", { class: "is-stage" }, this.screen);
  readonly comp = makeCanvas(1, 1);
  readonly compositor: Compositor;
  readonly viewId = newViewId();
  readonly sync = new DocSync(this.viewId);
  readonly channel: ViewChannel;
  readonly documentPath: string;
  transport: DocTransport | null = null;
  private connection: ViewConnection | null = null;
  presence: Presence | null = null;
  private identity: Promise<Identity>;
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
  deletedLayers: LayerView[] = [];
  // This view's own state (DESIGN.md D2): never shared with other views.
  private selectedId: string | null = null;
  private toolName: Tool = "move";
  /** Why this view may not edit (shown when an edit is tried), or null. */
  private readOnly: string | null = null;
  private brushState: Brush = { ...DEFAULT_BRUSH };
  private fitted = false;
  private synced = false;
  private disposed = false;
  private frame = 0;
  private toolButtons = new Map<string, HTMLButtonElement>();
  private zoomLabel = el("span", { class: "is-value", "data-role": "zoom" });
  private badge = el("span", { class: "is-connection", "data-role": "connection", title: "Connection of this view" });
  private undoButton!: HTMLButtonElement;
  private exportButton!: HTMLButtonElement;
  private redoButton!: HTMLButtonElement;
  private resize: ResizeObserver;
  private disposers: (() => void)[] = [];

  constructor(private options: CanvasOptions) {
    this.documentPath = options.documentPath || "";
    // Each call starts a new undo step, so the layer a call adds is never merged with an edit before it.
    this.channel = new ViewChannel(options.channel, this.viewId, () => this.sync.undoManager.stopCapturing());
    this.compositor = new Compositor(this.channel, () => this.scheduleRender());
    this.tools = new Tools(this);
    this.compositor.onError = (error) => this.status.error(error);
    this.identity = fetchIdentity().catch(() => ({ username: "guest", name: "Guest", color: "#64748b" }));
    this.layersPanel = new LayersPanel({
      channel: this.channel, status: this.status, selected: () => this.selected, select: (id) => this.setSelected(id),
      newText: () => this.setTool("text"), backgroundTemplates: () => options.backgroundTemplates || [],
      remove: (id) => this.removeLayer(id), restore: (id) => this.restoreLayer(id),
      cutOut: (masks) => { if (masks.length) { this.setSelected(masks[masks.length - 1]); this.setTool("mask"); } },
    });
    const [toolColumn, optionsBar] = this.toolbar();
    this.root.append(optionsBar, el("div", { class: "is-canvas-body" }, toolColumn, this.stage,
      collapsible("Layers", this.layersPanel.node, { class: "is-section is-side", "data-panel": "layers" })), this.status.node);
    isolateClicks(this.root);
    this.root.style.setProperty("--is-height", `${options.height || 560}px`);
    this.tools.bindPointer();
    this.bindKeys();
    this.bindPresencePointer();
    const onDoc = () => this.docChanged();
    this.sync.layers.observeDeep(onDoc);
    this.sync.meta.observe(onDoc);
    this.disposers.push(() => this.sync.layers.unobserveDeep(onDoc), () => this.sync.meta.unobserve(onDoc));
    const onStack = () => this.updateUndoButtons();
    for (const event of ["stack-item-added", "stack-item-popped", "stack-cleared"]) {
      this.sync.undoManager.on(event as any, onStack);
      this.disposers.push(() => this.sync.undoManager.off(event as any, onStack));
    }
    if (this.documentPath) {
      this.disposers.push(registerPageView(this.documentPath, this.viewId));
      // A panel of this page (prompt, gallery) asks this page's canvas to select the layer it made.
      this.disposers.push(onSelection(this.documentPath, (detail) => {
        if (!detail.request) return;
        this.setSelected(detail.layer);
        if (detail.tool) this.setTool(detail.tool);
      }));
    }
    // Until the user zooms or pans, the view keeps fitting the stage as the layout settles and resizes.
    this.resize = new ResizeObserver(() => { if (this.autoFit) this.fitted = false; this.scheduleRender(); });
    // For benchmarks: the naive alternative to the live stroke path, a full recomposite and present.
    (this.screen as any).imagestudioFullRender = () => {
      const started = performance.now();
      this.renderNow();
      context(this.screen).getImageData(0, 0, 1, 1); // wait until the pixels are really drawn
      return performance.now() - started;
    };
    // For tests and benchmarks: this view (its transport, document and undo manager).
    (this.root as any).imagestudioView = this;
    this.resize.observe(this.stage);
    this.updateUndoButtons();
    this.connect().catch((error) => this.status.error(error));
  }

  // --- transport -----------------------------------------------------------------------------------
  /** Join the project's room, else fall back to the kernel relay; then show the connection and presence. */
  private async connect(): Promise<void> {
    this.connection = new ViewConnection({
      doc: this.sync.doc, documentPath: this.documentPath, choice: this.options.transportChoice || "auto",
      given: this.options.transport, joinRoom: tryJoinRoom,
      kernel: () => new KernelTransport(this.options.channel, this.sync.doc, this.viewId, this.sync.origin),
      onAttach: (transport) => {
        this.transport = transport;
        this.root.dataset.transport = transport.kind;
        if (transport.kind === "room") this.followOwnKernelChanges();
        this.presence?.dispose();
        this.presence = new Presence(transport.awareness, this.presenceHost(), this.identity);
        this.presenceSlot.replaceChildren(this.presence.bar);
      },
      onState: (state, kind) => {
        this.root.dataset.connection = state;
        this.badge.dataset.state = state;
        this.badge.textContent = `● ${CONNECTION_LABEL[state]}`;
        this.badge.title = `${kind === "room" ? "Project room" : "Kernel relay"}: ${CONNECTION_LABEL[state]}`;
      },
      onFallback: () => this.status.error("This page has no collaborative room for the project; using the kernel."),
    });
    const transport = await this.connection.start();
    if (!transport) return;
    await transport.synced;
    if (this.disposed) return;
    this.synced = true;
    this.docChanged();
  }

  /**
   * In the room, the kernel's changes reach this view through the room as everyone else's; the ones this
   * view's calls caused also come over the comm tagged with its id: applied with its origin, they are its
   * own to undo (applying an update twice is harmless in Yjs).
   */
  private followingKernel = false;

  private followOwnKernelChanges(): void {
    if (this.followingKernel) return;
    this.followingKernel = true;
    this.disposers.push(this.options.channel.on("y-update", (msg, buffers) => {
      if (msg.view === this.viewId && buffers[0]) Y.applyUpdate(this.sync.doc, buffers[0], this.sync.origin);
    }));
  }

  private presenceSlot = el("span", { class: "is-presence-slot" });

  private presenceHost() {
    return {
      root: this.root,
      viewport: () => {
        const rect = this.stage.getBoundingClientRect();
        return { zoom: this.zoom, ox: this.ox, oy: this.oy, width: rect.width, height: rect.height };
      },
      setViewport: (v: { zoom: number; cx: number; cy: number }) => {
        const rect = this.stage.getBoundingClientRect();
        this.autoFit = false;
        this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, v.zoom));
        this.ox = rect.width / 2 - v.cx * this.zoom;
        this.oy = rect.height / 2 - v.cy * this.zoom;
        this.fitted = true;
        this.zoomChanged();
      },
      selected: () => this.selected,
      tool: () => this.tool,
      layerBounds: (id: string) => this.layerBounds(id),
      requestRender: () => this.scheduleRender(),
    };
  }

  /** A layer's placed rectangle on the canvas (x, y, w, h in document pixels), null while it loads. */
  private layerBounds(id: string): [number, number, number, number] | null {
    const layer = this.layers.find((l) => l.id === id);
    if (!layer) return null;
    if (layer.kind === "mask") return [0, 0, this.compositor.canvasWidth, this.compositor.canvasHeight];
    const src = this.compositor.source(layer);
    if (!src) return null;
    const { crop, matrix } = this.compositor.placement(layer, src);
    const points = [[0, 0], [crop[2], 0], [crop[2], crop[3]], [0, crop[3]]].map(([x, y]) => matrix.transformPoint(new DOMPoint(x, y)));
    const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)];
  }

  private bindPresencePointer(): void {
    this.screen.addEventListener("pointermove", (e) => { const [x, y] = this.toDoc(e); this.presence?.pointer(x, y); });
    this.screen.addEventListener("pointerleave", () => this.presence?.pointer(null, null));
  }

  // --- state ---------------------------------------------------------------------------------------
  get selected(): string | null { return this.selectedId; }
  get tool(): string { return this.toolName; }
  get brush(): Brush { return this.brushState; }

  setSelected(id: string | null): void {
    if (id === this.selectedId) return;
    this.selectedId = id;
    if (this.documentPath) announceSelection({ documentPath: this.documentPath, layer: id, request: false });
    this.presence?.viewChanged();
    this.docChanged();
  }

  setTool(tool: string): void {
    if (!(TOOL_NAMES as readonly string[]).includes(tool)) return;
    if (this.readOnly && !VIEWING_TOOLS.includes(tool)) { this.status.error(this.readOnly); return; }
    this.toolName = tool as Tool;
    this.root.dataset.tool = tool;
    this.presence?.viewChanged();
    this.docChanged();
  }

  /** View only (the reason, shown when an edit is tried) or editable (`null`). The server refuses such a
   * user's changes whatever the view does; this keeps them from drawing what would never be kept. */
  setReadOnly(reason: string | null): void {
    this.readOnly = reason;
    if (reason) this.root.dataset.readonly = "true";
    else delete this.root.dataset.readonly;
    for (const [tool, node] of this.toolButtons) node.disabled = !!reason && !VIEWING_TOOLS.includes(tool);
    this.layersPanel.node.inert = !!reason;  // its buttons and fields all change the document
    this.exportButton.disabled = !!reason;  // an export is saved in the project's folder: refused too
    if (reason && !VIEWING_TOOLS.includes(this.tool)) this.setTool("pan");
  }

  setBrush(changes: Record<string, unknown>): void {
    this.brushState = { ...this.brushState, ...changes } as Brush;
    this.syncBrushControls?.();
    this.scheduleRender();
  }

  // --- soft delete and per-view undo -----------------------------------------------------------------
  private async removeLayer(id: string): Promise<void> {
    if (!this.sync.softDelete(id, (await this.identity).username || "guest")) return;
    if (this.selectedId === id) this.setSelected(null);
    this.status.info("Layer deleted: restore it from “Deleted layers”, or Undo.", 6000);
  }

  private restoreLayer(id: string): void {
    if (this.sync.restore(id)) this.setSelected(id);
  }

  private undo(): void {
    if (!this.sync.undoManager.undo()) this.status.info("Nothing of yours to undo.", 3000);
  }

  private redo(): void {
    if (!this.sync.undoManager.redo()) this.status.info("Nothing to redo.", 3000);
  }

  private updateUndoButtons(): void {
    if (!this.undoButton) return;
    this.undoButton.disabled = !this.sync.undoManager.canUndo();
    this.redoButton.disabled = !this.sync.undoManager.canRedo();
    this.root.dataset.undo = String(this.sync.undoManager.undoStack.length);
    this.root.dataset.redo = String(this.sync.undoManager.redoStack.length);
  }

  private docChanged(): void {
    const meta = this.sync.meta.get("canvas") || { width: 1024, height: 1024 };
    // The first sync (or someone's resize) brings the real canvas size: fit again unless the user zoomed.
    if (this.autoFit && (meta.width !== this.compositor.canvasWidth || meta.height !== this.compositor.canvasHeight)) this.fitted = false;
    this.compositor.canvasWidth = meta.width;
    this.compositor.canvasHeight = meta.height;
    const all = this.sync.stack().map(readLayer);
    this.layers = all.filter((l) => !l.deleted);
    this.deletedLayers = all.filter((l) => l.deleted);
    if (this.synced && this.selectedId && !this.layers.some((l) => l.id === this.selectedId)) {
      this.setSelected(null);  // deleted (here or by someone else)
      return;
    }
    this.layersPanel.update(this.layers, this.deletedLayers);
    for (const [tool, node] of this.toolButtons) node.classList.toggle("is-active", tool === this.tool);
    this.screen.dataset.selected = this.selectedId || "";
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
      this.undoButton = button("Undo", () => this.undo(), { title: "Undo your last change (Ctrl+Z); others' changes stay", "data-action": "undo" }),
      this.redoButton = button("Redo", () => this.redo(), { title: "Redo (Ctrl+Shift+Z)", "data-action": "redo" }),
      this.exportFormat, this.exportQuality,
      this.exportButton = button("Export", () => this.export(), { title: "Render with Python, save in the project's exports/ folder (never over an earlier export) and download", "data-action": "export" }));
    return [tools, el("div", { class: "is-toolbar" }, brush, this.presenceSlot, this.badge, view)];
  }


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
    this.presence?.viewChanged();
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
    this.presence?.drawOverlays(ctx, this.zoom, dpr);
    const data = this.screen.dataset;
    const moved = data.zoom !== String(this.zoom) || data.ox !== String(this.ox) || data.oy !== String(this.oy);
    data.zoom = String(this.zoom); data.ox = String(this.ox); data.oy = String(this.oy);
    if (moved) this.presence?.viewChanged();  // a pan or a fit: others following this view see it
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
    this.disposed = true;
    this.resize.disconnect();
    for (const dispose of this.disposers) dispose();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.presence?.dispose();
    this.connection?.dispose();  // closes the transport unless the caller passed it in (the Studio tab's)
    this.sync.dispose();
  }
}

/**
 * Mount the canvas editor in `host` (the Studio tab does this with its HTTP channel and room transport).
 * Without a transport it joins the project's room, else falls back to the kernel relay over `channel`.
 * `setReadOnly(reason)` makes it a viewer's: `null` gives the editing tools back.
 */
export function mountCanvas(host: HTMLElement, options: CanvasOptions): { dispose(): void; setReadOnly(reason: string | null): void } {
  const view = new CanvasView(options);
  host.append(view.root);
  return { dispose: () => { view.dispose(); view.root.remove(); }, setReadOnly: (reason) => view.setReadOnly(reason) };
}

// The anywidget module: one Channel per model (made in `initialize`, so no message is lost before the first
// view), and a CanvasView per render, each with its own document, state, undo and view id.
const channels = new WeakMap<Model, Channel>();

export default {
  initialize({ model }: { model: Model }) {
    channels.set(model, new Channel(model));
    return () => { channels.get(model)?.dispose(); channels.delete(model); };
  },
  render({ model, el: host }: { model: Model; el: HTMLElement }) {
    let channel = channels.get(model);
    if (!channel) { channel = new Channel(model); channels.set(model, channel); }
    const mounted = mountCanvas(host, {
      channel, documentPath: model.get("document_path") || "", height: model.get("height") || 560,
      backgroundTemplates: model.get("background_templates") || [], transportChoice: model.get("transport") || "auto",
    });
    return () => mounted.dispose();
  },
};
