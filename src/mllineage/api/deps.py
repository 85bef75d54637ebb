"""What routes share: the store, settings and notifier built once in the app's lifespan, the
view every read takes, the scope check, and the error answers of the writing routes.

Every dependency is ``async def`` although none awaits: FastAPI runs a plain ``def``
dependency in a worker thread, and each such hop costs a small request more than its work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mllineage.api.auth import Scope
from mllineage.api.guard import authorize
from mllineage.model.domain import Timestamp
from mllineage.model.lifecycle import View
from mllineage.notify.notifier import Notifier
from mllineage.settings import Settings
from mllineage.store import Store

_bearer = HTTPBearer(auto_error=False, description="An API key (mllineage keys create)")


async def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_notifier(request: Request) -> Notifier | None:
    """The running notifier, or None when no webhook is configured."""
    return getattr(request.app.state, "notifier", None)


async def read_view(
    as_of: Annotated[
        Timestamp | None,
        Query(description="Answer as the graph stood at this time (ISO 8601, with a zone)"),
    ] = None,
    include_retired: Annotated[
        bool, Query(description="Also return retired nodes and ended edges, marked")
    ] = False,
) -> View:
    return View(as_of, include_retired)


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NotifierDep = Annotated[Notifier | None, Depends(get_notifier)]
ViewDep = Annotated[View, Depends(read_view)]

WRITE_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Body not UTF-8, or nested too deeply to parse; `message` says which"},
    413: {"description": "Body larger than the documented limit"},
    422: {"description": "Invalid input; `message` names the field and the fix; nothing written"},
    503: {"description": "Neo4j unavailable; nothing written; retry after `Retry-After`"},
}


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
