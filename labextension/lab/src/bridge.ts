// The rooms bridge the extension publishes at globalThis[Symbol.for("imagestudio.rooms")] for the widget
// bundle's room transport (labextension/src/room.ts, whose RoomsBridge interface this implements). A view
// joins a room by path: it shares the open Studio tab's shared model for that path, else one IsprojDoc and
// y-websocket provider per path opened here (and closed with its last view). Only binary Y updates and
// awareness updates cross: the widget bundle carries its own copy of yjs.
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection, User } from "@jupyterlab/services";
import * as decoding from "lib0/decoding";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import type { RoomLink, RoomPeer, RoomsBridge } from "../../src/room";
import { sendOnlyOwnAwareness } from "../../src/awareness_echo";
import { CONTENT_TYPE, IsprojDoc } from "./model";

type State = "connecting" | "connected" | "offline";

/** A room this page is in: the shared model, when it has synced, and its connection state. */
export interface Room {
  readonly doc: IsprojDoc;
  readonly ready: Promise<void>;
  state(): State;
  onState(listener: (state: State) => void): () => void;
}

/** The tabs' rooms (registered by the tab) and the rooms the bridge opened for views without a tab. */
export class Rooms implements RoomsBridge {
  readonly version = 1 as const;
  private tabs = new Map<string, Room>();
  private own = new Map<string, { room: Room; users: number; close(): void }>();

  constructor(private serverSettings: ServerConnection.ISettings, private user: User.IManager) {}

  identity(): Promise<Record<string, unknown> | null> {
    return this.user.ready.then(() => (this.user.identity as unknown as Record<string, unknown>) ?? null);
  }

  /**
   * A Studio tab's room for `path` (views of that path share it while the tab is open). When the tab closes,
   * the views still linked to it move to a room of their own, so a notebook canvas outlives the tab.
   */
  addTab(path: string, room: Room): () => void {
    this.tabs.set(path, room);
    return () => {
      if (this.tabs.get(path) !== room) return;
      this.tabs.delete(path);
      for (const moving of [...this.onTab].filter((l) => l.room === room)) moving.moveTo(this.ownLink(path, moving.peer));
    };
  }

  join(path: string, peer: RoomPeer): RoomLink {
    const tab = this.tabs.get(path);
    if (!tab) return this.ownLink(path, peer);
    const movable = new MovableLink(tab, peer, link(tab, peer, () => undefined), () => this.onTab.delete(movable));
    this.onTab.add(movable);
    return movable;
  }

  private onTab = new Set<MovableLink>();

  private ownLink(path: string, peer: RoomPeer): RoomLink {
    let entry = this.own.get(path);
    if (!entry) {
      const opened = openRoom(path, this.serverSettings, this.user);
      entry = { room: opened, users: 0, close: opened.close };
      this.own.set(path, entry);
    }
    entry.users++;
    const held = entry;
    return link(held.room, peer, () => {
      if (--held.users === 0 && this.own.get(path) === held) {
        this.own.delete(path);
        held.close();
      }
    });
  }
}

/** A view's link to a tab's room that can move to another room (the view's doc already holds everything). */
class MovableLink implements RoomLink {
  readonly synced: Promise<void>;
  private lastAwareness: Uint8Array | null = null;

  constructor(public room: Room | null, readonly peer: RoomPeer, private inner: RoomLink, private forget: () => void) {
    this.synced = inner.synced;
  }

  moveTo(next: RoomLink): void {
    this.inner.leave();
    this.inner = next;
    this.room = null;
    this.forget();
    this.peer.connection("connecting");
    // The new room's first sync hands its state to the view; the view's presence goes there too.
    next.synced.then(() => { if (this.lastAwareness && this.inner === next) next.awareness(this.lastAwareness); })
      .catch(() => this.peer.connection("offline"));
  }

  update(update: Uint8Array): void { this.inner.update(update); }
  awareness(update: Uint8Array): void { this.lastAwareness = update; this.inner.awareness(update); }
  leave(): void { this.forget(); this.inner.leave(); }
}

/** The client ids an awareness update carries. */
function awarenessClients(update: Uint8Array): number[] {
  const decoder = decoding.createDecoder(update);
  const ids: number[] = [];
  for (let count = decoding.readVarUint(decoder); count > 0; count--) {
    ids.push(decoding.readVarUint(decoder));
    decoding.readVarUint(decoder);
    decoding.readVarString(decoder);
  }
  return ids;
}

/** One view's link to a room's shared model: its updates in and out, its presence in the room's awareness. */
function link(room: Room, peer: RoomPeer, release: () => void): RoomLink {
  const origin = Symbol("view");
  const ydoc = room.doc.ydoc;
  const awareness = room.doc.awareness;
  const viewClients = new Set<number>();
  let live = false;
  let left = false;
  const onUpdate = (update: Uint8Array, from: unknown) => { if (live && from !== origin) peer.update(update); };
  const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
                       from: unknown) => {
    if (!live || from === origin) return;
    // Not the view's own state, and not this page's shared-model client (the same person, no pointer).
    const others = [...added, ...updated, ...removed].filter((id) => !viewClients.has(id) && id !== ydoc.clientID);
    if (others.length) peer.awareness(encodeAwarenessUpdate(awareness, others));
  };
  ydoc.on("update", onUpdate);
  awareness.on("update", onAwareness);
  const stopState = room.onState((state) => peer.connection(state));
  const synced = room.ready.then(() => {
    if (left) return;
    live = true;
    peer.update(Y.encodeStateAsUpdate(ydoc));
    const others = [...awareness.getStates().keys()].filter((id) => id !== ydoc.clientID);
    if (others.length) peer.awareness(encodeAwarenessUpdate(awareness, others));
    peer.connection(room.state());
  });
  return {
    synced,
    update: (update) => Y.applyUpdate(ydoc, update, origin),
    awareness: (update) => {
      for (const id of awarenessClients(update)) viewClients.add(id);
      applyAwarenessUpdate(awareness, update, origin);
    },
    leave: () => {
      if (left) return;
      left = true;
      ydoc.off("update", onUpdate);
      awareness.off("update", onAwareness);
      stopState();
      removeAwarenessStates(awareness, [...viewClients], origin);
      release();
    },
  };
}

/** A room the bridge opens itself: the session request, then a y-websocket provider on a fresh IsprojDoc. */
function openRoom(path: string, settings: ServerConnection.ISettings, user: User.IManager): Room & { close(): void } {
  const doc = new IsprojDoc();
  const tracker = stateTracker();
  let provider: WebsocketProvider | null = null;
  let closed = false;
  const ready = (async () => {
    const url = URLExt.join(settings.baseUrl, "api/collaboration/session", encodeURI(path));
    const reply = await ServerConnection.makeRequest(url, {
      method: "PUT", body: JSON.stringify({ format: "text", type: CONTENT_TYPE }),
    }, settings);
    if (!reply.ok) throw new Error(`the server has no collaborative room for ${path} (HTTP ${reply.status})`);
    const session = await reply.json();
    if (closed) throw new Error("the room was closed before it opened");
    const params: Record<string, string> = { sessionId: session.sessionId };
    if (settings.appendToken && settings.token) params.token = settings.token;
    provider = new WebsocketProvider(URLExt.join(settings.wsUrl, "api/collaboration/room"),
      `${session.format}:${session.type}:${session.fileId}`, doc.ydoc,
      { params, awareness: doc.awareness as unknown as Awareness, disableBc: true });
    sendOnlyOwnAwareness(provider);
    tracker.follow(provider);
    await new Promise<void>((resolve) => {
      const onSync = (isSynced: boolean) => { if (isSynced) { provider?.off("sync", onSync); resolve(); } };
      provider!.on("sync", onSync);
    });
  })();
  ready.catch(() => tracker.set("offline"));
  void user.ready.then(() => doc.awareness.setLocalStateField("user", user.identity));
  return {
    doc, ready, state: tracker.state, onState: tracker.on,
    close: () => { closed = true; provider?.destroy(); doc.dispose(); },
  };
}

/** A connection state that follows a y-websocket provider's status events. */
export function stateTracker() {
  let current: State = "connecting";
  const listeners = new Set<(state: State) => void>();
  const set = (state: State) => {
    if (state === current) return;
    current = state;
    for (const listener of listeners) listener(state);
  };
  return {
    set,
    state: () => current,
    on: (listener: (state: State) => void) => { listeners.add(listener); return () => { listeners.delete(listener); }; },
    follow(provider: { wsconnected: boolean; on(event: "status", handler: (e: { status: string }) => void): void }) {
      set(provider.wsconnected ? "connected" : "connecting");
      provider.on("status", ({ status }) =>
        set(status === "connected" ? "connected" : status === "connecting" ? "connecting" : "offline"));
    },
  };
}
