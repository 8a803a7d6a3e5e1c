// The Canvas widget: a layered editor bound to a project document. The document lives in a Yjs doc synced
// with the kernel (ysync.ts); strokes and transforms are edited there directly, panel commands call Project
// methods in the kernel; undo and redo go through the document's history in the kernel.
import { Channel, Model } from "./comm";
import { Compositor, LayerView, Source, readLayer } from "./compositor";
import {
  Stroke, Transform, checkerboard, context, croppedSize, hexColor, layerMatrix, makeCanvas, simplify,
  transformAfterCrop,
} from "./drawing";
import { LayersPanel } from "./layers_panel";
import { StatusLine, button, download, el, guarded, labelled, recordMetric, select } from "./ui";
import { DocSync, Y } from "./ysync";

const TOOLS: [string, string, string][] = [
  ["move", "Move", "v"], ["scale", "Scale", "s"], ["rotate", "Rotate", "r"], ["crop", "Crop", "c"],
  ["brush", "Brush", "b"], ["eraser", "Eraser", "e"], ["mask", "Mask", "m"], ["text", "Text", "t"],
  ["eyedropper", "Pick", "i"], ["pan", "Pan", "h"],
];
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

interface Drag {
  kind: "pan" | "move" | "scale" | "rotate" | "crop" | "stroke";
  startX: number; startY: number; // screen (css px) for pan, document for the rest
  layer?: LayerView; transform?: Transform; override?: Transform;
  ox?: number; oy?: number;
  points?: number[]; stroke?: Stroke; matrixInverse?: DOMMatrix; cropRect?: [number, number, number, number];
}

class CanvasView {
  readonly root = el("div", { class: "is-studio is-canvas", "data-lm-suppress-shortcuts": "true" });
  private status = new StatusLine();
  private screen = el("canvas", { class: "is-screen", tabindex: "0" });
  private stage = el("div", { class: "is-stage" }, this.screen);
  private comp = makeCanvas(1, 1);
  private compositor: Compositor;
  private layersPanel: LayersPanel;
  private zoom = 1;
  private ox = 0;
  private oy = 0;
  private fitted = false;
  private synced = false;
  private frame = 0;
  private drag: Drag | null = null;
  private spaceDown = false;
  private layers: LayerView[] = [];
  private pointer: { x: number; y: number } | null = null;
  private toolButtons = new Map<string, HTMLButtonElement>();
  private zoomLabel = el("span", { class: "is-value", "data-role": "zoom" });
  private maskRemove = false;
  private live: { layer: LayerView; coverage: HTMLCanvasElement; layerCanvas: HTMLCanvasElement; below: HTMLCanvasElement;
    above: HTMLCanvasElement; lastX: number; lastY: number } | null = null;
  private textInput: HTMLInputElement | null = null;
  private resize: ResizeObserver;
  private disposers: (() => void)[] = [];

  constructor(private model: Model, private channel: Channel, private sync: DocSync) {
    this.compositor = new Compositor(channel, () => this.scheduleRender());
    this.compositor.onError = (error) => this.status.error(error);
    this.layersPanel = new LayersPanel(channel, this.status, () => this.selected, (id) => this.setSelected(id),
      () => this.setTool("text"));
    this.root.append(this.toolbar(), el("div", { class: "is-canvas-body" }, this.stage, this.layersPanel.node), this.status.node);
    this.root.style.setProperty("--is-height", `${model.get("height") || 560}px`);
    this.bindPointer();
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
    this.resize = new ResizeObserver(() => this.scheduleRender());
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
  get brush(): { size: number; hardness: number; color: string; opacity: number } {
    return { size: 24, hardness: 0.8, color: "#1e90ff", opacity: 1, ...(this.model.get("brush") || {}) };
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
    this.scheduleRender();
  }

  private selectedLayer(): LayerView | undefined {
    return this.layers.find((l) => l.id === this.selected);
  }

  // --- toolbar ---------------------------------------------------------------------------------------
  private syncBrushControls: (() => void) | null = null;

  private toolbar(): HTMLElement {
    const tools = el("div", { class: "is-tools" });
    for (const [tool, label, key] of TOOLS) {
      const node = button(label, () => this.setTool(tool), { title: `${label} (${key.toUpperCase()})`, "data-tool": tool });
      this.toolButtons.set(tool, node);
      tools.append(node);
    }
    const size = el("input", { type: "range", min: "1", max: "200", step: "1", "data-brush": "size" });
    const hardness = el("input", { type: "range", min: "0", max: "100", step: "1", "data-brush": "hardness" });
    const opacity = el("input", { type: "range", min: "1", max: "100", step: "1", "data-brush": "opacity" });
    const color = el("input", { type: "color", "data-brush": "color" });
    const maskMode = select([["add", "mask add"], ["remove", "mask remove"]], "add", (v) => { this.maskRemove = v === "remove"; },
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
    const brush = el("div", { class: "is-brush" }, labelled("Size", size), labelled("Hardness", hardness),
      labelled("Opacity", opacity), labelled("Colour", color), maskMode);
    const view = el("div", { class: "is-view" },
      button("−", () => this.zoomAt(this.zoom / 1.25), { title: "Zoom out (-)", "data-action": "zoom-out" }),
      this.zoomLabel,
      button("+", () => this.zoomAt(this.zoom * 1.25), { title: "Zoom in (+)", "data-action": "zoom-in" }),
      button("Fit", () => this.fit(), { title: "Fit (0)", "data-action": "fit" }),
      button("Undo", () => this.undo(), { title: "Undo (Ctrl+Z)", "data-action": "undo" }),
      button("Redo", () => this.redo(), { title: "Redo (Ctrl+Shift+Z)", "data-action": "redo" }),
      button("Export PNG", () => this.export(), { title: "Render with Python and download a PNG", "data-action": "export" }));
    return el("div", { class: "is-toolbar" }, tools, brush, view);
  }

  private undo(): void { guarded(this.status, () => this.channel.call("undo")); }
  private redo(): void { guarded(this.status, () => this.channel.call("redo")); }

  private async export(): Promise<void> {
    this.status.busy("Rendering…");
    const reply = await guarded(this.status, () => this.channel.request("call", { method: "export", args: {} }));
    if (!reply) return;
    const [msg, buffers] = reply;
    this.status.info(`Exported ${msg.result.path}`, 8000);
    if (buffers[0]) download(buffers[0], msg.result.filename, "image/png");
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

  private zoomAt(zoom: number, sx?: number, sy?: number): void {
    const rect = this.stage.getBoundingClientRect();
    sx = sx ?? rect.width / 2;
    sy = sy ?? rect.height / 2;
    const next = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
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

  private toDoc(event: { offsetX: number; offsetY: number }): [number, number] {
    return [(event.offsetX - this.ox) / this.zoom, (event.offsetY - this.oy) / this.zoom];
  }

  // --- rendering -------------------------------------------------------------------------------------
  scheduleRender(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.renderNow(); });
  }

  private overrides(): Map<string, { source?: Source; transform?: Transform }> {
    const map = new Map<string, { source?: Source; transform?: Transform }>();
    if (this.drag?.layer && this.drag.override) map.set(this.drag.layer.id, { transform: this.drag.override });
    return map;
  }

  private renderNow(): void {
    const w = this.compositor.canvasWidth, h = this.compositor.canvasHeight;
    if (this.comp.width !== w || this.comp.height !== h) { this.comp.width = w; this.comp.height = h; }
    if (!this.fitted) this.fit();
    this.compositor.render(context(this.comp, true), this.layers, this.overrides());
    this.present();
  }

  /** Draw the composite on screen with the view transform, then the overlays. */
  private present(): void {
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
    this.drawOverlays(ctx, dpr);
    const data = this.screen.dataset;
    data.zoom = String(this.zoom); data.ox = String(this.ox); data.oy = String(this.oy);
    if (this.synced) data.ready = "1";
  }

  private drawOverlays(ctx: CanvasRenderingContext2D, dpr: number): void {
    const layer = this.selectedLayer();
    if (layer?.kind === "mask") {
      const matte = this.live && this.live.layer.id === layer.id ? this.live.layerCanvas : this.compositor.matte(layer);
      if (matte) {
        const tint = makeCanvas(matte.width, matte.height);
        const t = context(tint);
        t.drawImage(matte, 0, 0);
        t.globalCompositeOperation = "source-in";
        t.fillStyle = "rgba(255, 40, 80, 0.45)";
        t.fillRect(0, 0, tint.width, tint.height);
        ctx.drawImage(tint, 0, 0);
      }
    }
    if (layer && layer.kind !== "mask") {
      const src = this.compositor.source(layer);
      if (src) {
        const { crop, matrix } = this.compositor.placement(layer, src, this.drag?.layer?.id === layer.id ? this.drag.override : undefined);
        ctx.save();
        ctx.setTransform(new DOMMatrix([dpr * this.zoom, 0, 0, dpr * this.zoom, dpr * this.ox, dpr * this.oy]).multiply(matrix));
        ctx.strokeStyle = "#3b82f6";
        ctx.lineWidth = 1.5 / (this.zoom * Math.hypot(matrix.a, matrix.b));
        ctx.setLineDash([6 / (this.zoom * Math.hypot(matrix.a, matrix.b))]);
        ctx.strokeRect(0, 0, crop[2], crop[3]);
        ctx.restore();
      }
    }
    if (this.drag?.kind === "crop" && this.drag.cropRect) {
      const [x, y, w, h] = this.drag.cropRect;
      ctx.save();
      ctx.strokeStyle = "#facc15";
      ctx.lineWidth = 1.5 / this.zoom;
      ctx.strokeRect(x, y, w, h);
      ctx.restore();
    }
    if (this.pointer && ["brush", "eraser", "mask"].includes(this.tool)) {
      ctx.save();
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.lineWidth = 1 / this.zoom;
      ctx.beginPath();
      ctx.arc(this.pointer.x, this.pointer.y, this.brush.size / 2, 0, Math.PI * 2);
      ctx.stroke();
      ctx.restore();
    }
  }

  // --- pointer tools ---------------------------------------------------------------------------------
  private bindPointer(): void {
    const s = this.screen;
    s.addEventListener("pointerdown", (e) => this.pointerDown(e));
    s.addEventListener("pointermove", (e) => this.pointerMove(e));
    s.addEventListener("pointerup", (e) => this.pointerUp(e));
    s.addEventListener("pointercancel", () => { this.drag = null; this.live = null; this.scheduleRender(); });
    s.addEventListener("pointerleave", () => { this.pointer = null; if (!this.drag) this.scheduleRender(); });
    s.addEventListener("wheel", (e) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      this.zoomAt(this.zoom * Math.pow(1.0015, -e.deltaY), e.offsetX, e.offsetY);
    }, { passive: false });
  }

  private editable(layer: LayerView | undefined, kinds?: string[]): LayerView | null {
    if (!layer) { this.status.error("Select a layer first."); return null; }
    if (layer.locked) { this.status.error(`Layer “${layer.name}” is locked; unlock it to edit.`); return null; }
    if (kinds && !kinds.includes(layer.kind)) {
      this.status.error(`The ${this.tool} tool works on ${kinds.join(" or ")} layers; “${layer.name}” is a ${layer.kind} layer.`);
      return null;
    }
    return layer;
  }

  private pointerDown(e: PointerEvent): void {
    e.preventDefault();
    this.screen.focus();
    const [x, y] = this.toDoc(e);
    const tool = this.tool;
    if (e.button === 1 || this.spaceDown || tool === "pan") {
      this.drag = { kind: "pan", startX: e.offsetX, startY: e.offsetY, ox: this.ox, oy: this.oy };
    } else if (e.button !== 0) {
      return;
    } else if (tool === "eyedropper") {
      this.pick(x, y);
      return;
    } else if (tool === "text") {
      this.openTextInput(e.offsetX, e.offsetY, x, y);
      return;
    } else if (tool === "move" || tool === "scale" || tool === "rotate" || tool === "crop") {
      const layer = this.editable(this.selectedLayer());
      if (!layer) return;
      this.drag = { kind: tool, startX: x, startY: y, layer, transform: { ...layer.transform }, override: { ...layer.transform } };
      if (tool === "crop") this.drag.cropRect = [x, y, 0, 0];
    } else if (tool === "brush" || tool === "eraser" || tool === "mask") {
      const layer = this.editable(this.selectedLayer(), tool === "mask" ? ["mask"] : ["paint"]);
      if (!layer) return;
      this.beginStroke(e, layer, x, y);
    }
    this.status.info("");
    this.screen.setPointerCapture(e.pointerId);
  }

  private pointerMove(e: PointerEvent): void {
    const started = e.timeStamp;
    const handled = performance.now();
    const [x, y] = this.toDoc(e);
    this.pointer = { x, y };
    const drag = this.drag;
    if (!drag) {
      if (["brush", "eraser", "mask"].includes(this.tool)) this.scheduleRender();
      return;
    }
    if (drag.kind === "pan") {
      this.ox = drag.ox! + e.offsetX - drag.startX;
      this.oy = drag.oy! + e.offsetY - drag.startY;
      this.scheduleRender();
    } else if (drag.kind === "stroke") {
      const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
      for (const ev of events.length ? events : [e]) this.extendStroke(...this.toDoc(ev));
      this.renderLive();
      const painted = performance.now();
      recordMetric("stroke_input_ms", painted - started);
      recordMetric("stroke_draw_ms", painted - handled);
      requestAnimationFrame(() => recordMetric("stroke_to_frame_ms", performance.now() - started));
    } else {
      this.updateTransformDrag(drag, x, y, e.shiftKey);
      this.scheduleRender();
    }
  }

  private pointerUp(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = null;
    if (this.screen.hasPointerCapture(e.pointerId)) this.screen.releasePointerCapture(e.pointerId);
    if (!drag) return;
    if (drag.kind === "stroke") this.commitStroke(drag);
    else if (drag.kind === "crop") this.commitCrop(drag);
    else if (drag.kind !== "pan" && drag.layer && drag.override) this.commitTransform(drag.layer, drag.override);
    this.scheduleRender();
  }

  private layerSize(layer: LayerView): [number, number] | null {
    const src = this.compositor.source(layer);
    return src ? [src.width, src.height] : null;
  }

  private updateTransformDrag(drag: Drag, x: number, y: number, shift: boolean): void {
    const t0 = drag.transform!;
    const size = this.layerSize(drag.layer!);
    if (!size) return;
    const [, , w, h] = croppedSize(t0, size[0], size[1]);
    const cx = t0.x + (w * t0.scale_x) / 2, cy = t0.y + (h * t0.scale_y) / 2;
    if (drag.kind === "move") {
      drag.override = { ...t0, x: t0.x + x - drag.startX, y: t0.y + y - drag.startY };
    } else if (drag.kind === "scale") {
      const d0 = Math.hypot(drag.startX - cx, drag.startY - cy) || 1;
      let f = Math.hypot(x - cx, y - cy) / d0;
      if (shift) f = Math.round(f * 10) / 10;
      f = Math.max(0.01, f);
      const sx = t0.scale_x * f, sy = t0.scale_y * f;
      drag.override = { ...t0, scale_x: sx, scale_y: sy, x: cx - (w * sx) / 2, y: cy - (h * sy) / 2 };
    } else if (drag.kind === "rotate") {
      const a0 = Math.atan2(drag.startY - cy, drag.startX - cx), a1 = Math.atan2(y - cy, x - cx);
      let rotation = t0.rotation + ((a1 - a0) * 180) / Math.PI;
      if (shift) rotation = Math.round(rotation / 15) * 15;
      rotation = ((rotation % 360) + 540) % 360 - 180;
      drag.override = { ...t0, rotation };
    } else if (drag.kind === "crop") {
      drag.cropRect = [Math.min(x, drag.startX), Math.min(y, drag.startY), Math.abs(x - drag.startX), Math.abs(y - drag.startY)];
      drag.override = undefined;
    }
  }

  private setTransform(layer: LayerView, changes: Partial<Transform>): void {
    const map = this.sync.findLayer(layer.id);
    const transform = map?.get("transform");
    if (!(transform instanceof Y.Map)) return;
    this.sync.doc.transact(() => {
      for (const [key, value] of Object.entries(changes)) {
        transform.set(key, typeof value === "number" ? Math.round(value * 100) / 100 : value);
      }
    });
  }

  private commitTransform(layer: LayerView, t: Transform): void {
    const t0 = layer.transform;
    const changes: Partial<Transform> = {};
    for (const key of ["x", "y", "scale_x", "scale_y", "rotation"] as const) if (Math.abs(t[key] - t0[key]) > 1e-3) changes[key] = t[key];
    if (Object.keys(changes).length) this.setTransform(layer, changes);
  }

  private commitCrop(drag: Drag): void {
    const layer = drag.layer!, t = drag.transform!;
    const size = this.layerSize(layer);
    const [rx, ry, rw, rh] = drag.cropRect || [0, 0, 0, 0];
    if (!size || rw < 2 || rh < 2) return;
    const [x0, y0, w, h] = croppedSize(t, size[0], size[1]);
    const inverse = layerMatrix(t, w, h).inverse();
    const corners = [[rx, ry], [rx + rw, ry], [rx, ry + rh], [rx + rw, ry + rh]].map(([px, py]) => inverse.transformPoint(new DOMPoint(px, py)));
    const lx0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x)))), ly0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))));
    const lx1 = Math.min(w, Math.ceil(Math.max(...corners.map((p) => p.x)))), ly1 = Math.min(h, Math.ceil(Math.max(...corners.map((p) => p.y))));
    if (lx1 - lx0 < 1 || ly1 - ly0 < 1) { this.status.error("The crop rectangle misses the layer."); return; }
    const pos = transformAfterCrop(t, w, h, lx0, ly0, lx1 - lx0, ly1 - ly0);
    this.setTransform(layer, { crop: [x0 + lx0, y0 + ly0, lx1 - lx0, ly1 - ly0], x: pos.x, y: pos.y });
  }

  // --- strokes ---------------------------------------------------------------------------------------
  private beginStroke(e: PointerEvent, layer: LayerView, x: number, y: number): void {
    const src = this.compositor.source(layer) || (layer.kind === "mask" ? { width: this.comp.width, height: this.comp.height } : null);
    if (!src) { this.status.error("The layer is still loading."); return; }
    const layerCanvas = layer.kind === "mask" ? this.compositor.matte(layer) : this.compositor.paintCanvas(layer);
    if (!layerCanvas) { this.status.error("The layer is still loading."); return; }
    const { crop, matrix } = this.compositor.placement(layer, src);
    const inverse = layer.kind === "mask" ? new DOMMatrix() : matrix.inverse();
    const scale = layer.kind === "mask" ? 1 : Math.hypot(matrix.a, matrix.b) || 1;
    const b = this.brush;
    const tool = this.tool === "mask" ? ((this.maskRemove !== e.altKey) ? "mask_remove" : "mask_add") : this.tool;
    const stroke: Stroke = { tool, size: Math.round((b.size / scale) * 10) / 10, hardness: b.hardness, opacity: b.opacity,
      color: b.color, points: [] };
    const p = inverse.transformPoint(new DOMPoint(x, y));
    const live = {
      layer, coverage: makeCanvas(layerCanvas.width, layerCanvas.height), layerCanvas: makeCanvas(layerCanvas.width, layerCanvas.height),
      below: makeCanvas(this.comp.width, this.comp.height), above: makeCanvas(this.comp.width, this.comp.height),
      lastX: p.x + crop[0], lastY: p.y + crop[1],
    };
    context(live.layerCanvas).drawImage(layerCanvas, 0, 0);
    const index = this.layers.findIndex((l) => l.id === layer.id);
    this.compositor.render(context(live.below), this.layers.slice(0, index), new Map());
    this.compositor.render(context(live.above), this.layers.slice(index + 1), new Map());
    this.live = live;
    this.drag = { kind: "stroke", startX: x, startY: y, layer, stroke, points: [], matrixInverse: inverse };
    this.extendStroke(x, y);
    this.renderLive();
  }

  private liveRect: [number, number, number, number] | null = null;

  private extendStroke(x: number, y: number): void {
    const drag = this.drag!, live = this.live!, stroke = drag.stroke!;
    const src = live.layer;
    const p = drag.matrixInverse!.transformPoint(new DOMPoint(x, y));
    const crop = src.kind === "mask" ? [0, 0] : croppedSize(src.transform, live.layerCanvas.width, live.layerCanvas.height);
    const lx = p.x + crop[0], ly = p.y + crop[1];
    drag.points!.push(lx, ly);
    const ctx = context(live.coverage);
    ctx.strokeStyle = ctx.fillStyle = src.kind === "mask" ? "#ffffff" : stroke.color;
    ctx.lineWidth = stroke.size;
    ctx.lineCap = "round";
    ctx.beginPath();
    if (drag.points!.length === 2) {
      ctx.arc(lx, ly, stroke.size / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.moveTo(live.lastX, live.lastY);
      ctx.lineTo(lx, ly);
      ctx.stroke();
    }
    const pad = stroke.size / 2 + 2;
    const r: [number, number, number, number] = [Math.min(lx, live.lastX) - pad, Math.min(ly, live.lastY) - pad,
      Math.max(lx, live.lastX) + pad, Math.max(ly, live.lastY) + pad];
    this.liveRect = this.liveRect ? [Math.min(this.liveRect[0], r[0]), Math.min(this.liveRect[1], r[1]),
      Math.max(this.liveRect[2], r[2]), Math.max(this.liveRect[3], r[3])] : r;
    live.lastX = lx; live.lastY = ly;
  }

  /** Redraw only what the live stroke touched: the layer's region, then the composite's region, then the screen. */
  private renderLive(): void {
    const live = this.live, drag = this.drag, rect = this.liveRect;
    if (!live || !drag || !rect) return;
    this.liveRect = null;
    const [x0, y0, x1, y1] = rect.map(Math.round);
    const base = live.layer.kind === "mask" ? this.compositor.matte(live.layer) : this.compositor.paintCanvas(live.layer);
    const lc = context(live.layerCanvas);
    lc.save();
    lc.beginPath(); lc.rect(x0, y0, x1 - x0, y1 - y0); lc.clip();
    lc.clearRect(x0, y0, x1 - x0, y1 - y0);
    if (base) lc.drawImage(base, 0, 0);
    const removes = drag.stroke!.tool === "eraser" || drag.stroke!.tool === "mask_remove";
    lc.globalAlpha = drag.stroke!.opacity;
    lc.globalCompositeOperation = removes ? "destination-out" : "source-over";
    lc.drawImage(live.coverage, 0, 0);
    lc.restore();
    if (live.layer.kind !== "mask") {
      const src = { image: live.layerCanvas, width: live.layerCanvas.width, height: live.layerCanvas.height };
      const { matrix } = this.compositor.placement(live.layer, src);
      const corners = [[x0, y0], [x1, y0], [x0, y1], [x1, y1]].map(([px, py]) => matrix.transformPoint(new DOMPoint(px, py)));
      const cx0 = Math.floor(Math.min(...corners.map((c) => c.x))) - 1, cy0 = Math.floor(Math.min(...corners.map((c) => c.y))) - 1;
      const cx1 = Math.ceil(Math.max(...corners.map((c) => c.x))) + 1, cy1 = Math.ceil(Math.max(...corners.map((c) => c.y))) + 1;
      const ctx = context(this.comp, true);
      ctx.save();
      ctx.beginPath(); ctx.rect(cx0, cy0, cx1 - cx0, cy1 - cy0); ctx.clip();
      ctx.clearRect(cx0, cy0, cx1 - cx0, cy1 - cy0);
      ctx.drawImage(live.below, 0, 0);
      const byId = new Map(this.layers.map((l) => [l.id, l]));
      if (live.layer.visible) this.compositor.drawLayer(ctx, live.layer, byId, { source: src });
      ctx.drawImage(live.above, 0, 0);
      ctx.restore();
    }
    this.present();
  }

  private commitStroke(drag: Drag): void {
    const live = this.live;
    this.live = null;
    this.liveRect = null;
    if (!live || !drag.points || drag.points.length < 2) return;
    const stroke = { ...drag.stroke!, points: simplify(drag.points) };
    const map = this.sync.findLayer(live.layer.id);
    const strokes = map?.get("strokes");
    if (!(strokes instanceof Y.Array)) { this.status.error("This layer cannot hold strokes."); return; }
    strokes.push([stroke]);
  }

  // --- text and eyedropper ---------------------------------------------------------------------------
  private openTextInput(sx: number, sy: number, x: number, y: number): void {
    this.textInput?.remove();
    const layer = this.selectedLayer();
    const editing = layer && layer.kind === "text" && !layer.locked ? layer : null;
    const input = el("input", { class: "is-text-input", placeholder: "Type, then Enter", value: editing?.text?.content || "",
      "data-role": "text-input" });
    input.style.left = `${sx}px`;
    input.style.top = `${sy}px`;
    const finish = async (commit: boolean) => {
      if (this.textInput !== input) return;
      this.textInput = null;
      input.remove();
      const content = input.value;
      if (!commit || !content.trim()) return;
      const b = this.brush;
      if (editing) {
        await guarded(this.status, () => this.channel.call("update_layer",
          { layer_id: editing.id, text: { ...(editing.text || {}), content } }));
      } else {
        const size = Math.max(8, Math.round(b.size * 2));
        const id = await guarded(this.status, () => this.channel.call("add_layer", {
          kind: "text", name: content.slice(0, 24), text: { content, font_size: size, color: b.color, x: 0, y: 0 },
          transform: { x: Math.round(x), y: Math.round(y) } }));
        if (id) this.setSelected(id);
      }
    };
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
    this.textInput = input;
    this.stage.append(input);
    input.focus();
  }

  private pick(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.comp.width || y >= this.comp.height) return;
    const [r, g, b, a] = context(this.comp, true).getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
    if (a === 0) { this.status.info("Transparent here: no colour picked.", 3000); return; }
    const color = hexColor(r, g, b);
    this.setBrush({ color });
    this.status.info(`Picked ${color}`, 3000);
  }

  // --- keys ------------------------------------------------------------------------------------------
  private bindKeys(): void {
    this.root.addEventListener("keydown", (e) => {
      if ((e.target as HTMLElement).tagName === "INPUT" && (e.target as HTMLInputElement).type === "text") return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      let handled = true;
      if (mod && key === "z" && !e.shiftKey) this.undo();
      else if ((mod && key === "z" && e.shiftKey) || (mod && key === "y")) this.redo();
      else if (mod) handled = false;
      else if (key === " ") this.spaceDown = true;
      else if (key === "+" || key === "=") this.zoomAt(this.zoom * 1.25);
      else if (key === "-") this.zoomAt(this.zoom / 1.25);
      else if (key === "0") this.fit();
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
