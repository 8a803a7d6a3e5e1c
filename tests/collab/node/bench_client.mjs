// Timing clients for benchmarks/collab (plain yjs + y-websocket, as any editor would use them).
// Usage: node bench_client.mjs MODE HTTP_BASE TOKEN DOC_PATH OPTIONS_JSON ; prints one JSON line.
//   pair  two clients in this process: A appends strokes, B sees them (one-way ms); then ping-pong (round trip ms).
//         options: {"count": 200, "interval_ms": 20}
//   load  one client of many: appends `rate` strokes a second for `seconds` to the shared "base" layer from
//         `start_at` (epoch ms) on, records how long the others' strokes took to arrive, then waits until the
//         layer holds `expect` strokes. options: {"party": 3, "rate": 10, "seconds": 10, "start_at": ..., "expect": 1000}
//   join  a fresh client `repeat` times: PUT the session, connect, wait for the synced document (ms each).
//         options: {"repeat": 10, "layers": 500}  (the count of layers it must see)
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const [mode, httpBase, token, docPath, optionsText] = process.argv.slice(2);
const options = JSON.parse(optionsText || '{}');
const now = () => performance.timeOrigin + performance.now(); // epoch ms, sub-millisecond, shared by processes
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function session() {
  const url = `${httpBase}/api/collaboration/session/${docPath.split('/').map(encodeURIComponent).join('/')}`;
  const answer = await fetch(url, { method: 'PUT', headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ format: 'text', type: 'isproj' }) });
  if (!answer.ok) throw new Error(`session PUT answered ${answer.status}`);
  const { fileId, sessionId } = await answer.json();
  return { room: `text:isproj:${fileId}`, sessionId };
}

async function join() {
  const { room, sessionId } = await session();
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(httpBase.replace(/^http/, 'ws') + '/api/collaboration/room', room, doc, {
    WebSocketPolyfill: WebSocket, params: { sessionId, token }, disableBc: true,
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no sync within 60 s')), 60000);
    provider.on('sync', (synced) => { if (synced) { clearTimeout(timer); resolve(); } });
  });
  return { doc, provider };
}

const baseStrokes = (doc) => doc.getArray('layers').toArray().find((l) => l.get('name') === 'base').get('strokes');
const stroke = (party, seq) => ({ tool: 'brush', size: 4, color: '#0969da', points: [party * 100000 + seq, 1, 2, 3],
  party, t: now() });

/** Calls listener(stroke, arrivedAt) for every stroke another client adds to the base layer. */
function onRemoteStrokes(doc, listener) {
  baseStrokes(doc).observe((event) => {
    if (event.transaction.local) return;
    const at = now();
    for (const part of event.delta) for (const item of part.insert || []) listener(item, at);
  });
}

async function pair() {
  const a = await join();
  const b = await join();
  const count = options.count ?? 200;
  const oneWay = [];
  const arrivals = new Map();
  onRemoteStrokes(b.doc, (s, at) => arrivals.set(s.points[0], at));
  for (let i = 0; i < count; i++) {
    const s = stroke(1, i);
    baseStrokes(a.doc).push([s]);
    const deadline = now() + 5000;
    while (!arrivals.has(s.points[0]) && now() < deadline) await sleep(1); // arrival is stamped by the observer
    if (arrivals.has(s.points[0])) oneWay.push(arrivals.get(s.points[0]) - s.t);
    await sleep(options.interval_ms ?? 20);
  }
  // Ping-pong: B answers each of A's strokes with one of its own; A times the answer.
  onRemoteStrokes(b.doc, (s) => { if (s.party === 1 && s.points[1] === 9) baseStrokes(b.doc).push([{ ...stroke(2, s.points[0]), points: [s.points[0] + 50000, 9, 2, 3] }]); });
  const answers = new Map();
  onRemoteStrokes(a.doc, (s, at) => { if (s.party === 2) answers.set(s.points[0] - 50000, at); });
  const roundTrip = [];
  for (let i = 0; i < (options.pings ?? 100); i++) {
    const s = { ...stroke(1, count + i), points: [100000 + count + i, 9, 2, 3] };
    baseStrokes(a.doc).push([s]);
    const deadline = now() + 5000;
    while (!answers.has(s.points[0]) && now() < deadline) await sleep(1);
    if (answers.has(s.points[0])) roundTrip.push(answers.get(s.points[0]) - s.t);
    await sleep(options.interval_ms ?? 20);
  }
  a.provider.destroy(); b.provider.destroy();
  return { one_way: oneWay, round_trip: roundTrip, sent: count };
}

async function load() {
  const { doc, provider } = await join();
  const latencies = [];
  onRemoteStrokes(doc, (s, at) => latencies.push(at - s.t));
  await sleep(Math.max(0, options.start_at - Date.now()));
  const total = options.rate * options.seconds;
  const began = now();
  for (let i = 0; i < total; i++) {
    await sleep(Math.max(0, began + (i * 1000) / options.rate - now())); // a steady rate, not rate + drift
    baseStrokes(doc).push([stroke(options.party, i)]);
  }
  const deadline = Date.now() + 60000;
  while (baseStrokes(doc).length < options.expect && Date.now() < deadline) await sleep(50);
  await sleep(1000); // anything doubled arrives too
  const ids = baseStrokes(doc).toArray().map((s) => s.points[0]);
  provider.destroy();
  return { latencies, sent: total, count: ids.length, unique: new Set(ids).size };
}

async function joins() {
  const times = [];
  for (let i = 0; i < (options.repeat ?? 10); i++) {
    const started = now();
    const { doc, provider } = await join();
    const layers = doc.getArray('layers').length;
    times.push(now() - started);
    if (layers !== options.layers) throw new Error(`joined with ${layers} layers, expected ${options.layers}`);
    provider.destroy();
    await sleep(options.pause_ms ?? 200);
  }
  return { join_ms: times };
}

const result = await ({ pair, load, join: joins })[mode]();
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
