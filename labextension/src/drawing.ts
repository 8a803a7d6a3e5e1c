// Shared drawing code: layer geometry (the same matrix as imaging/compositing.py), the interactive stroke
// rasteriser (an approximation of imaging/strokes.py), blend modes and the layer compositor. Python stays
// the reference renderer (DESIGN.md D3); this only draws what the user is looking at.

export interface Transform {
  x: number; y: number; scale_x: number; scale_y: number; rotation: number;
  crop: [number, number, number, number] | null;
}

export interface Stroke {
  tool: string; size: number; hardness: number; opacity: number; color: string; points: number[];
}

export const IDENTITY: Transform = { x: 0, y: 0, scale_x: 1, scale_y: 1, rotation: 0, crop: null };

export { BLEND_MODES } from "./constants";

export function compositeOperation(mode: string): GlobalCompositeOperation {
  if (!mode || mode === "normal") return "source-over";
  return mode.replace("_", "-") as GlobalCompositeOperation;
}

export function normaliseTransform(t: Partial<Transform> | undefined | null): Transform {
  return { ...IDENTITY, ...(t || {}) } as Transform;
}

/** Size of the layer after its crop, given the source size. */
export function croppedSize(t: Transform, width: number, height: number): [number, number, number, number] {
  if (!t.crop) return [0, 0, width, height];
  const [cx, cy, cw, ch] = t.crop.map(Math.round);
  const x0 = Math.max(0, cx), y0 = Math.max(0, cy);
  const x1 = Math.min(width, cx + cw), y1 = Math.min(height, cy + ch);
  return [x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0)];
}

/** The matrix placing a (cropped) w x h layer on the canvas: scale, rotate clockwise about its centre,
 *  unrotated top-left corner at (x, y). Same as compositing.transform_matrix. */
export function layerMatrix(t: Transform, w: number, h: number): DOMMatrix {
  const theta = (t.rotation * Math.PI) / 180;
  const c = Math.cos(theta), s = Math.sin(theta);
  const a = c * t.scale_x, b = s * t.scale_x, cc = -s * t.scale_y, d = c * t.scale_y;
  const cx = t.x + (w * t.scale_x) / 2, cy = t.y + (h * t.scale_y) / 2;
  const e = cx - (a * w) / 2 - (cc * h) / 2;
  const f = cy - (b * w) / 2 - (d * h) / 2;
  return new DOMMatrix([a, b, cc, d, e, f]);
}

/** Move the layer's top-left so that cropped-source point (dx, dy) of the old placement becomes the new
 *  origin: used by the crop tool so cropped content stays where it was. */
export function transformAfterCrop(t: Transform, oldW: number, oldH: number, dx: number, dy: number,
    newW: number, newH: number): { x: number; y: number } {
  const m = layerMatrix(t, oldW, oldH);
  const origin = m.transformPoint(new DOMPoint(dx, dy));
  const linear = new DOMMatrix([m.a, m.b, m.c, m.d, 0, 0]);
  const half = linear.transformPoint(new DOMPoint(newW / 2, newH / 2));
  const cx = origin.x + half.x, cy = origin.y + half.y;
  return { x: cx - (newW * t.scale_x) / 2, y: cy - (newH * t.scale_y) / 2 };
}

export function makeCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width));
  canvas.height = Math.max(1, Math.round(height));
  return canvas;
}

export function context(canvas: HTMLCanvasElement, willReadFrequently = false): CanvasRenderingContext2D {
  return canvas.getContext("2d", { willReadFrequently })!;
}

function tracePath(ctx: CanvasRenderingContext2D, points: number[]): void {
  ctx.beginPath();
  ctx.moveTo(points[0], points[1]);
  for (let i = 2; i < points.length; i += 2) ctx.lineTo(points[i], points[i + 1]);
}

export function strokeSigma(stroke: Stroke): number {
  return stroke.hardness < 1 ? Math.max(0.3, (stroke.size * (1 - stroke.hardness)) / 4) : 0;
}

export function strokeBounds(stroke: Stroke): [number, number, number, number] {
  const pts = stroke.points;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < pts.length; i += 2) {
    x0 = Math.min(x0, pts[i]); x1 = Math.max(x1, pts[i]);
    y0 = Math.min(y0, pts[i + 1]); y1 = Math.max(y1, pts[i + 1]);
  }
  const pad = stroke.size / 2 + 3 * strokeSigma(stroke) + 2;
  return [Math.floor(x0 - pad), Math.floor(y0 - pad), Math.ceil(x1 + pad), Math.ceil(y1 + pad)];
}

let scratch: HTMLCanvasElement | null = null;

function scratchCanvas(width: number, height: number): HTMLCanvasElement {
  if (!scratch || scratch.width < width || scratch.height < height) {
    scratch = makeCanvas(Math.max(width, scratch?.width || 0), Math.max(height, scratch?.height || 0));
  }
  return scratch;
}

/** Draw one stroke's coverage (a round polyline, softened by hardness) in `color` at (ox, oy). */
export function drawCoverage(ctx: CanvasRenderingContext2D, stroke: Stroke, color: string, ox = 0, oy = 0): void {
  const pts = stroke.points;
  if (pts.length < 2) return;
  const sigma = strokeSigma(stroke);
  ctx.save();
  ctx.translate(ox, oy);
  ctx.filter = sigma > 0 ? `blur(${sigma}px)` : "none";
  ctx.fillStyle = color;
  ctx.strokeStyle = color;
  if (pts.length === 2) {
    ctx.beginPath();
    ctx.arc(pts[0], pts[1], stroke.size / 2, 0, Math.PI * 2);
    ctx.fill();
  } else {
    ctx.lineWidth = Math.max(1, Math.round(stroke.size));
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    tracePath(ctx, pts);
    ctx.stroke();
  }
  ctx.restore();
}

/** Paint strokes in order onto `ctx`: brushes over, erasers (and mask_remove/remove) take alpha away.
 *  For mask layers (`mask = true`) coverage is white: the matte is the alpha of the result. */
export function paintStrokes(ctx: CanvasRenderingContext2D, strokes: Stroke[], mask = false): void {
  const { width, height } = ctx.canvas;
  for (const stroke of strokes) {
    if (!stroke.points || stroke.points.length < 2) continue;
    const [x0, y0, x1, y1] = strokeBounds(stroke);
    const bx0 = Math.max(0, x0), by0 = Math.max(0, y0);
    const bw = Math.min(width, x1) - bx0, bh = Math.min(height, y1) - by0;
    if (bw <= 0 || bh <= 0) continue;
    const tmp = scratchCanvas(bw, bh);
    const t = context(tmp);
    t.clearRect(0, 0, bw, bh);
    const removes = stroke.tool === "eraser" || stroke.tool === "remove" || stroke.tool === "mask_remove";
    drawCoverage(t, stroke, mask ? "#ffffff" : stroke.color || "#000000", -bx0, -by0);
    ctx.save();
    ctx.globalAlpha = stroke.opacity ?? 1;
    ctx.globalCompositeOperation = removes ? "destination-out" : "source-over";
    ctx.drawImage(tmp, 0, 0, bw, bh, bx0, by0, bw, bh);
    ctx.restore();
  }
}

/** Ramer-Douglas-Peucker simplification of a flat point list, then rounding to 0.1 px: compact strokes. */
export function simplify(points: number[], tolerance = 0.35): number[] {
  const n = points.length / 2;
  if (n <= 2) return points.map((v) => Math.round(v * 10) / 10);
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const ax = points[2 * a], ay = points[2 * a + 1], bx = points[2 * b], by = points[2 * b + 1];
    const dx = bx - ax, dy = by - ay;
    const len = Math.hypot(dx, dy) || 1;
    let worst = -1, worstD = tolerance;
    for (let i = a + 1; i < b; i++) {
      const d = Math.abs(dy * points[2 * i] - dx * points[2 * i + 1] + bx * ay - by * ax) / len;
      if (d > worstD) { worstD = d; worst = i; }
    }
    if (worst >= 0) { keep[worst] = 1; stack.push([a, worst], [worst, b]); }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(Math.round(points[2 * i] * 10) / 10, Math.round(points[2 * i + 1] * 10) / 10);
  return out;
}

/** A light/dark checkerboard pattern for transparent areas. */
export function checkerboard(ctx: CanvasRenderingContext2D, cell = 8): CanvasPattern {
  const tile = makeCanvas(cell * 2, cell * 2);
  const t = context(tile);
  t.fillStyle = "#ffffff"; t.fillRect(0, 0, cell * 2, cell * 2);
  t.fillStyle = "#d6d6d6"; t.fillRect(0, 0, cell, cell); t.fillRect(cell, cell, cell, cell);
  return ctx.createPattern(tile, "repeat")!;
}

export function hexColor(r: number, g: number, b: number): string {
  return "#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
}
