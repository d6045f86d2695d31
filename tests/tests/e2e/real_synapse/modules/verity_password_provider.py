"""A Synapse password provider that asks Verity, as kamax-io's rest_auth_provider asks mxisd.

The protocol is the kamax module's, unchanged: one POST of
{"user": {"id": "@alice:example.org", "password": "..."}} to
<endpoint>/_matrix-internal/identity/v1/check_credentials, answered
{"auth": {"success": true|false, "profile": {"display_name": "...", "three_pids": [...]}}}.
A user who logs in for the first time is registered, with the display name and the email
addresses of the answer (the kamax module's defaults: name set on registration, 3PIDs added).

Written against the module API of current Synapse (register_password_auth_provider_callbacks,
Synapse 1.46 and later), which the kamax module predates: its `check_password` reached into
Synapse's internals. Configure it as

    modules:
      - module: verity_password_provider.VerityPasswordProvider
        config:
          endpoint: http://127.0.0.1:8091
          # secret: ...   (sent as `Authorization: Bearer <secret>`, for server.internal.secret)
"""

import logging
from typing import Any, Awaitable, Callable, Optional, Tuple

from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

PATH = "/_matrix-internal/identity/v1/check_credentials"


class VerityPasswordProvider:
    def __init__(self, config: dict, api: ModuleApi):
        self.api = api
        self.endpoint = config["endpoint"].rstrip("/") + PATH
        self.headers = {}
        if config.get("secret"):
            self.headers = {b"Authorization": [b"Bearer " + config["secret"].encode()]}
        api.register_password_auth_provider_callbacks(
            auth_checkers={("m.login.password", ("password",)): self.check_password},
        )

    @staticmethod
    def parse_config(config: dict) -> dict:
        if not isinstance(config.get("endpoint"), str):
            raise Exception("verity_password_provider needs `endpoint`: Verity's internal listener")
        return config

    async def check_password(
        self, username: str, login_type: str, login_dict: "dict[str, Any]"
    ) -> Optional[Tuple[str, Optional[Callable[[Any], Awaitable[None]]]]]:
        password = login_dict.get("password")
        if not isinstance(password, str):
            return None
        user_id = username if username.startswith("@") else self.api.get_qualified_user_id(username)
        answer = await self.api.http_client.post_json_get_json(
            self.endpoint,
            {"user": {"id": user_id, "password": password}},
            headers=self.headers,
        )
        auth = answer.get("auth") or {}
        if auth.get("success") is not True:
            logger.info("Verity refused the login of %s", user_id)
            return None
        profile = auth.get("profile") or {}
        existing = await self.api.check_user_exists(user_id)
        if existing:
            return existing, None
        emails = [
            threepid["address"]
            for threepid in profile.get("three_pids") or []
            if threepid.get("medium") == "email"
        ]
        localpart = user_id.split(":", 1)[0][1:]
        registered = await self.api.register_user(
            localpart, displayname=profile.get("display_name"), emails=emails
        )
        logger.info("Registered %s at its first login through Verity", registered)
        return registered, None
