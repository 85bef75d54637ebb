"""Reading single entities and listing them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mllineage.api.deps import StoreDep, ViewDep, require
from mllineage.model.domain import (
    MAX_NAME_LENGTH,
    MAX_NAME_QUERY,
    MAX_PAGE,
    NAMESPACE_PATTERN,
    Kind,
)
from mllineage.model.views import EntityDetail, EntityPage

router = APIRouter(prefix="/v1/entities", tags=["entities"], dependencies=[require("read")])


@router.get(
    "",
    summary="List entities in uid order, with cursor pagination",
    responses={422: {"description": "Invalid filter or cursor"}},
)
async def list_entities(
    store: StoreDep,
    view: ViewDep,
    kind: Kind | None = None,
    namespace: Annotated[str | None, Query(pattern=NAMESPACE_PATTERN, max_length=128)] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_NAME_QUERY, description="Substring of the name"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=4096, description="next_cursor of the previous page")
    ] = None,
) -> EntityPage:
    return await store.reads.list_entities(
        kind=kind, namespace=namespace, q=q, limit=limit, cursor=cursor, view=view
    )


@router.get(
    "/{uid:path}",
    summary="One entity with its properties and direct neighbours",
    responses={404: {"description": "No entity with that uid"}},
)
async def get_entity(
    uid: Annotated[str, Path(min_length=5, max_length=MAX_NAME_LENGTH + 200)],
    store: StoreDep,
    view: ViewDep,
) -> EntityDetail:
    return await store.reads.get_entity(uid, view)
