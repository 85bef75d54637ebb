"""Reading runs and experiments (docs/runs.md); runs are written by the events of /v1/events and
OpenLineage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mllineage.api.deps import StoreDep, require
from mllineage.model.domain import MAX_PAGE, RunStatus, Timestamp, Uid
from mllineage.model.errors import InvalidInput
from mllineage.model.views import ExperimentList, RunDetail, RunPage

router = APIRouter(prefix="/v1", tags=["runs"], dependencies=[require("read")])

RunId = Annotated[str, Path(min_length=1, max_length=256)]


@router.get(
    "/runs",
    summary="Runs, newest first (by start), filtered; cursor-paged",
    responses={422: {"description": "Invalid filter or cursor; `message` names it"}},
)
async def list_runs(
    store: StoreDep,
    process: Annotated[Uid | None, Query(description="uid of the process")] = None,
    experiment: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    produced: Annotated[
        Uid | None, Query(description="uid of an artifact: the runs that wrote it")
    ] = None,
    used: Annotated[
        Uid | None, Query(description="uid of an artifact: the runs that read it")
    ] = None,
    status: RunStatus | None = None,
    since: Annotated[Timestamp | None, Query(description="Started at or after (ISO 8601)")] = None,
    until: Annotated[Timestamp | None, Query(description="Started before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=4096, description="next_cursor of the previous page")
    ] = None,
) -> RunPage:
    if since is not None and until is not None and since >= until:
        raise InvalidInput(
            f"since ({since.isoformat()}) must be before until ({until.isoformat()}); "
            "swap them, or leave one out"
        )
    filters = {
        "process": process,
        "experiment": experiment,
        "produced": produced,
        "used": used,
        "status": status,
        "since": since,
        "until": until,
    }
    return await store.runs.list_runs(filters=filters, limit=limit, cursor=cursor)


@router.get(
    "/runs/{run_id}",
    summary="One run with its inputs, outputs, parent and children",
    responses={404: {"description": "No run with that id"}},
)
async def get_run(run_id: RunId, store: StoreDep) -> RunDetail:
    return await store.runs.get_run(run_id)


@router.get("/experiments", summary="Experiments: their runs, processes, first and last run")
async def experiments(
    store: StoreDep, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100
) -> ExperimentList:
    return await store.runs.experiments(limit=limit)
