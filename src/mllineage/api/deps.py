"""Dependencies handed to routes: the store and settings built once in the app's lifespan.

Every dependency is ``async def`` although none awaits: FastAPI runs a plain ``def``
dependency in a worker thread, and each such hop costs a small request more than its work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mllineage.api.auth import Scope
from mllineage.api.guard import authorize
from mllineage.settings import Settings
from mllineage.store import Store

_bearer = HTTPBearer(auto_error=False, description="An API key (mllineage keys create)")


async def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def require(scope: Scope) -> Any:
    """A dependency that lets a request through only with a token carrying ``scope``.

    The ``Authenticate`` middleware already enforced it before the body was read (it finds
    ``required_scope`` here); checking again costs one digest and keeps routes safe on
    their own. HTTPBearer puts the scheme in the OpenAPI document.
    """

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        token = f"Bearer {credentials.credentials}" if credentials else None
        authorize(request.app.state.keyring, token, scope)

    check.required_scope = scope  # type: ignore[attr-defined]
    return Depends(check)
