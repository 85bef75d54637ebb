"""Owner notifications: the notifier routes hand jobs to, and the record of deliveries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mllineage.api.deps import StoreDep, require
from mllineage.model.domain import MAX_PAGE

router = APIRouter(prefix="/v1", tags=["notifications"])


class NotificationPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


@router.get(
    "/notifications",
    summary="Owner notifications sent to webhooks, newest first: delivered or failed",
    dependencies=[require("read")],
)
async def list_notifications(
    store: StoreDep,
    owner: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
    status: Literal["delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> NotificationPage:
    items, next_cursor = await store.notifications.records(
        owner=owner, status=status, limit=limit, cursor=cursor
    )
    return NotificationPage(items=items, next_cursor=next_cursor)
