"""Dependencies handed to routes: the store and settings built once in the app's lifespan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mllineage.auth import KeyRing, Scope
from mllineage.errors import Forbidden, Unauthenticated
from mllineage.settings import Settings
from mllineage.store import Store

_bearer = HTTPBearer(auto_error=False, description="An API key (mllineage keys create)")


def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def require(scope: Scope) -> Any:
    """A dependency that lets a request through only with a token carrying ``scope``."""

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        keyring: KeyRing | None = request.app.state.keyring
        if keyring is None:  # authentication is off (loopback development server)
            return
        if credentials is None:
            raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
        key = keyring.find(credentials.credentials)
        if key is None:
            raise Unauthenticated("the bearer token matches no API key")
        if not key.allows(scope):
            raise Forbidden(f"the API key {key.name!r} lacks the {scope!r} scope")

    return Depends(check)
