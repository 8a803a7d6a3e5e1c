// y-websocket 3.1 sends every awareness change to the server, also the changes it has just received from the
// server, so each client echoes everyone's presence back to the room: traffic grows with the square of the
// people present (measured: with three pages, each of one user's pointer updates was sent three times). The
// server already relays each client's presence to all others, so a provider need only send its own.

interface ProviderInternals {
  awareness: { on(event: "update", handler: Handler): void; off(event: "update", handler: Handler): void };
  _awarenessUpdateHandler?: Handler;
}
type Handler = (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void;

/** Make a y-websocket provider send only presence changes that did not come from the server. */
export function sendOnlyOwnAwareness(provider: object): boolean {
  const internals = provider as ProviderInternals;
  const forward = internals._awarenessUpdateHandler;
  if (typeof forward !== "function") return false;  // y-websocket changed: keep its behaviour
  const filtered: Handler = (changes, origin) => { if (origin !== provider) forward(changes, origin); };
  internals.awareness.off("update", forward);
  internals.awareness.on("update", filtered);
  internals._awarenessUpdateHandler = filtered;  // so that provider.destroy() removes this one
  return true;
}
