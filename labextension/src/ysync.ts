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

  /** Make an edit as this view: one transaction with the view's origin, one undo step. */
  edit(change: () => void): void {
    this.undoManager.stopCapturing();
    this.doc.transact(change, this.origin);
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

export { Y };
