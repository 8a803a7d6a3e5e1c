"""Cost of enforcing roles on the server, per update a client sends (issue 14: median <= 0.2 ms).

Measures ``collab.enforce.verdict`` (message decoding, role lookup, the update gate) on a project of
100 layers x 100 strokes for stroke updates from an owner, an editor and a commenter's comment, beside
the reference: the room applying the same update to its document (what the server does anyway).
Medians over 2,000 updates; the load average is printed because the machine is shared.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from types import SimpleNamespace

from pycrdt import Array, Doc, Map, create_update_message

from imagestudio_nb.collab.enforce import verdict
from imagestudio_nb.project.document import layer_to_y, new_document_data, new_doc, new_layer


def build_room(layers=100, strokes=100) -> Doc:
    data = new_document_data("Bench", owner="ana")
    data["roles"] = {"ana": "owner", "dee": "editor", "cy": "commenter"}
    doc = new_doc(data)
    with doc.transaction():
        array = doc.get("layers", type=Array)
        for i in range(layers):
            layer = new_layer("paint", name=f"L{i}")
            layer["strokes"] = [{"tool": "brush", "points": [j, j, j + 3, j + 4], "size": 4, "color": "#102030"}
                                for j in range(strokes)]
            array.append(layer_to_y(layer))
    return doc


def client_updates(room: Doc, count: int, kind: str) -> list[bytes]:
    client = Doc()
    client.apply_update(room.get_update())
    updates: list[bytes] = []
    client.observe(lambda event: updates.append(bytes(event.update)))
    layers = client.get("layers", type=Array)
    for i in range(count):
        if kind == "stroke":
            layers[i % len(layers)]["strokes"].append({"tool": "brush", "points": [i, 1, i + 2, 3], "size": 3,
                                                        "color": "#000000"})
        else:
            client.get("comments", type=Array).append(Map({"id": f"c{i}", "text": "ok", "author": "cy"}))
    return updates


def measure(room: Doc, user: str, updates: list[bytes]) -> tuple[float, float]:
    handler = SimpleNamespace(_room_id="text:isproj:bench", room=SimpleNamespace(ydoc=room),
                              current_user=SimpleNamespace(username=user), authorizer=None)
    check, apply = [], []
    loop = asyncio.new_event_loop()
    for update in updates:
        message = create_update_message(update)
        started = time.perf_counter()
        reason = loop.run_until_complete(verdict(handler, message))
        check.append(time.perf_counter() - started)
        assert reason is None, reason
        started = time.perf_counter()
        room.apply_update(update)
        apply.append(time.perf_counter() - started)
    loop.close()
    return statistics.median(check) * 1e3, statistics.median(apply) * 1e3


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores)")
    for user, kind in (("ana", "stroke"), ("dee", "stroke"), ("cy", "comment")):
        room = build_room()
        updates = client_updates(room, 2000, kind)
        check, apply = measure(room, user, updates)
        role = {"ana": "owner", "dee": "editor", "cy": "commenter"}[user]
        print(f"{role:9s} {kind:7s}: enforcement median {check:.3f} ms (target <= 0.2), "
              f"applying the update to the room {apply:.3f} ms, ratio {check / apply:.2f}x")


if __name__ == "__main__":
    main()
