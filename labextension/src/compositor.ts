// Draws the project's layer stack into a document-sized canvas: image layers from asset bytes, paint and
// mask layers from their strokes, filtered and text layers from rasters the kernel renders (D3).
import { ChannelLike } from "./comm";
import {
  Stroke, Transform, compositeOperation, context, croppedSize, layerMatrix, makeCanvas, normaliseTransform,
  paintStrokes,
} from "./drawing";
import { bytesToBitmap } from "./ui";
import { Y } from "./ysync";

export interface LayerView {
  id: string; name: string; kind: string; asset: string | null; visible: boolean; locked: boolean;
  opacity: number; blend_mode: string; transform: Transform; filters: any[]; mask: string | null;
  text: any; strokes: Y.Array<Stroke> | null; map: Y.Map<any>;
  /** Soft-deleted (DESIGN.md D6): kept in the document with its strokes, drawn by nobody, restorable. */
  deleted: boolean; deleted_by: string | null; deleted_at: string | null;
}

export interface Source { image: CanvasImageSource; width: number; height: number; }

export function readLayer(map: Y.Map<any>): LayerView {
  const transform = map.get("transform");
  const strokes = map.get("strokes");
  return {
    id: map.get("id"), name: map.get("name") ?? "", kind: map.get("kind") ?? "image", asset: map.get("asset") ?? null,
    visible: map.get("visible") ?? true, locked: map.get("locked") ?? false, opacity: map.get("opacity") ?? 1,
    blend_mode: map.get("blend_mode") ?? "normal",
    transform: normaliseTransform(transform instanceof Y.Map ? transform.toJSON() : transform),
    filters: map.get("filters") || [], mask: map.get("mask") ?? null, text: map.get("text") ?? null,
    strokes: strokes instanceof Y.Array ? strokes : null, map,
    deleted: map.get("deleted") === true, deleted_by: map.get("deleted_by") ?? null, deleted_at: map.get("deleted_at") ?? null,
  };
}

interface StrokeCache { canvas: HTMLCanvasElement; refs: Stroke[]; base: string | null; }

export class Compositor {
  private assets = new Map<string, ImageBitmap | Promise<void> | Error>();
  private rasters = new Map<string, { key: string; bitmap: ImageBitmap | null; loading: string | null }>();
  private paint = new WeakMap<Y.Array<Stroke>, StrokeCache>();
  private temp: HTMLCanvasElement | null = null;
  canvasWidth = 1024;
  canvasHeight = 1024;
  onError: (error: unknown) => void = () => {};

  constructor(private channel: ChannelLike, private changed: () => void) {}

  /** The decoded asset, or null while it loads (the compositor redraws when it arrives). */
  asset(hash: string): ImageBitmap | null {
    const entry = this.assets.get(hash);
    if (entry instanceof ImageBitmap) return entry;
    if (entry === undefined) {
      const loading = this.channel.request("asset", { hash }).then(async ([msg, buffers]) => {
        this.assets.set(hash, await bytesToBitmap(buffers[0], msg.mime));
        this.changed();
      }).catch((error) => { this.assets.set(hash, error); this.onError(error); });
      this.assets.set(hash, loading);
    }
    return null;
  }

  private rasterKey(layer: LayerView): string {
    const strokes = layer.strokes ? layer.strokes.toArray() : [];
    return JSON.stringify([layer.kind, layer.asset, layer.filters, layer.text, strokes.length,
      strokes.length ? strokes[strokes.length - 1].points.length : 0]);
  }

  /** Pixels the kernel renders for this layer (filter chains, text): the last good ones while a new one loads. */
  private kernelRaster(layer: LayerView): ImageBitmap | null {
    const key = this.rasterKey(layer);
    let entry = this.rasters.get(layer.id);
    if (!entry) { entry = { key: "", bitmap: null, loading: null }; this.rasters.set(layer.id, entry); }
    if (entry.key !== key && entry.loading !== key) {
      entry.loading = key;
      const target = entry;
      this.channel.request("layer-raster", { layer: layer.id }).then(async ([msg, buffers]) => {
        if (target.loading !== key) return;
        target.bitmap = msg.empty ? null : await bytesToBitmap(buffers[0], msg.mime);
        target.key = key;
        target.loading = null;
        this.changed();
      }).catch((error) => { target.loading = null; target.key = key; this.onError(error); });
    }
    return entry.bitmap;
  }

  needsKernel(layer: LayerView): boolean {
    return layer.kind === "text" || (layer.filters && layer.filters.length > 0);
  }

  /** A paint layer's pixels: its base asset (if any) and its strokes, updated incrementally on appends. */
  paintCanvas(layer: LayerView): HTMLCanvasElement | null {
    if (!layer.strokes) return null;
    let base: ImageBitmap | null = null;
    if (layer.asset) {
      base = this.asset(layer.asset);
      if (!base) return null;
    }
    const width = base ? base.width : this.canvasWidth, height = base ? base.height : this.canvasHeight;
    const strokes = layer.strokes.toArray();
    let cache = this.paint.get(layer.strokes);
    const prefix = cache && cache.canvas.width === width && cache.canvas.height === height &&
      cache.base === layer.asset && cache.refs.length <= strokes.length && cache.refs.every((s, i) => s === strokes[i]);
    if (!cache || !prefix) {
      const canvas = makeCanvas(width, height);
      if (base) context(canvas).drawImage(base, 0, 0);
      cache = { canvas, refs: [], base: layer.asset };
      this.paint.set(layer.strokes, cache);
    }
    if (cache.refs.length < strokes.length) {
      paintStrokes(context(cache.canvas), strokes.slice(cache.refs.length), layer.kind === "mask");
      cache.refs = strokes;
    }
    return cache.canvas;
  }

  /** The layer's own pixels before its transform. */
  source(layer: LayerView): Source | null {
    let image: CanvasImageSource | null = null;
    if (this.needsKernel(layer)) image = this.kernelRaster(layer);
    else if (layer.kind === "mask") image = this.matte(layer);
    else if (layer.kind === "paint") image = this.paintCanvas(layer);
    else if (layer.asset) image = this.asset(layer.asset);
    if (!image) return null;
    const { width, height } = image as HTMLCanvasElement;
    return { image, width, height };
  }

  private mattes = new Map<string, { key: string; canvas: HTMLCanvasElement; refs: any[] }>();

  /** The matte of a mask layer on the canvas (alpha = 1 where the masked layer shows): its asset's alpha
   * placed with its transform (a cut-out), then its strokes, in canvas pixels as Python renders it. */
  matte(mask: LayerView): HTMLCanvasElement | null {
    if (!mask.asset) return this.paintCanvas({ ...mask, asset: null });
    const base = this.asset(mask.asset);
    if (!base || !mask.strokes) return null;
    const strokes = mask.strokes.toArray();
    const key = JSON.stringify([mask.asset, mask.transform, this.canvasWidth, this.canvasHeight]);
    let cache = this.mattes.get(mask.id);
    const prefix = cache && cache.key === key && cache.refs.length <= strokes.length && cache.refs.every((s, i) => s === strokes[i]);
    if (!cache || !prefix) {
      const canvas = makeCanvas(this.canvasWidth, this.canvasHeight);
      const ctx = context(canvas);
      const { crop, matrix } = this.placement(mask, base);
      ctx.setTransform(matrix);
      ctx.drawImage(base, crop[0], crop[1], crop[2], crop[3], 0, 0, crop[2], crop[3]);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      cache = { key, canvas, refs: [] };
      this.mattes.set(mask.id, cache);
    }
    if (cache.refs.length < strokes.length) {
      paintStrokes(context(cache.canvas), strokes.slice(cache.refs.length), true);
      cache.refs = strokes;
    }
    return cache.canvas;
  }

  placement(layer: LayerView, src: { width: number; height: number }, transform?: Transform) {
    const t = normaliseTransform(transform || layer.transform);
    if (layer.kind === "text" && layer.text) {
      t.x += layer.text.x || 0;
      t.y += layer.text.y || 0;
    }
    const crop = croppedSize(t, src.width, src.height);
    return { crop, matrix: layerMatrix(t, crop[2], crop[3]) };
  }

  private tempCanvas(): HTMLCanvasElement {
    if (!this.temp || this.temp.width !== this.canvasWidth || this.temp.height !== this.canvasHeight) {
      this.temp = makeCanvas(this.canvasWidth, this.canvasHeight);
    }
    return this.temp;
  }

  /** Draw one layer onto `ctx` (document space) with its transform, mask, opacity and blend mode. */
  drawLayer(ctx: CanvasRenderingContext2D, layer: LayerView, byId: Map<string, LayerView>,
      override?: { source?: Source; transform?: Transform }): void {
    const src = override?.source || this.source(layer);
    if (!src) return;
    const { crop, matrix } = this.placement(layer, src, override?.transform);
    const maskLayer = layer.mask ? byId.get(layer.mask) : undefined;
    const matte = maskLayer && maskLayer.kind === "mask" && maskLayer.visible && !maskLayer.deleted ? this.matte(maskLayer) : null;
    ctx.save();
    ctx.globalAlpha = layer.opacity;
    ctx.globalCompositeOperation = compositeOperation(layer.blend_mode);
    if (matte) {
      const temp = this.tempCanvas();
      const t = context(temp);
      t.setTransform(1, 0, 0, 1, 0, 0);
      t.clearRect(0, 0, temp.width, temp.height);
      t.setTransform(matrix);
      t.drawImage(src.image, crop[0], crop[1], crop[2], crop[3], 0, 0, crop[2], crop[3]);
      t.setTransform(1, 0, 0, 1, 0, 0);
      t.globalCompositeOperation = "destination-in";
      t.drawImage(matte, 0, 0);
      t.globalCompositeOperation = "source-over";
      ctx.drawImage(temp, 0, 0);
    } else {
      ctx.setTransform(matrix);
      ctx.drawImage(src.image, crop[0], crop[1], crop[2], crop[3], 0, 0, crop[2], crop[3]);
    }
    ctx.restore();
  }

  /** Composite `layers` (bottom first) onto a cleared `ctx`; hidden and mask layers are skipped. */
  render(ctx: CanvasRenderingContext2D, layers: LayerView[], overrides: Map<string, { source?: Source; transform?: Transform }>,
      clear = true): void {
    if (clear) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    }
    const byId = new Map(layers.map((l) => [l.id, l]));
    for (const layer of layers) {
      if (layer.kind === "mask" || layer.deleted || !layer.visible || layer.opacity <= 0) continue;
      this.drawLayer(ctx, layer, byId, overrides.get(layer.id));
    }
  }

  forgetRaster(layerId: string): void {
    this.rasters.delete(layerId);
  }
}
