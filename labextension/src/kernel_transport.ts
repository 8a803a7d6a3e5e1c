// The kernel relay as a DocTransport (DESIGN.md D2 without a collaborative server): the view's Y doc is kept
// in sync with the kernel's pycrdt doc by binary Y updates over the widget's comm. The kernel sends every
// update to every view, tagged with the view whose message caused it; this view applies its own with its own
// origin (so its UndoManager can undo the layer its call added) and the others' with REMOTE. It resyncs both
// ways by state vector when it holds updates it cannot apply, after every reconnect and every few seconds,
// so a lost message never freezes a view. Presence travels as awareness updates the kernel re-broadcasts.
import "./yjs_guard";
import * as Y from "yjs";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import type { ChannelLike, Message } from "./comm";
import { ConnectionState, DocTransport, REMOTE } from "./transport";

export interface KernelTransportOptions {
  /** Milliseconds between the periodic two-way resyncs while connected (1 s while offline). */
  interval?: number;
  /** A resync the kernel has not answered in this many milliseconds means the view is offline. */
  timeout?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

export class KernelTransport implements DocTransport {
  readonly kind = "kernel" as const;
  readonly awareness: Awareness;
  readonly synced: Promise<void>;
  /** For tests: drop this many incoming document updates (a lost message), to show the resync repairs it. */
  dropIncoming = 0;
  /** Counters a test or benchmark can read. */
  readonly stats = { received: 0, dropped: 0, resyncs: 0, sentMissing: 0 };
  private state: ConnectionState = "connecting";
  private listeners = new Set<(state: ConnectionState) => void>();
  private disposers: (() => void)[] = [];
  private applying = false;
  private syncing: Promise<void> | null = null;
  private outstanding: Promise<[Message, Uint8Array[]]> | null = null;
  private everSynced = false;
  private pendingResync = 0;
  private timer = 0;
  private firstSync!: () => void;
  private interval: number;
  private timeout: number;

  constructor(private channel: ChannelLike, private doc: Y.Doc, private view: string, private origin: unknown,
      options: KernelTransportOptions = {}) {
    this.interval = options.interval ?? 3000;
    this.timeout = options.timeout ?? 6000;
    this.awareness = new Awareness(doc);
    this.synced = new Promise((resolve) => { this.firstSync = resolve; });
    this.disposers.push(channel.on("y-update", (msg, buffers) => this.receive(msg, buffers)));
    this.disposers.push(channel.on("awareness", (msg, buffers) => {
      if (msg.view !== view && buffers[0]) applyAwarenessUpdate(this.awareness, buffers[0], REMOTE);
    }));
    const onUpdate = (update: Uint8Array, updateOrigin: unknown) => {
      // The view's own edits, its undo and redo: everything but what came from the kernel.
      if (!this.applying && updateOrigin !== REMOTE) channel.send({ type: "y-update", view }, [update]);
    };
    doc.on("update", onUpdate);
    this.disposers.push(() => doc.off("update", onUpdate));
    const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, from: unknown) => {
      if (from === REMOTE) return;
      const mine = [...added, ...updated, ...removed].filter((id) => id === doc.clientID);
      if (mine.length) channel.send({ type: "awareness", view }, [encodeAwarenessUpdate(this.awareness, mine)]);
    };
    this.awareness.on("update", onAwareness);
    this.disposers.push(() => this.awareness.off("update", onAwareness));
    this.resync();
    this.schedule();
  }

  connection(): ConnectionState { return this.state; }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => { this.resync().finally(() => this.schedule()); },
      this.state === "connected" ? this.interval : 1000);
  }

  private apply(update: Uint8Array, origin: unknown): void {
    this.applying = true;
    try { Y.applyUpdate(this.doc, update, origin); } finally { this.applying = false; }
  }

  /** Whether the doc holds updates it cannot integrate yet (one before them was lost). */
  get stuck(): boolean {
    return !!(this.doc.store.pendingStructs || this.doc.store.pendingDs);
  }

  private receive(msg: Message, buffers: Uint8Array[]): void {
    if (!buffers[0]) return;
    if (this.dropIncoming > 0) { this.dropIncoming--; this.stats.dropped++; return; }
    this.stats.received++;
    this.apply(buffers[0], msg.view === this.view ? this.origin : REMOTE);
    if (this.stuck && !this.pendingResync) {
      // Let a burst of updates settle, then ask for what is missing.
      this.pendingResync = window.setTimeout(() => { this.pendingResync = 0; if (this.stuck) this.resync(); }, 50);
    }
  }

  /**
   * Two-way sync by state vector: take what the kernel has and this view lacks, and send what this view
   * has and the kernel lacks (edits made while the comm was down). Resolves when done; never rejects.
   */
  resync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.stats.resyncs++;
    this.syncing = (async () => {
      try {
        // A busy kernel answers late: wait for the request already sent rather than queue another full state.
        this.outstanding ??= this.channel.request("y-sync", { view: this.view }, [Y.encodeStateVector(this.doc)])
          .finally(() => { this.outstanding = null; });
        const [, buffers] = await withTimeout(this.outstanding, this.timeout);
        const wasOffline = this.state !== "connected";
        if (buffers[0]) this.apply(buffers[0], REMOTE);
        if (buffers[1]) {
          const missing = Y.encodeStateAsUpdate(this.doc, buffers[1]);
          if (missing.length > 2) { this.stats.sentMissing++; this.channel.send({ type: "y-update", view: this.view }, [missing]); }
        }
        this.setState("connected");
        this.everSynced = true;
        this.firstSync();
        if (wasOffline && this.awareness.getLocalState()) {
          // Back after a gap: announce presence again (others may have timed it out).
          this.awareness.setLocalState(this.awareness.getLocalState());
        }
      } catch {
        // Before the first answer the kernel may just be busy running the notebook's next cells.
        if (this.everSynced) this.setState("offline");
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.pendingResync);
    removeAwarenessStates(this.awareness, [this.doc.clientID], "dispose");
    for (const dispose of this.disposers) dispose();
    this.awareness.destroy();
    this.listeners.clear();
  }
}
