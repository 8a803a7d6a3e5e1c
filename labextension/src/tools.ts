// The Canvas's pointer tools: move, scale, rotate and crop drags, brush, eraser and mask strokes drawn live
// with dirty rectangles, text entry, the eyedropper and pan; and the overlays they draw on screen. Edits are
// made in the view's Yjs document with its origin (strokes, transforms: its own undo steps) or through Project
// calls in the kernel (text layers).
import { ChannelLike } from "./comm";
import { Compositor, LayerView, Source } from "./compositor";
import { Stroke, Transform, context, croppedSize, hexColor, layerMatrix, makeCanvas, simplify, transformAfterCrop } from "./drawing";
import { StatusLine, el, focusQuietly, guarded, recordMetric } from "./ui";
import { DocSync, Y } from "./ysync";

export interface Brush { size: number; hardness: number; color: string; opacity: number; }

/** What the tools need from the Canvas view. */
export interface ToolHost {
  readonly screen: HTMLCanvasElement; readonly stage: HTMLElement; readonly comp: HTMLCanvasElement;
  readonly compositor: Compositor; readonly sync: DocSync; readonly channel: ChannelLike; readonly status: StatusLine;
  readonly layers: LayerView[]; readonly tool: string; readonly brush: Brush;
  zoom: number; ox: number; oy: number; autoFit: boolean; readonly fontSize: number; readonly spaceDown: boolean; readonly maskRemove: boolean;
  selectedLayer(): LayerView | undefined;
  toDoc(event: { offsetX: number; offsetY: number }): [number, number];
  scheduleRender(): void; present(): void; setSelected(id: string | null): void;
  setBrush(changes: Record<string, unknown>): void; zoomAt(zoom: number, sx?: number, sy?: number): void;
}

interface Drag {
  kind: "pan" | "move" | "scale" | "rotate" | "crop" | "stroke";
  startX: number; startY: number; // screen (css px) for pan, document for the rest
  layer?: LayerView; transform?: Transform; override?: Transform;
  ox?: number; oy?: number;
  points?: number[]; stroke?: Stroke; matrixInverse?: DOMMatrix; cropRect?: [number, number, number, number];
}

export class Tools {
  private drag: Drag | null = null;
  private pointer: { x: number; y: number } | null = null;
  private live: { layer: LayerView; coverage: HTMLCanvasElement; layerCanvas: HTMLCanvasElement; below: HTMLCanvasElement;
    above: HTMLCanvasElement; lastX: number; lastY: number } | null = null;
  private textInput: HTMLInputElement | null = null;

  constructor(private host: ToolHost) {}

  overrides(): Map<string, { source?: Source; transform?: Transform }> {
    const map = new Map<string, { source?: Source; transform?: Transform }>();
    if (this.drag?.layer && this.drag.override) map.set(this.drag.layer.id, { transform: this.drag.override });
    return map;
  }

  drawOverlays(ctx: CanvasRenderingContext2D, dpr: number): void {
    const layer = this.host.selectedLayer();
    if (layer?.kind === "mask") {
      const matte = this.live && this.live.layer.id === layer.id ? this.live.layerCanvas : this.host.compositor.matte(layer);
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
      const src = this.host.compositor.source(layer);
      if (src) {
        const { crop, matrix } = this.host.compositor.placement(layer, src, this.drag?.layer?.id === layer.id ? this.drag.override : undefined);
        ctx.save();
        ctx.setTransform(new DOMMatrix([dpr * this.host.zoom, 0, 0, dpr * this.host.zoom, dpr * this.host.ox, dpr * this.host.oy]).multiply(matrix));
        ctx.strokeStyle = "#3b82f6";
        ctx.lineWidth = 1.5 / (this.host.zoom * Math.hypot(matrix.a, matrix.b));
        ctx.setLineDash([6 / (this.host.zoom * Math.hypot(matrix.a, matrix.b))]);
        ctx.strokeRect(0, 0, crop[2], crop[3]);
        ctx.restore();
        if (!layer.locked && ["move", "scale", "rotate"].includes(this.host.tool)) this.drawHandles(ctx, dpr, layer);
      }
    }
    if (this.drag?.kind === "crop" && this.drag.cropRect) {
      const [x, y, w, h] = this.drag.cropRect;
      ctx.save();
      ctx.strokeStyle = "#facc15";
      ctx.lineWidth = 1.5 / this.host.zoom;
      ctx.strokeRect(x, y, w, h);
      ctx.restore();
    }
    if (this.pointer && ["brush", "eraser", "mask"].includes(this.host.tool)) {
      ctx.save();
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.lineWidth = 1 / this.host.zoom;
      ctx.beginPath();
      ctx.arc(this.pointer.x, this.pointer.y, this.host.brush.size / 2, 0, Math.PI * 2);
      ctx.stroke();
      ctx.restore();
    }
  }

  /** Corner (scale) and rotation handles of a layer, in document coordinates; null while it loads. */
  private handles(layer: LayerView): { corners: DOMPoint[]; rotate: DOMPoint } | null {
    const src = this.host.compositor.source(layer);
    if (!src) return null;
    const override = this.drag?.layer?.id === layer.id ? this.drag.override : undefined;
    const { crop, matrix } = this.host.compositor.placement(layer, src, override);
    const [w, h] = [crop[2], crop[3]];
    const corners = [[0, 0], [w, 0], [w, h], [0, h]].map(([x, y]) => matrix.transformPoint(new DOMPoint(x, y)));
    const top = matrix.transformPoint(new DOMPoint(w / 2, 0)), bottom = matrix.transformPoint(new DOMPoint(w / 2, h));
    const length = Math.hypot(top.x - bottom.x, top.y - bottom.y) || 1;
    const reach = 28 / this.host.zoom;  // the rotation handle sits 28 screen px outside the top edge
    const rotate = new DOMPoint(top.x + ((top.x - bottom.x) / length) * reach, top.y + ((top.y - bottom.y) / length) * reach);
    return { corners, rotate };
  }

  private drawHandles(ctx: CanvasRenderingContext2D, dpr: number, layer: LayerView): void {
    const handles = this.handles(layer);
    if (!handles) return;
    const z = this.host.zoom, toScreen = (p: DOMPoint) => [dpr * (this.host.ox + p.x * z), dpr * (this.host.oy + p.y * z)];
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = "#2563eb";
    ctx.lineWidth = 1.5 * dpr;
    const [a, b] = handles.corners;
    const [tx, ty] = toScreen(new DOMPoint((a.x + b.x) / 2, (a.y + b.y) / 2));
    const [rx, ry] = toScreen(handles.rotate);
    ctx.beginPath(); ctx.moveTo(tx, ty); ctx.lineTo(rx, ry); ctx.stroke();
    for (const corner of handles.corners) {
      const [x, y] = toScreen(corner);
      ctx.fillRect(x - 5 * dpr, y - 5 * dpr, 10 * dpr, 10 * dpr);
      ctx.strokeRect(x - 5 * dpr, y - 5 * dpr, 10 * dpr, 10 * dpr);
    }
    ctx.beginPath(); ctx.arc(rx, ry, 6 * dpr, 0, Math.PI * 2); ctx.fill(); ctx.stroke();
    ctx.restore();
  }

  /** Which handle of the selected layer is under screen point (sx, sy), if any. */
  private handleAt(layer: LayerView, sx: number, sy: number): "scale" | "rotate" | null {
    const handles = this.handles(layer);
    if (!handles) return null;
    const near = (p: DOMPoint) => Math.hypot(this.host.ox + p.x * this.host.zoom - sx, this.host.oy + p.y * this.host.zoom - sy) <= 9;
    if (near(handles.rotate)) return "rotate";
    return handles.corners.some(near) ? "scale" : null;
  }

  // --- pointer tools ---------------------------------------------------------------------------------
  bindPointer(): void {
    const s = this.host.screen;
    s.addEventListener("pointerdown", (e) => this.pointerDown(e));
    s.addEventListener("pointermove", (e) => this.pointerMove(e));
    s.addEventListener("pointerup", (e) => this.pointerUp(e));
    s.addEventListener("pointercancel", () => { this.drag = null; this.live = null; this.host.scheduleRender(); });
    s.addEventListener("pointerleave", () => { this.pointer = null; if (!this.drag) this.host.scheduleRender(); });
    s.addEventListener("wheel", (e) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      this.host.zoomAt(this.host.zoom * Math.pow(1.0015, -e.deltaY), e.offsetX, e.offsetY);
    }, { passive: false });
  }

  private editable(layer: LayerView | undefined, kinds?: string[]): LayerView | null {
    if (!layer) { this.host.status.error("Select a layer first."); return null; }
    if (layer.locked) { this.host.status.error(`Layer “${layer.name}” is locked; unlock it to edit.`); return null; }
    if (kinds && !kinds.includes(layer.kind)) {
      this.host.status.error(`The ${this.host.tool} tool works on ${kinds.join(" or ")} layers; “${layer.name}” is a ${layer.kind} layer.`);
      return null;
    }
    return layer;
  }

  private isImage(layer: LayerView | undefined): boolean {
    return !!layer && !layer.locked && (layer.kind === "image" || layer.kind === "generated");
  }

  /** The brush on an image layer: image pixels are never painted over; a paint layer is made right above
   * the image, selected, and the stroke goes on there (what the status line says). */
  private async paintAbove(e: PointerEvent, image: LayerView, x: number, y: number): Promise<void> {
    const index = this.host.layers.findIndex((l) => l.id === image.id) + 1;
    const name = `Paint on ${image.name}`.slice(0, 60);
    const id = await guarded(this.host.status, () => this.host.channel.call("add_layer", { kind: "paint", name, index }));
    if (!id) return;
    this.host.setSelected(id);
    this.host.status.info(`“${image.name}” is an image layer: painting on a new paint layer “${name}” above it.`, 8000);
    const created = this.host.layers.find((l) => l.id === id);
    if (created && this.host.screen.hasPointerCapture(e.pointerId)) this.beginStroke(e, created, x, y);
  }

  private pointerDown(e: PointerEvent): void {
    e.preventDefault();
    focusQuietly(this.host.screen);
    const [x, y] = this.host.toDoc(e);
    const tool = this.host.tool;
    if (e.button === 1 || this.host.spaceDown || tool === "pan") {
      this.drag = { kind: "pan", startX: e.offsetX, startY: e.offsetY, ox: this.host.ox, oy: this.host.oy };
    } else if (e.button !== 0) {
      return;
    } else if (tool === "eyedropper") {
      this.pick(x, y);
      return;
    } else if (tool === "text") {
      this.openTextInput(e.offsetX, e.offsetY, x, y);
      return;
    } else if (tool === "move" || tool === "scale" || tool === "rotate" || tool === "crop") {
      const layer = this.editable(this.host.selectedLayer());
      if (!layer) return;
      // With move, scale or rotate, a corner handle scales and the round handle rotates.
      const handle = tool === "crop" || layer.kind === "mask" ? null : this.handleAt(layer, e.offsetX, e.offsetY);
      this.drag = { kind: handle ?? tool, startX: x, startY: y, layer, transform: { ...layer.transform }, override: { ...layer.transform } };
      if (tool === "crop") this.drag.cropRect = [x, y, 0, 0];
    } else if (tool === "brush" && this.isImage(this.host.selectedLayer())) {
      this.host.screen.setPointerCapture(e.pointerId);
      this.paintAbove(e, this.host.selectedLayer()!, x, y);
      return;
    } else if (tool === "brush" || tool === "eraser" || tool === "mask") {
      const layer = this.editable(this.host.selectedLayer(), tool === "mask" ? ["mask"] : ["paint"]);
      if (!layer) return;
      this.beginStroke(e, layer, x, y);
    }
    this.host.status.info("");
    this.host.screen.setPointerCapture(e.pointerId);
  }

  private pointerMove(e: PointerEvent): void {
    const started = e.timeStamp;
    const handled = performance.now();
    const [x, y] = this.host.toDoc(e);
    this.pointer = { x, y };
    const drag = this.drag;
    if (!drag) {
      if (["brush", "eraser", "mask"].includes(this.host.tool)) this.host.scheduleRender();
      return;
    }
    if (drag.kind === "pan") {
      this.host.autoFit = false;
      this.host.ox = drag.ox! + e.offsetX - drag.startX;
      this.host.oy = drag.oy! + e.offsetY - drag.startY;
      this.host.scheduleRender();
    } else if (drag.kind === "stroke") {
      const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
      for (const ev of events.length ? events : [e]) this.extendStroke(...this.host.toDoc(ev));
      this.renderLive();
      const painted = performance.now();
      recordMetric("stroke_input_ms", painted - started);
      recordMetric("stroke_draw_ms", painted - handled);
      requestAnimationFrame(() => recordMetric("stroke_to_frame_ms", performance.now() - started));
    } else {
      this.updateTransformDrag(drag, x, y, e.shiftKey);
      this.host.scheduleRender();
    }
  }

  private pointerUp(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = null;
    if (this.host.screen.hasPointerCapture(e.pointerId)) this.host.screen.releasePointerCapture(e.pointerId);
    if (!drag) return;
    if (drag.kind === "stroke") this.commitStroke(drag);
    else if (drag.kind === "crop") this.commitCrop(drag);
    else if (drag.kind !== "pan" && drag.layer && drag.override) this.commitTransform(drag.layer, drag.override);
    this.host.scheduleRender();
  }

  private layerSize(layer: LayerView): [number, number] | null {
    const src = this.host.compositor.source(layer);
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
    const map = this.host.sync.findLayer(layer.id);
    const transform = map?.get("transform");
    if (!(transform instanceof Y.Map)) return;
    this.host.sync.edit(() => {
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
    if (lx1 - lx0 < 1 || ly1 - ly0 < 1) { this.host.status.error("The crop rectangle misses the layer."); return; }
    const pos = transformAfterCrop(t, w, h, lx0, ly0, lx1 - lx0, ly1 - ly0);
    this.setTransform(layer, { crop: [x0 + lx0, y0 + ly0, lx1 - lx0, ly1 - ly0], x: pos.x, y: pos.y });
  }

  // --- strokes ---------------------------------------------------------------------------------------
  private beginStroke(e: PointerEvent, layer: LayerView, x: number, y: number): void {
    const src = this.host.compositor.source(layer) || (layer.kind === "mask" ? { width: this.host.comp.width, height: this.host.comp.height } : null);
    if (!src) { this.host.status.error("The layer is still loading."); return; }
    const layerCanvas = layer.kind === "mask" ? this.host.compositor.matte(layer) : this.host.compositor.paintCanvas(layer);
    if (!layerCanvas) { this.host.status.error("The layer is still loading."); return; }
    const { crop, matrix } = this.host.compositor.placement(layer, src);
    const inverse = layer.kind === "mask" ? new DOMMatrix() : matrix.inverse();
    const scale = layer.kind === "mask" ? 1 : Math.hypot(matrix.a, matrix.b) || 1;
    const b = this.host.brush;
    const tool = this.host.tool === "mask" ? ((this.host.maskRemove !== e.altKey) ? "mask_remove" : "mask_add") : this.host.tool;
    const stroke: Stroke = { tool, size: Math.round((b.size / scale) * 10) / 10, hardness: b.hardness, opacity: b.opacity,
      color: b.color, points: [] };
    const p = inverse.transformPoint(new DOMPoint(x, y));
    const live = {
      layer, coverage: makeCanvas(layerCanvas.width, layerCanvas.height), layerCanvas: makeCanvas(layerCanvas.width, layerCanvas.height),
      below: makeCanvas(this.host.comp.width, this.host.comp.height), above: makeCanvas(this.host.comp.width, this.host.comp.height),
      lastX: p.x + crop[0], lastY: p.y + crop[1],
    };
    context(live.layerCanvas).drawImage(layerCanvas, 0, 0);
    const index = this.host.layers.findIndex((l) => l.id === layer.id);
    this.host.compositor.render(context(live.below), this.host.layers.slice(0, index), new Map());
    this.host.compositor.render(context(live.above), this.host.layers.slice(index + 1), new Map());
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
    const base = live.layer.kind === "mask" ? this.host.compositor.matte(live.layer) : this.host.compositor.paintCanvas(live.layer);
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
      const { matrix } = this.host.compositor.placement(live.layer, src);
      const corners = [[x0, y0], [x1, y0], [x0, y1], [x1, y1]].map(([px, py]) => matrix.transformPoint(new DOMPoint(px, py)));
      const cx0 = Math.floor(Math.min(...corners.map((c) => c.x))) - 1, cy0 = Math.floor(Math.min(...corners.map((c) => c.y))) - 1;
      const cx1 = Math.ceil(Math.max(...corners.map((c) => c.x))) + 1, cy1 = Math.ceil(Math.max(...corners.map((c) => c.y))) + 1;
      const ctx = context(this.host.comp, true);
      ctx.save();
      ctx.beginPath(); ctx.rect(cx0, cy0, cx1 - cx0, cy1 - cy0); ctx.clip();
      ctx.clearRect(cx0, cy0, cx1 - cx0, cy1 - cy0);
      ctx.drawImage(live.below, 0, 0);
      const byId = new Map(this.host.layers.map((l) => [l.id, l]));
      if (live.layer.visible) this.host.compositor.drawLayer(ctx, live.layer, byId, { source: src });
      ctx.drawImage(live.above, 0, 0);
      ctx.restore();
    }
    this.host.present();
  }

  private commitStroke(drag: Drag): void {
    const live = this.live;
    this.live = null;
    this.liveRect = null;
    if (!live || !drag.points || drag.points.length < 2) return;
    const stroke = { ...drag.stroke!, points: simplify(drag.points) };
    const map = this.host.sync.findLayer(live.layer.id);
    const strokes = map?.get("strokes");
    if (!(strokes instanceof Y.Array)) { this.host.status.error("This layer cannot hold strokes."); return; }
    this.host.sync.edit(() => strokes.push([stroke]));
  }

  // --- text and eyedropper ---------------------------------------------------------------------------
  private openTextInput(sx: number, sy: number, x: number, y: number): void {
    this.textInput?.remove();
    const layer = this.host.selectedLayer();
    const editing = layer && layer.kind === "text" && !layer.locked && this.hits(layer, x, y) ? layer : null;
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
      const b = this.host.brush;
      if (editing) {
        await guarded(this.host.status, () => this.host.channel.call("update_layer",
          { layer_id: editing.id, text: { ...(editing.text || {}), content } }));
      } else {
        const size = this.host.fontSize;
        const id = await guarded(this.host.status, () => this.host.channel.call("add_layer", {
          kind: "text", name: content.slice(0, 24), text: { content, font_size: size, color: b.color, x: 0, y: 0 },
          transform: { x: Math.round(x), y: Math.round(y) } }));
        if (id) this.host.setSelected(id);
      }
    };
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
    this.textInput = input;
    this.host.stage.append(input);
    focusQuietly(input);
  }

  /** Whether document point (x, y) falls on the layer's placed rectangle. */
  private hits(layer: LayerView, x: number, y: number): boolean {
    const src = this.host.compositor.source(layer);
    if (!src) return false;
    const { crop, matrix } = this.host.compositor.placement(layer, src);
    const p = matrix.inverse().transformPoint(new DOMPoint(x, y));
    return p.x >= 0 && p.y >= 0 && p.x <= crop[2] && p.y <= crop[3];
  }

  private pick(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.host.comp.width || y >= this.host.comp.height) return;
    const [r, g, b, a] = context(this.host.comp, true).getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
    if (a === 0) { this.host.status.info("Transparent here: no colour picked.", 3000); return; }
    const color = hexColor(r, g, b);
    this.host.setBrush({ color });
    this.host.status.info(`Picked ${color}`, 3000);
  }
}
