// A plain Yjs client (yjs + y-websocket) that edits an isproj room the way a canvas does: it adds paint
// layers and appends strokes, interleaved, then waits until the room holds what every party made.
// Usage: node edit_client.mjs WS_BASE ROOM SESSION_ID TOKEN SCRIPT_JSON
// SCRIPT_JSON: {"party": "A", "layers": 5, "strokes": 20, "first_id": 10000, "pause_ms": 30,
//               "expect": {"layers": 24, "strokes": 130, "comments": 4}, "timeout_ms": 120000,
//               "double_last": false, "start_at": epoch_ms}
// double_last: push the last base stroke again, as a relay that doubles would; start_at: begin editing then
// (every party of a test starts at once). The output also has "edits": [first, last] edit times (epoch ms).
// A stroke is known by its first coordinate (points[0]), unique per party and stroke.
// Prints one JSON line: {"state": {...} (see stateOf), "denials": [...], "synced_ms": n}.
import * as Y from 'yjs';
import { paintLayer } from './paint_layer.mjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const [base, room, sessionId, token, scriptText] = process.argv.slice(2);
const script = JSON.parse(scriptText);
const denials = [];
console.warn = (...args) => denials.push(args.join(' '));

const started = Date.now();
const doc = new Y.Doc();
const provider = new WebsocketProvider(base, room, doc, {
  WebSocketPolyfill: WebSocket, params: { sessionId, token }, disableBc: true,
});
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no sync within 60 s')), 60000);
  provider.on('sync', (synced) => { if (synced) { clearTimeout(timer); resolve(); } });
});
const syncedMs = Date.now() - started;

const layers = doc.getArray('layers');
const comments = doc.getArray('comments');

/** Layers bottom first, by the documented rule (docs/coediting.md): their place `z`, else the array's order. */
function inStack(all) {
  const place = (layer, index) => (typeof layer.get('z') === 'number' ? layer.get('z') : index);
  return all.map((layer, index) => ({ layer, index, z: place(layer, index) }))
    .sort((a, b) => a.z - b.z || a.index - b.index).map((entry) => entry.layer);
}

/** What every party must agree on: layers in order (name, deleted, stroke ids in order) and comments. */
function stateOf() {
  return {
    layers: inStack(layers.toArray()).map((layer) => [layer.get('name'), Boolean(layer.get('deleted')),
      (layer.get('strokes')?.toArray() ?? []).map((stroke) => Math.round(stroke.points[0]))]),
    comments: comments.toArray().map((comment) => (comment instanceof Y.Map ? comment.get('text') : comment.text)),
  };
}

let nextId = script.first_id;
let lastBaseStroke = null;
const stroke = () => {
  const id = nextId++;
  return { tool: 'brush', size: 6, color: '#1f6feb', points: [id, 10, id + 3, 14, id + 6, 20] };
};
const byName = (name) => layers.toArray().find((layer) => layer.get('name') === name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (script.start_at) await sleep(Math.max(0, script.start_at - Date.now()));
const firstEdit = Date.now();
// Interleave: one own layer (with two strokes) after every few strokes on the shared base layer.
const every = Math.max(1, Math.floor(script.strokes / Math.max(1, script.layers)));
let made = 0;
for (let i = 0; i < script.strokes || made < script.layers; i++) {
  if (i < script.strokes) byName('base').get('strokes').push([lastBaseStroke = stroke()]);
  if (made < script.layers && i % every === every - 1 || i >= script.strokes) {
    const layer = paintLayer(`${script.party}-L${made++}`);
    layers.push([layer]);
    layer.get('strokes').push([stroke(), stroke()]);
  }
  await sleep(script.pause_ms ?? 30);
}

const lastEdit = Date.now();
if (script.double_last && lastBaseStroke) byName('base').get('strokes').push([{ ...lastBaseStroke }]);

const count = () => {
  const s = stateOf();
  return { layers: s.layers.length, strokes: s.layers.reduce((n, l) => n + l[2].length, 0),
    comments: s.comments.length, deleted: s.layers.filter((l) => l[1]).length };
};
const expect = script.expect || {};
const deadline = Date.now() + (script.timeout_ms ?? 120000);
while (Object.entries(expect).some(([k, v]) => count()[k] < v) && Date.now() < deadline) await sleep(50);
await sleep(script.settle_ms ?? 1500); // anything doubled or late arrives too
process.stdout.write(JSON.stringify({ state: stateOf(), counts: count(), denials, synced_ms: syncedMs,
  edits: [firstEdit, lastEdit] }) + '\n');
provider.destroy();
process.exit(0);
