// The Studio tab's backend channel: the same messages the Canvas widget sends its kernel (asset,
// layer-raster, call), answered over HTTP by imagestudio_nb/collab/studio_api.py, which dispatches them to
// the Python Canvas's own handlers and enforces the caller's project role. A frame is a 4-byte big-endian
// length, that many bytes of JSON, then each binary buffer as its 4-byte length and bytes (studio_api.pack).
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";

export interface Message { type: string; id?: number; error?: string; [key: string]: any }
export type Handler = (msg: Message, buffers: Uint8Array[]) => void;
type Buffers = (ArrayBuffer | ArrayBufferView)[];

export function pack(message: Message, buffers: Buffers = []): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(message));
  const parts = [head, ...buffers.map((b) => b instanceof ArrayBuffer ? new Uint8Array(b)
    : new Uint8Array(b.buffer, b.byteOffset, b.byteLength))];
  const frame = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(frame.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.byteLength);
    frame.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return frame;
}

export function unpack(frame: Uint8Array): [Message, Uint8Array[]] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const size = view.getUint32(0);
  const message = JSON.parse(new TextDecoder().decode(frame.subarray(4, 4 + size)));
  const buffers: Uint8Array[] = [];
  for (let offset = 4 + size; offset < frame.byteLength;) {
    const length = view.getUint32(offset);
    buffers.push(frame.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return [message, buffers];
}

/** An error the server reported (its one-line message, shown in the canvas's status line). */
export class StudioError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

/** What the canvas needs of its backend (canvas.ts's ChannelLike), over HTTP for one project document. */
export class HttpChannel {
  private url: string;
  private handlers = new Map<string, Set<Handler>>();

  constructor(private settings: ServerConnection.ISettings, documentPath: string) {
    this.url = URLExt.join(settings.baseUrl, "imagestudio/studio") + `?path=${encodeURIComponent(documentPath)}`;
  }

  async request(type: string, fields: Record<string, unknown> = {}, buffers: Buffers = []): Promise<[Message, Uint8Array[]]> {
    const body = pack({ type, ...fields }, buffers);
    const reply = await ServerConnection.makeRequest(this.url, {
      method: "POST", body: body as unknown as BodyInit, headers: { "Content-Type": "application/octet-stream" },
    }, this.settings);
    const bytes = new Uint8Array(await reply.arrayBuffer());
    let message: Message;
    let out: Uint8Array[];
    try {
      [message, out] = unpack(bytes);
    } catch {
      throw new StudioError(`the Studio server answered HTTP ${reply.status} without a message; is the ` +
        "imagestudio_nb.collab.studio_api server extension enabled?", reply.status);
    }
    if (!reply.ok || message.error) throw new StudioError(message.error || `HTTP ${reply.status}`, reply.status);
    // The document changes a call made for this view come last, as the kernel's tagged pushes would: the
    // canvas applies them with its own origin, so its Undo covers them (studio_api.StudioBackend.handle).
    const updates = Number(message.updates) || 0;
    if (updates > 0) {
      for (const update of out.splice(out.length - updates, updates)) {
        for (const handler of this.handlers.get("y-update") || []) handler({ type: "y-update", view: fields.view }, [update]);
      }
    }
    return [message, out];
  }

  async call(method: string, args: Record<string, unknown> = {}, buffers: Buffers = []): Promise<any> {
    const [reply] = await this.request("call", { method, args }, buffers);
    return reply.result;
  }

  /** Pushes come only with replies over HTTP (the changes a call made for this view); the rest is the room's. */
  on(type: string, handler: Handler): () => void {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type)!.add(handler);
    return () => this.handlers.get(type)!.delete(handler);
  }

  send(msg: Message, buffers: Buffers = []): void {
    this.request(msg.type, msg, buffers).catch((error) => console.warn("Image Studio:", error));
  }
}
