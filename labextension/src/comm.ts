// The message protocol between a widget's front end and its Python object (custom messages with binary
// buffers, never base64), shared by every widget: requests with ids and promised replies, pushes by type.
import { isolateClicks, pageView } from "./ui";

export interface Model {
  get(key: string): any;
  set(key: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: (ArrayBuffer | ArrayBufferView)[]): void;
}

export interface Message {
  type: string;
  id?: number;
  error?: string;
  [key: string]: any;
}

export type Handler = (msg: Message, buffers: Uint8Array[]) => void;

export function toBytes(buffer: DataView | ArrayBuffer | Uint8Array): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** What the canvas code needs of its backend: this module's Channel (the widget's comm), or the Studio
 * tab's HTTP channel (same messages). */
export interface ChannelLike {
  request(type: string, fields?: Record<string, unknown>, buffers?: (ArrayBuffer | ArrayBufferView)[]): Promise<[Message, Uint8Array[]]>;
  call(method: string, args?: Record<string, unknown>, buffers?: (ArrayBuffer | ArrayBufferView)[]): Promise<any>;
  on(type: string, handler: Handler): () => void;
  send(msg: Message, buffers?: (ArrayBuffer | ArrayBufferView)[]): void;
}

/** An error the kernel reported: its one-line message is shown in the panel. */
export class KernelError extends Error {}

/** Request/response and pushes over one widget model's custom messages. */
export class Channel {
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: [Message, Uint8Array[]]) => void; reject: (e: Error) => void }>();
  private handlers = new Map<string, Set<Handler>>();
  private listener: (msg: Message, buffers: DataView[]) => void;

  constructor(private model: Model) {
    this.listener = (msg, buffers) => this.dispatch(msg, (buffers || []).map(toBytes));
    model.on("msg:custom", this.listener);
  }

  dispose(): void {
    this.model.off("msg:custom", this.listener);
    for (const { reject } of this.pending.values()) reject(new Error("widget closed"));
    this.pending.clear();
  }

  private dispatch(msg: Message, buffers: Uint8Array[]): void {
    if (msg.type === "reply" && msg.id !== undefined) {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new KernelError(msg.error));
      else waiter.resolve([msg, buffers]);
      return;
    }
    for (const handler of this.handlers.get(msg.type) || []) handler(msg, buffers);
  }

  on(type: string, handler: Handler): () => void {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type)!.add(handler);
    return () => this.handlers.get(type)!.delete(handler);
  }

  send(msg: Message, buffers: (ArrayBuffer | ArrayBufferView)[] = []): void {
    this.model.send(msg, undefined, buffers);
  }

  /** Send a request; resolves with the reply and its buffers, rejects with the kernel's error. */
  request(type: string, fields: Record<string, unknown> = {}, buffers: (ArrayBuffer | ArrayBufferView)[] = []):
      Promise<[Message, Uint8Array[]]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type, id, ...fields }, buffers);
    });
  }

  /** Call a public function through the widget (`method` is one the Python class allows). */
  async call(method: string, args: Record<string, unknown> = {}, buffers: (ArrayBuffer | ArrayBufferView)[] = []):
      Promise<any> {
    const [reply] = await this.request("call", { method, args }, buffers);
    return reply.result;
  }
}

/** A panel's channel: its calls carry the view id of this page's canvas on the same project, so the kernel
 * makes their changes for that view (a generated layer is undone by that canvas's Undo, not the kernel's). */
function pageChannel(channel: Channel, documentPath: string): Channel {
  const tagged = Object.create(channel) as Channel;
  tagged.request = (type, fields = {}, buffers = []) => {
    const view = documentPath ? pageView(documentPath) : undefined;
    return channel.request(type, view ? { ...fields, view } : fields, buffers);
  };
  tagged.call = async (method, args = {}, buffers = []) => (await tagged.request("call", { method, args }, buffers))[0].result;
  return tagged;
}

/**
 * The anywidget module of a panel: one Channel per model (made in `initialize`, so messages that arrive
 * before the first view are not lost), and a fresh view per `render`.
 */
export function panelWidget(makeView: (model: Model, channel: Channel) => { root: HTMLElement; dispose?(): void }) {
  const channels = new WeakMap<Model, Channel>();
  return {
    initialize({ model }: { model: Model }) {
      channels.set(model, new Channel(model));
      return () => { channels.get(model)?.dispose(); channels.delete(model); };
    },
    render({ model, el: host }: { model: Model; el: HTMLElement }) {
      let channel = channels.get(model);
      if (!channel) { channel = new Channel(model); channels.set(model, channel); }
      const view = makeView(model, pageChannel(channel, model.get("document_path") || ""));
      isolateClicks(view.root);
      host.append(view.root);
      return () => { view.dispose?.(); view.root.remove(); };
    },
  };
}

/**
 * A view's channel: every request and message it sends carries the view's id (`view`), so the kernel makes
 * the changes it causes on that view's behalf and tags the resulting updates with it.
 */
export class ViewChannel implements ChannelLike {
  constructor(private inner: ChannelLike, readonly view: string, private beforeCall: () => void = () => {}) {}

  request(type: string, fields: Record<string, unknown> = {}, buffers: (ArrayBuffer | ArrayBufferView)[] = []):
      Promise<[Message, Uint8Array[]]> {
    if (type === "call") this.beforeCall();
    return this.inner.request(type, { ...fields, view: this.view }, buffers);
  }

  async call(method: string, args: Record<string, unknown> = {}, buffers: (ArrayBuffer | ArrayBufferView)[] = []): Promise<any> {
    const [reply] = await this.request("call", { method, args }, buffers);
    return reply.result;
  }

  on(type: string, handler: Handler): () => void {
    return this.inner.on(type, handler);
  }

  send(msg: Message, buffers: (ArrayBuffer | ArrayBufferView)[] = []): void {
    this.inner.send({ ...msg, view: this.view }, buffers);
  }
}
