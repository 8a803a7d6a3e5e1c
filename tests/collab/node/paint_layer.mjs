// A paint layer with the fields the Python API gives one (imagestudio_nb.project.document.new_layer), for the
// plain Yjs clients of the tests; shared so that the clients cannot drift apart.
import * as Y from 'yjs';

export function paintLayer(name) {
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
