"""The governance reports (see reports.py for what each means): one page of a report's
subjects, in uid order, in a view of the graph (live, or as of a time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.analysis.reports import CONSUMER_CAP, PAGES, Report, ReportPage, shape
from mllineage.model.lifecycle import View
from mllineage.store.database import Database
from mllineage.store.queries.reports import (
    deprecated_in_use_query,
    duplicate_features_query,
    orphans_query,
    skew_query,
)
from mllineage.store.reads import view_params
from mllineage.store.rows import decode_cursor, encode_cursor

QUERIES: dict[Report, Callable[[str], str]] = {
    Report.orphans: orphans_query,
    Report.deprecated_in_use: deprecated_in_use_query,
    Report.duplicate_features: duplicate_features_query,
    Report.skew: skew_query,
}


class Reports:
    """The governance reports, a page at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def report(
        self,
        name: Report,
        *,
        namespace: str | None,
        owner: str | None,
        limit: int,
        cursor: str | None,
        view: View,
    ) -> ReportPage:
        """One page of ``name``: at most ``limit`` items after ``cursor`` (a previous page's
        ``next_cursor``), and the cursor of the next page when there is one."""
        query = QUERIES[name](view.exclusive.mode)
        params = {
            "namespace": namespace or "",
            "owner": owner or "",
            "after": decode_cursor(cursor) if cursor else "",
            "limit": limit + 1,
            "cap": CONSUMER_CAP,
            "columns": "source_columns",
            **view_params(view),
        }

        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return [r.data() async for r in await tx.run(query, params)]

        rows = await self.db.read(work)
        items = [shape(name, row) for row in rows[:limit]]
        more = len(rows) > limit
        return PAGES[name].model_validate(
            {
                "report": name,
                "as_of": view.as_of,
                "items": items,
                "next_cursor": encode_cursor(items[-1]["uid"]) if more else None,
            }
        )
