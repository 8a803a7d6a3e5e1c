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
