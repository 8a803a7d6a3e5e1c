// The front end's copy of the project document (DESIGN.md D2): a Yjs doc kept in sync with the kernel's
// pycrdt doc by binary Y updates over the widget's custom messages. Edits made here are sent as updates;
// the kernel applies them through Project.apply_update, so they are saved and undoable.
import "./yjs_guard";
import * as Y from "yjs";
import { Channel } from "./comm";

export const KERNEL = Symbol("kernel");

export class DocSync {
  readonly doc = new Y.Doc();
  readonly ready: Promise<void>;
  private unsubscribe: () => void;

  constructor(channel: Channel) {
    this.unsubscribe = channel.on("y-update", (_msg, buffers) => {
      if (buffers[0]) Y.applyUpdate(this.doc, buffers[0], KERNEL);
    });
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== KERNEL) channel.send({ type: "y-update" }, [update]);
    });
    this.ready = channel.request("y-sync", {}, [Y.encodeStateVector(this.doc)]).then(([, buffers]) => {
      if (buffers[0]) Y.applyUpdate(this.doc, buffers[0], KERNEL);
    });
  }

  get layers(): Y.Array<Y.Map<any>> {
    return this.doc.getArray("layers");
  }

  get meta(): Y.Map<any> {
    return this.doc.getMap("meta");
  }

  findLayer(id: string | null): Y.Map<any> | undefined {
    if (!id) return undefined;
    for (const layer of this.layers) if (layer.get("id") === id) return layer;
    return undefined;
  }

  dispose(): void {
    this.unsubscribe();
    this.doc.destroy();
  }
}

export { Y };
