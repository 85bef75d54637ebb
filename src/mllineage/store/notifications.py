"""The record of owner notifications: one :Notification node per delivery, delivered or
failed, listed newest first (see notify/notifier.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.model.errors import InvalidInput
from mllineage.store.database import Database
from mllineage.store.queries.notifications import LIST_NOTIFICATIONS, RECORD_NOTIFICATION


def _cursor(last: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([last["recorded_at"], last["id"]]).encode()).decode()


def _after(cursor: str) -> tuple[str, str]:
    try:
        at, id_ = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(at, str) and isinstance(id_, str):
            return at, id_
    except ValueError:
        pass
    raise InvalidInput("cursor is not one this service issued; pass next_cursor from the last page")


class NotificationRecords:
    """The record of owner notifications."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, fields: dict[str, Any]) -> None:
        """Keep one delivery's record (``recorded_at`` an ISO time; no nested values)."""

        async def work(tx: AsyncManagedTransaction) -> None:
            await tx.run(RECORD_NOTIFICATION, record=fields)

        await self.db.write(work)

    async def records(
        self, *, owner: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of records, newest first, and the cursor of the next page."""
        before_at, before_id = _after(cursor) if cursor else ("", "")
        params = {
            "owner": owner or "",
            "status": status or "",
            "before_at": before_at,
            "before_id": before_id,
            "limit": limit + 1,
        }

        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return [r["record"] async for r in await tx.run(LIST_NOTIFICATIONS, params)]

        found = await self.db.read(work)
        page = found[:limit]
        return page, _cursor(page[-1]) if len(found) > limit else None
