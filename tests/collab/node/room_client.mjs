// A plain Yjs client (yjs + y-websocket, as any editor would use them) joining an isproj room.
// Usage: node room_client.mjs WS_BASE ROOM SESSION_ID TOKEN SCRIPT_JSON
// SCRIPT_JSON: {"add": ["name", ...], "pause_ms": 100, "wait_for": ["name", ...], "timeout_ms": 30000}
// Prints one JSON line: {"names": [...], "denials": [...], "arrivals": {name: ms after start}}.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const [base, room, sessionId, token, scriptText] = process.argv.slice(2);
const script = JSON.parse(scriptText);
const denials = [];
console.warn = (...args) => denials.push(args.join(' ')); // y-websocket reports permission-denied here

const doc = new Y.Doc();
const provider = new WebsocketProvider(base, room, doc, {
  WebSocketPolyfill: WebSocket, params: { sessionId, token }, disableBc: true,
});
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no sync within 30 s')), 30000);
  provider.on('sync', (synced) => { if (synced) { clearTimeout(timer); resolve(); } });
});

const layers = doc.getArray('layers');
const names = () => layers.toArray().map((layer) => layer.get('name'));
const started = Date.now();
const arrivals = {};
layers.observe(() => { for (const name of names()) if (!(name in arrivals)) arrivals[name] = Date.now() - started; });

function newLayer(name) {
  // The same fields the Python API gives a paint layer.
  const layer = new Y.Map();
  const transform = new Y.Map();
  for (const [k, v] of Object.entries({ x: 0, y: 0, scale_x: 1, scale_y: 1, rotation: 0, crop: null })) transform.set(k, v);
  const id = 'l_' + Math.random().toString(16).slice(2, 14).padEnd(12, '0');
  for (const [k, v] of Object.entries({ id, name, kind: 'paint', asset: null, visible: true, locked: false,
    opacity: 1, blend_mode: 'normal', filters: [], mask: null })) layer.set(k, v);
  layer.set('transform', transform);
  layer.set('strokes', new Y.Array());
  return layer;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (const name of script.add || []) {
  layers.push([newLayer(name)]);
  await sleep(script.pause_ms ?? 100);
}
const deadline = Date.now() + (script.timeout_ms ?? 30000);
while ((script.wait_for || []).some((n) => !names().includes(n)) && Date.now() < deadline) await sleep(20);
await sleep(script.settle_ms ?? 800);
process.stdout.write(JSON.stringify({ names: names(), denials, arrivals }) + '\n');
provider.destroy();
process.exit(0);
