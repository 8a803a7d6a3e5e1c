// A minimal view for testing presence.ts on its own: it joins an isproj room of a real JupyterLab with
// y-websocket (session PUT, then the room's websocket, as room.ts does) and hosts a Presence on a plain canvas
// with two fixed "layers". The page is served by the test at the server's origin, with a #jupyter-config-data
// naming the user's token. Query: ?path=<server-relative .isproj>&mode=presence|plain
// (plain: announce the same awareness state once, with no Presence: what a client without re-announce does).
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { Presence, fetchIdentity, type PresenceHost } from "../../../labextension/src/presence";

const LAYERS: Record<string, [number, number, number, number]> = { l_a: [60, 60, 180, 120], l_b: [380, 240, 220, 160] };
const DOC = { width: 800, height: 600 };

const config = JSON.parse(document.getElementById("jupyter-config-data")!.textContent!);
const query = new URLSearchParams(location.search);
const path = query.get("path")!;
const mode = query.get("mode") || "presence";

const root = document.getElementById("root")!;
const screen = document.createElement("canvas");
screen.className = "is-screen";
screen.style.cssText = "width: 700px; height: 500px; display: block; touch-action: none";
root.append(screen);

const view = { zoom: 0.8, ox: 20, oy: 20, selected: null as string | null, tool: "select", pointerMoves: 0 };
let presence: Presence | null = null;
let frame = 0;

function render(): void {
  frame = 0;
  const dpr = window.devicePixelRatio || 1;
  const rect = screen.getBoundingClientRect();
  screen.width = Math.round(rect.width * dpr);
  screen.height = Math.round(rect.height * dpr);
  const ctx = screen.getContext("2d")!;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#3a3d42";
  ctx.fillRect(0, 0, screen.width, screen.height);
  ctx.setTransform(dpr * view.zoom, 0, 0, dpr * view.zoom, dpr * view.ox, dpr * view.oy);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, DOC.width, DOC.height);
  ctx.fillStyle = "#d0d0d0";
  for (const [x, y, w, h] of Object.values(LAYERS)) ctx.fillRect(x, y, w, h);
  presence?.drawOverlays(ctx, view.zoom, dpr);
  Object.assign(screen.dataset, { zoom: String(view.zoom), ox: String(view.ox), oy: String(view.oy) });
}
const requestRender = () => { if (!frame) frame = requestAnimationFrame(render); };

const host: PresenceHost = {
  root,
  viewport: () => ({ zoom: view.zoom, ox: view.ox, oy: view.oy, width: screen.clientWidth, height: screen.clientHeight }),
  setViewport: ({ zoom, cx, cy }) => {
    view.zoom = zoom;
    view.ox = screen.clientWidth / 2 - cx * zoom;
    view.oy = screen.clientHeight / 2 - cy * zoom;
    requestRender();
  },
  selected: () => view.selected,
  tool: () => view.tool,
  layerBounds: (id) => LAYERS[id] || null,
  requestRender,
};

const headers = { Authorization: `token ${config.token}`, "Content-Type": "application/json" };
const encodedPath = path.split("/").map(encodeURIComponent).join("/");
const reply = await fetch(`${config.baseUrl}api/collaboration/session/${encodedPath}`,
  { method: "PUT", headers, body: JSON.stringify({ format: "text", type: "isproj" }) });
if (!reply.ok) throw new Error(`session PUT answered ${reply.status}`);
const session = await reply.json();
const doc = new Y.Doc();
const wsBase = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${config.baseUrl}api/collaboration/room`;
const provider = new WebsocketProvider(wsBase, `text:isproj:${session.fileId}`, doc,
  { params: { sessionId: session.sessionId, token: config.token }, disableBc: true });
const awareness = provider.awareness;
let synced = false;
provider.on("sync", (done: boolean) => {
  if (!done) return;
  synced = true;
  screen.dataset.ready = "1";
});
const me = fetchIdentity();

function centre() {
  return { zoom: view.zoom, cx: (screen.clientWidth / 2 - view.ox) / view.zoom, cy: (screen.clientHeight / 2 - view.oy) / view.zoom };
}

/** The state a Presence would publish, once (fields of `overrides.user` / `overrides.imagestudio` replace its own). */
async function announceOnce(overrides: { user?: object; imagestudio?: object } = {}): Promise<void> {
  awareness.setLocalState({
    user: { ...(await me), ...overrides.user },
    imagestudio: { pointer: null, viewport: centre(), selected: null, tool: view.tool, ...overrides.imagestudio },
  });
}

if (mode === "presence") {
  presence = new Presence(awareness, host, me);
  root.prepend(presence.bar);
  screen.addEventListener("pointermove", (event) => {
    view.pointerMoves++;
    presence!.pointer((event.offsetX - view.ox) / view.zoom, (event.offsetY - view.oy) / view.zoom);
  });
  screen.addEventListener("pointerleave", () => presence!.pointer(null, null));
} else {
  await announceOnce();
}

const changed = () => { presence?.viewChanged(); requestRender(); };
(window as any).harness = {
  get synced() { return synced; },
  view, awareness, doc, provider,
  get presence() { return presence; },
  docToScreen(x: number, y: number) {
    const box = screen.getBoundingClientRect();
    return [box.left + view.ox + x * view.zoom, box.top + view.oy + y * view.zoom];
  },
  centre,
  select(id: string | null) { view.selected = id; changed(); },
  setTool(tool: string) { view.tool = tool; changed(); },
  pan(dx: number, dy: number) { view.ox += dx; view.oy += dy; changed(); },
  zoomAt(zoom: number) {
    const c = centre();
    view.zoom = zoom;
    view.ox = screen.clientWidth / 2 - c.cx * zoom;
    view.oy = screen.clientHeight / 2 - c.cy * zoom;
    changed();
  },
  announce: announceOnce,
  dispose() { presence?.dispose(); presence = null; requestRender(); },
};
render();
