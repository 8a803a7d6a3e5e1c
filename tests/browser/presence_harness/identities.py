"""Users of the presence tests: a token per user, each with the name and colour ``/api/me`` reports.

Loaded by the test server (``--ServerApp.identity_provider_class``); the users come from
``IMAGESTUDIO_PRESENCE_USERS`` (JSON ``{token: {"username": ..., "name": ..., "color": ...}}``; a missing colour
is left out, as jupyter_server's own identity does).
"""

from __future__ import annotations

import json
import os

from jupyter_server.auth.identity import IdentityProvider, User


class ColouredUsers(IdentityProvider):
    """Each token names one user, with a display name and an optional colour."""

    async def get_user_token(self, handler):
        token = self.get_token(handler)
        record = json.loads(os.environ.get("IMAGESTUDIO_PRESENCE_USERS", "{}")).get(token or "")
        if record is None:
            return await super().get_user_token(handler)
        return User(username=record["username"], name=record["name"], display_name=record["name"],
                    color=record.get("color"))
