"""Several users on one test JupyterLab: a token per user, and users the server denies "write".

Loaded by the test server (``--ServerApp.identity_provider_class``, ``--ServerApp.authorizer_class``);
the users come from ``IMAGESTUDIO_TEST_USERS`` (JSON ``{token: username}``) and the read-only ones
from ``IMAGESTUDIO_TEST_READONLY`` (comma-separated usernames).
"""

from __future__ import annotations

import json
import os

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User


class TokenPerUser(IdentityProvider):
    """Each token names one user."""

    async def get_user_token(self, handler):
        token = self.get_token(handler)
        name = json.loads(os.environ.get("IMAGESTUDIO_TEST_USERS", "{}")).get(token or "")
        if name is None:
            return await super().get_user_token(handler)
        return User(username=name, name=name, display_name=name)


class ReadOnlyUsers(Authorizer):
    """Everyone may do everything, except "write" for the read-only users."""

    def is_authorized(self, handler, user, action, resource):
        readonly = {u for u in os.environ.get("IMAGESTUDIO_TEST_READONLY", "").split(",") if u}
        return not (action == "write" and user.username in readonly)
