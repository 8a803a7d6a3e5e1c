"""A Jupyter server extension that sends websocket messages without Nagle's delay (TCP_NODELAY).

Widget messages are small request/reply pairs; with Nagle's algorithm and delayed ACKs a reply can wait
about 40 ms in the server's socket (DESIGN.md, facts). Turning it off halves the filter preview's round
trip. Enable it with ``{"ServerApp": {"jpserver_extensions": {"imagestudio_nb.widgets.server": true}}}``.
It changes nothing but the socket option.
"""

from __future__ import annotations

import logging

_log = logging.getLogger(__name__)


def enable_nodelay() -> bool:
    """Set TCP_NODELAY on every websocket tornado accepts from now on; ``False`` if tornado changed."""
    import tornado.websocket as websocket

    handler = websocket.WebSocketHandler
    if getattr(handler, "_imagestudio_nodelay", False):
        return True
    original = getattr(handler, "_detach_stream", None)
    if original is None:  # tornado's private hook moved: keep the stock behaviour
        _log.warning("cannot set TCP_NODELAY on websockets: tornado has no WebSocketHandler._detach_stream")
        return False

    def detach_stream(self):
        stream = original(self)
        stream.set_nodelay(True)
        return stream

    handler._detach_stream = detach_stream
    handler._imagestudio_nodelay = True
    return True


def _jupyter_server_extension_points():
    return [{"module": "imagestudio_nb.widgets.server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    if enable_nodelay():
        serverapp.log.info("imagestudio_nb: websockets send without Nagle's delay (TCP_NODELAY)")
