// One view's copy of the project document (DESIGN.md D2): its own Y doc, kept in sync by a transport (the
// project's room, or the kernel relay), its own origin for the edits it makes, and its own Y UndoManager
// that tracks only that origin, so each person undoes only their own strokes, moves, deletes and the kernel
// changes their calls caused.
import "./yjs_guard";
import * as Y from "yjs";

export class DocSync {
  readonly doc = new Y.Doc();
  /** The origin of this view's edits (and of the kernel's changes made for this view). */
  readonly origin: { view: string };
  readonly undoManager: Y.UndoManager;

  constructor(readonly view: string) {
    this.origin = { view };
    // Changes that arrive within 80 ms of each other with this origin are one step (a call's several kernel
    // transactions); every edit made here starts a new step (`edit`).
    this.undoManager = new Y.UndoManager([this.layers, this.meta], { trackedOrigins: new Set([this.origin]), captureTimeout: 80 });
  }

  get layers(): Y.Array<Y.Map<any>> {
    return this.doc.getArray("layers");
  }

  get meta(): Y.Map<any> {
    return this.doc.getMap("meta");
  }

  /** The layers bottom first (see `inStackOrder`). */
  stack(): Y.Map<any>[] {
    return inStackOrder(this.layers.toArray());
  }

  /** Make an edit as this view: one transaction with the view's origin, one undo step. */
  edit(change: () => void): void {
    this.undoManager.stopCapturing();
    this.doc.transact(change, this.origin);
  }

  /** Delete a layer softly (DESIGN.md D6): flagged, drawn by nobody, its strokes kept, restorable; false when unknown. */
  softDelete(id: string, user: string): boolean {
    const map = this.findLayer(id);
    if (!map) return false;
    this.edit(() => {
      map.set("deleted", true);
      map.set("deleted_by", user);
      map.set("deleted_at", new Date().toISOString().replace(/\.\d{3}Z$/, "Z"));
    });
    return true;
  }

  /** Bring a deleted layer back where it was, with every stroke made on it meanwhile. */
  restore(id: string): boolean {
    const map = this.findLayer(id);
    if (!map) return false;
    this.edit(() => { for (const key of ["deleted", "deleted_by", "deleted_at"]) map.delete(key); });
    return true;
  }

  findLayer(id: string | null): Y.Map<any> | undefined {
    if (!id) return undefined;
    for (const layer of this.layers) if (layer.get("id") === id) return layer;
    return undefined;
  }

  dispose(): void {
    this.undoManager.destroy();
    this.doc.destroy();
  }
}

/**
 * Layers bottom first: by their place `z`, else by their position in the array (ties: the array). A move
 * changes only `z`, so strokes others add to a layer while it moves are kept. The same rule as the Python
 * reference, imagestudio_nb.project.document.stack_key (one rule, needed on both sides to draw the stack).
 */
export function inStackOrder<T extends { get(key: string): unknown }>(layers: T[]): T[] {
  const key = (layer: T, index: number) => {
    const z = layer.get("z");
    return typeof z === "number" && Number.isFinite(z) ? z : index;
  };
  return layers.map((layer, index) => ({ layer, index, z: key(layer, index) }))
    .sort((a, b) => a.z - b.z || a.index - b.index).map((entry) => entry.layer);
}

export { Y };
