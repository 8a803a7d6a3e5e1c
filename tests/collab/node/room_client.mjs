// A plain Yjs client (yjs + y-websocket, as any editor would use them) joining an isproj room.
// Usage: node room_client.mjs WS_BASE ROOM SESSION_ID TOKEN SCRIPT_JSON
// SCRIPT_JSON: {"add": ["name", ...], "pause_ms": 100, "wait_for": ["name", ...], "timeout_ms": 30000}
// Prints one JSON line: {"names": [...], "denials": [...], "arrivals": {name: ms after start}}.
import * as Y from 'yjs';
import { paintLayer } from './paint_layer.mjs';
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (const name of script.add || []) {
  layers.push([paintLayer(name)]);
  await sleep(script.pause_ms ?? 100);
}
const deadline = Date.now() + (script.timeout_ms ?? 30000);
while ((script.wait_for || []).some((n) => !names().includes(n)) && Date.now() < deadline) await sleep(20);
await sleep(script.settle_ms ?? 800);
process.stdout.write(JSON.stringify({ names: names(), denials, arrivals }) + '\n');
provider.destroy();
process.exit(0);
