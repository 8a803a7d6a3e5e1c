// How a view's Yjs document stays in sync with everyone else's (DESIGN.md D2): through the project's room
// in a collaborative JupyterLab (room.ts), or through the kernel's relay over the widget's comm otherwise.
// Either way the view edits its own Y.Doc and carries presence in a y-protocols Awareness.
import type { Awareness } from "y-protocols/awareness";

export type ConnectionState = "connecting" | "connected" | "offline";

/** The origin of updates a transport applies from others (a view's own edits use the view's origin). */
export const REMOTE = Symbol("remote");

export interface DocTransport {
  readonly kind: "room" | "kernel";
  /** Presence of everyone on this document, bound to the view's doc. */
  readonly awareness: Awareness;
  /** Resolves after the first full sync. */
  readonly synced: Promise<void>;
  connection(): ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  dispose(): void;
}

/** What a view's connection needs: its doc, where the project is, and how to reach the room and the kernel. */
export interface ViewConnectionOptions {
  doc: import("yjs").Doc;
  documentPath: string;
  /** "kernel" forces the relay; "room" reports (through `onFallback`) when there is no room. */
  choice: "auto" | "room" | "kernel";
  /** A transport the caller owns (the Studio tab's room): used as is, never re-joined or closed here. */
  given?: DocTransport;
  /** Join the project's room, waiting for its first sync; null when there is none (room.ts's tryJoinRoom). */
  joinRoom(doc: import("yjs").Doc, documentPath: string): Promise<DocTransport | null>;
  /** The kernel relay, when there is no room. */
  kernel(): DocTransport & { resync(): Promise<void> };
  /** A transport is now in use (the first, or a fresh one after an outage): bind presence to it. */
  onAttach(transport: DocTransport): void;
  /** The state to show: the transport's, or offline as soon as the browser says so. */
  onState(state: ConnectionState, kind: DocTransport["kind"] | null): void;
  onFallback?(): void;
}

/**
 * Chooses a view's transport (the room, else the kernel relay) and keeps it connected: the view shows offline
 * as soon as the browser loses the network (a socket may look open for another half minute), and when it is
 * back the kernel relay resyncs by state vector and a room is joined afresh (a fresh join syncs both ways),
 * so edits made offline reach everyone at once.
 */
export class ViewConnection {
  transport: DocTransport | null = null;
  private browserOffline = typeof navigator !== "undefined" && navigator.onLine === false;
  private rejoining = false;
  private disposed = false;
  private stopListening: (() => void) | null = null;
  private onOffline = () => { this.browserOffline = true; this.show(); };
  private onOnline = () => { this.browserOffline = false; this.show(); this.reconnect().catch((e) => console.warn("imagestudio: reconnect failed", e)); };

  constructor(private options: ViewConnectionOptions) {
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
  }

  /** Connect; resolves with the transport in use (its `synced` says when the document is there). */
  async start(): Promise<DocTransport | null> {
    const o = this.options;
    let transport: DocTransport | null = o.given || null;
    if (!transport && o.choice !== "kernel" && o.documentPath) {
      try {
        transport = await o.joinRoom(o.doc, o.documentPath);
      } catch (error) {
        console.warn("imagestudio: joining the project's room failed; using the kernel relay", error);
      }
      if (!transport && o.choice === "room") o.onFallback?.();
    }
    transport = transport || o.kernel();
    if (this.disposed) { if (transport !== o.given) transport.dispose(); return null; }
    this.attach(transport);
    return transport;
  }

  private attach(transport: DocTransport): void {
    this.stopListening?.();
    this.transport = transport;
    this.stopListening = transport.onConnection(() => this.show());
    this.options.onAttach(transport);
    this.show();
  }

  private show(): void {
    const t = this.transport;
    const state: ConnectionState = this.browserOffline ? "offline" : this.rejoining ? "connecting" : t?.connection() ?? "connecting";
    this.options.onState(state, t?.kind ?? null);
  }

  private async reconnect(): Promise<void> {
    const transport = this.transport;
    if (!transport || this.disposed) return;
    if ("resync" in transport && typeof (transport as any).resync === "function") { await (transport as any).resync(); return; }
    if (transport === this.options.given || transport.kind !== "room" || this.rejoining) return;
    this.rejoining = true;
    this.show();
    try {
      const fresh = await this.options.joinRoom(this.options.doc, this.options.documentPath);
      if (!fresh) return;
      if (this.disposed || this.transport !== transport) { fresh.dispose(); return; }
      this.attach(fresh);
      transport.dispose();
    } finally {
      this.rejoining = false;
      this.show();
    }
  }

  dispose(): void {
    this.disposed = true;
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    this.stopListening?.();
    if (this.transport && this.transport !== this.options.given) this.transport.dispose();
  }
}
