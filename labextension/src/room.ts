// The room transport (DESIGN.md D2): a view's Y.Doc joins the project's jupyter-collaboration room. Through
// the JupyterLab extension's bridge when it is loaded (labextension/lab: it shares the Studio tab's shared
// model, or opens the room once per page), else through this bundle's own y-websocket provider built from
// the page's base URL, token and _xsrf cookie. Only binary Y updates and awareness updates cross the bridge,
// never Y objects: JupyterLab and this bundle carry different copies of yjs.
import "./yjs_guard";
import * as Y from "yjs";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import { WebsocketProvider } from "y-websocket";
import * as decoding from "lib0/decoding";
import { ConnectionState, DocTransport, REMOTE } from "./transport";
import { sendOnlyOwnAwareness } from "./awareness_echo";

/** Where the JupyterLab extension publishes its bridge (a registered symbol: both bundles see the same one). */
export const BRIDGE_KEY = Symbol.for("imagestudio.rooms");

/** What the room side calls on a view that joined it. */
export interface RoomPeer {
  update(update: Uint8Array): void;
  awareness(update: Uint8Array): void;
  connection(state: ConnectionState): void;
}

/** A view's membership in a room: what the view calls to send its own changes and presence. */
export interface RoomLink {
  /** Resolves once the room's state has been handed to the peer; rejects when the room cannot be joined. */
  readonly synced: Promise<void>;
  update(update: Uint8Array): void;
  awareness(update: Uint8Array): void;
  leave(): void;
}

/** The JupyterLab extension's bridge. `path` is relative to the server root. */
export interface RoomsBridge {
  readonly version: 1;
  join(path: string, peer: RoomPeer): RoomLink;
  /** JupyterLab's identity of the user (name, colour...), as its providers put in awareness `user`. */
  identity(): Promise<Record<string, unknown> | null>;
}

interface PageSettings { baseUrl: string; wsUrl: string; token: string; serverRoot: string }

/** The page's Jupyter settings (`#jupyter-config-data`), or null outside a Jupyter page. */
export function pageSettings(): PageSettings | null {
  const node = typeof document !== "undefined" ? document.getElementById("jupyter-config-data") : null;
  if (!node?.textContent) return null;
  try {
    const data = JSON.parse(node.textContent);
    const baseUrl = new URL(data.baseUrl || "/", location.href).href;
    return { baseUrl, wsUrl: data.wsUrl || "", token: data.token || "", serverRoot: data.serverRoot || "" };
  } catch {
    return null;
  }
}

/**
 * The path of `documentPath` relative to the server root: absolute paths (a Canvas's `document_path`) are
 * mapped with `serverRoot`, relative ones are taken as they are; null when the file is outside the root.
 */
export function serverRelativePath(documentPath: string, serverRoot: string): string | null {
  const clean = (p: string) => p.replace(/\\/g, "/").replace(/\/+/g, "/").replace(/\/$/, "");
  const path = clean(documentPath);
  const absolute = path.startsWith("/") || /^[A-Za-z]:\//.test(path);
  if (!absolute) return path.split("/").includes("..") ? null : path.replace(/^\.\//, "");
  const root = clean(serverRoot);
  if (!root || root.startsWith("~")) return null;
  return path.startsWith(root + "/") ? path.slice(root.length + 1) : null;
}

function xsrfToken(): string | null {
  const match = typeof document !== "undefined" ? document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) : null;
  return match ? decodeURIComponent(match[1]) : null;
}

/** A request to the Jupyter server with the page's credentials (token header, _xsrf cookie). */
export async function jupyterFetch(settings: PageSettings, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (settings.token) headers.set("Authorization", `token ${settings.token}`);
  const xsrf = xsrfToken();
  if (xsrf) headers.set("X-XSRFToken", xsrf);
  return fetch(new URL(path, settings.baseUrl).href, { ...init, headers, credentials: "same-origin" });
}

/**
 * The room transport of `doc` for the document at `documentPath` (absolute, or relative to the server root),
 * or null when this page is not a Jupyter page or the file is outside the server root. When the server has
 * no collaboration (the session request fails), `synced` rejects: use `tryJoinRoom` to get null then.
 */
export function joinRoom(doc: Y.Doc, documentPath: string): DocTransport | null {
  const settings = pageSettings();
  if (!settings) return null;
  const path = serverRelativePath(documentPath, settings.serverRoot);
  if (path === null) return null;
  const bridge = (globalThis as any)[BRIDGE_KEY] as RoomsBridge | undefined;
  return new RoomTransport(doc, path, bridge?.version === 1 ? bridge : ownRooms(settings));
}

/** `joinRoom`, waiting for the first sync: null when there is no room to join (the caller uses the kernel). */
export async function tryJoinRoom(doc: Y.Doc, documentPath: string, timeoutMs = 15000): Promise<DocTransport | null> {
  const transport = joinRoom(doc, documentPath);
  if (!transport) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([transport.synced, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no sync with the room within ${timeoutMs} ms`)), timeoutMs);
    })]);
    return transport;
  } catch (error) {
    console.warn("Image Studio: joining the project's room failed; using the kernel instead.", error);
    transport.dispose();
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** A view's doc and awareness in a room, whichever side (bridge or own provider) holds the connection. */
class RoomTransport implements DocTransport {
  readonly kind = "room" as const;
  readonly awareness: Awareness;
  readonly synced: Promise<void>;
  private state: ConnectionState = "connecting";
  private listeners = new Set<(state: ConnectionState) => void>();
  private link: RoomLink;
  private disposed = false;

  constructor(private doc: Y.Doc, path: string, rooms: RoomsBridge) {
    this.awareness = new Awareness(doc);
    this.link = rooms.join(path, {
      update: (update) => Y.applyUpdate(this.doc, update, REMOTE),
      awareness: (update) => applyAwarenessUpdate(this.awareness, update, REMOTE),
      connection: (state) => this.setState(state),
    });
    doc.on("update", this.onUpdate);
    this.awareness.on("update", this.onAwareness);
    this.synced = this.link.synced.then(() => {
      // Edits made before the room answered (offline, or while it loaded) reach the room now.
      this.link.update(Y.encodeStateAsUpdate(this.doc));
      this.link.awareness(encodeAwarenessUpdate(this.awareness, [this.doc.clientID]));
    });
    this.synced.catch(() => this.setState("offline"));
    void this.announceIdentity(rooms);
  }

  connection(): ConnectionState { return this.state; }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.doc.off("update", this.onUpdate);
    this.awareness.off("update", this.onAwareness);
    removeAwarenessStates(this.awareness, [this.doc.clientID], "dispose");
    this.link.leave();
    this.awareness.destroy();
    this.listeners.clear();
  }

  private setState(state: ConnectionState): void {
    if (state === this.state || this.disposed) return;
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  private onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== REMOTE) this.link.update(update);
  };

  private onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
                         origin: unknown): void => {
    if (origin === REMOTE) return;
    // Every update of this view's own state goes out, unchanged ones too: a same-state update with a new clock
    // is how presence re-announces itself to a newcomer (and how awareness renews it every 15 s).
    if ([...added, ...updated, ...removed].includes(this.doc.clientID)) {
      this.link.awareness(encodeAwarenessUpdate(this.awareness, [this.doc.clientID]));
    }
  };

  /** JupyterLab's providers set `user` on their own awareness only: give this view's state the same. */
  private async announceIdentity(rooms: RoomsBridge): Promise<void> {
    try {
      const identity = await rooms.identity();
      if (identity && !this.disposed && !this.awareness.getLocalState()?.user) {
        this.awareness.setLocalStateField("user", identity);
      }
    } catch (error) {
      console.warn("Image Studio: could not read the Jupyter identity for presence", error);
    }
  }
}

/** Rooms opened by this bundle itself (no extension): one y-websocket provider per join. */
function ownRooms(settings: PageSettings): RoomsBridge {
  let identity: Promise<Record<string, unknown> | null> | null = null;
  return {
    version: 1,
    identity: () => identity ??= jupyterFetch(settings, "api/me").then(async (reply) =>
      reply.ok ? completeIdentity((await reply.json()).identity ?? null) : null),
    join: (path, peer) => ownLink(settings, path, peer),
  };
}

/** A provider on an inner doc, relayed to the view in binary (so the view sees others' updates as REMOTE). */
function ownLink(settings: PageSettings, path: string, peer: RoomPeer): RoomLink {
  const inner = new Y.Doc();
  const awareness = new Awareness(inner);
  awareness.setLocalState(null);  // the inner doc is not a participant; the view is
  const FROM_VIEW = Symbol("from-view");
  const viewClients = new Set<number>();
  let provider: WebsocketProvider | null = null;
  let left = false;
  inner.on("update", (update: Uint8Array, origin: unknown) => { if (origin !== FROM_VIEW) peer.update(update); });
  awareness.on("update", ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
                          origin: unknown) => {
    if (origin === FROM_VIEW) return;
    const others = [...added, ...updated, ...removed].filter((id) => !viewClients.has(id) && id !== inner.clientID);
    if (others.length) peer.awareness(encodeAwarenessUpdate(awareness, others));
  });
  const synced = (async () => {
    const reply = await jupyterFetch(settings, `api/collaboration/session/${encodePath(path)}`, {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: "text", type: "isproj" }),
    });
    if (!reply.ok) throw new Error(`the server has no collaborative room for ${path} (HTTP ${reply.status})`);
    const session = await reply.json();
    if (left) return;
    const base = settings.wsUrl ? new URL("api/collaboration/room", settings.wsUrl).href
      : new URL("api/collaboration/room", settings.baseUrl).href.replace(/^http/, "ws");
    const params: Record<string, string> = { sessionId: session.sessionId };
    if (settings.token) params.token = settings.token;
    provider = new WebsocketProvider(base, `${session.format}:${session.type}:${session.fileId}`, inner,
      { params, awareness, disableBc: true });
    sendOnlyOwnAwareness(provider);
    provider.on("status", ({ status }: { status: string }) =>
      peer.connection(status === "connected" ? "connected" : status === "connecting" ? "connecting" : "offline"));
    await new Promise<void>((resolve) => {
      const onSync = (isSynced: boolean) => { if (isSynced) { provider?.off("sync", onSync); resolve(); } };
      provider!.on("sync", onSync);
    });
    peer.update(Y.encodeStateAsUpdate(inner));
    peer.connection("connected");
  })();
  return {
    synced,
    update: (update) => Y.applyUpdate(inner, update, FROM_VIEW),
    awareness: (update) => {
      for (const id of awarenessClients(update)) viewClients.add(id);
      applyAwarenessUpdate(awareness, update, FROM_VIEW);
    },
    leave: () => {
      left = true;
      removeAwarenessStates(awareness, [...viewClients], FROM_VIEW);
      provider?.destroy();
      awareness.destroy();
      inner.destroy();
    },
  };
}

/** The client ids an awareness update carries (a view sends only its own: not echoed back to it). */
export function awarenessClients(update: Uint8Array): number[] {
  const decoder = decoding.createDecoder(update);
  const ids: number[] = [];
  for (let count = decoding.readVarUint(decoder); count > 0; count--) {
    ids.push(decoding.readVarUint(decoder));
    decoding.readVarUint(decoder);  // clock
    decoding.readVarString(decoder);  // state (JSON)
  }
  return ids;
}

// JupyterLab's own colours for collaborators (--jp-collaborator-color1..7), as its user manager uses them.
const COLOURS = ["#ffad8e", "#dac83d", "#72dd76", "#00e4d0", "#45d4ff", "#e2b1ff", "#ff9de6"];

/**
 * `/api/me`'s identity with what JupyterLab's user manager fills in when the server leaves it out (the stock
 * server sends `color: null`): a colour (stable per user here) and initials, so presence can draw it.
 */
export function completeIdentity(identity: Record<string, any> | null): Record<string, unknown> | null {
  if (!identity?.username) return identity;
  const name = identity.display_name || identity.name || identity.username;
  let hash = 0;
  for (const char of String(identity.username)) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return {
    ...identity, name: identity.name || name, display_name: identity.display_name || name,
    initials: identity.initials || String(name).split(/\s+/).map((w: string) => w[0]).join("").slice(0, 2).toUpperCase(),
    color: identity.color || COLOURS[hash % COLOURS.length],
  };
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
