"""Widgets without a browser: their messages are driven directly and what they send is captured."""

from __future__ import annotations

import numpy as np
import pytest


class Outbox:
    """What a widget sent to its front end: (content, buffers) pairs."""

    def __init__(self, widget):
        self.sent: list[tuple[dict, list[bytes]]] = []
        widget.send = lambda content, buffers=None: self.sent.append((content, [bytes(b) for b in buffers or []]))

    def replies(self):
        return [(c, b) for c, b in self.sent if c.get("type") == "reply"]

    def last_reply(self):
        return self.replies()[-1]

    def of_type(self, kind):
        return [(c, b) for c, b in self.sent if c.get("type") == kind]


def message(widget, content, buffers=()):
    """Deliver a custom message from the front end."""
    widget._on_custom_message(widget, content, list(buffers))


@pytest.fixture
def project(workspace):
    from imagestudio_nb import Project

    project = Project.create("Widgets", workspace=workspace, width=64, height=48)
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (200, 30, 30)
    image[:, 32:] = (30, 30, 200)
    project.asset = project.assets.add(image, tags=["halves"]).hash
    return project
