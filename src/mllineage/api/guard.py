"""Authenticate, and check the scope, before a request's body is read.

FastAPI reads and parses a body before it runs any dependency, so a ``require`` dependency
alone lets anyone without a token make the service read and parse 16 MiB (and answers
malformed JSON without a token with 422, not 401). This pure ASGI middleware steps in at the
first ``receive``, the moment the body would be read: routing has picked the route by then
(``scope["route"]``), so the scope its ``require`` declares is known, and a request without
it is answered 401 or 403 from its headers alone. Requests without a body never call
``receive``; the ``require`` dependency checks those.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.api.auth import KeyRing
from mllineage.api.auth import Scope as KeyScope
from mllineage.api.errors import HEADERS, STATUS, error_response
from mllineage.model.errors import Forbidden, LineageError, Unauthenticated


def authorize(keyring: KeyRing | None, authorization: str | None, scope: KeyScope) -> None:
    """Raise Unauthenticated or Forbidden unless ``authorization`` carries ``scope``."""
    if keyring is None:  # authentication is off (loopback development server)
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
    key = keyring.find(token.strip())
    if key is None:
        raise Unauthenticated("the bearer token matches no API key")
    if not key.allows(scope):
        raise Forbidden(f"the API key {key.name!r} lacks the {scope!r} scope")


def required_scope(route: Any) -> KeyScope | None:
    """The scope a route's ``require`` dependency declares (see deps.require)."""
    for depends in getattr(route, "dependencies", ()):
        if scope := getattr(depends.dependency, "required_scope", None):
            return scope  # type: ignore[no-any-return]
    return None


class _Refused(Exception):
    """Raised out of ``receive`` once the 401/403 has been sent: the app's read fails."""


class Authenticate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keyring = getattr(getattr(scope.get("app"), "state", None), "keyring", None)
        if scope["type"] != "http" or keyring is None:
            await self.app(scope, receive, send)
            return
        checked = refused = False

        async def checking_receive() -> Message:
            nonlocal checked, refused
            if not checked:
                checked = True
                if needed := required_scope(scope.get("route")):
                    headers = dict(scope["headers"])
                    authorization = headers.get(b"authorization", b"").decode("latin-1")
                    try:
                        authorize(keyring, authorization, needed)
                    except LineageError as exc:
                        status = STATUS[type(exc)]
                        await error_response(status, str(exc), HEADERS.get(status))(
                            scope, receive, send
                        )
                        refused = True
            if refused:
                raise _Refused
            return await receive()

        async def guarded_send(message: Message) -> None:
            if not refused:  # once refused, the app's answer to its failed read is dropped
                await send(message)

        with contextlib.suppress(_Refused):
            await self.app(scope, checking_receive, guarded_send)
