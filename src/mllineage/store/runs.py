"""Reading runs (docs/runs.md): one with its inputs, outputs, parent and children; pages of them,
newest first; experiments with their run counts."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from mllineage.ingest.events import from_pending
from mllineage.model.domain import RUN_MAPS
from mllineage.model.errors import InvalidInput, NotFound
from mllineage.model.views import ExperimentList, ExperimentOut, RunDetail, RunOut, RunPage
from mllineage.store.database import Database, single_or_none
from mllineage.store.queries.runs import EXPERIMENTS, GET_RUN, list_runs_query

# The most inputs, outputs and children a run's detail lists; the most processes an
# experiment names.
RUN_LIST_CAP = 1_000


def run_fields(pairs: list[list[Any]]) -> dict[str, Any]:
    """A run's [key, value] pairs -> RunOut's fields: ``params.*`` etc. into their maps."""
    fields: dict[str, Any] = {name: {} for name in RUN_MAPS}
    for key, value in pairs:
        prefix, _, rest = key.partition(".")
        if rest and prefix in RUN_MAPS:
            fields[prefix][rest] = value
        else:
            fields[key] = value
    return fields


def encode_run_cursor(run: RunOut) -> str:
    """The cursor of the page that starts after ``run`` (newest first: by start, then id)."""
    assert run.started_at is not None
    text = json.dumps([run.started_at.isoformat(), run.id])
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_run_cursor(cursor: str) -> tuple[str, str]:
    try:
        started, run_id = json.loads(base64.b64decode(cursor, altchars=b"-_", validate=True))
        datetime.fromisoformat(started)
        if not isinstance(run_id, str):
            raise ValueError(run_id)
        return started, run_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this service issued; pass next_cursor from the previous page"
        ) from None


class Runs:
    """Runs and experiments."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_runs(
        self, *, filters: dict[str, Any], limit: int, cursor: str | None
    ) -> RunPage:
        """One page of runs, newest first. ``filters``: process, experiment, produced, used,
        status (strings), since, until (datetimes); None values are no filter."""
        params = {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in filters.items()
            if value is not None
        }
        if cursor:
            params["after_time"], params["after_id"] = decode_run_cursor(cursor)
        query = list_runs_query(
            frozenset(
                ("after" if key == "after_time" else key) for key in params if key != "after_id"
            )
        )

        async def work(tx: AsyncManagedTransaction) -> list[list[list[Any]]]:
            return [r["run"] async for r in await tx.run(query, params, limit=limit + 1)]

        runs = await self.db.read(work)
        items = [RunOut.model_validate(run_fields(run)) for run in runs[:limit]]
        more = len(runs) > limit
        return RunPage(items=items, next_cursor=encode_run_cursor(items[-1]) if more else None)

    async def get_run(self, run_id: str) -> RunDetail:
        record = await self.db.read(
            lambda tx: single_or_none(tx, GET_RUN, id=run_id, cap=RUN_LIST_CAP)
        )
        if record is None:  # a parent known only from its children is listed with no process
            raise NotFound(f"no run with id {run_id!r}")
        links = {key: record[key] for key in ("inputs", "outputs", "parent")}
        named = [from_pending(text) for text in record["pending"]]
        links["pending_outputs"] = sorted({entity.uid for entity in named if entity})
        return RunDetail.model_validate(
            {**run_fields(record["run"]), **links, "children": record["children"]}
        )

    async def experiments(self, *, limit: int) -> ExperimentList:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(EXPERIMENTS, cap=RUN_LIST_CAP, limit=limit)
            return [record.data() async for record in result]

        return ExperimentList(
            items=[ExperimentOut.model_validate(row) for row in await self.db.read(work)]
        )
